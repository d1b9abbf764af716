"""Lock clients on a simulated KV cluster: lab 5's lock recipe (``etcdlab._core.LockRecipe``)
driven in virtual time by clients that can be paused, killed and cut off, and a resource the
lock protects, with or without fencing. For notebooks and tests; deterministic for a seed.

    sim = etcdlab.LockSim(clients=3, seed=1, ttl_s=2)
    a = sim.clients[0]
    sim.run_until(lambda: a.holding, 10_000)
    a.pause()                      # SIGSTOP: no keep-alives, no acting, still "holding"
    sim.run(5_000)                 # its lease expires; another client takes the lock
    a.resume()                     # it wakes up and does its pending write, old token and all
    sim.run(2_000)
    print(sim.resource.refused)    # the write fencing refused
    print(sim.check())             # checkers.check_locks on what happened

Each client is a process of one loop, as a user of etcd's ``concurrency`` package writes it:
a **session** (a lease granted with ``ttl_s``, kept alive every TTL/3; the client gives it up
when no keep-alive was answered for a TTL after it was sent, or one answers that the lease is
gone, as etcd's client does), then over and over: take the lock (the recipe's steps: txns,
ranges, a watch for the predecessor's DELETE), hold it for ``hold_ms``, write to the resource
once halfway through with the lock's token, release it (delete its key), think for
``think_ms``. A failed request, or one not answered within REQUEST_TIMEOUT_MS, makes it start
the recipe again on the same session (its key is the same, so the recipe finds it); a lost
session ends what it believed, revokes the lease (its key goes with it) and starts a new
session.

Pausing is the lesson: a paused client sends nothing and looks at nothing, so nothing tells it
that its lease expired meanwhile. When it resumes, it is where it stopped: a write that came
due while it was paused goes out first, with the token it has, and only then does it look at
its session. Everything is recorded: the holds as each client believed them
(:class:`Belief`), its lease's real end (the first member to drop it, from the cluster's lease
records), the revision that deleted its key, every write and the resource's answer.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from . import _core
from .cluster import Cluster

__all__ = ["LockSim", "SimLockClient", "Belief", "Resource", "ResourceWrite"]

RETRY_MS = 100   # a failed request or grant is tried again this much later
# A request not answered in this time is given up (and the step tried again), as a client's
# context deadline does: a member that took it may never answer (a deposed leader's entry).
REQUEST_TIMEOUT_MS = 3_000
POLL_MS = 100    # a waiting client reads its watch at least this often (a member may crash)
# The simulator's clock counts whole microseconds; a timer within half of one is due.
_EPS_MS = 0.0005


@dataclass
class Belief:
    """One time a client believed it held the lock: from ``acquired_ms`` (when the recipe
    said so; ``acquired_revision``, the revision of that answer) to ``ended_ms`` (None: still
    believes), ended by ``end``: "released" (it deleted its key), "session lost" (it learned
    its lease was or might be gone) or "killed". ``token`` is its key's create revision."""

    client: str
    token: int
    key: bytes
    lease: int
    acquired_ms: float
    acquired_revision: int
    ended_ms: Optional[float] = None
    end: str = ""


@dataclass(frozen=True)
class ResourceWrite:
    """A write the resource received: from ``client`` with ``token`` at ``time_ms``;
    ``accepted`` or refused; ``highest``, the largest token it had accepted before (None:
    none)."""

    client: str
    token: int
    time_ms: float
    accepted: bool
    highest: Optional[int]

    def __str__(self) -> str:
        what = "accepted" if self.accepted else "REFUSED"
        return (f"{self.time_ms / 1000:.3f} s: {self.client} writes with token {self.token}: "
                f"{what} (the resource's highest token was {self.highest})")


class Resource:
    """What the lock protects (a file on a storage service, a row elsewhere). Fenced, it
    remembers the largest token it accepted and refuses a write with an older one; unfenced,
    it accepts every write. ``value`` is the client and token of the last write accepted."""

    def __init__(self, fenced: bool = True):
        self.fenced = fenced
        self.highest: Optional[int] = None
        self.value: Optional[tuple[str, int]] = None
        self.writes: list[ResourceWrite] = []

    def write(self, client: str, token: int, time_ms: float) -> bool:
        accepted = not self.fenced or self.highest is None or token >= self.highest
        self.writes.append(ResourceWrite(client, token, time_ms, accepted, self.highest))
        if accepted:
            self.highest = token if self.highest is None else max(self.highest, token)
            self.value = (client, token)
        return accepted

    @property
    def refused(self) -> list[ResourceWrite]:
        return [w for w in self.writes if not w.accepted]

    @property
    def stale(self) -> list[ResourceWrite]:
        """Writes accepted with a token older than one accepted before (an unfenced
        resource's damage)."""
        return [w for w in self.writes if w.accepted and w.highest is not None
                and w.token < w.highest]


class SimLockClient:
    """One client process (see the module doc). ``state``: "session" (granting a lease),
    "acquiring", "waiting" (for its predecessor's DELETE), "holding", "releasing", "thinking"
    or "killed"; ``paused``; ``holding`` (it believes it holds the lock); ``token``;
    ``beliefs``; ``leases`` (every session's lease id, in order); ``log``: (ms, text) of every
    step, the trail a failure prints."""

    def __init__(self, sim: "LockSim", name: str, rng: random.Random, *, wait: bool = True):
        self.sim, self.name, self.rng, self.wait = sim, name, rng, wait
        self.state = "session"
        self.paused = False
        self.pauses: list[list[float]] = []  # [from, to] ms (to: inf while paused)
        self.beliefs: list[Belief] = []
        self.leases: list[int] = []
        self.log: list[tuple[float, str]] = []
        self.lease = 0
        self.last_alive_ms = 0.0  # sent at this time, a keep-alive (or the grant) was answered
        self._epoch = 0  # bumped when the session or the recipe is abandoned: old answers ignored
        self._ops: list[tuple] = []  # (op, epoch, handler)
        self._timers: dict[str, float] = {"grant": sim.now_ms}
        self._recipe = None
        self._watch = None
        self._awaited = b""

    # ---- what it believes
    @property
    def holding(self) -> bool:
        return bool(self.beliefs) and self.beliefs[-1].ended_ms is None

    @property
    def token(self) -> Optional[int]:
        return self.beliefs[-1].token if self.holding else None

    # ---- what is done to it
    def pause(self) -> None:
        """SIGSTOP: it stops acting (keep-alives included) and keeps believing."""
        if not self.paused and self.state != "killed":
            self.paused = True
            self.pauses.append([self.sim.now_ms, float("inf")])
            self._note("paused")

    def resume(self) -> None:
        """SIGCONT: it goes on where it stopped (its due write first)."""
        if self.paused:
            self.paused = False
            self.pauses[-1][1] = self.sim.now_ms
            self._note("resumed")

    def kill(self) -> None:
        """The process dies: nothing more from it; its key stays until its lease expires."""
        if self.state == "killed":
            return
        self.resume()
        self._end_belief("killed")
        self._drop_recipe()
        self.state, self._timers, self._ops = "killed", {}, []
        self._note("killed")

    # ---- the driver's side
    def next_due(self) -> Optional[float]:
        """The next time it acts by itself (None: paused, or nothing planned)."""
        if self.paused or self.state == "killed":
            return None
        due = list(self._timers.values())
        due += [op.call_ms + REQUEST_TIMEOUT_MS for op, _, _ in self._ops]
        if self.lease:
            due.append(self._session_deadline())
        return min(due) if due else None

    def ready(self) -> bool:
        """Something to look at: an answer, or a watch response."""
        if self.paused or self.state == "killed":
            return False
        if any(op.done for op, _, _ in self._ops):
            return True
        return self._watch is not None and self._watch.queued > 0

    def act(self) -> None:
        if self.paused or self.state == "killed":
            return
        now = self.sim.now_ms + _EPS_MS
        if self._due("write", now):  # the next instruction of a process stopped before it
            self._write()
        if self.lease and now >= self._session_deadline():  # before any answer is believed
            self._lose_session("no keep-alive answered for a TTL")
        for entry in list(self._ops):
            op, epoch, handler = entry
            if op.done or now >= op.call_ms + REQUEST_TIMEOUT_MS:
                self._ops.remove(entry)
                if epoch == self._epoch:
                    handler(op)  # one given up is still "pending": the handler sees no "ok"
        if self._watch is not None and (self._due("poll", now) or self._watch.queued):
            self._read_watch()
        if self.lease and self._due("keepalive", now):
            self._call(self.sim.cluster.lease_keepalive(self.lease), self._on_keepalive)
            self._timers["keepalive"] = now + self.sim.ttl_s * 1000 / 3
        if self._due("grant", now):
            self._call(self.sim.cluster.lease_grant(self.sim.ttl_s), self._on_grant)
        if self._due("release", now):
            self._release()
        if self._due("acquire", now):
            self._acquire()

    # ---- the session
    def _on_grant(self, op) -> None:
        if op.outcome != "ok" or op.value is None:
            self._timers["grant"] = self.sim.now_ms + RETRY_MS
            return
        self.lease, self.last_alive_ms = op.value, op.call_ms
        self.leases.append(self.lease)
        self._note(f"session: lease {self.lease:x}")
        self._timers["keepalive"] = self.sim.now_ms + self.sim.ttl_s * 1000 / 3
        self._acquire()

    def _session_deadline(self) -> float:
        return self.last_alive_ms + self.sim.ttl_s * 1000

    def _on_keepalive(self, op) -> None:
        if op.outcome != "ok":
            return  # no answer: the timer decides
        if op.value is None:
            self._lose_session("a keep-alive answered: the lease is gone")
        else:
            self.last_alive_ms = max(self.last_alive_ms, op.call_ms)

    def _lose_session(self, why: str) -> None:
        self._note(f"session lost ({why})")
        self._end_belief("session lost")
        self._drop_recipe()
        self.sim.cluster.lease_revoke(self.lease)  # it may be alive still: its key goes now
        self.lease = 0
        self._epoch += 1
        self._timers = {"grant": self.sim.now_ms}
        self.state = "session"

    # ---- the lock
    def _acquire(self) -> None:
        self.state = "acquiring"
        self._recipe = _core.LockRecipe(self.sim.name.encode(), self.lease)
        self._first_txn = True
        self._step(self._recipe.start(), None)

    def _step(self, step: dict, op) -> None:
        kind = step["kind"]
        if op is not None and self._first_txn:
            self._first_txn = False
            if not self.wait and kind != "failed":
                kind = "held"  # the broken driver: it holds once its key is in (see LockSim)
        if kind in ("txn", "range"):
            self._call(self.sim.cluster.txn_encoded(step["request"]), self._on_answer)
        elif kind == "wait_delete":
            self.state, self._awaited = "waiting", step["key"]
            self._note(f"waits for the DELETE of {step['key'].decode()} from revision "
                       f"{step['from_revision']}")
            self._watch = self.sim.cluster.watch(step["key"], start_revision=step["from_revision"],
                                                 filters=("NOPUT",), resume=True,
                                                 name=f"{self.name} waits")
            self._timers["poll"] = self.sim.now_ms + POLL_MS
        elif kind == "held":
            self._hold(op)
        else:
            self._lose_session(step["error"])

    def _on_answer(self, op) -> None:
        try:
            step = self._recipe.answer(op.raw_output) if op.outcome == "ok" else None
        except ValueError as e:  # the request failed (e.g. no leader)
            self._note(f"request failed: {e}")
            step = None
        if step is None:
            self._recipe = None
            self._timers["acquire"] = self.sim.now_ms + RETRY_MS
            return
        self._step(step, op)

    def _read_watch(self) -> None:
        w = self._watch
        self._timers["poll"] = self.sim.now_ms + POLL_MS
        if any(e.type == "DELETE" and e.key == self._awaited
               for r in w.take() for e in r.events):
            self._close_watch()
            self._note(f"saw the DELETE of {self._awaited.decode()}")
            self.state = "acquiring"
            self._step(self._recipe.deleted(), None)
        elif w.state in ("compacted", "refused", "cancelled"):
            self._drop_recipe()
            self._timers["acquire"] = self.sim.now_ms + RETRY_MS

    def _hold(self, op) -> None:
        revision = op.result["header"]["revision"]
        b = Belief(self.name, self._recipe.revision, self._recipe.key, self.lease,
                   self.sim.now_ms, revision)
        self.beliefs.append(b)
        self.state = "holding"
        self._note(f"holds the lock: key {b.key.decode()}, token {b.token}")
        hold = self.rng.uniform(*self.sim.hold_ms)
        self._timers["write"] = b.acquired_ms + hold / 2
        self._timers["release"] = b.acquired_ms + hold

    def _write(self) -> None:
        b = self.beliefs[-1]
        accepted = self.sim.resource.write(self.name, b.token, self.sim.now_ms)
        self._note(f"writes with token {b.token}: {'accepted' if accepted else 'REFUSED'}")

    def _release(self) -> None:
        if self.holding:
            self._end_belief("released")
            self._note("releases")
        self.state = "releasing"
        self._call(self.sim.cluster.delete_range(self._recipe.key), self._on_released)

    def _on_released(self, op) -> None:
        if op.outcome != "ok" or "error" in op.result:
            self._timers["release"] = self.sim.now_ms + RETRY_MS
            return
        self.state = "thinking"
        self._recipe = None
        self._timers["acquire"] = self.sim.now_ms + self.rng.uniform(*self.sim.think_ms)

    # ---- bookkeeping
    def _call(self, op, handler: Callable) -> None:
        # An answer is handled only if its session is still the client's (see _epoch).
        self._ops.append((op, self._epoch, handler))

    def _due(self, timer: str, now: float) -> bool:
        if timer in self._timers and self._timers[timer] <= now:
            del self._timers[timer]
            return True
        return False

    def _end_belief(self, end: str) -> None:
        if self.holding:
            b = self.beliefs[-1]
            b.ended_ms, b.end = self.sim.now_ms, end
        self._timers.pop("write", None)
        self._timers.pop("release", None)

    def _drop_recipe(self) -> None:
        self._close_watch()
        self._recipe = None
        for t in ("acquire", "release", "poll"):
            self._timers.pop(t, None)

    def _close_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        self._timers.pop("poll", None)

    def _note(self, text: str) -> None:
        self.log.append((self.sim.now_ms, text))

    def __repr__(self) -> str:
        extra = ", paused" if self.paused else ""
        return f"SimLockClient({self.name}, {self.state}{extra}, token={self.token})"


class LockSim:
    """``clients`` lock clients, named "A", "B", ..., taking the lock ``name`` on a simulated
    KV cluster of ``members`` members (``cluster``, made with ``record_leases`` and
    ``record_events``; more options for it in ``cluster_options``), protecting ``resource``.

    ``ttl_s``: the sessions' lease TTL in seconds (2 is the shortest a cluster of the default
    timing grants); ``hold_ms`` and ``think_ms``: (lo, hi) ranges each hold and each pause
    between holds are drawn from; ``fenced``: whether the resource refuses older tokens;
    ``wait=False``: the broken driver that does not wait for its predecessor (a client holds
    the lock once its first txn is answered), which :meth:`check` must flag.

    Faults: the cluster's own (``sim.cluster.isolate(...)``, ``crash``, ``partition``...), and
    the clients' (``pause``, ``resume``, ``kill``). Time passes only through :meth:`run` and
    :meth:`run_until`, which let the clients act between the cluster's events."""

    def __init__(self, clients: int = 3, *, seed: int = 1, members: int = 3, name: str = "lock",
                 ttl_s: int = 2, hold_ms: tuple = (400, 1200), think_ms: tuple = (0, 400),
                 fenced: bool = True, wait: bool = True, **cluster_options):
        if not isinstance(clients, int) or clients < 1:
            raise ValueError(f"clients is a number of clients >= 1, not {clients!r}")
        for what, pair in (("hold_ms", hold_ms), ("think_ms", think_ms)):
            if len(pair) != 2 or not 0 <= pair[0] <= pair[1]:
                raise ValueError(f"{what} is a (lo, hi) range of ms, 0 <= lo <= hi, not {pair!r}")
        if hold_ms[0] <= 0:
            raise ValueError(f"hold_ms must be above 0 (a client writes halfway), not {hold_ms}")
        self.name, self.ttl_s, self.seed = name, ttl_s, seed
        self.hold_ms, self.think_ms = hold_ms, think_ms
        self.resource = Resource(fenced)
        self.cluster = Cluster(n=members, seed=seed, kv=True, record_leases=True,
                               record_events=True, **cluster_options)
        if not self.cluster.run_until(lambda: self.cluster.leader() is not None, 10_000):
            raise RuntimeError(f"no leader elected in 10 s of virtual time (seed {seed})")
        self.start_ms = self.now_ms
        rng = random.Random(seed * 104729 + 61)
        names = [chr(ord("A") + i) if clients <= 26 else f"c{i}" for i in range(clients)]
        self.clients = [SimLockClient(self, n, random.Random(rng.randrange(2**32)), wait=wait)
                        for n in names]
        self.revision_ms: dict[int, float] = {}  # revision -> when a member first applied it
        self._seen_revision = self.cluster.recorded_revision

    @property
    def now_ms(self) -> float:
        return self.cluster.now_ms

    def client(self, name: str) -> SimLockClient:
        return next(cl for cl in self.clients if cl.name == name)

    # ---- time
    def run(self, ms: float) -> None:
        """Lets ``ms`` virtual milliseconds pass, the clients acting as answers come."""
        self._drive(self.now_ms + ms, None)

    def run_until(self, predicate: Callable[[], bool], timeout_ms: float) -> bool:
        """Runs until ``predicate()`` holds (looked at after the clients act) or
        ``timeout_ms`` pass; returns whether it held."""
        return self._drive(self.now_ms + timeout_ms, predicate)

    def _drive(self, end: float, predicate) -> bool:
        stuck = 0
        while True:
            for cl in self.clients:
                cl.act()
            if predicate is not None and predicate():
                return True
            now = self.now_ms
            if now + _EPS_MS >= end:
                return False
            due = [t for t in (cl.next_due() for cl in self.clients) if t is not None]
            until = min([end, *due])
            stuck = stuck + 1 if until <= now + _EPS_MS else 0
            if stuck > 100:  # a timer no act() takes: a bug here, not a fault to simulate
                raise RuntimeError(f"lock clients stuck at {now} ms: {self.clients}")
            # The simulator counts whole microseconds and truncates: round up to the timer.
            step_us = math.ceil((until - now) * 1000 - 1e-6) if until > now else 0
            self.cluster.run_until(self._ready, (step_us + 0.5) / 1000 if step_us else 0)

    def _ready(self) -> bool:
        revision = self.cluster.recorded_revision
        if revision > self._seen_revision:
            now = self.now_ms
            for r in range(self._seen_revision + 1, revision + 1):
                self.revision_ms[r] = now
            self._seen_revision = revision
        return any(cl.ready() for cl in self.clients)

    # ---- what happened
    @property
    def beliefs(self) -> list[Belief]:
        """Every client's holds as it believed them, by the time it acquired."""
        return sorted((b for cl in self.clients for b in cl.beliefs), key=lambda b: b.acquired_ms)

    def lease_end_ms(self, lease: int) -> Optional[float]:
        """When the first member dropped ``lease`` (expired or revoked; the lock can pass on
        from then), from the cluster's lease records; None while none has."""
        ends = [ch.time_ms for ch in self.cluster.lease_changes
                if ch.lease == lease and not ch.held]
        return min(ends) if ends else None

    def deleted_revision(self, belief: Belief) -> Optional[int]:
        """The revision that deleted the key of ``belief`` (by release or lease expiry)."""
        return next((e.revision for e in self.cluster.store_events
                     if e.type == "DELETE" and e.key == belief.key
                     and e.revision > belief.token), None)

    def owners(self) -> list[tuple]:
        """The lock as the store had it: (from_ms, to_ms, client, token) for each owner in
        turn (the key with the smallest create revision under the prefix), from when the first
        member applied the revision that made it the owner; to_ms None: still the owner."""
        prefix = (self.name + "/").encode()
        client_of = {(prefix + f"{lease:x}".encode()): cl.name
                     for cl in self.clients for lease in cl.leases}
        keys: dict[bytes, int] = {}
        out: list[list] = []
        for e in self.cluster.store_events:
            if not e.key.startswith(prefix):
                continue
            if e.type == "DELETE":
                keys.pop(e.key, None)
            else:
                keys.setdefault(e.key, e.kv.create_revision)
            owner = min(keys, key=keys.get) if keys else None
            current = tuple(out[-1][2:]) if out and out[-1][1] is None else None
            now = (client_of.get(owner, owner.decode()), keys[owner]) if owner else None
            if now != current:
                at = self.revision_ms.get(e.revision, self.start_ms)
                if out and out[-1][1] is None:
                    out[-1][1] = at
                if now is not None:
                    out.append([at, None, *now])
        return [tuple(o) for o in out]

    def lock_history(self) -> tuple[list[dict], list[dict]]:
        """(holds, writes) in the shapes ``checkers.check_locks`` reads (its Hold and Write
        fields; times in virtual ms). A hold is a belief; ``released`` is when it ended, except
        for a client that was killed (it never released: its key stayed until its lease
        ended); ``expired`` is its lease's real end."""
        holds = [{"client": b.client, "token": b.token, "acquired": b.acquired_ms,
                  "released": b.ended_ms if b.end in ("released", "session lost") else None,
                  "expired": self.lease_end_ms(b.lease),
                  "acquired_revision": b.acquired_revision,
                  "deleted_revision": self.deleted_revision(b)} for b in self.beliefs]
        writes = [{"client": w.client, "token": w.token, "time": w.time_ms,
                   "accepted": w.accepted} for w in self.resource.writes]
        return holds, writes

    def check(self):
        """``checkers.check_locks`` on this run: holds never overlap while both leases live
        (on the clock and on revisions), tokens grow, the resource refused only older tokens
        and accepted none after a newer one (an unfenced resource fails that last rule)."""
        from .checkers import check_locks  # the one place the lock checker is called
        return check_locks(*self.lock_history())

    def trail(self, last: int = 40) -> str:
        """The clients' last steps, merged in time order (what a failing test prints)."""
        steps = sorted(((t, cl.name, text) for cl in self.clients for t, text in cl.log),
                       key=lambda step: step[0])  # stable: one client's steps stay in order
        return "\n".join(f"{t / 1000:9.3f} s  {name}: {text}" for t, name, text in steps[-last:])

    def __repr__(self) -> str:
        return (f"LockSim({len(self.clients)} clients, seed={self.seed}, "
                f"t={self.now_ms / 1000:.3f} s, {'fenced' if self.resource.fenced else 'unfenced'})")
