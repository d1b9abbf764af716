"""The search checker: is a history linearizable with respect to a sequential model?

Wing & Gong's search with Lowe's just-in-time linearization and memoization, plus Horn &
Kroening's P-compositionality (``model.partition``), as Porcupine's ``checkSingle`` does it:

- each operation becomes a call entry and a return entry; entries are sorted by time with calls
  first on ties (intervals are closed) and threaded into a doubly linked list;
- walking the list from its head, at a call entry the model steps the operation; if that is
  legal and ``(set of linearized operations, new state)`` was never reached before, the call is
  pushed on a stack, the operation is *lifted* out of the list (call and return) and the walk
  restarts from the head;
- reaching a return entry means an operation that already returned has not been linearized:
  backtrack (pop, *unlift*, restore the state, go on with the next entry). An empty stack there
  means no linearization exists: illegal. An empty list means every operation is linearized.

The set of linearized operations is a bitset held in a Python int; the cache maps
``(bitset, state)`` to what was seen (hash plus equality, so states must be hashable).

Memoization alone does not stop one blow-up: a step that makes some pending operation
impossible for good (a read's value overwritten, nothing left to write it again; a put whose
revision the key has already passed) is only found out at that operation's return, after every
order of the operations called before it was tried. With many long, overlapping operations
(clients behind partitions, retries) that is exponential even when all of them returned. So a
step is also rejected when it strands a pending operation, by what the model promises about
its states (:class:`_Doom`; ``retired``/``observes``/``writes`` and ``watermark``/``expiry`` in
models.py). That only cuts branches without a completion: verdicts stay the same.

Indeterminate operations (returning at +infinity) are where searches blow up, so they get
extra care, all of it exact (same verdicts, checked against brute force in the tests):

- they sit in a second list and are tried after the operations that returned (``phase``);
- interchangeable ones (equal input and output) are linearized in call order only (twins);
- with ``model.indeterminate_always_legal``, a state reached with more of them linearized than
  an earlier visit with the same other operations and state is pruned (dominance), and the
  ones left at the end need not be placed;
- ``Model.tighten`` may bound them first (a read saw the write's unique value; a value nobody
  reads makes writes interchangeable); a few strategies share each partition's time in
  growing slices (:func:`_portfolio`).

Partitions are checked one after another under one global deadline; an illegal partition stops
the check (the others are reported "skipped") and is searched again with bookkeeping on, to
report the longest partial linearizations and the point where linearization fails (without the
pruning when that fits a step budget: it explores further and reports longer prefixes).

A timeout gives "unknown", never "ok".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .history import INF, drop_indeterminate, load_history, validate_history
from .models import require_model

__all__ = ["check", "Result", "PartitionResult", "OK", "ILLEGAL", "UNKNOWN_VERDICT"]

OK = "ok"
ILLEGAL = "illegal"
UNKNOWN_VERDICT = "unknown"
SKIPPED = "skipped"

_CLOCK_EVERY = 2048  # DFS iterations between deadline checks


class _Timeout(Exception):
    pass


class _OverBudget(Exception):
    pass


@dataclass
class PartitionResult:
    """The verdict on one partition, and what the search learned there."""

    index: int
    label: str
    op_ids: list  # the (prepared) operations of this partition, by id
    verdict: str
    elapsed: float = 0.0
    steps: int = 0  # DFS iterations
    linearization: list | None = None  # a full linearization (op ids), when ok
    longest: list = field(default_factory=list)  # distinct longest partial linearizations
    op_longest: dict = field(default_factory=dict)  # op id -> index into ``longest``
    failure: dict | None = None  # where linearization fails (illegal partitions)
    info_complete: bool = True  # False if the bookkeeping search was cut short

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "label": self.label,
            "verdict": self.verdict,
            "elapsed": self.elapsed,
            "steps": self.steps,
            "ops": list(self.op_ids),
            "linearization": self.linearization,
            "longest": self.longest,
            "op_longest": {str(k): v for k, v in self.op_longest.items()},
            "failure": self.failure,
            "info_complete": self.info_complete,
        }


@dataclass
class Result:
    """``verdict`` is "ok", "illegal" or "unknown" (timed out: inconclusive, never a pass)."""

    verdict: str
    partitions: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verdict == OK

    @property
    def illegal_partitions(self) -> list:
        return [p for p in self.partitions if p.verdict == ILLEGAL]

    def explain(self) -> str:
        """A few lines for a test failure or a log."""
        lines = [
            f"verdict: {self.verdict} ({len(self.partitions)} partition(s), "
            f"{self.info.get('operations', 0)} operations, {self.info.get('elapsed', 0):.3f} s)"
        ]
        if self.verdict == UNKNOWN_VERDICT:
            lines.append("the check timed out: the history is NOT known to be linearizable")
        for p in self.partitions:
            if p.verdict == ILLEGAL and p.failure:
                lines.append(f"{p.label}: {p.failure['message']}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()


class _Doom:
    """Sees that a partial linearization cannot be completed long before the search would
    reach the return of the operation left stranded, from what the model promises about its
    steps (models.py: ``retired``/``observes``/``writes``, ``watermark``/``expiry``):

    - a step makes a fact stop holding while a pending operation observes it and no pending
      operation writes it: that one can never be linearized (a read of v, v written once,
      after a later put overwrote v);
    - a step raises the watermark above a pending operation's expiry (a put at revision 20
      still pending when the key is known to be at revision 40).

    Without this, each such doomed prefix is extended in every order the operations called
    before the stranded one's return allow, and histories with long overlapping operations
    (partitions, retries) take exponential time even when every operation returned.

    "Pending" means not linearized and required: every operation that returned, and the
    never-returning ones too unless the search may leave them out (``dominance``). The check
    only cuts branches that have no completion, so verdicts do not change. ``ok(...)`` takes
    the operation being stepped and the sets after it; ``lift``/``unlift`` keep the pending
    counts in step with the search's own lifting.
    """

    def __init__(self, model, ops, prepared, bit, required):
        self.retired = getattr(model, "retired", None)
        self.watermark = getattr(model, "watermark", None)
        observes = getattr(model, "observes", None)
        writes = getattr(model, "writes", None)
        expiry = getattr(model, "expiry", None)
        n = len(ops)
        self.obs = [None] * n
        self.wr = [None] * n
        self.observed: dict = {}  # fact -> pending required operations that observe it
        self.writers: dict = {}  # fact -> pending operations that write it
        if self.retired is not None and observes is not None and writes is not None:
            try:
                for i, (inp, out) in enumerate(prepared):
                    w = writes(inp, out)
                    if w is not None:
                        self.wr[i] = w
                        self.writers[w] = self.writers.get(w, 0) + 1
                    o = observes(inp, out) if required[i] else None
                    if o is not None:
                        self.obs[i] = o
                        self.observed[o] = self.observed.get(o, 0) + 1
            except TypeError:  # unhashable facts: no fact pruning
                self.observed = {}
        if not self.observed:
            self.obs = [None] * n
            self.wr = [None] * n
        # required operations with an expiry, by expiry: the first pending one is the bound
        order = []
        if self.watermark is not None and expiry is not None and self.watermark(model.init()) is not None:
            for i, (inp, out) in enumerate(prepared):
                e = expiry(inp, out) if required[i] else None
                if e is not None:
                    order.append((e, i))
            order.sort()
        self.exp = [e for e, _ in order]
        self.exp_op = [i for _, i in order]
        self.exp_bit = [bit[i] for _, i in order]
        self.exp_inf = [ops[i].ret == INF for _, i in order]
        self.active = bool(self.observed or self.exp)
        self.bit = bit
        self.inf = [op.ret == INF for op in ops]

    def ok(self, i, state, new_state, new_lin, new_ilin, ptr):
        """Whether stepping operation ``i`` from ``state`` to ``new_state`` leaves every
        pending operation possible. Returns the new expiry pointer (the index in expiry order
        of the first pending operation), or -1 if the step is doomed."""
        observed = self.observed
        if observed and new_state is not state:
            for f in self.retired(state, new_state):
                waiting = observed.get(f, 0) - (self.obs[i] == f)
                if waiting > 0 and self.writers.get(f, 0) - (self.wr[i] == f) <= 0:
                    return -1
        exp = self.exp
        if exp:
            n = len(exp)
            exp_bit = self.exp_bit
            exp_inf = self.exp_inf
            while ptr < n and (new_ilin if exp_inf[ptr] else new_lin) & exp_bit[ptr]:
                ptr += 1
            if ptr < n and self.watermark(new_state) > exp[ptr]:
                return -1
        return ptr

    def stranded(self, i, state, new_state, new_lin, new_ilin, ptr):
        """For a report, after ``ok`` said -1: (the operation the step strands, why)."""
        pending = lambda j: not ((new_ilin if self.inf[j] else new_lin) & self.bit[j])  # noqa: E731
        if self.observed and new_state is not state:
            for f in self.retired(state, new_state):
                if self.writers.get(f, 0) - (self.wr[i] == f) <= 0:
                    for j, o in enumerate(self.obs):
                        if o == f and j != i and pending(j):
                            return j, f"what it observes, {f!r}, no longer holds and no operation left can bring it back"
        exp = self.exp
        while ptr < len(exp) and not pending(self.exp_op[ptr]):
            ptr += 1
        if ptr == len(exp):  # not reached while the model keeps its promises
            return i, "it strands another operation"
        w = self.watermark(new_state)
        return self.exp_op[ptr], f"the state has moved past it for good (watermark {w}, it needs at most {exp[ptr]})"

    def lift(self, i):
        f = self.obs[i]
        if f is not None:
            self.observed[f] -= 1
        f = self.wr[i]
        if f is not None:
            self.writers[f] -= 1

    def unlift(self, i):
        f = self.obs[i]
        if f is not None:
            self.observed[f] += 1
        f = self.wr[i]
        if f is not None:
            self.writers[f] += 1


def _search(model, ops, prepared, deadline, compute_info, budget=None, lazy_first=True, prune=True):
    """One partition. Returns (verdict, steps, linearization as op indexes, info or None).
    Raises _Timeout past ``deadline`` and _OverBudget past ``budget`` steps. With ``prune``,
    steps that strand a pending operation are cut (:class:`_Doom`)."""
    n = len(ops)
    inputs = [p[0] for p in prepared]
    outputs = [p[1] for p in prepared]

    # Operations that returned go in the entry list. Those that never return (indeterminate
    # writes, ret = +inf) may take effect anywhere after their call; they live in a second
    # list, by call time. Indeterminate operations usually matter only here and there, so at
    # each point the search tries, among the candidates (called no later than the first
    # pending return): the operations that were determinate (phase 0), then the returned ones
    # that were indeterminate (phase 1, see ``lazy``), then the never-returning ones (phase 2).
    # Any order of trying candidates is complete; this one finds linearizations sooner.
    events = []
    inf_ops = []
    for i, op in enumerate(ops):
        if op.ret == INF:
            inf_ops.append(i)
        else:
            events.append((op.call, 0, i))
            events.append((op.ret, 1, i))
    events.sort()  # by time, calls (0) before returns (1) on ties
    size = len(events) + 2
    tail = size - 1
    nxt = list(range(1, size + 1))
    prv = list(range(-1, size - 1))
    node_op = [-1] * size
    match = [0] * size  # call node -> return node; 0 for return nodes and sentinels
    call_node = [0] * n
    for pos, (_, kind, i) in enumerate(events, start=1):
        node_op[pos] = i
        if kind == 0:
            call_node[i] = pos
        else:
            match[call_node[i]] = pos

    inf_ops.sort(key=lambda i: (ops[i].call, i))
    # bit of each operation: finite ones in ``lin``, never-returning ones in ``ilin``
    bit = [0] * n
    for k, i in enumerate(sorted(set(range(n)) - set(inf_ops))):
        bit[i] = 1 << k
    for k, i in enumerate(inf_ops):
        bit[i] = 1 << k
    isize = len(inf_ops) + 2
    itail = isize - 1
    inxt = list(range(1, isize + 1))
    iprv = list(range(-1, isize - 1))
    inode_op = [-1] + inf_ops + [-1]
    icall = [0] + [ops[i].call for i in inf_ops] + [INF]

    # Symmetry: never-returning operations with equal input and output are interchangeable
    # once called, so they are only linearized in call order: the k-th may go only after the
    # (k-1)-th. This turns 2**k subsets into k+1 counts (e.g. a counting log's indeterminate
    # appends, or indeterminate writes of values nothing reads: see Model.tighten).
    twin_before = [-1] * n
    twins: dict = {}
    for i in inf_ops:
        try:
            sig = (inputs[i], outputs[i])
            prev = twins.get(sig)
        except TypeError:  # unhashable input: no grouping
            continue
        if prev is not None:
            twin_before[i] = prev
        twins[sig] = i

    # Operations that were indeterminate but got a return from Model.tighten (a read saw
    # their value) are "lazy" too: tried after the others, when nothing else fits.
    lazy = [1 if lazy_first and _was_indeterminate(op) else 0 for op in ops]
    any_lazy = any(lazy[i] for i in range(n) if ops[i].ret != INF)

    step = model.step
    state = model.init()
    lin = 0  # finite operations linearized
    ilin = 0  # never-returning operations linearized
    # The cache: (lin, state) -> the ilin sets reached with them. If the model accepts an
    # indeterminate operation in any state (indeterminate_always_legal), having linearized
    # more of them is never better (the extra ones could as well go at the very end), so a
    # visit is pruned if a subset of its ilin was seen with the same lin and state. Otherwise
    # the cache is the plain set of (lin, ilin, state).
    dominance = bool(getattr(model, "indeterminate_always_legal", False))
    doom = _Doom(model, ops, prepared, bit, [not dominance or op.ret != INF for op in ops]) if prune else None
    if doom is not None and not doom.active:
        doom = None
    wptr = 0  # doom's expiry pointer
    cache: dict = {}
    stack = []  # (node, state, lin, ilin, phase, frontier, blocking node, wptr)
    phase = 0
    entry = nxt[0]
    ientry = 0
    frontier = INF
    blocking = 0  # the return node that ended phase 0 (0: the list ran out)
    steps = 0
    check_at = _CLOCK_EVERY
    clock = time.monotonic

    # bookkeeping (compute_info only)
    longest_len = [0] * n
    longest_ref = [-1] * n
    seqs: list[tuple] = []
    best = None  # deepest dead end
    just_pushed = False

    while True:
        steps += 1
        if steps >= check_at:
            check_at += _CLOCK_EVERY
            if deadline is not None and clock() > deadline:
                raise _Timeout(steps)
            if budget is not None and steps > budget:
                raise _OverBudget(steps)
        if phase < 2:
            ret = match[entry]
            if ret:  # a call entry
                i = node_op[entry]
                if lazy[i] != phase:  # phase 0: operations that returned; 1: the lazy ones
                    entry = nxt[entry]
                    continue
                ok, new_state = step(state, inputs[i], outputs[i])
                if ok:
                    new_lin = lin | bit[i]
                    if doom is not None:
                        new_wptr = doom.ok(i, state, new_state, new_lin, ilin, wptr)
                        ok = new_wptr >= 0
                        if not ok and compute_info and (best is None or len(stack) + 1 > best[0]):
                            best = _doomed_end(doom, stack, node_op, inode_op, i, state, new_state, new_lin, ilin, wptr)
                if ok:
                    if dominance:
                        key = (new_lin, new_state)
                        seen = cache.get(key)
                        fresh = seen is None or not any((a & ~ilin) == 0 for a in seen)
                        if fresh:
                            if seen is None:
                                cache[key] = [ilin]
                            else:
                                seen.append(ilin)
                    else:
                        key = (new_lin, ilin, new_state)
                        fresh = key not in cache
                        if fresh:
                            cache[key] = True
                    if fresh:
                        stack.append((entry, state, lin, ilin, phase, 0, 0, wptr))
                        state = new_state
                        lin = new_lin
                        if doom is not None:
                            doom.lift(i)
                            wptr = new_wptr
                        # lift the call and its return out of the list
                        p, q = prv[entry], nxt[entry]
                        nxt[p] = q
                        prv[q] = p
                        p, q = prv[ret], nxt[ret]
                        nxt[p] = q
                        prv[q] = p
                        phase = 0
                        entry = nxt[0]
                        just_pushed = True
                        continue
                entry = nxt[entry]
                continue
            # the first pending return (or the end of the list)
            if entry == tail and (inxt[0] == itail or dominance):
                # everything is linearized (with dominance: every operation that returned; the
                # model accepts the never-returning ones left at the very end, in any state)
                break
            if phase == 0 and any_lazy:  # now the lazy ones called before it
                phase = 1
                entry = nxt[0]
                continue
            blocking = entry if entry != tail else 0
            if inxt[0] != itail:  # then the never-returning ones called before it
                phase = 2
                frontier = ops[node_op[entry]].ret if entry != tail else INF
                ientry = inxt[0]
                continue
        else:
            if ientry != itail and icall[ientry] <= frontier:
                i = inode_op[ientry]
                t = twin_before[i]
                if t >= 0 and not ilin & bit[t]:
                    ientry = inxt[ientry]  # its earlier twin goes first
                    continue
                ok, new_state = step(state, inputs[i], outputs[i])
                if ok:
                    new_ilin = ilin | bit[i]
                    if doom is not None:
                        new_wptr = doom.ok(i, state, new_state, lin, new_ilin, wptr)
                        ok = new_wptr >= 0
                        if not ok and compute_info and (best is None or len(stack) + 1 > best[0]):
                            best = _doomed_end(doom, stack, node_op, inode_op, i, state, new_state, lin, new_ilin, wptr)
                if ok:
                    if dominance:
                        key = (lin, new_state)
                        seen = cache.get(key)
                        fresh = seen is None or not any((a & ~new_ilin) == 0 for a in seen)
                        if fresh:
                            if seen is None:
                                cache[key] = [new_ilin]
                            else:
                                seen.append(new_ilin)
                    else:
                        key = (lin, new_ilin, new_state)
                        fresh = key not in cache
                        if fresh:
                            cache[key] = True
                    if fresh:
                        stack.append((ientry, state, lin, ilin, 2, frontier, blocking, wptr))
                        state = new_state
                        ilin = new_ilin
                        if doom is not None:
                            doom.lift(i)
                            wptr = new_wptr
                        p, q = iprv[ientry], inxt[ientry]
                        inxt[p] = q
                        iprv[q] = p
                        phase = 0
                        entry = nxt[0]
                        just_pushed = True
                        continue
                ientry = inxt[ientry]
                continue
        # dead end: an operation that returned (``blocking``) cannot be linearized next
        if compute_info:
            if just_pushed or best is None:
                depth = len(stack)
                if just_pushed:
                    seq = None
                    for frame in stack:
                        j = _frame_op(frame, node_op, inode_op)
                        if depth > longest_len[j]:
                            if seq is None:
                                seq = tuple(_frame_op(f, node_op, inode_op) for f in stack)
                                seqs.append(seq)
                            longest_len[j] = depth
                            longest_ref[j] = len(seqs) - 1
                if best is None or depth > best[0]:
                    tried = _tried(nxt, match, node_op, blocking or tail)
                    tried += [inode_op[e] for e in _inf_candidates(inxt, icall, itail, frontier)]
                    best = (depth, tuple(_frame_op(f, node_op, inode_op) for f in stack), state,
                            node_op[blocking] if blocking else None, tried)
        just_pushed = False
        if not stack:
            info = _info(model, ops, prepared, seqs, longest_ref, best) if compute_info else None
            return ILLEGAL, steps, None, info
        node, state, lin, ilin, phase, frontier, blocking, wptr = stack.pop()
        if doom is not None:
            doom.unlift(node_op[node] if phase < 2 else inode_op[node])
        if phase < 2:
            ret = match[node]
            # unlift: return first, then call (reverse order of lifting)
            nxt[prv[ret]] = ret
            prv[nxt[ret]] = ret
            nxt[prv[node]] = node
            prv[nxt[node]] = node
            entry = nxt[node]
        else:
            inxt[iprv[node]] = node
            iprv[inxt[node]] = node
            ientry = inxt[node]
    lin_ops = [_frame_op(f, node_op, inode_op) for f in stack]
    if dominance:  # the never-returning operations left go last, in call order
        e = inxt[0]
        while e != itail:
            lin_ops.append(inode_op[e])
            e = inxt[e]
    return OK, steps, lin_ops, None


def _doomed_end(doom, stack, node_op, inode_op, i, state, new_state, new_lin, new_ilin, wptr):
    """A dead end for the report where ``doom`` cut the step of op ``i``: the prefix with op
    ``i`` last, the state after it, the operation it strands and why."""
    stranded, why = doom.stranded(i, state, new_state, new_lin, new_ilin, wptr)
    seq = tuple(_frame_op(f, node_op, inode_op) for f in stack) + (i,)
    return (len(seq), seq, new_state, stranded, [], why)


def _was_indeterminate(op) -> bool:
    return op.outcome == "unknown" or (
        isinstance(op.metadata, dict) and op.metadata.get("tightened_from") == "unknown"
    )


def _frame_op(frame, node_op, inode_op):
    return node_op[frame[0]] if frame[4] < 2 else inode_op[frame[0]]


def _inf_candidates(inxt, icall, itail, frontier):
    out = []
    e = inxt[0]
    while e != itail and icall[e] <= frontier:
        out.append(e)
        e = inxt[e]
    return out


def _tried(nxt, match, node_op, blocking):
    """The operations whose calls precede the blocking return entry: the candidates that were
    tried at the dead end."""
    out = []
    e = nxt[0]
    while e != blocking:
        if match[e]:
            out.append(node_op[e])
        e = nxt[e]
    return out


def _info(model, ops, prepared, seqs, longest_ref, best):
    ids = [op.id for op in ops]
    # distinct longest partial linearizations, longest first; per op, which one
    used = sorted({r for r in longest_ref if r >= 0}, key=lambda s: -len(seqs[s]))
    remap = {s: k for k, s in enumerate(used)}
    longest = [[ids[i] for i in seqs[s]] for s in used]
    op_longest = {ids[i]: remap[r] for i, r in enumerate(longest_ref) if r >= 0}
    failure = None
    if best is not None:
        depth, seq, state, blocking, tried = best[:5]
        doomed = best[5] if len(best) > 5 else None  # why no later state can take ``blocking``
        if blocking is None:  # only never-returning operations were left, and none could go
            blocking = tried[0] if tried else next(i for i in range(len(ops)) if i not in set(seq))
        bop = ops[blocking]
        b_in, b_out = prepared[blocking]
        ok, _ = model.step(state, b_in, b_out)
        reasons = []
        for t in tried:
            t_ok, _ = model.step(state, prepared[t][0], prepared[t][1])
            reasons.append(
                {
                    "op": ids[t],
                    "operation": model.describe_operation(*prepared[t]),
                    "legal_here": t_ok,
                }
            )
        state_desc = model.describe_state(state)
        bdesc = model.describe_operation(b_in, b_out)
        if doomed:
            why = f"it {'is not legal in that state, nor' if not ok else 'is legal there, but not'} in any later one: {doomed}"
        elif not ok:
            why = "it is not legal in that state"
        else:
            why = "it is legal there, but every way to continue after it was already explored and fails"
        prefix = (
            f"after linearizing {depth} operation(s) (last: op {ids[seq[-1]]}), the state is {state_desc}"
            if depth
            else f"from the initial state {state_desc}"
        )
        message = (
            f"{prefix}; op {bop.id} {bdesc} (client {bop.client}, called at {_t(bop.call)}, "
            f"returned at {_t(bop.ret)}) must take effect before it returns, but {why}"
        )
        failure = {
            "message": message,
            "op": bop.id,
            "operation": bdesc,
            "time": bop.ret,
            "linearized": [ids[i] for i in seq],
            "state": state_desc,
            "legal_here": ok,
            "candidates": reasons,
        }
    return {"longest": longest, "op_longest": op_longest, "failure": failure}


def _t(t):
    if t == INF:
        return "inf"
    if isinstance(t, float) and t.is_integer():
        return str(int(t))
    return str(t)


_FIRST_BUDGET = 50_000  # DFS steps
_EXPLAIN_BUDGET = 100_000  # DFS steps of the unpruned search for a report (~0.1 s)


def _explain(model, part, prepared, deadline, lazy_first):
    """The report on an illegal partition. The unpruned search goes on from each dead end as
    far as it can, so its longest partial linearizations and failing point tell the most; if
    it needs more than ``_EXPLAIN_BUDGET`` steps, the pruned search reports instead (its dead
    ends may be where a step strands an operation for good)."""
    try:
        return _search(model, part, prepared, deadline, True, _EXPLAIN_BUDGET, lazy_first, prune=False)[3]
    except _OverBudget:
        return _search(model, part, prepared, deadline, True, None, lazy_first)[3]


def _portfolio(model, part, raw_by_id, deadline):
    """Searches one partition with a few equally correct strategies in turn, with step
    budgets growing fourfold each round, until one finishes (or the deadline passes): a
    strategy that is unlucky on a history (the search is exponential in the worst case) costs
    at most a constant factor over the best one. Strategies: the prepared partition with the
    lazy phase order; the partition without Model.tighten (if it changed anything); the
    prepared one in plain order. Returns (verdict, steps, lin, ops, prepared, lazy_first)."""
    raw = [raw_by_id[op.id] for op in part]
    strategies = [(part, True)]
    if any(a is not b for a, b in zip(part, raw)):
        strategies.append((raw, True))
    if any(_was_indeterminate(op) for op in part):
        strategies.append((part, False))
    prepared = {}
    total = 0
    budget = _FIRST_BUDGET
    while True:
        for k, (ops, lazy_first) in enumerate(strategies):
            if id(ops) not in prepared:
                prepared[id(ops)] = [model.prepare(op) for op in ops]
            last = len(strategies) == 1
            try:
                verdict, steps, lin, _ = _search(
                    model, ops, prepared[id(ops)], deadline, False, None if last else budget, lazy_first
                )
                return verdict, total + steps, lin, ops, prepared[id(ops)], lazy_first
            except _OverBudget as e:
                total += e.args[0]
            except _Timeout as e:
                raise _Timeout(total + e.args[0]) from None
        budget *= 4


def check(
    model: Any,
    history: Any,
    timeout: float | None = None,
    *,
    validate: bool = True,
    stop_on_illegal: bool = True,
    explain: bool = True,
    tighten: bool = True,
) -> Result:
    """Checks ``history`` (operations, dicts, JSON or a path) against ``model``.

    ``timeout`` is in seconds for the whole check (None: no limit). Definite failures and
    indeterminate reads are dropped, indeterminate writes return at +infinity. The verdict is
    "ok", "illegal" or "unknown" (timed out). ``info`` holds, per partition, the longest partial
    linearizations and, for an illegal one, the failing point (see :class:`PartitionResult`).
    With ``explain`` an illegal partition is searched a second time with that bookkeeping on.
    With ``tighten`` the model may bound indeterminate writes first (``model.tighten``: for the
    KV models, a write of a unique value that a read returned took effect before that read
    returned).
    """
    require_model(model, "check()")
    start = time.monotonic()
    deadline = None if timeout is None else start + max(0.0, timeout)
    ops = load_history(history)
    if validate:
        validate_history(ops)
    ops = drop_indeterminate(ops, getattr(model, "is_read", None))
    raw_by_id = {op.id: op for op in ops}
    if tighten and hasattr(model, "tighten"):
        ops = model.tighten(ops)
    parts = model.partition(ops) if hasattr(model, "partition") else [ops]
    label_of = getattr(model, "partition_label", None)
    results: list[PartitionResult] = []
    stopped = False
    timed_out = False
    for index, part in enumerate(parts):
        label = label_of(part) if label_of else f"partition {index}"
        pr = PartitionResult(index=index, label=label, op_ids=[op.id for op in part], verdict=SKIPPED)
        results.append(pr)
        if stopped or timed_out:
            continue
        t0 = time.monotonic()
        try:
            verdict, steps, lin, part, prepared, lazy_first = _portfolio(model, part, raw_by_id, deadline)
        except _Timeout as e:
            pr.verdict = UNKNOWN_VERDICT
            pr.steps = e.args[0]
            pr.elapsed = time.monotonic() - t0
            timed_out = True
            continue
        pr.verdict = verdict
        pr.steps = steps
        if verdict == OK:
            pr.linearization = [part[i].id for i in lin]
            pr.longest = [pr.linearization] if lin else []
            pr.op_longest = {op_id: 0 for op_id in pr.linearization}
        else:
            if explain:
                try:
                    info = _explain(model, part, prepared, deadline, lazy_first)
                    pr.longest = info["longest"]
                    pr.op_longest = info["op_longest"]
                    pr.failure = info["failure"]
                except _Timeout:
                    pr.info_complete = False
                    pr.failure = {
                        "message": "not linearizable (the search for the failing point timed out)",
                        "op": None,
                        "linearized": [],
                        "candidates": [],
                    }
            if stop_on_illegal:
                stopped = True
        pr.elapsed = time.monotonic() - t0
    verdicts = [p.verdict for p in results]
    if ILLEGAL in verdicts:
        overall = ILLEGAL
    elif UNKNOWN_VERDICT in verdicts or SKIPPED in verdicts:
        overall = UNKNOWN_VERDICT
    else:
        overall = OK
    elapsed = time.monotonic() - start
    info = {
        "model": getattr(model, "name", type(model).__name__),
        "operations": len(ops),
        "elapsed": elapsed,
        "timeout": timeout,
        "timed_out": timed_out,
        "partitions": [p.to_dict() for p in results],
    }
    return Result(verdict=overall, partitions=results, info=info)
