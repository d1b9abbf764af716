"""A sequential etcd store for the txn checker: operations and responses read from history
records, and the store they run on (a txn's compares, its branch's ranges, puts, deletes and
nested txns at one revision, as etcd 3.4 executes them).

Records (what `etcdlab.txn` writes with ``to_record()``; keys and values str or bytes):

- a txn's input ``{"compare": [...], "success": [op...], "failure": [op...]}``; a compare
  ``{"key", "range_end"?, "target": VALUE|VERSION|CREATE|MOD|LEASE, "result":
  EQUAL|NOT_EQUAL|LESS|GREATER, <operand>}`` with the operand under etcd's field name
  (``value``, ``version``, ``create_revision``, ``mod_revision``, ``lease``); an op
  ``{"range": {"key", "range_end"?, "limit"?, "sort_order"?, "sort_target"?, "keys_only"?,
  "count_only"?, "min_mod_revision"?, ...}}``, ``{"put": {"key", "value", "lease"?,
  "prev_kv"?, "ignore_value"?, "ignore_lease"?}}``, ``{"delete": {"key", "range_end"?,
  "prev_kv"?}}`` or ``{"txn": {...}}``;
- its output ``{"succeeded", "revision" (the header's), "responses": [...]}``, one response
  per op of the branch taken: ``{"range": {"kvs": [kv...], "count", "more"}}``, ``{"put":
  {"prev_kv"?}}``, ``{"delete": {"deleted", "prev_kvs"?}}``, ``{"txn": {"succeeded",
  "responses"}}``; a kv ``{"key", "value", "create_revision", "mod_revision", "version",
  "lease"}`` (fields left out are not checked).

Histories are frozen on loading (dicts become sorted item tuples, lists tuples); the readers
here take either form.
"""

from __future__ import annotations

from typing import Any, Optional

from .history import HistoryError

TARGETS = {"VALUE": "value", "VERSION": "version", "CREATE": "create_revision",
           "MOD": "mod_revision", "LEASE": "lease"}
RESULTS = {"EQUAL": "=", "NOT_EQUAL": "!=", "LESS": "<", "GREATER": ">"}
_KV_INTS = ("create_revision", "mod_revision", "version", "lease")
_SORT = {"KEY": 0, "VALUE": 1, "CREATE": 2, "MOD": 3, "VERSION": 4}  # index into _kv_tuple


# ---- reading records (plain or frozen)

def as_dict(x: Any, what: str) -> dict:
    if isinstance(x, dict):
        return x
    if isinstance(x, tuple) and all(isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], str)
                                    for i in x):
        return dict(x)
    raise HistoryError(f"{what}: expected an object, not {x!r}")


def as_list(x: Any, what: str) -> list:
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    raise HistoryError(f"{what}: expected a list, not {x!r}")


def as_bytes(x: Any, what: str) -> bytes:
    if isinstance(x, str):
        return x.encode()
    if isinstance(x, (bytes, bytearray)):
        return bytes(x)
    raise HistoryError(f"{what}: expected bytes or str, not {x!r}")


def as_int(x: Any, what: str) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, str)):
        raise HistoryError(f"{what}: expected an int, not {x!r}")
    try:
        return int(x)
    except ValueError:
        raise HistoryError(f"{what}: expected an int, not {x!r}") from None


def _one(d: dict, what: str) -> tuple[str, dict]:
    if len(d) != 1:
        raise HistoryError(f"{what}: expected one of range, put, delete, txn, not {d!r}")
    (kind, body), = d.items()
    return kind, as_dict(body, f"{what} {kind}")


def read_compare(c: Any, what: str) -> tuple:
    d = as_dict(c, what)
    target = d.get("target", "VERSION")
    result = d.get("result", "EQUAL")
    if target not in TARGETS or result not in RESULTS:
        raise HistoryError(f"{what}: target {target!r} or result {result!r} is not etcd's")
    field = TARGETS[target]
    if target == "VALUE":
        operand = as_bytes(d.get(field, b""), what)
    else:
        operand = as_int(d.get(field, 0), what)
    end = d.get("range_end")
    return (as_bytes(d.get("key"), what), None if end is None else as_bytes(end, what),
            target, result, operand)


def read_txn(d: Any, what: str) -> tuple:
    """("txn", compares, success ops, failure ops)."""
    d = as_dict(d, what)
    return ("txn", tuple(read_compare(c, f"{what} compare {i}")
                         for i, c in enumerate(as_list(d.get("compare"), what))),
            tuple(read_op(o, f"{what} success[{i}]")
                  for i, o in enumerate(as_list(d.get("success"), what))),
            tuple(read_op(o, f"{what} failure[{i}]")
                  for i, o in enumerate(as_list(d.get("failure"), what))))


def read_op(o: Any, what: str) -> tuple:
    kind, b = _one(as_dict(o, what), what)
    end = b.get("range_end")
    end = None if end is None else as_bytes(end, what)
    if kind == "range":
        opts = {k: b[k] for k in ("limit", "sort_order", "sort_target", "keys_only",
                                  "count_only", "min_mod_revision", "max_mod_revision",
                                  "min_create_revision", "max_create_revision") if k in b}
        if as_int(b.get("revision", 0), what) > 0:
            raise HistoryError(f"{what}: a read of a past revision inside a txn is not checked "
                               "(only a plain get's revision is)")
        return ("range", as_bytes(b.get("key"), what), end, tuple(sorted(opts.items())))
    if kind == "put":
        return ("put", as_bytes(b.get("key"), what), as_bytes(b.get("value", b""), what),
                as_int(b.get("lease", 0), what), bool(b.get("prev_kv")),
                bool(b.get("ignore_value")), bool(b.get("ignore_lease")))
    if kind == "delete":
        return ("delete", as_bytes(b.get("key"), what), end, bool(b.get("prev_kv")))
    if kind == "txn":
        return read_txn(b, what)
    raise HistoryError(f"{what}: an op is one of range, put, delete, txn, not {kind!r}")


def read_kv(kv: Any, what: str) -> dict:
    d = as_dict(kv, what)
    out: dict[str, Any] = {}
    for name in ("key", "value"):
        if name in d:
            out[name] = as_bytes(d[name], what)
    for name in _KV_INTS:
        if name in d:
            out[name] = as_int(d[name], what)
    return out


def read_response(r: Any, what: str) -> tuple:
    kind, b = _one(as_dict(r, what), what)
    if kind == "range":
        kvs = tuple(read_kv(kv, what) for kv in as_list(b.get("kvs"), what))
        count = as_int(b["count"], what) if b.get("count") is not None else None
        more = bool(b["more"]) if b.get("more") is not None else None
        return ("range", kvs, count, more)
    if kind == "put":
        prev = b.get("prev_kv")
        return ("put", None if prev is None else read_kv(prev, what))
    if kind == "delete":
        deleted = as_int(b.get("deleted", 0), what)
        prevs = b.get("prev_kvs")
        return ("delete", deleted,
                None if prevs is None else tuple(read_kv(kv, what) for kv in as_list(prevs, what)))
    if kind == "txn":
        return ("txn", bool(b.get("succeeded")),
                tuple(read_response(x, f"{what} {i}")
                      for i, x in enumerate(as_list(b.get("responses"), what))))
    raise HistoryError(f"{what}: a response is one of range, put, delete, txn, not {kind!r}")


def writes(op: tuple) -> bool:
    """Whether an op may change the store (in any branch)."""
    if op[0] == "txn":
        return any(writes(o) for o in op[2] + op[3])
    return op[0] in ("put", "delete")


def wrote(op: tuple, response: tuple) -> bool:
    """Whether a recorded response says the op changed the store (a response of another
    kind than its op says nothing: diff() reports it)."""
    if response[0] != op[0]:
        return False
    if op[0] == "put":
        return True
    if op[0] == "delete":
        return response[1] > 0
    if op[0] == "txn":
        branch = op[2] if response[1] else op[3]
        return any(wrote(o, r) for o, r in zip(branch, response[2]))
    return False


def puts_of(op: tuple):
    """Every (key, value) some branch of the op may put."""
    if op[0] == "put":
        yield op[1], op[2]
    elif op[0] == "txn":
        for o in op[2] + op[3]:
            yield from puts_of(o)


# ---- the store

def _in_range(k: bytes, key: bytes, end: Optional[bytes]) -> bool:
    if end is None:
        return k == key
    if end == b"\0":
        return k >= key
    return key <= k < end


class Store:
    """key -> (value, create_revision, mod_revision, version, lease), with an undo log."""

    def __init__(self):
        self.kv: dict[bytes, tuple] = {}
        self.log: list[tuple] = []

    def mark(self) -> int:
        return len(self.log)

    def undo(self, mark: int) -> None:
        while len(self.log) > mark:
            key, old = self.log.pop()
            if old is None:
                self.kv.pop(key, None)
            else:
                self.kv[key] = old

    def commit(self, overlay: dict) -> None:
        for key, new in overlay.items():
            self.log.append((key, self.kv.get(key)))
            if new is None:
                self.kv.pop(key, None)
            else:
                self.kv[key] = new


class View:
    """A store as one txn sees it: its own writes (an overlay) over the store."""

    def __init__(self, store: Store):
        self.store = store
        self.overlay: dict[bytes, Optional[tuple]] = {}

    def get(self, k: bytes) -> Optional[tuple]:
        if k in self.overlay:
            return self.overlay[k]
        return self.store.kv.get(k)

    def items(self, key: bytes, end: Optional[bytes]) -> list:
        if end is None:
            v = self.get(key)
            return [] if v is None else [(key, v)]
        keys = {k for k in self.store.kv if _in_range(k, key, end)}
        keys |= {k for k in self.overlay if _in_range(k, key, end)}
        out = []
        for k in sorted(keys):
            v = self.get(k)
            if v is not None:
                out.append((k, v))
        return out


def kv_dict(k: bytes, v: tuple) -> dict:
    return {"key": k, "value": v[0], "create_revision": v[1], "mod_revision": v[2],
            "version": v[3], "lease": v[4]}


def _holds(c: tuple, v: Optional[tuple]) -> bool:
    key, end, target, result, operand = c
    if target == "VALUE":
        mine = v[0] if v is not None else b""
    else:
        mine = 0 if v is None else v[{"CREATE": 1, "MOD": 2, "VERSION": 3, "LEASE": 4}[target]]
    cmp = (mine > operand) - (mine < operand)
    return {"EQUAL": cmp == 0, "NOT_EQUAL": cmp != 0, "GREATER": cmp > 0,
            "LESS": cmp < 0}[result]


def compare_holds(view: View, c: tuple) -> bool:
    """etcd's applyCompare: every key of the range satisfies it; a missing key (or an empty
    range) compares as zeros, except that a value compare on it is false."""
    items = view.items(c[0], c[1])
    if not items:
        return c[2] != "VALUE" and _holds(c, None)
    return all(_holds(c, v) for _, v in items)


def _range(view: View, op: tuple) -> tuple:
    """("range", kvs, count, more, every kv the filters kept, by key): the last item lets the
    comparison accept any order of ties in the sort target (Go's sort is not stable)."""
    _, key, end, opts = op
    opts = dict(opts)
    items = view.items(key, end)
    count = len(items)  # etcd counts the range, before the filters and the limit
    lo_mod, hi_mod = int(opts.get("min_mod_revision", 0)), int(opts.get("max_mod_revision", 0))
    lo_cr, hi_cr = int(opts.get("min_create_revision", 0)), int(opts.get("max_create_revision", 0))
    kept = [(k, v) for k, v in items
            if (not lo_mod or v[2] >= lo_mod) and (not hi_mod or v[2] <= hi_mod)
            and (not lo_cr or v[1] >= lo_cr) and (not hi_cr or v[1] <= hi_cr)]
    keys_only = bool(opts.get("keys_only"))
    every = {k: _shown(k, v, keys_only) for k, v in kept}
    order, target = opts.get("sort_order", "NONE"), opts.get("sort_target", "KEY")
    if order == "NONE" and target != "KEY":
        order = "ASCEND"  # etcd: a target other than KEY sorts even without an order
    if order != "NONE":
        kept.sort(key=lambda kv: sort_key(kv, target), reverse=order == "DESCEND")
    limit = int(opts.get("limit", 0))
    more = limit > 0 and len(kept) > limit
    if more:
        kept = kept[:limit]
    kvs = () if opts.get("count_only") else tuple(every[k] for k, _ in kept)
    return ("range", kvs, count, more, every)


def _shown(k: bytes, v: tuple, keys_only: bool) -> dict:
    d = kv_dict(k, v)
    if keys_only:
        d["value"] = b""
    return d


def sort_key(kv: tuple, target: str):
    k, v = kv
    return {"KEY": k, "VALUE": v[0], "CREATE": v[1], "MOD": v[2], "VERSION": v[3]}[target]


def execute(view: View, op: tuple, rev: int) -> tuple:
    """Runs one op on the view at revision `rev`; returns its response (as read_response's)."""
    kind = op[0]
    if kind == "range":
        return _range(view, op)
    if kind == "put":
        _, key, value, lease, prev_kv, ignore_value, ignore_lease = op
        old = view.get(key)
        if old is not None and ignore_value:
            value = old[0]
        if old is not None and ignore_lease:
            lease = old[4]
        create, version = (rev, 1) if old is None else (old[1], old[3] + 1)
        view.overlay[key] = (value, create, rev, version, lease)
        return ("put", kv_dict(key, old) if (old is not None and prev_kv) else None)
    if kind == "delete":
        _, key, end, prev_kv = op
        items = view.items(key, end)
        for k, _ in items:
            view.overlay[k] = None
        return ("delete", len(items),
                tuple(kv_dict(k, v) for k, v in items) if prev_kv else None)
    _, compares, success, failure = op
    # etcd 3.4 (compareToPath) decides every branch, nested ones too, on the store as it was
    # before the txn: a nested compare does not see the outer branch's writes.
    before = View(view.store)
    ok = all(compare_holds(before, c) for c in compares)
    return ("txn", ok, tuple(execute(view, o, rev) for o in (success if ok else failure)))


# ---- comparing a recorded response with the replay's

def _kv_diff(got: dict, want: dict) -> Optional[str]:
    for name, v in got.items():
        if want.get(name) != v:
            return f"{name} {v!r} where the replay has {want.get(name)!r}"
    return None


def _show_kvs(kvs) -> str:
    if not kvs:
        return "none"
    return ", ".join(f"{kv.get('key')!r}={kv.get('value', b'')!r}"
                     f"(c{kv.get('create_revision', '?')} m{kv.get('mod_revision', '?')} "
                     f"v{kv.get('version', '?')})" for kv in kvs)


def diff(op: tuple, got: tuple, want: tuple, where: str = "") -> list[str]:
    """What differs between a recorded response and the replay's, in words."""
    kind = op[0]
    if got[0] != kind:
        return [f"{where}a {got[0]} response to a {kind}"]
    if kind == "range":
        return _range_diff(op, got, want, where)
    if kind == "put":
        if op[4] and (got[1] is None) != (want[1] is None):
            return [f"{where}put's prev_kv {got[1]!r} where the replay has {want[1]!r}"]
        if got[1] is not None and want[1] is not None:
            d = _kv_diff(got[1], want[1])
            return [f"{where}put's prev_kv: {d}"] if d else []
        return []
    if kind == "delete":
        out = []
        if got[1] != want[1]:
            out.append(f"{where}deleted {got[1]} key(s) where the replay deletes {want[1]} "
                       f"({_show_kvs(want[2]) if want[2] is not None else ''})".replace(" ()", ""))
        elif got[2] is not None and want[2] is not None:
            for g, w in zip(got[2], want[2]):
                d = _kv_diff(g, w)
                if d:
                    out.append(f"{where}delete's prev_kv: {d}")
                    break
        return out
    # a txn
    out = []
    if got[1] != want[1]:
        out.append(f"{where}the compares {'held' if got[1] else 'failed'} where in the replay "
                   f"they {'hold' if want[1] else 'fail'}")
        return out
    branch = op[2] if got[1] else op[3]
    if len(got[2]) != len(branch):
        return [f"{where}{len(got[2])} responses for the {len(branch)} ops of the branch"]
    for i, (o, g, w) in enumerate(zip(branch, got[2], want[2])):
        out += diff(o, g, w, f"{where}{'success' if got[1] else 'failure'}[{i}] ")
    return out


def _range_diff(op: tuple, got: tuple, want: tuple, where: str) -> list[str]:
    _, key, end, opts = op
    opts = dict(opts)
    rng = f"{key!r}" if end is None else f"[{key!r}, {end!r})"
    out = []
    if got[2] is not None and got[2] != want[2]:
        out.append(f"{where}range {rng}: count {got[2]} where the replay has {want[2]}")
    if got[3] is not None and got[3] != want[3]:
        out.append(f"{where}range {rng}: more={got[3]} where the replay has {want[3]}")
    gk, wk = got[1], want[1]
    target = opts.get("sort_target", "KEY")
    if target == "KEY":
        same = len(gk) == len(wk) and all(_kv_diff(g, w) is None for g, w in zip(gk, wk))
    else:
        # Ties in the sort target may come in any order, and a limit may cut a tie anywhere:
        # the same sequence of target values, no key twice, each kv as the replay has it.
        name = {"VALUE": "value", "CREATE": "create_revision", "MOD": "mod_revision",
                "VERSION": "version"}[target]
        every = want[4]
        keys = [g.get("key") for g in gk]
        same = ([g.get(name) for g in gk] == [w[name] for w in wk]
                and len(set(keys)) == len(keys)
                and all(g.get("key") in every and _kv_diff(g, every[g.get("key")]) is None
                        for g in gk))
    if not same:
        out.append(f"{where}range {rng}: {_show_kvs(gk)} where the replay has {_show_kvs(wk)}")
    return out
