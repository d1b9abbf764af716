"""The revision-witness checker: linear-time (after sorting) strict serializability for KV
histories whose responses carry etcd store revisions.

The server's revisions are a candidate total order for free; the checker verifies it:

(a) every revision bump belongs to exactly one mutating operation (a successful put, or a delete
    that deleted something), and bumps are consecutive from ``initial_revision``: a revision
    that no operation produced is a gap. A gap may be filled by an indeterminate write (it may
    have taken effect): a revision some read observed as a key's mod/create revision only by an
    indeterminate put of that key (and that value, for mod), an unobserved one by any
    indeterminate write that real time allows. A gap with no candidate is a "lost revision";
    when several fillings are possible, they are searched (depth first, pruned
    revision window by revision window, up to ``max_nodes`` steps);
(b) real time: if A returned before B was called, rev(B) >= rev(A), strictly greater if B
    mutates (a read's revision is its header revision);
(c) replaying the mutations in revision order on a sequential KV, every read's response
    (value, mod_revision, create_revision, version, or absence) equals the replay state at its
    header revision, and a delete that reports deleting the key found it present.

Operations and outputs use the same shapes as :class:`~etcdlab.checkers.models.KVRevision`;
reads need the header revision. The verdict is "ok" or "illegal" (with the violations, first
one first), or "unknown" when more gap fillings were possible than were tried.
"""

from __future__ import annotations

import bisect
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from .history import INF, UNKNOWN, HistoryError, drop_indeterminate, load_history, validate_history
from .models import KVRevision

__all__ = ["check_revisions", "RevisionResult", "Violation"]


@dataclass
class Violation:
    kind: str  # duplicate-revision, lost-revision, real-time, stale-read, bad-delete, malformed
    message: str
    ops: list = field(default_factory=list)  # op ids involved, the offending one first
    revisions: list = field(default_factory=list)
    times: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "message": self.message,
            "ops": self.ops,
            "revisions": self.revisions,
            "times": [None if t == INF else t for t in self.times],
        }

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass
class RevisionResult:
    verdict: str  # "ok", "illegal" or "unknown"
    violations: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"

    @property
    def first(self) -> Violation | None:
        return self.violations[0] if self.violations else None

    def explain(self) -> str:
        lines = [f"verdict: {self.verdict} ({self.info.get('operations', 0)} operations)"]
        if self.info.get("note"):
            lines.append(self.info["note"])
        for v in self.violations[:10]:
            lines.append(str(v))
        if len(self.violations) > 10:
            lines.append(f"... and {len(self.violations) - 10} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()


class _Rec:
    __slots__ = ("op", "id", "kind", "key", "value", "rev", "mutates", "unknown", "out", "call", "ret")

    def __init__(self, op, kind, key, value, rev, mutates, unknown, out):
        self.op = op
        self.id = op.id
        self.kind = kind
        self.key = key
        self.value = value
        self.rev = rev
        self.mutates = mutates
        self.unknown = unknown
        self.out = out
        self.call = op.call
        self.ret = op.ret


def _t(t):
    if t == INF or t is None:
        return "never"
    if isinstance(t, float) and t.is_integer():
        return str(int(t))
    return str(t)


def _v(x):
    return "nil" if x is None else repr(x)


def _desc(r: _Rec) -> str:
    if r.kind == "put":
        rev = "?" if r.rev is None else r.rev
        return f"op {r.id} put({_v(r.key)}, {_v(r.value)}) -> rev {rev}"
    if r.kind == "delete":
        if r.unknown:
            return f"op {r.id} delete({_v(r.key)}) -> ?"
        return f"op {r.id} delete({_v(r.key)}) -> deleted {r.out[0]}, rev {r.out[1]}"
    v, mod, create, ver, header = r.out
    if v is None:
        return f"op {r.id} get({_v(r.key)}) -> nil @{header}"
    return f"op {r.id} get({_v(r.key)}) -> {_v(v)} (mod {mod}, create {create}, v{ver}) @{header}"


def _when(r: _Rec) -> str:
    return f"[{_t(r.call)}, {_t(r.ret)}]"


def check_revisions(
    history: Any,
    *,
    initial_revision: int = 1,
    validate: bool = True,
    max_nodes: int = 20_000,
    max_violations: int = 100,
) -> RevisionResult:
    """Checks a revision-carrying KV history (see the module doc). ``initial_revision`` is the
    store's revision before the first write (etcd: 1, so the first write gets 2)."""
    start = time.monotonic()
    model = KVRevision()
    ops = load_history(history)
    if any(op.kind == "txn" for op in ops):  # the same check, extended to txns and ranges
        from .txns import check_txns
        return check_txns(ops, initial_revision=initial_revision, validate=validate,
                          max_nodes=max_nodes, max_violations=max_violations)
    if validate:
        validate_history(ops)
    ops = drop_indeterminate(ops, model.is_read)

    known_muts: list[_Rec] = []
    observers: list[_Rec] = []
    unknown_muts: list[_Rec] = []
    fixed: list[Violation] = []  # violations no gap filling can change

    for op in ops:
        inp, out = model.prepare(op)
        kind, key = inp[0], inp[1]
        unknown = out is UNKNOWN
        if kind == "put":
            r = _Rec(op, "put", key, inp[2], None if unknown else out, True, unknown, out)
        elif kind == "delete":
            if unknown:
                r = _Rec(op, "delete", key, None, None, True, True, out)
            else:
                deleted, rev = out
                r = _Rec(op, "delete", key, None, rev, deleted > 0, False, out)
                if deleted > 1 or deleted < 0:
                    fixed.append(
                        Violation("malformed", f"{_desc(r)}: a single-key delete deleted {deleted} keys", [r.id], [rev], [r.call])
                    )
        else:
            if out[4] is None:
                raise HistoryError(
                    f"{op.describe()}: the revision checker needs each read's header revision "
                    "(output 'revision'); use the search checker (check with KVRevision) without it"
                )
            r = _Rec(op, "get", key, out[0], out[4], False, False, out)
            v, mod, create, ver, header = out
            if v is not None and not (initial_revision < create <= mod <= header and ver >= 1):
                fixed.append(
                    Violation(
                        "malformed",
                        f"{_desc(r)}: expected {initial_revision} < create_revision <= mod_revision <= header revision and version >= 1",
                        [r.id],
                        [mod, create, header],
                        [r.call],
                    )
                )
        if r.unknown:
            unknown_muts.append(r)
        elif r.mutates:
            known_muts.append(r)
        else:
            observers.append(r)

    # ---- (a) distinct, consecutive revisions
    by_rev: dict[int, _Rec] = {}
    for r in sorted(known_muts, key=lambda r: (r.rev, r.call)):
        if r.rev <= initial_revision:
            fixed.append(
                Violation(
                    "malformed",
                    f"{_desc(r)} {_when(r)}: a write's revision must be above the initial revision {initial_revision}",
                    [r.id],
                    [r.rev],
                    [r.call],
                )
            )
            continue
        other = by_rev.get(r.rev)
        if other is not None:
            fixed.append(
                Violation(
                    "duplicate-revision",
                    f"revision {r.rev} was produced twice: {_desc(other)} {_when(other)} and {_desc(r)} {_when(r)}",
                    [r.id, other.id],
                    [r.rev],
                    [r.call, other.call],
                )
            )
            continue
        by_rev[r.rev] = r

    observed_mod: dict[int, _Rec] = {}
    observed_create: dict[int, _Rec] = {}
    max_rev, max_src = initial_revision, None
    for r in known_muts:
        if r.rev > max_rev:
            max_rev, max_src = r.rev, r
    for r in observers:
        if r.rev > max_rev:
            max_rev, max_src = r.rev, r
        if r.kind != "get":
            continue
        v, mod, create, ver, header = r.out
        if v is not None:
            observed_mod.setdefault(mod, r)
            observed_create.setdefault(create, r)
            if mod > max_rev:
                max_rev, max_src = mod, r

    # real-time floors: the highest revision of an operation that returned before time t
    done = sorted((r for r in known_muts + observers if r.ret != INF), key=lambda r: r.ret)
    done_rets = [r.ret for r in done]
    prefix_max: list[tuple[int, _Rec | None]] = []
    cur: tuple[int, _Rec | None] = (initial_revision, None)
    for r in done:
        if r.rev > cur[0]:
            cur = (r.rev, r)
        prefix_max.append(cur)

    def floor_before(t) -> tuple[int, _Rec | None]:
        k = bisect.bisect_left(done_rets, t)  # ops with ret < t
        return prefix_max[k - 1] if k else (initial_revision, None)

    put_count: dict = {}
    for r in known_muts + unknown_muts:
        if r.kind == "put":
            put_count[(r.key, r.value)] = put_count.get((r.key, r.value), 0) + 1
    pinned = {
        (r.key, r.out[0])
        for r in observers
        if r.kind == "get" and r.out[0] is not None and put_count.get((r.key, r.out[0])) == 1
    }

    n_gaps = (max_rev - initial_revision) - len(by_rev)
    gaps: list[tuple[int, list[_Rec]]] = []
    if n_gaps > len(unknown_muts) + 10_000:
        fixed.append(
            Violation(
                "lost-revision",
                f"{n_gaps} revisions up to {max_rev} (seen in {_desc(max_src)}) were produced by no "
                f"operation, more than the {len(unknown_muts)} indeterminate writes could explain",
                [max_src.id] if max_src else [],
                [max_rev],
                [],
            )
        )
    else:
        for g in range(initial_revision + 1, max_rev + 1):
            if g in by_rev:
                continue
            obs = observed_mod.get(g)
            if obs is not None:
                cands = [u for u in unknown_muts if u.kind == "put" and u.key == obs.key and u.value == obs.out[0]]
                seen = f"{_desc(obs)} {_when(obs)} observed it as the mod_revision of {_v(obs.key)}"
            elif g in observed_create:
                obs = observed_create[g]
                cands = [u for u in unknown_muts if u.kind == "put" and u.key == obs.key]
                seen = f"{_desc(obs)} {_when(obs)} observed it as the create_revision of {_v(obs.key)}"
            else:
                # an indeterminate put whose (unique) value a read returned has the revision
                # that read saw; it cannot fill an unobserved gap
                cands = [u for u in unknown_muts if not (u.kind == "put" and (u.key, u.value) in pinned)]
                seen = None
            # real time: a candidate called after an operation with revision >= g returned
            # cannot have taken g; try the tightest fits first
            cands = [u for u in cands if floor_before(u.call)[0] < g]
            cands.sort(key=lambda u: (g - floor_before(u.call)[0], u.call))
            if cands:
                gaps.append((g, cands))
                continue
            if seen is None:
                around = f"the highest revision seen is {max_rev}, in {_desc(max_src)} {_when(max_src)}"
                seen = f"no read saw it as a key's revision; {around}"
                involved = [max_src.id] if max_src else []
            else:
                involved = [obs.id]
            fixed.append(
                Violation(
                    "lost-revision",
                    f"revision {g} was produced by no operation ({seen}), and no indeterminate write could have taken it",
                    involved,
                    [g],
                    [],
                )
            )
            if len(fixed) >= max_violations:
                break

    # (b) among operations whose revisions are known does not depend on gap filling
    fixed.extend(_real_time(known_muts + observers, max_violations))

    # ---- (c) replay, searching the gap fillings: each gap takes a distinct candidate. Gaps
    # split the revisions into windows [g_i, g_i+1); a filling of g_i only changes what reads
    # with header revisions from g_i on see, so each window is checked as soon as its gap is
    # filled, and a bad choice is undone (depth first, with an undo log).
    read_values = {(o.key, o.out[0]) for o in observers if o.kind == "get" and o.out[0] is not None}
    obs_at: dict[int, list[_Rec]] = {}
    for o in observers:
        obs_at.setdefault(o.rev, []).append(o)
    for lst in obs_at.values():
        lst.sort(key=lambda r: r.call)
    gap_revs = [g for g, _ in gaps]
    bounds = [initial_revision] + gap_revs + [max_rev + 1]
    replay = _Replay()
    nodes = 0
    exhausted = False
    best: tuple[int, list[Violation]] | None = None  # (depth, violations) of the deepest failure
    chosen: dict[int, _Rec] = {}
    used: set[int] = set()

    def window(k: int, filler: _Rec | None, limit: int) -> list[Violation]:
        lo, hi = bounds[k], bounds[k + 1]
        vs: list[Violation] = []
        for rev in range(lo, hi):
            m = filler if (filler is not None and rev == lo and k > 0) else by_rev.get(rev)
            if m is not None:
                v = replay.apply(m, rev)
                if v is not None:
                    vs.append(v)
                    if len(vs) >= limit:
                        return vs
            for o in obs_at.get(rev, ()):
                v = replay.check(o)
                if v is not None:
                    vs.append(v)
                    if len(vs) >= limit:
                        return vs
        return vs

    def dfs(k: int) -> bool:
        """Windows k.. with gaps k-1.. to fill; window 0 has no gap."""
        nonlocal nodes, exhausted, best
        if k == len(bounds) - 1:
            return True
        if k == 0:
            options: list[_Rec | None] = [None]
        else:
            # Candidates with the same effect are interchangeable here and later (one that fits
            # this gap in real time fits every later gap too), so one of each kind is tried:
            # same key and kind, and the same value unless no read ever returned it.
            options = []
            kinds = set()
            for u in gaps[k - 1][1]:
                if id(u) in used:
                    continue
                sig = (u.kind, u.key, u.value if (u.key, u.value) in read_values else None)
                if sig not in kinds:
                    kinds.add(sig)
                    options.append(u)
        limit = 1 if gaps else max_violations
        for u in options:
            if nodes >= max_nodes:
                exhausted = True
                return False
            nodes += 1
            mark = replay.mark()
            if u is not None:
                chosen[bounds[k]] = u
                used.add(id(u))
            vs = window(k, u, limit)
            if not vs and dfs(k + 1):
                return True
            if vs and (best is None or k > best[0]):
                best = (k, vs)
            replay.undo(mark)
            if u is not None:
                del chosen[bounds[k]]
                used.discard(id(u))
            if exhausted:
                return False
        return False

    note = None
    old_limit = sys.getrecursionlimit()
    if len(gaps) + 200 > old_limit:
        sys.setrecursionlimit(len(gaps) + 1000)
    if fixed:
        # illegal whatever the filling; replay a greedy filling for context
        replay = _Replay()
        more: list[Violation] = []
        for k in range(len(bounds) - 1):
            u = None
            if k > 0:
                u = next((c for c in gaps[k - 1][1] if id(c) not in used), None)
                if u is not None:
                    used.add(id(u))
                    chosen[bounds[k]] = u
            more += window(k, u, max_violations)
            if len(more) >= max_violations:
                break
        violations = fixed + more
        verdict = "illegal"
    elif dfs(0):
        verdict, violations = "ok", []
    elif exhausted:
        verdict, violations = "unknown", []
        note = (
            f"searched {nodes} steps for a way to fill {len(gaps)} revision gap(s) with indeterminate "
            f"writes (max_nodes={max_nodes}) without finding a consistent one; inconclusive"
        )
    else:
        verdict = "illegal"
        violations = best[1] if best else []
        if gaps:
            note = (
                f"no way to fill the {len(gaps)} revision gap(s) {gap_revs[:10]} with indeterminate writes "
                "is consistent; shown: the violation of the filling that got furthest"
            )
    sys.setrecursionlimit(old_limit)
    violations = violations[:max_violations]
    info = {
        "operations": len(ops),
        "initial_revision": initial_revision,
        "max_revision": max_rev,
        "gaps": gap_revs,
        "search_steps": nodes,
        "assigned": {g: u.id for g, u in chosen.items()},
        "elapsed": time.monotonic() - start,
        "note": note,
        "violations": [v.to_dict() for v in violations],
    }
    return RevisionResult(verdict=verdict, violations=violations, info=info)


def _real_time(recs: list, limit: int, desc=None) -> list[Violation]:
    """(b): sweep operations by call time against the highest revision returned before.
    `recs` have id, call, ret, rev and mutates; `desc` describes one (check_txns' too)."""
    desc = desc or _desc
    out: list[Violation] = []
    by_ret = sorted((r for r in recs if r.ret != INF), key=lambda r: r.ret)
    j = 0
    best: _Rec | None = None
    for b in sorted(recs, key=lambda r: r.call):
        while j < len(by_ret) and by_ret[j].ret < b.call:
            a = by_ret[j]
            if best is None or a.rev > best.rev:
                best = a
            j += 1
        if best is None or best is b:
            continue
        if b.rev < best.rev or (b.mutates and b.rev == best.rev):
            rel = "above" if b.mutates else "at least"
            out.append(
                Violation(
                    "real-time",
                    f"{desc(best)} returned at {_t(best.ret)} with revision {best.rev}, but "
                    f"{desc(b)}, called later at {_t(b.call)}, has revision {b.rev} "
                    f"(it must be {rel} {best.rev})",
                    [b.id, best.id],
                    [b.rev, best.rev],
                    [b.call, best.ret],
                )
            )
            if len(out) >= limit:
                break
    return out


class _Replay:
    """A sequential KV replayed in revision order, with an undo log for the filling search."""

    def __init__(self):
        self.state: dict[Any, tuple] = {}  # key -> (value, create, mod, version, writer)
        self.last_delete: dict[Any, _Rec] = {}
        self.log: list[tuple] = []

    def mark(self) -> int:
        return len(self.log)

    def undo(self, mark: int) -> None:
        while len(self.log) > mark:
            table, key, old = self.log.pop()
            d = self.state if table == 0 else self.last_delete
            if old is None:
                d.pop(key, None)
            else:
                d[key] = old

    def _set(self, table: int, key, value) -> None:
        d = self.state if table == 0 else self.last_delete
        self.log.append((table, key, d.get(key)))
        if value is None:
            d.pop(key, None)
        else:
            d[key] = value

    def apply(self, m: _Rec, rev: int) -> Violation | None:
        st = self.state.get(m.key)
        if m.kind == "put":
            if st is None:
                self._set(0, m.key, (m.value, rev, rev, 1, m, rev))
            else:
                self._set(0, m.key, (m.value, st[1], rev, st[3] + 1, m, rev))
            return None
        if st is None:
            what = "indeterminate " if m.unknown else ""
            prev = self.last_delete.get(m.key)
            why = f" (deleted before by {_desc(prev)})" if prev else ""
            return Violation(
                "bad-delete",
                f"{what}{_desc(m)} {_when(m)} at revision {rev} deletes {_v(m.key)}, but in revision "
                f"order the key does not exist then{why}",
                [m.id] + ([prev.id] if prev else []),
                [rev],
                [m.call],
            )
        self._set(0, m.key, None)
        self._set(1, m.key, m)
        return None

    def check(self, o: _Rec) -> Violation | None:
        h = o.rev
        st = self.state.get(o.key)
        if o.kind == "delete":  # deleted nothing: the key must be absent at h
            if st is None:
                return None
            w = st[4]
            return Violation(
                "stale-read",
                f"{_desc(o)} {_when(o)} found nothing to delete at revision {h}, but replaying writes "
                f"in revision order {_v(o.key)} holds {_v(st[0])} there (written by {_desc(w)} {_when(w)}"
                f"{' at revision ' + str(st[5]) if w.unknown else ''})",
                [o.id, w.id],
                [h, st[5]],
                [o.call, w.call],
            )
        v, mod, create, ver, header = o.out
        if v is None and st is None:
            return None
        if st is not None and v is not None and (v, create, mod, ver) == st[:4]:
            return None
        if st is None:
            d = self.last_delete.get(o.key)
            expect = "absent" + (f" (deleted by {_desc(d)} {_when(d)})" if d else " (never written)")
            involved = [o.id] + ([d.id] if d else [])
            revs = [h] + ([d.rev] if d and d.rev is not None else [])
        else:
            w = st[4]
            taken = f" taking revision {st[5]}" if w.unknown else ""
            expect = f"{_v(st[0])} (mod {st[2]}, create {st[1]}, v{st[3]}; written by {_desc(w)} {_when(w)}{taken})"
            involved = [o.id, w.id]
            revs = [h, st[5]]
        return Violation(
            "stale-read",
            f"{_desc(o)} {_when(o)} disagrees with replaying writes in revision order: at revision {h} "
            f"{_v(o.key)} is {expect}",
            involved,
            revs,
            [o.call],
        )
