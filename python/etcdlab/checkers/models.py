"""Sequential specifications (models) for the linearizability checkers.

A model is a small object with:

``init()``
    the initial state (hashable; compared with ``==``).
``prepare(op) -> (input, output)``
    turns a recorded :class:`~etcdlab.checkers.history.Operation` into the normalized, hashable
    ``(input, output)`` pair that ``step`` takes (the input carries the operation kind first).
    Called once per operation; raises :class:`HistoryError` for an operation the model does not
    understand. An indeterminate operation's output is ``UNKNOWN``: ``step`` must accept any.
``step(state, input, output) -> (ok, new_state)``
    pure: is the operation with this output legal in ``state``, and the state after it.
``partition(ops) -> list of lists``
    independent sub-histories (P-compositionality), e.g. one per key; default: one.
``partition_label(ops)``, ``describe_operation(input, output)``, ``describe_state(state)``
    text for reports.
``is_read(op)``
    whether an operation only observes (an indeterminate read is dropped).

Optional, to let the search see early that a partial linearization cannot be completed (see
``porcupine._Doom``); each is a promise about ``step`` that must hold for every history:

``retired(state, new_state)``, ``observes(input, output)``, ``writes(input, output)``
    Facts are hashable statements about a state that reads can see: for KV, ``(key, value)``
    ("key holds value") and ``(key, None)`` ("key is absent"). ``retired`` lists the facts that
    held in ``state`` and no longer hold in ``new_state``; an operation is legal only in a state
    where its ``observes`` fact holds (None: no such fact); and only an operation whose
    ``writes`` is a fact can make that fact start to hold. So once a fact stops holding, it
    holds again only after one of its writers.
``watermark(state)``, ``expiry(input, output)``
    ``watermark`` never decreases along legal steps (for KVRevision, the store revision the key
    is known to be at); an operation is illegal in every state whose watermark exceeds its
    ``expiry`` (None: no bound).

Models here: :class:`Register`, :class:`KV`, :class:`CountingLog`, :class:`KVRevision`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .history import UNKNOWN, HistoryError, Operation, freeze

__all__ = ["Model", "Register", "KV", "CountingLog", "KVRevision", "UNREAD"]


class _Unread:
    """Stands for the value of an indeterminate write that no operation ever observed."""

    def __repr__(self) -> str:
        return "<unread value>"

    def __reduce__(self):
        return (_unread, ())


def _unread():
    return UNREAD


UNREAD = _Unread()


def _tighten_writes(model, ops, bind_output=False):
    """Bounds indeterminate writes before the search (for models whose only use of a written
    value is comparing it with what reads return, and cas with its expected value).

    1. §8's trick: if a successful read returned v and exactly one operation in the history
       writes v (to that key), that write took effect before the read returned: its return
       moves from +infinity to the earliest such read's return. With ``bind_output``
       (revision-carrying reads) its revision is the mod_revision that read saw, so it becomes
       a completed write with that output.
    2. An indeterminate write of a value nothing ever observes (no read returns it, no cas
       expects it) is indistinguishable from any other such write to the same key, so its value
       becomes :data:`UNREAD`: the writes become interchangeable twins, which the search then
       linearizes in call order only (k+1 cases instead of 2**k subsets).
    """
    writers: dict = {}
    prepared = []
    observed: set = set()
    for op in ops:
        inp, out = model.prepare(op)
        prepared.append((inp, out))
        if inp[0] in ("put", "write"):
            k = (inp[1] if inp[0] == "put" else None, inp[-1])
            writers[k] = writers.get(k, 0) + 1
        elif inp[0] == "cas":
            writers[(None, inp[2])] = writers.get((None, inp[2]), 0) + 1
            observed.add((None, inp[1]))
    seen: dict = {}
    for op, (inp, out) in zip(ops, prepared):
        if inp[0] not in ("get", "read") or out is UNKNOWN:
            continue
        if isinstance(out, tuple):  # KVRevision: (value, mod, create, version, header)
            value, mod = out[0], out[1]
        else:
            value, mod = out, None
        k = (inp[1] if inp[0] == "get" else None, value)
        observed.add(k)
        if value is None or op.outcome != "ok":
            continue
        if k not in seen or op.ret < seen[k][0]:
            seen[k] = (op.ret, mod)
    result = []
    for op, (inp, out) in zip(ops, prepared):
        if op.outcome == "unknown" and inp[0] in ("put", "write", "cas"):
            key = inp[1] if inp[0] == "put" else None
            k = (key, inp[-1])
            hit = seen.get(k)
            if inp[0] != "cas" and hit is not None and writers.get(k) == 1 and op.call <= hit[0]:
                ret, mod = hit
                meta = {"tightened_from": "unknown", "original_metadata": op.metadata}
                if bind_output and mod is not None:
                    op = dataclasses.replace(op, ret=ret, output=mod, outcome="ok", metadata=meta)
                else:
                    op = dataclasses.replace(op, ret=ret, metadata=meta)
            elif k not in observed:
                meta = {"unread_value": inp[-1], "original_metadata": op.metadata}
                if inp[0] == "put":
                    new_input = (key, UNREAD)
                elif inp[0] == "write":
                    new_input = UNREAD
                else:
                    new_input = (inp[1], UNREAD)
                op = dataclasses.replace(op, input=new_input, metadata=meta)
        result.append(op)
    return result


def _fmt(v: Any) -> str:
    if v is None:
        return "nil"
    return repr(v)


class Model:
    """Base class: override ``init``, ``step`` and usually ``prepare``."""

    name = "model"
    read_kinds = frozenset({"read", "get", "range"})
    # True if ``step`` accepts an indeterminate operation (output UNKNOWN) in every state:
    # the search may then prune paths that linearized more of them (see porcupine._search).
    indeterminate_always_legal = False

    def init(self) -> Any:
        raise NotImplementedError

    def step(self, state: Any, input: Any, output: Any) -> tuple[bool, Any]:
        raise NotImplementedError

    def prepare(self, op: Operation) -> tuple[Any, Any]:
        out = UNKNOWN if op.outcome == "unknown" else freeze(op.output)
        return (op.kind, freeze(op.input)), out

    def partition(self, ops: list[Operation]) -> list[list[Operation]]:
        return [list(ops)]

    def partition_label(self, ops: list[Operation]) -> str:
        return "all operations"

    def is_read(self, op: Operation) -> bool:
        return op.kind in self.read_kinds

    def tighten(self, ops: list[Operation]) -> list[Operation]:
        """Optionally bound indeterminate writes before the search (default: unchanged)."""
        return ops

    # Pruning knowledge (module docstring). The defaults promise nothing.
    def retired(self, state: Any, new_state: Any) -> Any:
        return ()

    def observes(self, input: Any, output: Any) -> Any:
        return None

    def writes(self, input: Any, output: Any) -> Any:
        return None

    def watermark(self, state: Any) -> Any:
        return None

    def expiry(self, input: Any, output: Any) -> Any:
        return None

    def describe_operation(self, input: Any, output: Any) -> str:
        out = "?" if output is UNKNOWN else _fmt(output)
        return f"{input[0]}({', '.join(_fmt(a) for a in input[1:])}) -> {out}"

    def describe_state(self, state: Any) -> str:
        return _fmt(state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def require_model(model: Any, what: str = "the checker") -> Any:
    """`model`, if it is a model instance; a TypeError that says what to pass otherwise (a
    class passed for an instance fails much later, deep in the search, with a confusing
    message)."""
    if isinstance(model, type):
        raise TypeError(f"{what} takes a model instance, e.g. {model.__name__}(), not the class "
                        f"{model.__name__}")
    missing = [m for m in ("init", "step") if not callable(getattr(model, m, None))]
    if missing:
        raise TypeError(f"{what} takes a model (Register(), KV(), CountingLog(), KVRevision() or "
                        f"a Model subclass instance); {model!r} has no {' or '.join(missing)}()")
    return model


def _bad(op: Operation, why: str) -> HistoryError:
    return HistoryError(f"{op.describe()}: {why}")


def _unwrap1(value: Any) -> Any:
    """A one-element tuple/list is the element (JSON args arrays)."""
    if isinstance(value, tuple) and len(value) == 1:
        return value[0]
    return value


def _field(value: Any, name: str, default: Any = None) -> Any:
    """A field from a frozen dict (sorted item tuple) or a plain dict."""
    if isinstance(value, dict):
        return value.get(name, default)
    if isinstance(value, tuple) and all(isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], str) for i in value):
        for k, v in value:
            if k == name:
                return v
    return default


def _is_frozen_dict(value: Any) -> bool:
    return (
        isinstance(value, dict)
        or (
            isinstance(value, tuple)
            and len(value) > 0
            and all(isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], str) for i in value)
        )
    )


# ----------------------------------------------------------------------------------------------
# Register


class Register(Model):
    """One register: ``write(v)``; ``read() -> v``; ``cas(old, new) -> bool``.

    Kinds: read/get, write/put, cas. Inputs: write takes the value (or ``{"value": v}``); cas
    takes ``(old, new)`` (or ``{"old": .., "new": ..}``); read takes nothing. Outputs: read
    returns the value (None for the initial empty register); cas returns True/False (or
    "ok"/"fail", or ``{"ok": bool}``); write's output is ignored.
    """

    indeterminate_always_legal = True
    name = "register"

    def __init__(self, initial: Any = None):
        self.initial = initial

    def init(self) -> Any:
        return self.initial

    def prepare(self, op: Operation) -> tuple[Any, Any]:
        kind = op.kind
        out = UNKNOWN if op.outcome == "unknown" else freeze(op.output)
        arg = freeze(op.input)
        if kind in ("read", "get"):
            if _is_frozen_dict(out) and _field(out, "value", UNKNOWN) is not UNKNOWN:
                out = _field(out, "value")
            return ("read",), out
        if kind in ("write", "put"):
            if _is_frozen_dict(arg):
                arg = _field(arg, "value")
            return ("write", _unwrap1(arg)), None
        if kind == "cas":
            if _is_frozen_dict(arg):
                old, new = _field(arg, "old"), _field(arg, "new")
            elif isinstance(arg, tuple) and len(arg) == 2:
                old, new = arg
            else:
                raise _bad(op, "cas input must be (old, new)")
            if out is not UNKNOWN:
                if _is_frozen_dict(out):
                    out = _field(out, "ok")
                if isinstance(out, str):
                    out = out.lower() in ("ok", "true", "succeeded", "success")
                out = bool(out)
            return ("cas", old, new), out
        raise _bad(op, f"the register model has no operation kind {kind!r} (read, write, cas)")

    def tighten(self, ops):
        return _tighten_writes(self, ops)

    # facts: (value,) "the register holds value" (a tuple: None is a value here)
    def retired(self, state, new_state):
        return () if new_state == state else ((state,),)

    def observes(self, input, output):
        if output is UNKNOWN:
            return None
        if input[0] == "read":
            return (output,)
        if input[0] == "cas" and output is True:
            return (input[1],)
        return None

    def writes(self, input, output):
        if input[0] == "write":
            return (input[1],)
        if input[0] == "cas" and output is not False:
            return (input[2],)
        return None

    def step(self, state, input, output):
        kind = input[0]
        if kind == "read":
            return (output is UNKNOWN or output == state), state
        if kind == "write":
            return True, input[1]
        # cas: the effect is decided by the state; the reported result must agree.
        if state == input[1]:
            return (output is UNKNOWN or output is True), input[2]
        return (output is UNKNOWN or output is False), state

    def describe_operation(self, input, output):
        kind = input[0]
        if kind == "read":
            return f"read() -> {'?' if output is UNKNOWN else _fmt(output)}"
        if kind == "write":
            return f"write({_fmt(input[1])})"
        res = "?" if output is UNKNOWN else ("ok" if output else "fail")
        return f"cas({_fmt(input[1])}, {_fmt(input[2])}) -> {res}"


# ----------------------------------------------------------------------------------------------
# KV


_LEASE_KINDS = frozenset({"lease_grant", "lease_revoke", "lease_keepalive",
                          "lease_time_to_live", "leases"})


def _refuse_unchecked(op: Operation, model: str) -> None:
    """The per-key models cannot judge operations over several keys, nor leases (an expiry
    deletes keys with no operation in the history): say so, rather than misread them."""
    if op.kind in _LEASE_KINDS:
        raise _bad(op, f"the {model} model has no lease operations: an expiring lease deletes "
                       "keys that no operation of the history deletes; check leases with "
                       "checkers.check_leases")
    arg = freeze(op.input)
    if _is_frozen_dict(arg) and _field(arg, "range_end"):
        what = ("a read over several keys: leave it out (dropping a read is safe)"
                if op.kind in ("get", "read", "range") else "a write to several keys")
        raise _bad(op, f"{what}; the {model} model checks single-key operations")


def _key_value(op: Operation, want_value: bool) -> tuple[Any, Any]:
    arg = freeze(op.input)
    if _is_frozen_dict(arg):
        key = _field(arg, "key")
        value = _field(arg, "value")
    elif isinstance(arg, tuple):
        if want_value:
            if len(arg) != 2:
                raise _bad(op, "expected input (key, value)")
            key, value = arg
        else:
            if len(arg) != 1:
                raise _bad(op, "expected input (key,) or key")
            key, value = arg[0], None
    else:
        if want_value:
            raise _bad(op, "expected input (key, value)")
        key, value = arg, None
    if key is None:
        raise _bad(op, "no key")
    return key, value


class KV(Model):
    """etcd-like single-key operations on a map, partitioned per key.

    ``put(key, value)`` (output ignored); ``get(key) -> value or None``;
    ``delete(key) -> deleted count`` (0 or 1). Inputs ``(key, value)``, ``key`` or
    ``{"key": .., "value": ..}``; a get may also return ``{"value": v}``, a delete
    ``{"deleted": n}``. State: a frozenset of (key, value) pairs of present keys (one pair at
    most within a per-key partition).
    """

    indeterminate_always_legal = True
    name = "kv"

    def init(self):
        return frozenset()

    def prepare(self, op: Operation) -> tuple[Any, Any]:
        kind = op.kind
        _refuse_unchecked(op, "KV")
        out = UNKNOWN if op.outcome == "unknown" else freeze(op.output)
        if kind in ("get", "read", "range"):
            key, _ = _key_value(op, False)
            if _is_frozen_dict(out):
                out = _field(out, "value")
            return ("get", key), out
        if kind in ("put", "write"):
            key, value = _key_value(op, True)
            if value is None:
                raise _bad(op, "put needs a value (None means absent)")
            return ("put", key, value), None
        if kind in ("delete", "del", "delete_range"):
            key, _ = _key_value(op, False)
            if out is not UNKNOWN:
                if _is_frozen_dict(out):
                    out = _field(out, "deleted")
                if isinstance(out, tuple):  # (deleted, revision) from a revision-carrying log
                    out = out[0]
                try:
                    out = int(out)
                except (TypeError, ValueError):
                    raise _bad(op, f"delete output {out!r} is not a deleted count") from None
            return ("delete", key), out
        raise _bad(op, f"the KV model has no operation kind {kind!r} (put, get, delete)")

    def tighten(self, ops):
        return _tighten_writes(self, ops)

    # facts: (key, value) "key holds value", (key, None) "key is absent"
    def retired(self, state, new_state):
        gone = [kv for kv in state if kv not in new_state]
        if len(new_state) > len(state) - len(gone):  # keys that were absent
            present = {k for k, _ in state}
            gone += [(k, None) for k, _ in new_state if k not in present]
        return gone

    def observes(self, input, output):
        if output is UNKNOWN:
            return None
        if input[0] == "get":
            return (input[1], output)
        if input[0] == "delete" and output == 0:
            return (input[1], None)
        return None  # a delete of 1 sees that the key is present, with any value

    def writes(self, input, output):
        if input[0] == "put":
            return (input[1], input[2])
        if input[0] == "delete" and output != 0:
            return (input[1], None)
        return None

    @staticmethod
    def _get(state, key):
        for k, v in state:
            if k == key:
                return v
        return None

    def step(self, state, input, output):
        kind = input[0]
        key = input[1]
        if kind == "get":
            if output is UNKNOWN:
                return True, state
            for k, v in state:
                if k == key:
                    return output == v, state
            return output is None, state
        if kind == "put":
            new = (key, input[2])
            if not state:
                return True, frozenset((new,))
            return True, frozenset([kv for kv in state if kv[0] != key] + [new])
        # delete
        present = False
        rest = []
        for kv in state:
            if kv[0] == key:
                present = True
            else:
                rest.append(kv)
        if output is not UNKNOWN and output != (1 if present else 0):
            return False, state
        return True, (frozenset(rest) if present else state)

    def partition(self, ops):
        by_key: dict[Any, list[Operation]] = {}
        for op in ops:
            by_key.setdefault(self.prepare(op)[0][1], []).append(op)
        return list(by_key.values())

    def partition_label(self, ops):
        if not ops:
            return "empty"
        return f"key {self.prepare(ops[0])[0][1]!r}"

    def describe_operation(self, input, output):
        kind = input[0]
        if kind == "get":
            return f"get({_fmt(input[1])}) -> {'?' if output is UNKNOWN else _fmt(output)}"
        if kind == "put":
            return f"put({_fmt(input[1])}, {_fmt(input[2])})"
        return f"delete({_fmt(input[1])}) -> {'?' if output is UNKNOWN else output}"

    def describe_state(self, state):
        if not state:
            return "{}"
        items = sorted(state, key=lambda kv: repr(kv[0]))
        return "{" + ", ".join(f"{_fmt(k)}: {_fmt(v)}" for k, v in items) + "}"


# ----------------------------------------------------------------------------------------------
# CountingLog


class CountingLog(Model):
    """The simulator's plain-log cluster: each write appends one (unique) command; a read
    returns how many commands have been applied. State: that count.

    Write kinds: write, propose, append (membership changes the simulator logs as proposals
    count too: they are commands in the log). Read kind: read. A read's output may be an int
    or a decimal string (the simulator's ``LogApp::read``).
    """

    indeterminate_always_legal = True
    name = "counting-log"
    write_kinds = frozenset({"write", "propose", "append", "put"})

    def __init__(self, initial: int = 0):
        self.initial = initial

    def init(self):
        return self.initial

    def is_read(self, op):
        return op.kind in ("read", "get")

    def prepare(self, op: Operation):
        if op.kind in ("read", "get"):
            if op.outcome == "unknown":
                return ("read",), UNKNOWN
            out = op.output
            if _is_frozen_dict(freeze(out)):
                out = _field(freeze(out), "count")
            try:
                count = int(out)
            except (TypeError, ValueError):
                raise _bad(op, f"read output {out!r} is not a count") from None
            return ("read",), count
        if op.kind in self.write_kinds:
            return ("write",), None
        raise _bad(op, f"the counting-log model has no operation kind {op.kind!r} (write, read)")

    def step(self, state, input, output):
        if input[0] == "write":
            return True, state + 1
        return (output is UNKNOWN or output == state), state

    # the count only grows: a read of n is illegal once more than n commands are applied
    def watermark(self, state):
        return state

    def expiry(self, input, output):
        return output if input[0] == "read" and output is not UNKNOWN else None

    def describe_operation(self, input, output):
        if input[0] == "write":
            return "append()"
        return f"read() -> {'?' if output is UNKNOWN else output}"

    def describe_state(self, state):
        return f"{state} applied"


# ----------------------------------------------------------------------------------------------
# KVRevision


class KVRevision(KV):
    """KV operations whose responses carry etcd store revisions, checked per key.

    Responses (normalized by ``prepare``):

    - ``put(key, value) -> revision`` (an int, or ``{"revision": r}``);
    - ``get(key) -> (value, mod_revision, create_revision, version, header_revision)``; accepted
      as ``None`` (absent), a dict with those field names (``revision`` is the header; value
      None or missing means absent) or a tuple of 4 or 5 items (the header optional);
    - ``delete(key) -> (deleted, revision)`` (or ``{"deleted": n, "revision": r}``); with
      ``deleted == 0`` nothing changed and ``revision`` is the header revision.

    The revision is global (every key's writes share it), so a per-key model cannot predict it.
    The state of a key is ``(value|None, create_rev, mod_rev, version, mod_lb, create_lb,
    seen)`` and the model checks what holds of any single key's operations in a global
    linearization: a mutation's revision exceeds the key's previous one; a delete reports
    whether the key existed; reads return exactly the value, revisions and version the key has;
    and revisions never go backwards along the linearization (``seen``: the highest revision
    this key's operations have reported so far; a later mutation must exceed it, a later
    header revision must reach it). An indeterminate put leaves its revision unknown (``None``,
    above ``mod_lb``); the first read that observes it binds it. Whether the revisions are
    consecutive and globally ordered is the revision checker's job
    (:func:`~etcdlab.checkers.revisions.check_revisions`).
    """

    name = "kv-revision"

    def init(self):
        # value, create, mod (last mutation's revision; None = unknown), version, lower bound
        # of an unknown mod (it is > mod_lb), lower bound of an unknown create, seen.
        return (None, 0, 0, 0, 0, 0, 0)

    def prepare(self, op: Operation):
        kind = op.kind
        _refuse_unchecked(op, "KV-revision")
        unknown = op.outcome == "unknown"
        out = UNKNOWN if unknown else freeze(op.output)
        if kind in ("get", "read", "range"):
            key, _ = _key_value(op, False)
            if unknown:
                return ("get", key), UNKNOWN
            return ("get", key), self._get_output(op, out)
        if kind in ("put", "write"):
            key, value = _key_value(op, True)
            if value is None:
                raise _bad(op, "put needs a value (None means absent)")
            if not unknown:
                if _is_frozen_dict(out):
                    out = _field(out, "revision")
                out = _int_or_bad(op, out, "put output must be its revision")
            return ("put", key, value), out
        if kind in ("delete", "del", "delete_range"):
            key, _ = _key_value(op, False)
            if not unknown:
                if _is_frozen_dict(out):
                    deleted, rev = _field(out, "deleted"), _field(out, "revision")
                elif isinstance(out, tuple) and len(out) == 2:
                    deleted, rev = out
                else:
                    raise _bad(op, "delete output must be (deleted, revision)")
                out = (
                    _int_or_bad(op, deleted, "delete's deleted count"),
                    _int_or_bad(op, rev, "delete's revision"),
                )
            return ("delete", key), out
        raise _bad(op, f"the KV-revision model has no operation kind {kind!r} (put, get, delete)")

    def tighten(self, ops):
        return _tighten_writes(self, ops, bind_output=True)

    # facts: (value,) "the key holds value", (None,) "the key is absent" (the state is one key's)
    def retired(self, state, new_state):
        return () if new_state[0] == state[0] else ((state[0],),)

    def observes(self, input, output):
        if output is UNKNOWN:
            return None
        if input[0] == "get":
            return (output[0],)
        if input[0] == "delete" and output[0] == 0:
            return (None,)
        return None

    def writes(self, input, output):
        if input[0] == "put":
            return (input[2],)
        if input[0] == "delete" and (output is UNKNOWN or output[0] != 0):
            return (None,)
        return None

    def watermark(self, state):
        """The lowest revision the store can be at: ``floor`` in ``step``. It never decreases:
        a mutation's revision exceeds it, an unknown mutation's is above it, a read's header
        revision reaches it."""
        value, create, mod, version, mod_lb, create_lb, seen = state
        floor = mod if mod is not None else mod_lb + 1
        return seen if seen > floor else floor

    def expiry(self, input, output):
        """The highest watermark at which the operation can still be legal: a mutation's
        revision must exceed the floor, a read's header (a no-op delete's revision) reach it."""
        if output is UNKNOWN:
            return None
        kind = input[0]
        if kind == "put":
            return output - 1
        if kind == "delete":
            deleted, rev = output
            return rev if deleted == 0 else rev - 1
        return output[4]  # a get's header revision (None: no bound)

    @staticmethod
    def _get_output(op, out):
        if out is None:
            return (None, None, None, None, None)
        if _is_frozen_dict(out):
            value = _field(out, "value")
            header = _field(out, "revision", _field(out, "header_revision"))
            mod = _field(out, "mod_revision")
            create = _field(out, "create_revision")
            version = _field(out, "version")
            if _field(out, "kvs") is not None:
                raise _bad(op, "range responses are not supported; record single-key gets")
        elif isinstance(out, tuple) and len(out) in (4, 5):
            value, mod, create, version = out[:4]
            header = out[4] if len(out) == 5 else None
        else:
            raise _bad(op, "get output must be None, a dict, or (value, mod_revision, create_revision, version[, header])")
        if value is None:
            return (None, None, None, None, _opt_int(op, header))
        return (
            value,
            _int_or_bad(op, mod, "get's mod_revision"),
            _int_or_bad(op, create, "get's create_revision"),
            _int_or_bad(op, version, "get's version"),
            _opt_int(op, header),
        )

    def step(self, state, input, output):
        value, create, mod, version, mod_lb, create_lb, seen = state
        kind = input[0]
        # the smallest revision the store can be at now: at least what was seen, and at least
        # the key's last mutation (if that one's revision is unknown, it is above mod_lb)
        floor = mod if mod is not None else mod_lb + 1
        if seen > floor:
            floor = seen
        if kind == "get":
            if output is UNKNOWN:
                return True, state
            ov, omod, ocreate, over, header = output
            if header is not None:
                if header < floor:
                    return False, state
                if header > seen:
                    seen = header
            if ov is None:
                if value is not None:
                    return False, state
                return True, (value, create, mod, version, mod_lb, create_lb, seen)
            if value is None or ov != value or over != version:
                return False, state
            if ocreate > omod or (header is not None and omod > header):
                return False, state  # not a response a store can give
            if mod is None:
                if omod <= mod_lb:
                    return False, state
                new_mod = omod
            elif omod != mod:
                return False, state
            else:
                new_mod = mod
            if create is None:
                if version == 1:
                    if ocreate != new_mod:
                        return False, state
                elif not (create_lb < ocreate < new_mod):
                    return False, state
                new_create = ocreate
            elif ocreate != create:
                return False, state
            else:
                new_create = create
            if new_mod > seen:
                seen = new_mod
            if mod is None or create is None:
                return True, (value, new_create, new_mod, version, 0, 0, seen)
            return True, (value, create, mod, version, mod_lb, create_lb, seen)
        if kind == "put":
            v = input[2]
            if output is UNKNOWN:
                # its revision is unknown, but above everything before it
                if value is None:  # creates the key: create == mod, both unknown
                    return True, (v, None, None, 1, floor, floor, seen)
                return True, (v, create, None, version + 1, floor, create_lb, seen)
            if output <= floor:
                return False, state
            if value is None:
                return True, (v, output, output, 1, 0, 0, output)
            return True, (v, create, output, version + 1, 0, create_lb, output)
        # delete
        if output is UNKNOWN:
            if value is None:
                return True, state  # nothing to delete: no revision consumed
            return True, (None, 0, None, 0, floor, 0, seen)
        deleted, rev = output
        if value is None:
            # nothing deleted; rev is the header revision
            if deleted != 0 or rev < floor:
                return False, state
            return True, (value, create, mod, version, mod_lb, create_lb, max(seen, rev))
        if deleted != 1 or rev <= floor:
            return False, state
        return True, (None, 0, rev, 0, 0, 0, rev)

    def describe_operation(self, input, output):
        kind = input[0]
        if kind == "get":
            if output is UNKNOWN:
                return f"get({_fmt(input[1])}) -> ?"
            ov, omod, ocreate, over, header = output
            h = f" @{header}" if header is not None else ""
            if ov is None:
                return f"get({_fmt(input[1])}) -> nil{h}"
            return f"get({_fmt(input[1])}) -> {_fmt(ov)} (mod {omod}, create {ocreate}, v{over}){h}"
        if kind == "put":
            return f"put({_fmt(input[1])}, {_fmt(input[2])}) -> {'rev ?' if output is UNKNOWN else f'rev {output}'}"
        if output is UNKNOWN:
            return f"delete({_fmt(input[1])}) -> ?"
        return f"delete({_fmt(input[1])}) -> deleted {output[0]}, rev {output[1]}"

    def describe_state(self, state):
        value, create, mod, version, mod_lb, create_lb, seen = state
        m = str(mod) if mod is not None else f"?>{mod_lb}"
        at = f"; store at >= {seen}" if seen else ""
        if value is None:
            return f"absent (last rev {m}{at})"
        c = str(create) if create is not None else f"?>{create_lb}"
        return f"{_fmt(value)} (mod {m}, create {c}, v{version}{at})"


def _int_or_bad(op, value, what):
    if isinstance(value, bool):
        raise _bad(op, f"{what}: {value!r} is not an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(op, f"{what}: {value!r} is not an integer") from None


def _opt_int(op, value):
    return None if value is None else _int_or_bad(op, value, "header revision")
