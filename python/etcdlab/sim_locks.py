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

This module: the harness (:class:`LockSim`) and the resource; the client is in
sim_lock_client.py.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable, Optional

from .cluster import Cluster
from .sim_lock_client import _EPS_MS, Belief, SimLockClient

__all__ = ["LockSim", "SimLockClient", "Belief", "Resource", "ResourceWrite"]


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
