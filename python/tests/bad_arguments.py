"""Calls every bound function and method of one class of etcdlab._core (or the module's
functions) with bad arguments, one at a time, and prints one JSON line per call.

Run by test_bad_arguments.py in a subprocess per class, so a call that crashes the interpreter
kills only that subprocess, and the line "calling ..." printed before each call names it:

    PYTHONPATH=build/python /usr/bin/python3 python/tests/bad_arguments.py Cluster

Nothing here names a function: the callables are found by introspection, their parameters
read from pybind11's signatures (`name(self: T, node: int, via: Optional[int] = None) -> R`),
and each parameter type has valid values and bad ones (out of range, wrong type) in TYPES
below. Each call gets valid values for every parameter but one, and one bad value there; a
receiver of the wrong type is tried too. A parameter type with no entry in TYPES fails the
run: new bindings must say what is bad for their types.
"""

from __future__ import annotations

import json
import math
import re
import sys

from etcdlab import _core

# ---- values per parameter type -----------------------------------------------------------------

BIG = 10**6  # out of range as a node index, an op id, a cluster size; a fine duration
INTS = [-1, 0, 3, 1000, BIG, 2**63, 2**64, -(2**63) - 1, 1.5, "0", None, b"0"]
FLOATS = [-1.0, -1e-9, 0.0, 1e-9, float(BIG), math.nan, math.inf, -math.inf, "1", None, b"1"]


class PredicateError(Exception):
    """Raised by a predicate given as a bad argument: it must come out of the call as is."""


def _raises():
    raise PredicateError("the predicate's own error")


def _callables():
    return [5, None, "x", lambda: None, lambda: "yes", lambda x: True, _raises]


TYPES = {
    # type as pybind11 spells it: (a valid value, the bad ones)
    "int": (1, INTS),  # see _calls: the valid int is 1 + the parameter's position
    "float": (1.0, FLOATS),
    "bool": (False, ["yes", None, 2, 1.5]),
    "bytes": (b"k", ["str", 5, None, b"", b"\xff" * 9, b"\x01" * 3]),
    "str": (None, [5, None, b"none", "", "no-such-choice"]),  # None: the parameter's default
    "Optional[str]": (None, [5, b"none", 1.5]),
    "Optional[int]": (None, INTS),
    "List[List[int]]": ([[0], [1, 2]],
                        [[[0], [0]], [[0, 1], [1]], [[-1]], [[BIG]], [[2**64]], [0, 1], [[0.5]],
                         ["ab"], "x", None, 5]),
    "Callable[[], bool]": (lambda: True, _callables()),
    "function": (lambda: True, _callables()),
    "object": (None, [5, "x", b"x", object()]),
    "handle": (None, [5, "x", b"x", object()]),
    # a txn's compares and operations (python/src/bind_txn.cc)
    "list": ([], [5, None, "x", [5], [()], [("bogus",)], [(b"k", None, "version", "==", 1)],
                  [(b"k", b"", "nope", "==", 1)], [(b"k", b"", "version", "<=", 1)],
                  [("range", b"k")], [("put", b"k", b"v", "x", 0, 0, 0)],
                  [("txn", [], [], [5])], [("txn", 5, [], [])]]),
}


def _enum_values(cls):
    first = next(iter(cls.__members__.values()))
    return first, [-1, 99, "explode", None, 1.5, cls(99), cls(-1)]


# ---- instances of the bound classes ------------------------------------------------------------

def _options(n=3):
    o = _core.ClusterOptions()
    o.nodes = n
    o.record_trace = True
    return o


def _cluster(kv=False):
    o = _options()
    o.kv = kv
    c = _core.Cluster(o)
    c.run_until(lambda: c.leader() is not None, 5000)
    if kv:
        c.propose(_core.kv_put_request(b"k", b"v"))
        c.read(query=_core.kv_query(b"k"))
    else:
        c.propose(b"one")
        c.read()
    c.run_ms(1000)
    return c


def _from_cluster(get):
    def make():
        c = _cluster()
        value = get(c)
        _KEEP.append(c)  # a view must not outlive what it looks at
        return value
    return make


_KEEP: list = []
FACTORIES = {
    "ClusterOptions": _options,
    "NetworkOptions": _core.NetworkOptions,
    "Cluster": _cluster,
    "Entry": _from_cluster(lambda c: c.log(0)[-1]),
    "ConfState": _from_cluster(lambda c: c.node(0).conf),
    "NodeView": _from_cluster(lambda c: c.node(0)),
    "Operation": _from_cluster(lambda c: c.op(1)),
    "RoleChange": _from_cluster(lambda c: c.role_changes()[0]),
    "TraceEvent": _from_cluster(lambda c: c.trace()[0]),
    "LockRecipe": lambda: _core.LockRecipe(b"L", 1),
}


class FactoryError(Exception):
    """A valid instance could not be made: the run stops (it would blame every call)."""


def instance(cls):
    if cls.__name__ in FACTORIES:
        try:
            return FACTORIES[cls.__name__]()
        except Exception as e:
            raise FactoryError(f"making a valid {cls.__name__} failed: {e!r}") from e
    if hasattr(cls, "__members__"):
        return _enum_values(cls)[0]
    raise LookupError(f"no instance of {cls.__qualname__}: add a factory to FACTORIES in "
                      f"{__file__}")


def _bound_class(type_name: str):
    """etcdlab._core.Cluster or etcdlab._core.Operation.Kind -> the class, else None."""
    if not type_name.startswith("etcdlab._core."):
        return None
    obj = _core
    for part in type_name.split(".")[2:]:
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) else None


def values(type_name: str) -> tuple[object, list]:
    """(a valid value, the bad values) for a parameter of this type."""
    if type_name in TYPES:
        return TYPES[type_name]
    cls = _bound_class(type_name)
    if cls is None:
        raise LookupError(f"no values for parameter type {type_name!r}: add it to TYPES in "
                          f"{__file__}")
    if hasattr(cls, "__members__"):
        return _enum_values(cls)
    return instance(cls), [None, 5, "x", object(), *_bad_instances(cls)]


def _bad_instances(cls):
    """Instances of a plain-struct class with one field set to a bad value its setter takes
    (a ClusterOptions with nodes = 1000): the setters accept them, what uses them must not."""
    out = []
    for name, prop in vars(cls).items():
        if not isinstance(prop, property) or prop.fset is None or name.startswith("_"):
            continue
        sig = signatures(prop.fset, "")[0]
        type_name = sig[-1][1]
        for bad in _setter_values(type_name):
            obj = instance(cls)
            try:
                setattr(obj, name, _raw(bad))
            except (TypeError, ValueError):
                continue  # refused at once: fine, the setter's own call covers it
            out.append(_Labelled(obj, f"{cls.__name__}({name}={_show(bad)})"))
    return out


def _setter_values(type_name):
    if type_name in ("int", "float", "bool"):
        return TYPES[type_name][1]
    cls = _bound_class(type_name)
    if cls is not None and not hasattr(cls, "__members__"):
        return _bad_instances(cls)
    return []


class _Labelled:
    """A bad value with a readable name for the report."""

    def __init__(self, value, label):
        self.value, self.label = value, label


# ---- signatures from pybind11's docstrings -----------------------------------------------------

_SIG = re.compile(r"^(?:\d+\. )?(\w*)\((.*)\) -> (.+)$")


def _split_params(text: str) -> list[str]:
    params, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "," and depth == 0:
            params.append(text[start:i].strip())
            start = i + 1
    if text[start:].strip():
        params.append(text[start:].strip())
    return params


def signatures(fn, name: str) -> list[list[tuple[str, str, bool]]]:
    """Each overload of `fn` as [(param name, type, has default)], self included."""
    out = []
    lines = [m for m in map(_SIG.match, (ln.strip() for ln in (fn.__doc__ or "").splitlines()))
             if m and m.group(2) != "*args, **kwargs"]
    named = [m for m in lines if m.group(1) == name]
    for m in named or lines:  # an alias (enum's __str__ is `name`) keeps its first name
        params = []
        for p in _split_params(m.group(2)):
            head, _, default = p.partition(" = ")
            pname, _, ptype = head.partition(": ")
            params.append((pname.strip(), ptype.strip(), bool(default)))
        out.append(params)
    if not out:
        raise LookupError(f"no signature in the docstring of {name or fn!r}: {fn.__doc__!r}")
    return out


# ---- the calls ---------------------------------------------------------------------------------

def calls_for_class(cls, prefix=""):
    """(label, thunk) for every bad call of `cls`'s bound methods, setters and constructor, and
    of its nested classes."""
    qual = f"{prefix}{cls.__name__}"
    for attr, member in vars(cls).items():
        if attr in ("__new__", "__class__", "__doc__", "__module__"):
            continue
        if isinstance(member, type):
            yield from calls_for_class(member, qual + ".")
        elif isinstance(member, property):
            if member.fset is not None:
                yield from _calls(f"{qual}.{attr} = ", member.fset, "", cls, setter=True)
        elif type(member).__name__ in ("instancemethod", "builtin_function_or_method"):
            fn = getattr(cls, attr)
            if attr == "__init__":
                yield from _calls(f"{qual}(", fn, "__init__", cls, init=True)
            else:
                yield from _calls(f"{qual}.{attr}(", fn, attr, cls)


def calls_for_module():
    for name, fn in vars(_core).items():
        if not name.startswith("_") and type(fn).__name__ == "builtin_function_or_method":
            yield from _calls(f"{name}(", fn, name, None)


def _show(v):
    return v.label if isinstance(v, _Labelled) else repr(v)[:60]


def _raw(v):
    return v.value if isinstance(v, _Labelled) else v


_MAKE = object()  # the receiver: a fresh valid instance


def _calls(label, fn, name, cls, init=False, setter=False):
    close = "" if setter else ")"
    for params in signatures(fn, name):
        rest = params[1:] if cls is not None else params
        # Valid ints differ by position (cut(a=1, b=2), not a cut of a node from itself) and
        # start at 1 (operation ids do).
        valid = [(pname, ptype, i + 1 if ptype == "int" else values(ptype)[0], has_default)
                 for i, (pname, ptype, has_default) in enumerate(rest)]

        def make_call(bad_index=None, bad=None, receiver=_MAKE, valid=valid):
            def thunk():
                # Positional up to the first parameter left to its default, by name after it.
                args, kwargs = [], {}
                for i, (pname, _, good, has_default) in enumerate(valid):
                    value = _raw(bad) if i == bad_index else good
                    if i != bad_index and good is None and has_default:
                        continue
                    if kwargs or len(args) < i:
                        kwargs[pname] = value
                    else:
                        args.append(value)
                if cls is None:
                    return fn(*args, **kwargs)
                target = receiver if receiver is not _MAKE else \
                    cls.__new__(cls) if init else instance(cls)
                fn(target, *args, **kwargs)
                return target  # for AFTER: what was called or built goes on working
            return thunk

        if cls is not None and not init:
            for wrong in (None, 5, "x"):
                yield f"{label}<self={wrong!r}>{close}", make_call(receiver=wrong)
        for i, (pname, ptype, _, _) in enumerate(valid):
            for bad in values(ptype)[1]:
                shown = _show(bad) if setter else f"{pname}={_show(bad)}"
                yield f"{label}{shown}{close}", make_call(i, bad)


# ---- running -----------------------------------------------------------------------------------

# After a call that succeeded, what its receiver must still do: a bad value taken silently must
# not break the next step either (a cluster built with odd options, a node crashed oddly).
AFTER = {"Cluster": lambda c: (c.run_ms(200), c.check_invariants())}


def run(target: str) -> None:
    name, _, variant = target.partition(":")
    if variant == "kv":  # the same calls on a KV cluster (ClusterOptions.kv)
        FACTORIES["Cluster"] = lambda: _cluster(kv=True)
    calls = calls_for_module() if name == "functions" else calls_for_class(getattr(_core, name))
    for label, thunk in calls:
        print(json.dumps({"calling": label}), flush=True)
        try:
            result = thunk()
            after = AFTER.get(type(result).__name__)
            if after is not None:
                after(result)
            outcome = {"call": label, "raised": None}
        except FactoryError:
            raise
        except BaseException as e:  # noqa: BLE001 - every exception is reported, none hidden
            outcome = {"call": label, "raised": type(e).__name__,
                       "mro": [c.__name__ for c in type(e).__mro__], "message": str(e)[:300]}
        print(json.dumps(outcome), flush=True)


if __name__ == "__main__":
    run(sys.argv[1])
