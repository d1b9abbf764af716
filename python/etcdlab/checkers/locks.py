"""The lock checker: mutual exclusion of a lock's holds, and the fencing of the resource the
lock protects.

A lock built on a lease cannot, alone, keep two clients out of a resource at once: a holder
paused past its lease's TTL (GC, SIGSTOP, a slow disk) still believes it holds the lock after
the lock has passed to the next client. What the recipe does promise:

- holds never overlap **while both holders' leases are alive** (`overlap`, on the clients'
  clock; `revision-overlap`, on the store's revisions: a hold lasts from the revision at which
  its client knew it held the lock to the revision that deleted its key, by release or expiry);
- each new holder's token (its key's create revision) is greater than every earlier holder's
  (`token-order`, `duplicate-token`).

What fencing adds: the resource remembers the highest token it accepted and refuses a write
carrying a lower one. Then the paused holder's late write is refused instead of overwriting
the new holder's work. Rules on the writes, in the order the resource received them:

- `stale-write`: a write was accepted although a higher token had been accepted before (what an
  unfenced resource does: ``check_locks(holds, unfenced(writes))`` shows the damage fencing
  prevented);
- `wrong-refusal`: a write was refused although its token was the highest yet (a fenced resource
  refuses only older tokens);
- `write-without-hold`: a write carrying a token its client did not hold, or sent before it
  acquired or after it released that hold.

Times are numbers on one clock (time.monotonic() of processes on one machine agree). `expired`
must not be later than the real expiry: give the last time the lease was known alive (the
sending of its last answered keep-alive, Session.last_alive_s), so that an overlap reported is
certain.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable, Optional

from .history import INF, HistoryError
from .revisions import RevisionResult, Violation

__all__ = ["Hold", "Write", "check_locks", "unfenced", "LockResult"]

LockResult = RevisionResult  # verdict "ok" or "illegal", violations, info


@dataclass(frozen=True)
class Hold:
    """One time a client held the lock: `token` (its key's create revision), `acquired` (when
    it learned it held it), `released` (when it called release; None: never), `expired` (its
    lease was alive until at least then, and gone after; None: alive until released), and,
    when known, `acquired_revision` (the revision of the read that told it) and
    `deleted_revision` (the revision that deleted its key)."""

    client: Any
    token: int
    acquired: float
    released: Optional[float] = None
    expired: Optional[float] = None
    acquired_revision: Optional[int] = None
    deleted_revision: Optional[int] = None

    @property
    def live_until(self) -> float:
        ends = [t for t in (self.released, self.expired) if t is not None]
        return min(ends) if ends else INF

    def describe(self, i: int) -> str:
        end = "never released" if self.released is None else f"released at {_t(self.released)}"
        exp = "" if self.expired is None else f", lease alive until {_t(self.expired)}"
        revs = ""
        if self.acquired_revision is not None:
            gone = "?" if self.deleted_revision is None else self.deleted_revision
            revs = f", revisions [{self.acquired_revision}, {gone})"
        return (f"hold {i} (client {self.client!r}, token {self.token}, acquired at "
                f"{_t(self.acquired)}, {end}{exp}{revs})")


@dataclass(frozen=True)
class Write:
    """One write the protected resource received: from `client`, carrying `token`, at `time`
    (the resource's order), and whether the resource `accepted` it."""

    client: Any
    token: int
    time: float
    accepted: bool

    def describe(self, i: int) -> str:
        what = "accepted" if self.accepted else "refused"
        return f"write {i} (client {self.client!r}, token {self.token}, at {_t(self.time)}, {what})"


def _t(x) -> str:
    if x is None or x == INF:
        return "never"
    return f"{x:.6g}" if isinstance(x, float) else str(x)


def _load(items, cls, what: str) -> list:
    out = []
    for i, x in enumerate(items or ()):
        if isinstance(x, cls):
            out.append(x)
        elif isinstance(x, dict):
            try:
                out.append(cls(**x))
            except TypeError as e:
                raise HistoryError(f"{what} {i}: {e} (fields: "
                                   f"{', '.join(cls.__dataclass_fields__)})") from None
        else:
            raise HistoryError(f"{what} {i}: a {cls.__name__} or a dict, not {x!r}")
    return out


def unfenced(writes: Iterable) -> list:
    """The same writes as a resource without fencing would have answered them: all accepted."""
    return [replace(w, accepted=True) for w in _load(writes, Write, "write")]


def check_locks(holds: Iterable, writes: Iterable = (), *, max_violations: int = 100) -> LockResult:
    """Checks the holds of one lock and the writes its resource received (module doc).
    Holds and writes are Hold/Write objects or dicts with their fields."""
    hs = _load(holds, Hold, "hold")
    ws = _load(writes, Write, "write")
    vs: list[Violation] = []
    for i, h in enumerate(hs):
        if h.released is not None and h.released < h.acquired:
            raise HistoryError(f"{h.describe(i)}: released before it was acquired")
    _overlaps(hs, vs)
    _tokens(hs, vs)
    _writes(hs, ws, vs)
    vs = vs[:max_violations]
    info = {"holds": len(hs), "writes": len(ws),
            "refused": sum(1 for w in ws if not w.accepted),
            "violations": [v.to_dict() for v in vs]}
    return LockResult("illegal" if vs else "ok", vs, info)


def _overlaps(hs: list, vs: list) -> None:
    for i, a in enumerate(hs):
        for j in range(i + 1, len(hs)):
            b = hs[j]
            start, end = max(a.acquired, b.acquired), min(a.live_until, b.live_until)
            if start < end:
                vs.append(Violation(
                    "overlap", f"{a.describe(i)} and {b.describe(j)} both held the lock, with "
                    f"live leases, from {_t(start)} to {_t(end)}", [i, j], [a.token, b.token],
                    [start, end]))
            ra, rb = a.acquired_revision, b.acquired_revision
            if ra is None or rb is None:
                continue
            ea = a.deleted_revision if a.deleted_revision is not None else INF
            eb = b.deleted_revision if b.deleted_revision is not None else INF
            if max(ra, rb) < min(ea, eb):
                first, second = (a, b) if ra <= rb else (b, a)
                fi, si = (i, j) if ra <= rb else (j, i)
                vs.append(Violation(
                    "revision-overlap", f"{second.describe(si)} was told it held the lock at "
                    f"revision {second.acquired_revision}, but the key of {first.describe(fi)} "
                    f"was deleted only at revision {_t(first.deleted_revision)}: it did not "
                    f"wait for its predecessor", [si, fi], [second.acquired_revision,
                                                          first.deleted_revision], []))


def _tokens(hs: list, vs: list) -> None:
    by_token: dict[int, int] = {}
    for i, h in enumerate(hs):
        j = by_token.setdefault(h.token, i)
        if j != i and hs[j].client != h.client:
            vs.append(Violation("duplicate-token", f"{hs[j].describe(j)} and {h.describe(i)} "
                                f"hold one token", [j, i], [h.token], []))
    known = sorted((h.acquired_revision, i) for i, h in enumerate(hs)
                   if h.acquired_revision is not None)
    for (ra, i), (rb, j) in zip(known, known[1:]):
        if hs[j].token < hs[i].token:
            vs.append(Violation(
                "token-order", f"{hs[j].describe(j)} acquired after {hs[i].describe(i)} with a "
                f"smaller token: a fenced resource would refuse the newer holder", [j, i],
                [hs[j].token, hs[i].token], []))


def _writes(hs: list, ws: list, vs: list) -> None:
    highest, by = None, None
    for k, w in sorted(enumerate(ws), key=lambda kw: kw[1].time):
        mine = [h for h in hs if h.client == w.client and h.token == w.token]
        if not any(h.acquired <= w.time and (h.released is None or w.time <= h.released)
                   for h in mine):
            vs.append(Violation("write-without-hold", f"{w.describe(k)} does not fall in a hold "
                                f"of token {w.token} by its client", [k], [w.token], [w.time]))
        if w.accepted and highest is not None and w.token < highest:
            vs.append(Violation(
                "stale-write", f"{w.describe(k)} was accepted after {by} had been: a holder "
                f"whose lock had passed on wrote over a newer holder's work (fencing would "
                f"refuse it)", [k], [w.token, highest], [w.time]))
        if not w.accepted and (highest is None or w.token >= highest):
            vs.append(Violation(
                "wrong-refusal", f"{w.describe(k)} was refused though no higher token had been "
                f"accepted (highest: {highest})", [k], [w.token], [w.time]))
        if w.accepted and (highest is None or w.token > highest):
            highest, by = w.token, w.describe(k)
