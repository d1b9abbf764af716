"""Transactions over etcd's v3 JSON gateway (/v3/kv/txn): compares, operations, typed results.

    from etcdlab import txn as t
    r = client.txn(compare=[t.value("cfg") == "v1", t.mod("cfg") < 100],
                   success=[t.put("cfg", "v2"), t.get("cfg")],
                   failure=[t.get("cfg")])
    r.succeeded, r.revision, r.responses[1].kvs[0].value      # True, 7, b"v2"

A txn runs atomically at ONE revision: if every compare holds, the success operations run in
order (later ones see earlier writes), otherwise the failure ones. The revision goes up by one
only if the branch taken wrote something.

**Compares**: `value`, `version`, `create`, `mod` and `lease` name what is compared (a key, or
every key of [key, range_end) or of a prefix); `==`, `!=`, `<` and `>` build the
:class:`Compare` (etcd has no `<=` or `>=`). A missing key compares as zeros (version 0, create
0: "does not exist"), except that a value compare on a missing key is always false. Values are
bytes (str is UTF-8); the others int64.

    t.create("lock/a") == 0          # the key does not exist
    t.version("cfg/", prefix=True) > 0   # every key with that prefix exists
    t.value("k") != "old"            # false if k is missing

**Operations**: `get` (a range, with the options of Client.get), `put`, `delete` and `txn` (a
nested one, whose compares choose between its own branches). Bad arguments raise TypeError or
ValueError before anything is sent; the server's refusals (more than 128 operations in a list,
a key put twice or put inside a deleted range of the same branch, across nested txns; a
revision compacted or in the future) are EtcdError, as every other answer of the client.

**Results**: :class:`TxnResult` (``succeeded``, ``revision``: the header's, ``responses``: one
per operation of the branch taken, as :class:`RangeResult`, :class:`PutResult`,
:class:`DeleteResult` or a nested :class:`TxnResult`). A sub-result's ``revision`` is the one its
header carries: etcd writes the store's revision as it was when that operation ran (a read
before the branch's first write shows the revision before the txn); a nested txn's header is
empty (revision 0). ``to_record()`` gives the shape the checkers read
(:func:`etcdlab.checkers.check_txns`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Union

from .client import Client, EtcdError, _b, _enc, _int64, _lease_id, prefix_end
from .views import KeyValue

__all__ = ["Compare", "Op", "value", "version", "create", "mod", "lease", "get", "put",
           "delete", "txn", "TxnResult", "RangeResult", "PutResult", "DeleteResult",
           "request", "recorded_txn"]

# etcd's Compare.target, and the request field that holds the operand of each.
_FIELDS = {"VALUE": "value", "VERSION": "version", "CREATE": "create_revision",
           "MOD": "mod_revision", "LEASE": "lease"}
_NAMES = {"VALUE": "value", "VERSION": "version", "CREATE": "create", "MOD": "mod",
          "LEASE": "lease"}
_RESULTS = {"EQUAL": "=", "NOT_EQUAL": "!=", "LESS": "<", "GREATER": ">"}
_SORT_ORDERS = ("NONE", "ASCEND", "DESCEND")
_SORT_TARGETS = ("KEY", "VERSION", "CREATE", "MOD", "VALUE")


def _key(x, what: str = "a key") -> bytes:
    if isinstance(x, (str, bytes, bytearray, memoryview)):
        return _b(x)
    raise TypeError(f"{what} is bytes or str, not {type(x).__name__} ({x!r})")


def _flag(x, what: str) -> bool:
    if not isinstance(x, bool):
        raise TypeError(f"{what} is a bool, not {x!r}")
    return x


def _range_end(key: bytes, range_end, prefix: bool) -> Optional[bytes]:
    """[key, range_end): None for one key, b"\\0" for every key from `key`."""
    if _flag(prefix, "prefix"):
        if range_end is not None:
            raise ValueError("give range_end or prefix=True, not both")
        return prefix_end(key)
    return None if range_end is None else _key(range_end, "range_end")


def _text(b: bytes) -> Union[str, bytes]:
    """For records: UTF-8 bytes as str (JSON can hold them), others as they are."""
    try:
        return b.decode()
    except UnicodeDecodeError:
        return b


# ---------------------------------------------------------------------------------------------
# Compares


@dataclass(frozen=True)
class Compare:
    """One condition of a txn: `target` (VALUE, VERSION, CREATE, MOD, LEASE) of `key` (or of
    every key in [key, range_end)) `result` (EQUAL, NOT_EQUAL, LESS, GREATER) `operand`.
    Build it with the target functions (``value("k") == "v"``)."""

    key: bytes
    target: str
    result: str
    operand: Union[bytes, int]
    range_end: Optional[bytes] = None

    def __post_init__(self):
        if self.target not in _FIELDS:
            raise ValueError(f"a compare's target is one of {', '.join(_FIELDS)}, "
                             f"not {self.target!r}")
        if self.result not in _RESULTS:
            raise ValueError(f"a compare's result is one of {', '.join(_RESULTS)}, "
                             f"not {self.result!r}")

    def __bool__(self):
        raise TypeError(f"{self} is a condition the server evaluates inside a txn "
                        "(pass it in compare=[...]), not a Python truth value")

    def to_request(self) -> dict:
        body: dict[str, Any] = {"key": _enc(self.key), "target": self.target,
                                "result": self.result}
        operand = self.operand
        body[_FIELDS[self.target]] = _enc(operand) if self.target == "VALUE" else str(operand)
        if self.range_end is not None:
            body["range_end"] = _enc(self.range_end)
        return body

    def to_record(self) -> dict:
        rec: dict[str, Any] = {"key": _text(self.key), "target": self.target,
                               "result": self.result}
        operand = self.operand
        rec[_FIELDS[self.target]] = _text(operand) if self.target == "VALUE" else operand
        if self.range_end is not None:
            rec["range_end"] = _text(self.range_end)
        return rec

    def __str__(self) -> str:  # etcdctl's txn syntax (with the range, if any, appended)
        operand = self.operand.decode(errors="replace") if isinstance(self.operand, bytes) \
            else str(self.operand)
        where = "" if self.range_end is None else f" over [{self.key!r}, {self.range_end!r})"
        return (f'{_NAMES[self.target]}("{self.key.decode(errors="replace")}") '
                f'{_RESULTS[self.result]} "{operand}"{where}')


class _Target:
    """What a compare looks at; its comparison operators build the Compare."""

    __hash__ = None  # type: ignore[assignment]  (== builds a Compare, not a truth value)

    def __init__(self, target: str, key, range_end, prefix: bool):
        self._target = target
        self._key = _key(key)
        self._range_end = _range_end(self._key, range_end, prefix)

    def _compare(self, result: str, operand) -> Compare:
        if self._target == "VALUE":
            operand = _key(operand, "a value compare's operand")
        elif self._target == "LEASE":
            operand = _lease_id(operand, "a lease compare's operand (a lease id)")
        else:
            operand = _int64(operand, f"a {_NAMES[self._target]} compare's operand")
        return Compare(self._key, self._target, result, operand, self._range_end)

    def __eq__(self, operand) -> Compare:  # type: ignore[override]
        return self._compare("EQUAL", operand)

    def __ne__(self, operand) -> Compare:  # type: ignore[override]
        return self._compare("NOT_EQUAL", operand)

    def __lt__(self, operand) -> Compare:
        return self._compare("LESS", operand)

    def __gt__(self, operand) -> Compare:
        return self._compare("GREATER", operand)

    def __le__(self, operand):
        raise TypeError("etcd compares with ==, !=, < and > only (no <=): e.g. `< n + 1`")

    def __ge__(self, operand):
        raise TypeError("etcd compares with ==, !=, < and > only (no >=): e.g. `> n - 1`")

    def __repr__(self) -> str:
        return f'{_NAMES[self._target]}({self._key!r})'


def value(key, range_end=None, *, prefix: bool = False) -> _Target:
    """The value of `key` (bytes; a compare on a missing key is false)."""
    return _Target("VALUE", key, range_end, prefix)


def version(key, range_end=None, *, prefix: bool = False) -> _Target:
    """The version of `key`: 1 when created, +1 per put, 0 when missing."""
    return _Target("VERSION", key, range_end, prefix)


def create(key, range_end=None, *, prefix: bool = False) -> _Target:
    """The revision that created `key` (0 when missing: ``create(k) == 0`` is "k is absent")."""
    return _Target("CREATE", key, range_end, prefix)


def mod(key, range_end=None, *, prefix: bool = False) -> _Target:
    """The revision of the last write to `key` (0 when missing)."""
    return _Target("MOD", key, range_end, prefix)


def lease(key, range_end=None, *, prefix: bool = False) -> _Target:
    """The lease `key` is attached to (0: none, or missing)."""
    return _Target("LEASE", key, range_end, prefix)


# ---------------------------------------------------------------------------------------------
# Operations


@dataclass(frozen=True)
class Op:
    """One operation of a txn branch: `kind` ("range", "put", "delete", "txn"), `request`
    (the gateway's body of that request, without its request_* wrapper) and `record` (the same
    in the checkers' shape: keys and values as str when UTF-8). A nested txn keeps its
    `compare`, `success` and `failure`."""

    kind: str
    request: dict = field(hash=False)
    record: dict = field(hash=False, default_factory=dict)
    compare: tuple = ()
    success: tuple = ()
    failure: tuple = ()

    @property
    def writes(self) -> bool:
        """Whether it may change the store (a put or delete, in any branch of a nested txn)."""
        if self.kind == "txn":
            return any(op.writes for op in self.success + self.failure)
        return self.kind in ("put", "delete")

    def to_request(self) -> dict:
        if self.kind == "txn":
            return {"request_txn": request(self.compare, self.success, self.failure)}
        wrapper = {"range": "request_range", "put": "request_put",
                   "delete": "request_delete_range"}[self.kind]
        return {wrapper: self.request}

    def to_record(self) -> dict:
        if self.kind == "txn":
            return {"txn": _txn_record(self.compare, self.success, self.failure)}
        return {self.kind: dict(self.record)}


def _op(kind: str, fields: dict) -> Op:
    """An Op from its fields in Python types (bytes keys and values, int revisions): the
    gateway's body (base64, int64 as strings) and the record (str when UTF-8) side by side."""
    body: dict[str, Any] = {}
    rec: dict[str, Any] = {}
    for name, v in fields.items():
        if isinstance(v, bytes):
            body[name], rec[name] = _enc(v), _text(v)
        elif isinstance(v, bool) or isinstance(v, str):
            body[name] = rec[name] = v
        else:
            body[name], rec[name] = str(v), v
    if kind == "put" and not fields.get("value"):
        del body["value"]  # the gateway's way to say b""
    return Op(kind, body, rec)


def get(key, range_end=None, *, prefix: bool = False, revision: int = 0, limit: int = 0,
        sort_order: Optional[str] = None, sort_target: Optional[str] = None,
        serializable: bool = False, keys_only: bool = False, count_only: bool = False,
        min_mod_revision: int = 0, max_mod_revision: int = 0, min_create_revision: int = 0,
        max_create_revision: int = 0) -> Op:
    """A range read of `key`, [key, range_end), or every key with the prefix `key`.
    `revision` > 0 reads that past revision; `limit` > 0 caps the keys returned (`more` says
    some were left out); `sort_order` NONE/ASCEND/DESCEND by `sort_target`
    KEY/VERSION/CREATE/MOD/VALUE; the min/max filters keep keys whose revisions lie within
    (0: no bound). `count` is always the number of keys in the range, filters ignored."""
    k = _key(key)
    fields: dict[str, Any] = {"key": k}
    end = _range_end(k, range_end, prefix)
    if end is not None:
        fields["range_end"] = end
    for name, v in (("revision", revision), ("limit", limit),
                    ("min_mod_revision", min_mod_revision),
                    ("max_mod_revision", max_mod_revision),
                    ("min_create_revision", min_create_revision),
                    ("max_create_revision", max_create_revision)):
        if _int64(v, name):
            fields[name] = v
    for name, v, choices in (("sort_order", sort_order, _SORT_ORDERS),
                             ("sort_target", sort_target, _SORT_TARGETS)):
        if v is None:
            continue
        if v not in choices:
            raise ValueError(f"{name} is one of {', '.join(choices)}, not {v!r}")
        fields[name] = v
    for name, v in (("serializable", serializable), ("keys_only", keys_only),
                    ("count_only", count_only)):
        if _flag(v, name):
            fields[name] = True
    return _op("range", fields)


def put(key, value=b"", *, lease: int = 0, prev_kv: bool = False, ignore_value: bool = False,
        ignore_lease: bool = False) -> Op:
    """Puts key = value; `lease` attaches the key to that lease (a put without one detaches it
    from the lease it had); `prev_kv` returns the key as it was; `ignore_value` and
    `ignore_lease` keep the key's own (it must exist)."""
    fields: dict[str, Any] = {"key": _key(key), "value": _key(value, "a value")}
    if _lease_id(lease, "lease"):
        fields["lease"] = lease
    for name, flag in (("prev_kv", prev_kv), ("ignore_value", ignore_value),
                       ("ignore_lease", ignore_lease)):
        if _flag(flag, name):
            fields[name] = True
    return _op("put", fields)


def delete(key, range_end=None, *, prefix: bool = False, prev_kv: bool = False) -> Op:
    """Deletes `key`, [key, range_end), or every key with the prefix `key`."""
    k = _key(key)
    fields: dict[str, Any] = {"key": k}
    end = _range_end(k, range_end, prefix)
    if end is not None:
        fields["range_end"] = end
    if _flag(prev_kv, "prev_kv"):
        fields["prev_kv"] = True
    return _op("delete", fields)


def _checked(items, cls, what: str) -> tuple:
    if isinstance(items, (str, bytes, cls)) or not isinstance(items, Iterable):
        raise TypeError(f"{what} is a list of {cls.__name__}s, not {items!r}")
    items = tuple(items)
    for x in items:
        if not isinstance(x, cls):
            hint = " (build one with value(k) == v, create(k) == 0, ...)" if cls is Compare \
                else " (build one with get, put, delete or txn)"
            raise TypeError(f"{what} holds {x!r}, not a {cls.__name__}{hint}")
    return items


def txn(compare: Iterable[Compare] = (), success: Iterable[Op] = (),
        failure: Iterable[Op] = ()) -> Op:
    """A nested txn: its own compares choose between its own branches, inside the outer txn's
    revision. As in etcd 3.4, every compare, nested ones too, is evaluated before the txn runs:
    a nested compare does not see the outer branch's writes (its operations do)."""
    c = _checked(compare, Compare, "compare")
    s = _checked(success, Op, "success")
    f = _checked(failure, Op, "failure")
    return Op("txn", {}, {}, c, s, f)


def request(compare=(), success=(), failure=()) -> dict:
    """The gateway's TxnRequest body (arguments checked as txn's)."""
    c = _checked(compare, Compare, "compare")
    s = _checked(success, Op, "success")
    f = _checked(failure, Op, "failure")
    body: dict[str, Any] = {}
    if c:
        body["compare"] = [x.to_request() for x in c]
    if s:
        body["success"] = [x.to_request() for x in s]
    if f:
        body["failure"] = [x.to_request() for x in f]
    return body


def _txn_record(compare, success, failure) -> dict:
    return {"compare": [c.to_record() for c in compare],
            "success": [op.to_record() for op in success],
            "failure": [op.to_record() for op in failure]}


# ---------------------------------------------------------------------------------------------
# Results


def _kvs(items) -> list:
    return [KeyValue.from_dict(kv) for kv in items or []]


def _kv_record(kv: KeyValue) -> dict:
    return {"key": _text(kv.key), "value": _text(kv.value),
            "create_revision": kv.create_revision, "mod_revision": kv.mod_revision,
            "version": kv.version, "lease": kv.lease}


@dataclass(frozen=True)
class RangeResult:
    """A range's answer: the keys (after limit and filters), `count` (every key in the
    range), `more` (the limit left some out)."""

    revision: int
    kvs: list
    count: int = 0
    more: bool = False

    def to_record(self) -> dict:
        return {"range": {"kvs": [_kv_record(kv) for kv in self.kvs], "count": self.count,
                          "more": self.more}}


@dataclass(frozen=True)
class PutResult:
    """A put's answer; `prev_kv` only if asked for and the key existed."""

    revision: int
    prev_kv: Optional[KeyValue] = None

    def to_record(self) -> dict:
        rec: dict[str, Any] = {}
        if self.prev_kv is not None:
            rec["prev_kv"] = _kv_record(self.prev_kv)
        return {"put": rec}


@dataclass(frozen=True)
class DeleteResult:
    """A delete's answer: how many keys went, and (if asked for) what they held."""

    revision: int
    deleted: int = 0
    prev_kvs: list = field(default_factory=list)

    def to_record(self) -> dict:
        rec: dict[str, Any] = {"deleted": self.deleted}
        if self.prev_kvs:
            rec["prev_kvs"] = [_kv_record(kv) for kv in self.prev_kvs]
        return {"delete": rec}


@dataclass(frozen=True)
class TxnResult:
    """A txn's answer: whether the compares held (`succeeded`: the success branch ran), the
    header's `revision` (the txn's own if it wrote), one result per operation of the branch
    taken, and the whole `header` (cluster_id, member_id, raft_term; empty when nested)."""

    revision: int
    succeeded: bool
    responses: list
    header: dict = field(default_factory=dict)

    @classmethod
    def from_answer(cls, answer: dict) -> "TxnResult":
        """From the gateway's decoded TxnResponse."""
        header = answer.get("header", {})
        return cls(header.get("revision", 0), bool(answer.get("succeeded", False)),
                   [_result(r) for r in answer.get("responses", [])], header)

    def to_record(self) -> dict:
        """The output shape the checkers read: succeeded, revision, responses."""
        return {"succeeded": self.succeeded, "revision": self.revision,
                "responses": [{"txn": r.to_record()} if isinstance(r, TxnResult)
                              else r.to_record() for r in self.responses]}


def _result(item: dict):
    if "response_range" in item:
        r = item["response_range"]
        return RangeResult(r.get("header", {}).get("revision", 0), _kvs(r.get("kvs")),
                           r.get("count", 0), bool(r.get("more", False)))
    if "response_put" in item:
        r = item["response_put"]
        prev = r.get("prev_kv")
        return PutResult(r.get("header", {}).get("revision", 0),
                         KeyValue.from_dict(prev) if prev else None)
    if "response_delete_range" in item:
        r = item["response_delete_range"]
        return DeleteResult(r.get("header", {}).get("revision", 0), r.get("deleted", 0),
                            _kvs(r.get("prev_kvs")))
    if "response_txn" in item:
        r = item["response_txn"]
        return TxnResult(r.get("header", {}).get("revision", 0),
                         bool(r.get("succeeded", False)),
                         [_result(x) for x in r.get("responses", [])], r.get("header", {}))
    raise EtcdError(f"a txn response of unknown kind: {item!r}")


# ---------------------------------------------------------------------------------------------
# Recording for the checkers


def recorded_txn(client: Client, who: Any, compare=(), success=(), failure=(), *,
                 endpoint=None):
    """One txn, timed and classified for etcdlab.checkers.check_txns: an ``Operation`` of
    kind "txn" that is ``ok`` (output: TxnResult.to_record()), ``failed`` (surely not applied)
    or ``unknown`` (it may have applied: the caller goes on under a new client id, as
    recorded_put says). Times are time.monotonic() seconds."""
    from .checkers import Operation
    body = {"compare": list(compare), "success": list(success), "failure": list(failure)}
    record = _txn_record(_checked(compare, Compare, "compare"),
                         _checked(success, Op, "success"), _checked(failure, Op, "failure"))
    call = time.monotonic()
    try:
        result = client.txn(**body, endpoint=endpoint)
        outcome, ret, output = "ok", time.monotonic(), result.to_record()
    except EtcdError as e:
        outcome = "unknown" if e.indeterminate else "failed"
        ret = None if outcome == "unknown" else time.monotonic()
        output = None
    return Operation(client=who, kind="txn", input=record, output=output, call=call, ret=ret,
                     outcome=outcome)
