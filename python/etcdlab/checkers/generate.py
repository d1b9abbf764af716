"""Synthetic histories for checking the checkers: good ones, and bad ones made from good ones.

:func:`generate` simulates clients against one sequential store: each client issues operations
one after another (random think time and latency); every operation takes effect at a random
instant inside its interval (an indeterminate write possibly later, or never), and outputs
come from applying operations in the order of those instants. Such a history is linearizable
by construction. Everything is drawn from the ``random.Random`` given, so a seed replays it.

The mutations (:func:`stale_read`, :func:`lost_write`, :func:`duplicate_write`,
:func:`revision_regression`) replay the same schedule with one fault injected and pick their
target so that the result is provably not linearizable (each explains why in ``reason``);
they return None when the history offers no such target.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .history import INF, Operation

__all__ = [
    "MODELS",
    "Generated",
    "generate",
    "stale_read",
    "lost_write",
    "duplicate_write",
    "revision_regression",
    "MUTATIONS",
]

MODELS = ("register", "kv", "counting-log", "kv-revision")


@dataclass
class _Slot:
    id: int
    client: int
    kind: str  # read | write | cas | get | put | delete
    key: Any
    value: Any  # written value; for cas (old, new)
    call: int
    ret: int
    lin: float  # when it takes effect (INF: never)
    outcome: str


@dataclass
class Generated:
    """A generated history plus the schedule that produced it."""

    model: str
    seed: Any
    slots: list
    ops: list  # list[Operation]
    order: list  # op ids in the order they took effect (those that did)
    initial_revision: int = 1
    reason: str = ""  # for mutated histories: why it is not linearizable
    mutated: list = field(default_factory=list)  # op ids a mutation touched

    def by_id(self) -> dict:
        return {op.id: op for op in self.ops}


def generate(
    model: str,
    rng: random.Random,
    n_ops: int = 200,
    n_clients: int = 4,
    n_keys: int = 3,
    *,
    read_ratio: float = 0.45,
    delete_ratio: float = 0.1,
    cas_ratio: float = 0.2,
    unknown_ratio: float = 0.0,
    failed_ratio: float = 0.0,
    max_latency: int = 20,
    max_think: int = 10,
    seed: Any = None,
) -> Generated:
    """A linearizable history of ``n_ops`` operations for ``model`` (one of :data:`MODELS`).

    ``unknown_ratio``: share of writes that end indeterminate (half of them take effect, some
    after the client gave up); also that share of reads ends indeterminate. ``failed_ratio``:
    share of operations refused (no effect).
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r} (one of {MODELS})")
    keyed = model in ("kv", "kv-revision")
    free = [rng.randint(0, max_think) for _ in range(n_clients)]
    slots: list[_Slot] = []
    written = [None]
    for i in range(n_ops):
        c = min(range(n_clients), key=lambda k: (free[k], k)) if rng.random() < 0.7 else rng.randrange(n_clients)
        call = free[c] + rng.randint(0, max_think)
        ret = call + rng.randint(0, max_latency)
        free[c] = ret + 1 if rng.random() < 0.5 else ret  # sometimes call right at the last return
        key = f"k{rng.randrange(n_keys)}" if keyed else None
        x = rng.random()
        value = None
        if model == "counting-log":
            kind = "read" if x < read_ratio else "write"
        elif model == "register":
            if x < read_ratio:
                kind = "read"
            elif x < read_ratio + cas_ratio:
                kind = "cas"
                old = rng.choice(written[-4:])
                value = (old, f"c{c}-{i}")
            else:
                kind = "write"
                value = f"c{c}-{i}"
        else:
            if x < read_ratio:
                kind = "get"
            elif x < read_ratio + delete_ratio:
                kind = "delete"
            else:
                kind = "put"
                value = f"c{c}-{i}"
        if kind in ("write", "put"):
            written.append(value)
        writes = kind not in ("read", "get")
        outcome = "ok"
        lin = call + rng.random() * (ret - call)
        y = rng.random()
        if y < failed_ratio:
            outcome, lin = "failed", INF
        elif y < failed_ratio + unknown_ratio:
            outcome = "unknown"
            if not writes or rng.random() < 0.5:
                lin = INF if writes else lin
            elif rng.random() < 0.3:
                lin = ret + rng.random() * 3 * max_latency  # took effect after the client gave up
        slots.append(_Slot(i + 1, c, kind, key, value, call, ret, lin, outcome))
    g = Generated(model=model, seed=seed, slots=slots, ops=[], order=[])
    g.ops, g.order = _materialize(model, slots)
    return g


# ---- replay


def _materialize(model, slots, skip=(), dup=None, override=None):
    """Applies the slots in the order they take effect and records outputs.

    ``skip``: op ids whose effect is lost (their recorded output stays what it was without the
    fault, from ``override``); ``dup``: (op id, instant) to apply that write's effect a second
    time; ``override``: op id -> output to record instead.
    """
    override = override or {}
    events = [(s.lin, 0, s.id, s) for s in slots if s.lin != INF]
    if dup is not None:
        dup_id, at = dup
        events.append((at, 1, dup_id, next(s for s in slots if s.id == dup_id)))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    kv: dict[Any, tuple] = {}  # key -> (value, create, mod, version)
    rev = 1
    count = 0
    outputs: dict[int, Any] = {}
    order = []
    for _, is_dup, _, s in events:
        effect = s.id not in skip
        if not is_dup:
            order.append(s.id)
        if model == "counting-log":
            if s.kind == "write":
                if effect:
                    count += 1
            else:
                outputs[s.id] = str(count)
            continue
        key = s.key
        cur = kv.get(key)
        if s.kind in ("read", "get"):
            if model == "kv-revision":
                if cur is None:
                    outputs[s.id] = {"value": None, "revision": rev}
                else:
                    outputs[s.id] = {
                        "value": cur[0],
                        "mod_revision": cur[2],
                        "create_revision": cur[1],
                        "version": cur[3],
                        "revision": rev,
                    }
            else:
                outputs[s.id] = None if cur is None else cur[0]
        elif s.kind in ("write", "put"):
            if effect:
                rev += 1
                kv[key] = (s.value, rev, rev, 1) if cur is None else (s.value, cur[1], rev, cur[3] + 1)
            if not is_dup:
                outputs[s.id] = {"revision": rev} if model == "kv-revision" else None
        elif s.kind == "cas":
            old, new = s.value
            hit = (None if cur is None else cur[0]) == old
            if hit and effect:
                rev += 1
                kv[key] = (new, rev, rev, 1) if cur is None else (new, cur[1], rev, cur[3] + 1)
            outputs[s.id] = hit
        elif s.kind == "delete":
            if cur is not None and effect:
                rev += 1
                del kv[key]
                outputs[s.id] = {"deleted": 1, "revision": rev} if model == "kv-revision" else 1
            elif cur is not None:  # lost delete: acknowledged as deleting
                outputs[s.id] = {"deleted": 1, "revision": rev + 1} if model == "kv-revision" else 1
            else:
                outputs[s.id] = {"deleted": 0, "revision": rev} if model == "kv-revision" else 0
    outputs.update(override)
    ops = []
    for s in slots:
        if model == "counting-log":
            inp = None if s.kind == "read" else f"cmd-{s.id}"
        elif model == "register":
            inp = None if s.kind == "read" else (list(s.value) if s.kind == "cas" else s.value)
        else:
            inp = [s.key, s.value] if s.kind == "put" else [s.key]
        out = outputs.get(s.id) if s.outcome == "ok" else None
        ops.append(
            Operation(
                client=s.client,
                kind=s.kind,
                input=inp,
                output=out,
                call=s.call,
                ret=s.ret,
                outcome=s.outcome,
                id=s.id,
            )
        )
    return ops, order


def _derived(g: Generated, ops, reason, mutated) -> Generated:
    return Generated(
        model=g.model,
        seed=g.seed,
        slots=g.slots,
        ops=ops,
        order=g.order,
        initial_revision=g.initial_revision,
        reason=reason,
        mutated=mutated,
    )


def _ok(s: _Slot) -> bool:
    return s.outcome == "ok"


def _writes_key(s: _Slot, key) -> bool:
    return s.kind in ("write", "put", "cas", "delete") and s.key == key


def _history_by_key(g: Generated):
    """Per key, the effective slots in effect order with the value each leaves (cas: only if
    it succeeded; delete: None)."""
    by_id = {s.id: s for s in g.slots}
    out_by_id = {op.id: op.output for op in g.ops}
    value: dict[Any, Any] = {}
    timeline: list[tuple[_Slot, Any, Any]] = []  # (slot, value before, value after)
    for oid in g.order:
        s = by_id[oid]
        before = value.get(s.key)
        after = before
        if s.kind in ("write", "put"):
            after = s.value
        elif s.kind == "cas":
            if before == s.value[0]:
                after = s.value[1]
        elif s.kind == "delete":
            after = None
        value[s.key] = after
        timeline.append((s, before, after))
    return timeline, out_by_id


def _value_writers(g: Generated) -> dict:
    """value -> the slots that write it (puts, writes, cas new values)."""
    w: dict[Any, list] = {}
    for s in g.slots:
        if s.kind in ("write", "put"):
            w.setdefault((s.key, s.value), []).append(s)
        elif s.kind == "cas":
            w.setdefault((s.key, s.value[1]), []).append(s)
    return w


def _candidates_plain(g: Generated):
    """(P, W, R) triples on one key: P, W writes (plain, ok), R an ok read, with P.ret < W.call,
    W.ret < R.call, P the last write before W and W the last write before R in effect order,
    and P's value non-nil and unique."""
    timeline, _ = _history_by_key(g)
    writers = _value_writers(g)
    last: dict[Any, tuple] = {}  # key -> (last write slot, the write before it)
    out = []
    for s, before, after in timeline:
        if s.kind in ("read", "get"):
            lw = last.get(s.key)
            if lw and _ok(s):
                w, p = lw
                if (
                    p is not None
                    and _ok(w)
                    and _ok(p)
                    and w.kind in ("write", "put")
                    and p.kind in ("write", "put")
                    and p.ret < w.call
                    and w.ret < s.call
                    and len(writers.get((p.key, p.value), ())) == 1
                    and len(writers.get((w.key, w.value), ())) == 1
                ):
                    out.append((p, w, s))
        elif s.kind in ("write", "put", "delete") or (s.kind == "cas" and before != after):
            prev = last.get(s.key)
            last[s.key] = (s, prev[0] if prev else None)
    return out


# ---- mutations


def stale_read(g: Generated, rng: random.Random) -> Generated | None:
    """A read returns a value older than a write that completed before the read began."""
    if g.model == "counting-log":
        slots = [s for s in g.slots if s.kind == "read" and _ok(s)]
        rng.shuffle(slots)
        for r in slots:
            forced = sum(1 for s in g.slots if s.kind == "write" and _ok(s) and s.ret < r.call)
            if forced >= 1:
                ops, _ = _materialize(g.model, g.slots, override={r.id: str(forced - 1)})
                return _derived(
                    g,
                    ops,
                    f"op {r.id} read returns {forced - 1} but {forced} acknowledged writes returned before it was called",
                    [r.id],
                )
        return None
    cands = _candidates_plain(g)
    if not cands:
        return None
    p, w, r = rng.choice(cands)
    if g.model == "kv-revision":
        # the full response the key had right after P (before W)
        old = _response_after(g, p)
        old["revision"] = next(op.output for op in g.ops if op.id == r.id)["revision"]
        ops, _ = _materialize(g.model, g.slots, override={r.id: old})
    else:
        ops, _ = _materialize(g.model, g.slots, override={r.id: p.value})
    return _derived(
        g,
        ops,
        f"op {r.id} reads {p.value!r} (written by op {p.id}), but op {w.id} overwrote it and returned "
        f"at {w.ret}, before op {r.id} was called at {r.call}",
        [r.id, w.id, p.id],
    )


def _response_after(g: Generated, p: _Slot) -> dict:
    """The get response for P's key right after P took effect (kv-revision)."""
    # replay up to and including P
    events = sorted((s for s in g.slots if s.lin != INF), key=lambda s: (s.lin, 0, s.id))
    kv: dict[Any, tuple] = {}
    rev = 1
    for s in events:
        cur = kv.get(s.key)
        if s.kind == "put":
            rev += 1
            kv[s.key] = (s.value, rev, rev, 1) if cur is None else (s.value, cur[1], rev, cur[3] + 1)
        elif s.kind == "delete" and cur is not None:
            rev += 1
            del kv[s.key]
        if s.id == p.id:
            break
    v = kv[p.key]
    return {"value": v[0], "mod_revision": v[2], "create_revision": v[1], "version": v[3]}


def lost_write(g: Generated, rng: random.Random) -> Generated | None:
    """An acknowledged write is lost: replaying without its effect, a later read never sees it."""
    if g.model == "counting-log":
        writes = [s for s in g.slots if s.kind == "write" and _ok(s)]
        rng.shuffle(writes)
        for w in writes:
            ops, _ = _materialize(g.model, g.slots, skip={w.id})
            new = {op.id: op for op in ops}
            for r in g.slots:
                if r.kind != "read" or not _ok(r) or r.call <= w.ret:
                    continue
                forced = sum(1 for s in g.slots if s.kind == "write" and _ok(s) and s.ret < r.call)
                if int(new[r.id].output) < forced:
                    return _derived(
                        g,
                        ops,
                        f"op {w.id} was acknowledged (returned at {w.ret}) but lost: op {r.id} reads "
                        f"{new[r.id].output} although {forced} acknowledged writes returned before it began",
                        [w.id, r.id],
                    )
        return None
    cands = _candidates_plain(g)
    if not cands:
        return None
    p, w, r = rng.choice(cands)
    if g.model == "kv-revision":
        # the write is acknowledged with the revision it got, but never applied: later writes
        # reuse revisions
        ack = next(op.output for op in g.ops if op.id == w.id)
        ops, _ = _materialize(g.model, g.slots, skip={w.id}, override={w.id: ack})
    else:
        ops, _ = _materialize(g.model, g.slots, skip={w.id})
    return _derived(
        g,
        ops,
        f"op {w.id} (write {w.value!r}, returned at {w.ret}) is lost: op {r.id}, called at {r.call}, "
        f"still reads the previous value {p.value!r}",
        [w.id, r.id],
    )


def duplicate_write(g: Generated, rng: random.Random) -> Generated | None:
    """A write's effect is applied twice (e.g. a retried command applied again)."""
    if g.model == "counting-log":
        writes = [s for s in g.slots if s.kind == "write" and s.lin != INF]
        reads = [s for s in g.slots if s.kind == "read" and _ok(s)]
        rng.shuffle(reads)
        all_writes = [s for s in g.slots if s.kind == "write" and s.outcome != "failed"]
        for r in reads:
            possible = sum(1 for s in all_writes if s.call <= r.ret)
            before = [w for w in writes if w.lin < r.lin]
            if not before:
                continue
            w = rng.choice(before)
            at = max(w.lin, r.lin - 1e-6)
            ops, _ = _materialize(g.model, g.slots, dup=(w.id, at))
            new = {op.id: op for op in ops}
            if int(new[r.id].output) > possible:
                return _derived(
                    g,
                    ops,
                    f"op {w.id} is applied twice: op {r.id} reads {new[r.id].output} but only {possible} "
                    f"writes were called before it returned",
                    [w.id, r.id],
                )
        return None
    # W then Q (Q called after W returned), then R reads Q's value after Q returned: re-apply W
    # just before R, so R reads W's value again.
    cands = _candidates_plain(g)
    if not cands:
        return None
    w, q, r = rng.choice(cands)
    ops, _ = _materialize(g.model, g.slots, dup=(w.id, (q.lin + r.lin) / 2))
    return _derived(
        g,
        ops,
        f"op {w.id} ({w.value!r}) is applied twice: after op {q.id} overwrote it (called at {q.call}, "
        f"after op {w.id} returned at {w.ret}), op {r.id} reads {w.value!r} again",
        [w.id, r.id, q.id],
    )


def revision_regression(g: Generated, rng: random.Random) -> Generated | None:
    """kv-revision only: a read's header revision is below the revision of a write of the same
    key that returned before the read was called."""
    if g.model != "kv-revision":
        return None
    timeline, _ = _history_by_key(g)
    outs = {op.id: op.output for op in g.ops}
    cands = []
    last_put: dict[Any, _Slot] = {}
    for s, _, _ in timeline:
        if s.kind == "put" and _ok(s):
            last_put[s.key] = s
        elif s.kind == "get" and _ok(s):
            w = last_put.get(s.key)
            if w is not None and w.ret < s.call:
                cands.append((w, s))
    if not cands:
        return None
    w, r = rng.choice(cands)
    wrev = outs[w.id]["revision"]
    out = dict(outs[r.id])
    out["revision"] = wrev - 1
    # the response must stay self-consistent (mod <= header): report the key as it was then
    if out.get("value") is not None and out["mod_revision"] > wrev - 1:
        out = {"value": None, "revision": wrev - 1}
    ops, _ = _materialize(g.model, g.slots, override={r.id: out})
    return _derived(
        g,
        ops,
        f"op {r.id} reports header revision {wrev - 1}, below revision {wrev} of op {w.id}, which "
        f"returned at {w.ret} before op {r.id} was called at {r.call}",
        [r.id, w.id],
    )


MUTATIONS = {
    "stale_read": stale_read,
    "lost_write": lost_write,
    "duplicate_write": duplicate_write,
    "revision_regression": revision_regression,
}
