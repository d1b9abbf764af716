"""The history data model: client operations as a test recorded them.

An :class:`Operation` is one client request: who asked (``client``), what (``kind`` and
``input``), what came back (``output``), when it was called and when it returned (``call`` and
``ret``, numbers on one clock: virtual ms in simulation, ``time.monotonic_ns()`` on real
clusters), and how it ended (``outcome``):

``"ok"``
    The request was done and the client was told so; the output is meaningful.
``"failed"``
    Definitely not done (refused before it reached the log). Dropped before checking.
``"unknown"``
    Indeterminate: it may or may not have taken effect (timeout, lost connection, end of test).
    As in Porcupine's convention, such an operation is treated as returning at +infinity and its
    output is ignored, which also covers "it never happened". An indeterminate *read* tells
    nothing and is dropped.

Intervals are closed: an operation returning at ``t`` and one called at ``t`` are concurrent.

:func:`load_history` builds operations from dicts, JSON text, a JSON or JSON-lines file, or
operations; :func:`validate_history` rejects malformed histories (overlapping operations of one
client, returns before calls, duplicate ids) with a :class:`HistoryError` saying which
operations; :func:`prepare_history` turns a validated history into what the checkers search.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

__all__ = [
    "INF",
    "UNKNOWN",
    "OUTCOMES",
    "READ_KINDS",
    "HistoryError",
    "Operation",
    "load_history",
    "dump_history",
    "validate_history",
    "drop_indeterminate",
    "prepare_history",
    "freeze",
]

INF = math.inf
OUTCOMES = ("ok", "failed", "unknown")
# Operation kinds that only observe state: an indeterminate one of these is dropped.
READ_KINDS = frozenset({"read", "get", "range"})

# Go's math.MaxInt64 and the simulator's kNever (uint64 max): "never returned".
_NEVER_THRESHOLD = 2**63 - 1

_OUTCOME_ALIASES = {
    "ok": "ok",
    "success": "ok",
    "done": "ok",
    "failed": "failed",
    "fail": "failed",
    "failure": "failed",
    "error": "failed",
    "refused": "failed",
    "unknown": "unknown",
    "info": "unknown",
    "indeterminate": "unknown",
    "timeout": "unknown",
    "timed-out": "unknown",
    "pending": "unknown",
}


class _Unknown:
    """The output of an indeterminate operation: a model must accept any output for it."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self):
        return (_Unknown, ())


UNKNOWN = _Unknown()


class HistoryError(ValueError):
    """A history the checkers cannot judge (malformed, or breaking a recording rule)."""


def freeze(value: Any) -> Any:
    """A hashable copy of a JSON-ish value: lists become tuples, dicts sorted item tuples."""
    if isinstance(value, list) or isinstance(value, tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, set) or isinstance(value, frozenset):
        return frozenset(freeze(v) for v in value)
    return value


def _normalize_outcome(value: Any) -> str:
    if value is True:
        return "ok"
    if value is False:
        return "failed"
    if isinstance(value, str):
        norm = _OUTCOME_ALIASES.get(value.strip().lower().lstrip(":"))
        if norm is not None:
            return norm
    raise HistoryError(f"unknown outcome {value!r} (expected one of {', '.join(OUTCOMES)})")


def _normalize_time(value: Any, what: str, op_desc: str) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise HistoryError(f"{op_desc}: {what} time {value!r} is not a number") from None
    if isinstance(value, float) and math.isnan(value):
        raise HistoryError(f"{op_desc}: {what} time is NaN")
    if value >= _NEVER_THRESHOLD:
        return INF
    return value


@dataclass(slots=True)
class Operation:
    """One client operation. ``ret`` is ``INF`` (or None on input) if it never returned."""

    client: Any
    kind: str
    input: Any
    output: Any
    call: float
    ret: float | None
    outcome: str = "ok"
    id: Any = None
    metadata: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        self.outcome = _normalize_outcome(self.outcome)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def unknown(self) -> bool:
        return self.outcome == "unknown"

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"

    def describe(self) -> str:
        ret = "inf" if self.ret is None or self.ret == INF else _fmt_time(self.ret)
        out = "?" if self.outcome == "unknown" else repr(self.output)
        return (
            f"op {self.id} (client {self.client}) {self.kind}({_short(self.input)}) -> {out} "
            f"[{_fmt_time(self.call)}, {ret}] {self.outcome}"
        )

    def to_dict(self) -> dict:
        d = {
            "id": self.id,
            "client": self.client,
            "kind": self.kind,
            "input": self.input,
            "output": None if self.output is UNKNOWN else self.output,
            "call": self.call,
            "ret": None if self.ret is None or self.ret == INF else self.ret,
            "outcome": self.outcome,
        }
        if self.metadata is not None:
            d["metadata"] = self.metadata
        return d

    @classmethod
    def from_dict(cls, d: dict, index: int = 0) -> "Operation":
        """Builds an operation from a dict, accepting common field spellings.

        Fields: ``id``; ``client`` (or client_id, process; defaults to the id: every operation
        its own client, as the simulator records them); ``kind`` (or op, f, method); ``input``
        (or args); ``output`` (or result, response); ``call`` (or call_us, call_ns,
        call_time, invoke, start); ``ret`` (or return, return_us, return_ns, return_time, end;
        missing, null or >= 2**63-1 means never); ``outcome`` (or status; or ``ok``: bool).
        """
        if not isinstance(d, dict):
            raise HistoryError(f"operation #{index}: expected an object, got {type(d).__name__}")

        def pick(*names, default=None):
            for n in names:
                if n in d:
                    return d[n]
            return default

        op_id = pick("id", "op_id", "opId", default=index)
        desc = f"operation {op_id!r}"
        kind = pick("kind", "op", "f", "method")
        if kind is None:
            raise HistoryError(f"{desc}: no kind (expected a 'kind' field, e.g. 'put' or 'read')")
        kind = str(kind).lstrip(":").lower()
        client = pick("client", "client_id", "clientId", "process", default=op_id)
        if "outcome" in d or "status" in d:
            outcome = pick("outcome", "status")
        elif "ok" in d:
            outcome = bool(d["ok"])
        else:
            outcome = "ok"
        outcome = _normalize_outcome(outcome)
        call = _normalize_time(
            pick("call", "call_us", "call_ns", "call_ms", "call_time", "invoke", "start"), "call", desc
        )
        if call is None:
            raise HistoryError(f"{desc}: no call time")
        ret = _normalize_time(
            pick("ret", "return", "return_us", "return_ns", "return_ms", "return_time", "end"),
            "return",
            desc,
        )
        return cls(
            client=freeze(client),
            kind=kind,
            input=freeze(pick("input", "args")),
            output=freeze(pick("output", "result", "response")),
            call=call,
            ret=ret,
            outcome=outcome,
            id=op_id,
            metadata=pick("metadata", "meta"),
        )


def _fmt_time(t: Any) -> str:
    if t is None or t == INF:
        return "inf"
    if isinstance(t, float) and t.is_integer():
        return str(int(t))
    return str(t)


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, tuple) and len(value) != 1:
        s = ", ".join(repr(v) for v in value)
    elif isinstance(value, tuple):
        s = repr(value[0])
    elif value is None:
        s = ""
    else:
        s = repr(value)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _parse_text(text: str) -> Any:
    text = text.strip()
    if not text:
        return []
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    items = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise HistoryError(f"line {n}: not JSON ({e.msg})") from None
    return items


def load_history(source: Any) -> list[Operation]:
    """Operations from a path (JSON array/object or JSON lines), JSON text, a dict holding an
    ``operations``/``history``/``ops`` list, or a list of dicts and/or :class:`Operation`.

    Operations without an id get their position in the list. Returns new objects; the input
    is not modified. Does not validate: see :func:`validate_history`.
    """
    data = source
    if isinstance(source, (str, os.PathLike)):
        text = str(source)
        if isinstance(source, os.PathLike) or (
            not text.lstrip().startswith(("[", "{")) and os.path.exists(text)
        ):
            with open(source, encoding="utf-8") as f:
                data = _parse_text(f.read())
        else:
            data = _parse_text(text)
    if isinstance(data, dict):
        for key in ("operations", "history", "ops"):
            if key in data:
                data = data[key]
                break
        else:
            if any(k in data for k in ("kind", "op", "f", "call", "call_us")):
                data = [data]  # a single operation (e.g. a one-line JSON-lines file)
            else:
                raise HistoryError("expected a list of operations or an object with 'operations'")
    if not isinstance(data, Iterable):
        raise HistoryError(f"cannot read a history from {type(source).__name__}")
    ops: list[Operation] = []
    for index, item in enumerate(data):
        if isinstance(item, Operation):
            op = dataclasses.replace(item)
            if op.id is None:
                op.id = index
        elif not isinstance(item, dict) and all(
            hasattr(item, a) for a in ("client", "kind", "input", "output", "call", "ret", "outcome")
        ):  # an Operation-like object (e.g. from another copy of this module)
            op = Operation(
                client=item.client, kind=item.kind, input=item.input, output=item.output,
                call=item.call, ret=item.ret, outcome=item.outcome,
                id=index if getattr(item, "id", None) is None else item.id,
                metadata=getattr(item, "metadata", None),
            )
        else:
            op = Operation.from_dict(item, index)
        op.call = _normalize_time(op.call, "call", f"operation {op.id!r}")
        op.ret = _normalize_time(op.ret, "return", f"operation {op.id!r}")
        ops.append(op)
    return ops


def dump_history(ops: Iterable[Operation], path: str | os.PathLike | None = None) -> str:
    """JSON text for a history (``ret`` of a never-returned operation is null)."""
    text = json.dumps([op.to_dict() for op in ops], indent=None, separators=(",", ":"), default=repr)
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return text


def validate_history(ops: list[Operation]) -> list[Operation]:
    """Checks the recording rules; raises :class:`HistoryError` naming the operations.

    - every operation has a known outcome, a numeric call time, and (unless indeterminate) a
      return time no earlier than its call;
    - ids are unique;
    - one client never has two operations in flight: each operation of a client is called no
      earlier than the previous one returned. An indeterminate operation counts until its
      recorded return (the time the client gave up); with no recorded return, the client must
      not issue anything after it. (A call at the very instant of the previous return is
      allowed; the checker then treats the two as concurrent, which can only make it more
      lenient.)
    Returns the history, for chaining.
    """
    seen: dict[Any, Operation] = {}
    per_client: dict[Any, list[Operation]] = {}
    for op in ops:
        if not isinstance(op, Operation):
            raise HistoryError(f"not an Operation: {op!r} (use load_history)")
        if op.outcome not in OUTCOMES:
            raise HistoryError(f"{op.describe()}: outcome {op.outcome!r} is not one of {OUTCOMES}")
        if op.id is None:
            raise HistoryError(f"{op.describe()}: no id (use load_history to assign them)")
        if op.id in seen:
            raise HistoryError(f"duplicate operation id {op.id!r}: {seen[op.id].describe()} and {op.describe()}")
        seen[op.id] = op
        if not isinstance(op.call, (int, float)) or op.call == INF:
            raise HistoryError(f"{op.describe()}: call time {op.call!r} is not a finite number")
        if op.ret is None or op.ret == INF:
            if op.outcome != "unknown":
                raise HistoryError(
                    f"{op.describe()}: an operation with outcome {op.outcome!r} must have a return time"
                )
        elif op.ret < op.call:
            raise HistoryError(f"{op.describe()}: returns ({op.ret}) before it is called ({op.call})")
        per_client.setdefault(op.client, []).append(op)
    for client, cops in per_client.items():
        cops.sort(key=lambda o: (o.call, INF if o.ret is None else o.ret))
        for prev, cur in zip(cops, cops[1:]):
            prev_end = INF if prev.ret is None else prev.ret
            if cur.call < prev_end:
                hint = (
                    " (the first never returned: record when the client gave up on it, or use a new client id)"
                    if prev_end == INF
                    else ""
                )
                raise HistoryError(
                    f"client {client!r} has overlapping operations: {prev.describe()} and "
                    f"{cur.describe()}{hint}; a client must wait for each operation to return"
                )
    return ops


def drop_indeterminate(
    ops: Iterable[Operation], is_read: Callable[[Operation], bool] | None = None
) -> list[Operation]:
    """Drops definite failures and indeterminate reads; an indeterminate write is kept with
    ``ret = INF`` and ``output = UNKNOWN``. Returns new operations."""
    if is_read is None:
        is_read = lambda op: op.kind in READ_KINDS  # noqa: E731
    out = []
    for op in ops:
        if op.outcome == "failed":
            continue
        if op.outcome == "unknown":
            if is_read(op):
                continue
            op = dataclasses.replace(op, ret=INF, output=UNKNOWN)
        out.append(op)
    return out


def prepare_history(source: Any, model: Any = None, validate: bool = True) -> list[Operation]:
    """Loads, validates (optionally) and drops indeterminate/failed operations as the checkers
    need them. ``model.is_read`` (if the model has one) decides what counts as a read."""
    if model is not None:
        from .models import require_model  # models imports this module
        require_model(model, "prepare_history()")
    ops = load_history(source)
    if validate:
        validate_history(ops)
    is_read = getattr(model, "is_read", None)
    return drop_indeterminate(ops, is_read)
