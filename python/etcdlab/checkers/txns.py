"""The revision-witness checker for histories with txns: strict serializability of put, get
(ranges too), delete (ranges too) and txn operations whose responses carry etcd's revisions,
after correctness-checking.md section 8.

Every operation is read as a txn (a put is a txn of one put, and so on); the store's revisions
give the candidate order, which is verified:

(a) each revision bump belongs to exactly one mutating operation (one whose branch taken wrote:
    a put, or a delete that deleted something), and bumps are consecutive from
    ``initial_revision``. A revision no known operation made (a gap) may be filled by an
    indeterminate operation that can write, if replaying it there writes something; which one
    is searched (depth first, revision window by window, at most ``max_nodes`` steps), helped by
    what reads saw: a key's mod_revision g with value v can only come from an operation that
    puts v there ("applied-twice" if only a known operation at another revision does);
    With the committed log (``committed=``, e.g. a simulated cluster's store events), a gap's
    candidates are the operations that can write what the log holds there, as section 8 says
    (and each known write's effect is compared with the log too);
(b) real time: if A returned before B was called, rev(B) >= rev(A), strictly if B mutates
    (serializable reads are exempt: they may be stale by design, not by accident);
(c) replaying the mutations in revision order on a sequential store (checkers/txn_model.py),
    every response equals the replay's at its header revision: which branch a txn's compares
    chose, each range (kvs, count, more), each delete's count and prev_kvs, each put's prev_kv,
    nested txns alike. A plain get of a past ``revision`` is compared with that revision.

Records: kind "txn" as etcdlab.txn's ``to_record()`` writes them (input and output: see
txn_model.py); "put" ``{"key", "value", "lease"?}`` -> ``{"revision"}``; "get"/"range" ``{"key",
"range_end"?, "revision"?, options}`` -> ``{"kvs", "count", "more"?, "revision"}`` or
KVRevision's one-key shape; "delete" ``{"key", "range_end"?}`` -> ``{"deleted", "revision",
"prev_kvs"?}``. Add ``"serializable": True`` to a read's input to exempt it from (b). Leases
are not modelled: an expiry deletes keys no operation deleted (use check_leases).
"""

from __future__ import annotations

import bisect
import sys
import time
from typing import Any, Optional

from . import txn_model as m
from .history import INF, HistoryError, READ_KINDS, drop_indeterminate, load_history, \
    validate_history
from .revisions import RevisionResult, Violation, _real_time, _t

__all__ = ["check_txns"]


class _T:
    """One operation as a txn: `txn` ("txn", compares, success, failure), its recorded
    response ("txn", succeeded, responses) or None if indeterminate, `rev` (header revision;
    a mutation's own), `at` (the revision a read is judged at)."""

    __slots__ = ("op", "id", "call", "ret", "txn", "resp", "rev", "at", "mutates", "unknown",
                 "serializable", "plain")

    def __init__(self, op, txn, resp, rev, at, serializable, plain):
        self.op, self.id, self.call, self.ret = op, op.id, op.call, op.ret
        self.txn, self.resp, self.rev, self.at = txn, resp, rev, at
        self.unknown = resp is None
        self.mutates = m.writes(txn) if resp is None else m.wrote(txn, resp)
        self.serializable, self.plain = serializable, plain


def _short(x: bytes) -> str:
    s = repr(x)
    return s if len(s) <= 24 else s[:21] + "..."


def _op_text(o: tuple) -> str:
    if o[0] == "range":
        return f"get({_short(o[1])}{'' if o[2] is None else ', ' + _short(o[2])})"
    if o[0] == "put":
        return f"put({_short(o[1])}, {_short(o[2])})"
    if o[0] == "delete":
        return f"delete({_short(o[1])}{'' if o[2] is None else ', ' + _short(o[2])})"
    cmp = " and ".join(f"{m.TARGETS[c[2]].split('_')[0]}({_short(c[0])}) {m.RESULTS[c[3]]} "
                       f"{_short(c[4]) if isinstance(c[4], bytes) else c[4]}" for c in o[1])
    return (f"txn(if {cmp or 'true'} then {', '.join(_op_text(x) for x in o[2]) or '-'} "
            f"else {', '.join(_op_text(x) for x in o[3]) or '-'})")


def _desc(r: _T) -> str:
    text = _op_text(r.txn[2][0]) if r.plain else _op_text(r.txn)
    if len(text) > 160:
        text = text[:157] + "..."
    if r.unknown:
        return f"op {r.id} {text} -> ? (indeterminate)"
    what = "" if r.plain else (" succeeded" if r.resp[1] else " failed")
    return f"op {r.id} {text} ->{what} @{r.rev}"


def _when(r: _T) -> str:
    return f"[{_t(r.call)}, {_t(r.ret)}]"


# ---- reading operations

def _plain_read_output(key: bytes, out: Any, what: str) -> tuple[tuple, Optional[int]]:
    """A get's output: the range shape, or KVRevision's one-key shape."""
    if out is None:
        raise HistoryError(f"{what}: a read needs its output with the header revision")
    d = m.as_dict(out, what)
    header = d.get("revision", d.get("header_revision"))
    header = None if header is None else m.as_int(header, what)
    if "kvs" in d or "count" in d:
        return m.read_response({"range": d}, what), header
    if d.get("value") is None:  # KVRevision's shape: absent
        return ("range", (), None, None), header
    kv = {"key": key, "value": m.as_bytes(d["value"], what)}
    for name in ("create_revision", "mod_revision", "version", "lease"):
        if d.get(name) is not None:
            kv[name] = m.as_int(d[name], what)
    return ("range", (kv,), None, None), header


def _read(op) -> _T:
    what = op.describe()
    kind = op.kind
    unknown = op.outcome == "unknown"
    serializable = False
    if kind == "txn":
        txn = m.read_txn(op.input, what)
        if unknown:
            return _T(op, txn, None, None, None, False, False)
        d = m.as_dict(op.output, what)
        resp = m.read_response({"txn": d}, what)
        rev = m.as_int(d.get("revision"), what) if d.get("revision") is not None else None
        if rev is None:
            raise HistoryError(f"{what}: a txn's output needs the header revision")
        return _T(op, txn, resp, rev, rev, False, False)
    inp = op.input
    if isinstance(inp, (str, bytes)):
        inp = {"key": inp}
    elif isinstance(inp, (list, tuple)) and not (inp and isinstance(inp[0], tuple)):
        inp = {"key": inp[0], "value": inp[1]} if len(inp) == 2 else {"key": inp[0]}
    d = dict(m.as_dict(inp, what))
    serializable = bool(d.pop("serializable", False))
    if kind in ("put", "write"):
        sub = m.read_op({"put": d}, what)
    elif kind in ("delete", "del", "delete_range"):
        sub = m.read_op({"delete": d}, what)
    elif kind in READ_KINDS:
        past = m.as_int(d.pop("revision", 0), what)
        sub = m.read_op({"range": d}, what)
    else:
        raise HistoryError(f"{what}: check_txns reads txn, put, get/range and delete, "
                           f"not {kind!r}")
    txn = ("txn", (), (sub,), ())
    if unknown:
        return _T(op, txn, None, None, None, serializable, True)
    out = op.output
    if kind in READ_KINDS:
        resp, header = _plain_read_output(sub[1], out, what)
        if header is None:
            raise HistoryError(f"{what}: the revision checkers need each read's header revision "
                               "(output 'revision')")
        at = past if past > 0 else header
        return _T(op, txn, ("txn", True, (resp,)), header, at, serializable, True)
    if sub[0] == "put":
        rev = m.as_int(m.as_dict(out, what).get("revision") if not isinstance(out, int)
                       else out, what)
        prev = m.as_dict(out, what).get("prev_kv") if not isinstance(out, int) else None
        resp = ("put", None if prev is None else m.read_kv(prev, what))
    else:
        od = m.as_dict(out, what)
        rev = m.as_int(od.get("revision"), what)
        resp = m.read_response({"delete": {k: v for k, v in od.items() if k != "revision"}},
                               what)
    return _T(op, txn, ("txn", True, (resp,)), rev, rev, serializable, True)


def _deletes(op: tuple) -> bool:
    if op[0] == "delete":
        return True
    return op[0] == "txn" and any(_deletes(o) for o in op[2] + op[3])


def _observed(r: _T):
    """(key, value, mod, create) of every kv a known response holds (any nesting)."""
    def walk(resp):
        if resp[0] == "range":
            for kv in resp[1]:
                yield kv
        elif resp[0] == "put" and resp[1] is not None:
            yield resp[1]
        elif resp[0] == "delete" and resp[2] is not None:
            yield from resp[2]
        elif resp[0] == "txn":
            for x in resp[2]:
                yield from walk(x)
    for kv in walk(r.resp):
        if "key" in kv and "mod_revision" in kv:
            yield kv["key"], kv.get("value"), kv["mod_revision"], kv.get("create_revision")


# ---- the check

def _effects(committed) -> dict[int, tuple[dict, frozenset]]:
    """revision -> (keys put there -> value, keys deleted there), from committed events
    (etcdlab.WatchEvent objects, or dicts {"type", "kv": {"key", "value", "mod_revision"}})."""
    out: dict[int, tuple[dict, set]] = {}
    for i, e in enumerate(committed):
        d = e.to_dict() if hasattr(e, "to_dict") else m.as_dict(e, f"committed event {i}")
        kv = m.as_dict(d.get("kv"), f"committed event {i}")
        rev = m.as_int(kv.get("mod_revision"), f"committed event {i}")
        key = m.as_bytes(kv.get("key"), f"committed event {i}")
        puts, dels = out.setdefault(rev, ({}, set()))
        if d.get("type", "PUT") == "DELETE":
            dels.add(key)
        else:
            puts[key] = m.as_bytes(kv.get("value", b""), f"committed event {i}")
    return {rev: (puts, frozenset(dels)) for rev, (puts, dels) in out.items()}


def _show_effect(puts: dict, dels) -> str:
    parts = [f"put {k!r}={v!r}" for k, v in sorted(puts.items())]
    parts += [f"delete {k!r}" for k in sorted(dels)]
    return ", ".join(parts) or "nothing"


def check_txns(history: Any, *, initial_revision: int = 1, validate: bool = True,
               committed: Any = None, max_nodes: int = 20_000,
               max_violations: int = 100) -> RevisionResult:
    """Checks a revision-carrying history of put/get/delete/txn operations (module doc).
    ``initial_revision`` is the store's revision before the first write (etcd: 1).
    ``committed``, the events the cluster committed (a simulated cluster's
    ``store_events``), makes the filling of gaps exact (a gap takes an indeterminate operation
    only if replaying it there writes what the log holds there) and checks each known write's
    effect against the log too."""
    start = time.monotonic()
    ops = load_history(history)
    if validate:
        validate_history(ops)

    def is_read(op) -> bool:
        if op.kind in READ_KINDS:
            return True
        return op.kind == "txn" and not m.writes(m.read_txn(op.input, op.describe()))

    ops = drop_indeterminate(ops, is_read)
    recs = [_read(op) for op in ops]
    known = [r for r in recs if not r.unknown and r.mutates]
    observers = [r for r in recs if not r.unknown and not r.mutates]
    unknown = [r for r in recs if r.unknown]
    fixed: list[Violation] = []

    # (a) distinct, consecutive revisions
    by_rev: dict[int, _T] = {}
    for r in sorted(known, key=lambda r: (r.rev, r.call)):
        if r.rev <= initial_revision:
            fixed.append(Violation("malformed", f"{_desc(r)} {_when(r)}: a write's revision "
                                   f"must be above the initial revision {initial_revision}",
                                   [r.id], [r.rev], [r.call]))
        elif r.rev in by_rev:
            o = by_rev[r.rev]
            fixed.append(Violation("duplicate-revision",
                                   f"revision {r.rev} was made twice: {_desc(o)} {_when(o)} "
                                   f"and {_desc(r)} {_when(r)}",
                                   [r.id, o.id], [r.rev], [r.call, o.call]))
        else:
            by_rev[r.rev] = r

    # What reads saw: a gap's revision as some key's mod or create revision.
    seen_mod: dict[int, tuple] = {}
    seen_create: dict[int, tuple] = {}
    max_rev, max_src = initial_revision, None
    for r in known + observers:
        if r.rev > max_rev:
            max_rev, max_src = r.rev, r
        for key, value, mod, create in _observed(r):
            seen_mod.setdefault(mod, (r, key, value))
            if create:
                seen_create.setdefault(create, (r, key))
    put_by: dict[tuple, list] = {}
    for r in recs:
        for kv in m.puts_of(r.txn):
            put_by.setdefault(kv, []).append(r)
    log = _effects(committed) if committed is not None else {}
    # an indeterminate put of a value some read saw at mod g can only have made g
    pinned = {id(u): g for g, (_, k, v) in seen_mod.items() if v is not None
              for u in put_by.get((k, v), []) if u.unknown and len(put_by[(k, v)]) == 1}

    done = sorted((r for r in known + observers if r.ret != INF), key=lambda r: r.ret)
    rets = [r.ret for r in done]
    floors, cur = [], initial_revision
    for r in done:
        cur = max(cur, r.rev)
        floors.append(cur)

    def floor_before(t) -> int:
        k = bisect.bisect_left(rets, t)
        return floors[k - 1] if k else initial_revision

    gaps: list[tuple[int, list]] = []
    n_gaps = (max_rev - initial_revision) - len(by_rev)
    if n_gaps > len(unknown) + 10_000:
        fixed.append(Violation("lost-revision", f"{n_gaps} revisions up to {max_rev} (in "
                               f"{_desc(max_src)}) were made by no operation, more than the "
                               f"{len(unknown)} indeterminate ones could explain",
                               [max_src.id] if max_src else [], [max_rev], []))
    else:
        for g in range(initial_revision + 1, max_rev + 1):
            if g in by_rev:
                continue
            seen = None
            if g in log:
                puts, dels = log[g]
                cands = [u for u in unknown if u.mutates
                         and all((k, v) in set(m.puts_of(u.txn)) for k, v in puts.items())
                         and (not dels or _deletes(u.txn))]
                seen = f"the committed log holds {_show_effect(puts, dels)} there"
            elif g in seen_mod:
                obs, k, v = seen_mod[g]
                if v is None:  # the value was not shown (keys_only): any put of the key
                    cands = [u for u in unknown if any(pk == k for pk, _ in m.puts_of(u.txn))]
                else:
                    cands = [u for u in put_by.get((k, v), []) if u.unknown]
                seen = (f"{_desc(obs)} {_when(obs)} saw it as the mod_revision of {k!r}"
                        f"{'' if v is None else ' = ' + repr(v)}")
                twice = [r for r in put_by.get((k, v), []) if not r.unknown and r.rev != g]
                if not cands and v is not None and twice:
                    w = twice[0]
                    fixed.append(Violation(
                        "applied-twice",
                        f"revision {g}: {seen}, a value only {_desc(w)} {_when(w)} puts, at "
                        f"revision {w.rev}: it was applied at two revisions",
                        [obs.id, w.id], [g, w.rev], [obs.call, w.call]))
                    continue
            elif g in seen_create:
                obs, k = seen_create[g]
                cands = [u for u in unknown if any(pk == k for pk, _ in m.puts_of(u.txn))]
                seen = f"{_desc(obs)} {_when(obs)} saw it as the create_revision of {k!r}"
            else:
                cands = [u for u in unknown if u.mutates and id(u) not in pinned]
            cands = [u for u in cands if floor_before(u.call) < g and pinned.get(id(u), g) == g]
            cands.sort(key=lambda u: (g - floor_before(u.call), u.call))
            if cands:
                gaps.append((g, cands))
                continue
            if seen is None:
                seen = (f"no read saw it; the highest revision seen is {max_rev}"
                        + (f", in {_desc(max_src)} {_when(max_src)}" if max_src else ""))
            fixed.append(Violation("lost-revision", f"revision {g} was made by no operation "
                                   f"({seen}), and no indeterminate one could have made it",
                                   [max_src.id] if max_src else [], [g], []))
            if len(fixed) >= max_violations:
                break

    # (b) real time, among the operations whose revisions are known
    fixed.extend(_real_time([r for r in known + observers if not r.serializable],
                            max_violations, _desc))

    # (c) replay, windows [g_i, g_i+1) between gaps, each gap's filling searched
    obs_at: dict[int, list] = {}
    for o in observers:
        obs_at.setdefault(o.at, []).append(o)
    gap_revs = [g for g, _ in gaps]
    bounds = [initial_revision] + gap_revs + [max_rev + 1]
    store = m.Store()
    nodes, exhausted = 0, False
    best: Optional[tuple[int, list]] = None
    chosen: dict[int, _T] = {}
    used: set[int] = set()

    def mutate(r: _T, rev: int) -> Optional[Violation]:
        view = m.View(store)
        want = m.execute(view, r.txn, rev)
        if rev in log:
            puts = {k: v[0] for k, v in view.overlay.items() if v is not None}
            dels = frozenset(k for k, v in view.overlay.items() if v is None)
            if (puts, dels) != log[rev]:
                store.commit(view.overlay)
                return Violation("lost-revision" if r.unknown else "bad-write",
                                 f"{_desc(r)} {_when(r)} replayed at revision {rev} does "
                                 f"{_show_effect(puts, dels)}, but the committed log holds "
                                 f"{_show_effect(*log[rev])} there", [r.id], [rev], [r.call])
        if r.unknown:
            store.commit(view.overlay)
            if view.overlay:
                return None
            return Violation("lost-revision", f"revision {rev} cannot be {_desc(r)} "
                             f"{_when(r)}: replayed there it writes nothing", [r.id], [rev],
                             [r.call])
        store.commit(view.overlay)
        return _judge(r, want, rev, "bad-write")

    def _judge(r: _T, want: tuple, rev: int, kind: str) -> Optional[Violation]:
        problems = m.diff(r.txn, r.resp, want)
        if not problems:
            return None
        if r.plain:  # "success[0] " says nothing for a plain operation
            problems = [p.replace("success[0] ", "", 1) for p in problems]
        return Violation(kind, f"{_desc(r)} {_when(r)} disagrees with replaying the writes in "
                         f"revision order, at revision {rev}: " + "; ".join(problems[:3]),
                         [r.id], [rev], [r.call])

    def observe(o: _T, rev: int) -> Optional[Violation]:
        view = m.View(store)
        return _judge(o, m.execute(view, o.txn, rev), rev,
                      "stale-read" if not o.mutates else "bad-write")

    def window(k: int, filler: Optional[_T], limit: int) -> list:
        vs: list[Violation] = []
        for rev in range(bounds[k], bounds[k + 1]):
            w = filler if (filler is not None and rev == bounds[k] and k > 0) else by_rev.get(rev)
            if w is not None:
                v = mutate(w, rev)
                if v is not None:
                    vs.append(v)
            for o in obs_at.get(rev, ()):
                v = observe(o, rev)
                if v is not None:
                    vs.append(v)
            if len(vs) >= limit:
                return vs[:limit]
        return vs

    def dfs(k: int) -> bool:
        nonlocal nodes, exhausted, best
        if k == len(bounds) - 1:
            return True
        if k == 0:
            options: list = [None]
        else:  # operations with the same ops are interchangeable here: try one of each
            options, kinds = [], set()
            for u in gaps[k - 1][1]:
                if id(u) not in used and u.txn not in kinds:
                    kinds.add(u.txn)
                    options.append(u)
        limit = 1 if gaps else max_violations
        for u in options:
            if nodes >= max_nodes:
                exhausted = True
                return False
            nodes += 1
            mark = store.mark()
            if u is not None:
                chosen[bounds[k]] = u
                used.add(id(u))
            vs = window(k, u, limit)
            if not vs and dfs(k + 1):
                return True
            if vs and (best is None or k > best[0]):
                best = (k, vs)
            store.undo(mark)
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
    try:
        if fixed:  # illegal whatever the filling: replay a greedy one for context
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
            verdict, violations = "illegal", fixed + more
        elif dfs(0):
            verdict, violations = "ok", []
        elif exhausted:
            verdict, violations = "unknown", []
            note = (f"searched {nodes} steps for a way to fill {len(gaps)} revision gap(s) with "
                    f"indeterminate operations (max_nodes={max_nodes}); inconclusive")
        else:
            verdict, violations = "illegal", best[1] if best else []
            if gaps:
                note = (f"no way to fill the {len(gaps)} revision gap(s) {gap_revs[:10]} with "
                        "indeterminate operations is consistent; shown: the violation of the "
                        "filling that got furthest")
    finally:
        sys.setrecursionlimit(old_limit)
    violations = violations[:max_violations]
    info = {"operations": len(ops), "initial_revision": initial_revision,
            "max_revision": max_rev, "gaps": gap_revs, "search_steps": nodes,
            "assigned": {g: u.id for g, u in chosen.items()},
            "elapsed": time.monotonic() - start, "note": note,
            "violations": [v.to_dict() for v in violations]}
    return RevisionResult(verdict=verdict, violations=violations, info=info)
