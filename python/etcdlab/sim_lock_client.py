"""One simulated lock client (``etcdlab.LockSim`` runs them; its module doc tells the story):
a process with a session lease, lab 5's lock recipe (``etcdlab._core.LockRecipe``) stepped
through the simulated cluster, and what it believed. Nothing here reads a wall clock: the
client acts when ``LockSim`` calls ``act()``, at the times ``next_due()`` names or when
``ready()`` says an answer came."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

from . import _core

if TYPE_CHECKING:
    from .sim_locks import LockSim

__all__ = ["SimLockClient", "Belief", "RETRY_MS", "REQUEST_TIMEOUT_MS", "POLL_MS"]

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
        self._epoch = 0  # bumped when a session is given up: the answers it waited for are ignored
        self._ops: list[tuple] = []  # (op, epoch, handler)
        self._timers: dict[str, float] = {"grant": sim.now_ms}
        self._recipe = None
        self._first_txn = False  # the recipe's first txn is not answered yet (wait=False)
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
            self.state = "acquiring"
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
