"""The search checker itself: verdicts against brute force and the pruning against the plain
search, the report data, timeouts."""

from source_checkers import use_source_checkers

use_source_checkers()

import random  # noqa: E402
import time  # noqa: E402

from etcdlab.checkers import KV, CountingLog, HistoryError, KVRevision, Register, check, load_history, validate_history  # noqa: E402
from etcdlab.checkers import generate as gen  # noqa: E402
from etcdlab.checkers import porcupine  # noqa: E402
from etcdlab.checkers.history import INF, drop_indeterminate  # noqa: E402

MODELS = {"register": Register(), "counting-log": CountingLog(), "kv": KV(), "kv-revision": KVRevision()}


def brute_force(model, ops):
    """Linearizable? by trying every order that respects real time (tiny histories only)."""
    ops = drop_indeterminate(ops, model.is_read)
    prepared = [model.prepare(o) for o in ops]

    def go(state, remaining):
        if not remaining:
            return True
        for i in remaining:
            if any(ops[j].ret < ops[i].call for j in remaining if j != i):
                continue  # some other remaining op returned before this one was called
            ok, new = model.step(state, *prepared[i])
            if ok and go(new, remaining - {i}):
                return True
        return False

    return go(model.init(), frozenset(range(len(ops))))


def random_history(rng, name, n, unique, unknown_weight=1):
    ops, free = [], {}
    for i in range(n):
        c = rng.randrange(3)
        call = max(free.get(c, 0), rng.randint(0, 10))
        ret = call + rng.randint(0, 8)
        free[c] = ret + 1
        outcome = rng.choice(["ok"] * 6 + ["unknown"] * unknown_weight + ["failed"])
        written = [10 + j for j in range(i)] if unique else [1, 2]
        new = 10 + i if unique else rng.choice([1, 2])
        if name == "register":
            kind = rng.choice(["read", "write", "cas"])
            if kind == "read":
                inp, out = None, rng.choice([None] + written)
            elif kind == "write":
                inp, out = new, None
            else:
                inp, out = [rng.choice([None] + written), new], rng.choice([True, False])
        elif name == "counting-log":
            kind = rng.choice(["read", "write"])
            inp, out = None, (rng.randint(0, 3) if kind == "read" else None)
        elif name == "kv":
            kind = rng.choice(["get", "put", "delete"])
            k = rng.choice(["a", "b"])
            if kind == "get":
                inp, out = [k], rng.choice([None] + written)
            elif kind == "put":
                inp, out = [k, new], None
            else:
                inp, out = [k], rng.choice([0, 1])
        else:
            kind = rng.choice(["get", "put", "delete"])
            if kind == "get":
                out = None if rng.random() < 0.3 or not written else {
                    "value": rng.choice(written), "mod_revision": rng.randint(2, 5),
                    "create_revision": rng.randint(2, 4), "version": rng.randint(1, 3), "revision": rng.randint(2, 6)}
                inp = ["a"]
            elif kind == "put":
                inp, out = ["a", new], {"revision": rng.randint(2, 5)}
            else:
                inp, out = ["a"], {"deleted": rng.choice([0, 1]), "revision": rng.randint(1, 5)}
        unknown_ret = None if rng.random() < 0.5 else ret
        if outcome == "unknown" and unknown_ret is None:
            free[c] = 10**9
        ops.append({"id": i, "client": c, "kind": kind, "input": inp, "output": out, "call": call,
                    "ret": unknown_ret if outcome == "unknown" else ret, "outcome": outcome})
    return ops


def test_agrees_with_brute_force_on_small_random_histories():
    seen = set()
    for seed in range(1500):
        rng = random.Random(seed)
        name = rng.choice(sorted(MODELS))
        raw = random_history(rng, name, rng.randint(1, 8), unique=seed % 2 == 0, unknown_weight=(1, 3, 6)[seed % 3])
        try:
            ops = validate_history(load_history(raw))
        except HistoryError:
            continue
        expected = "ok" if brute_force(MODELS[name], ops) else "illegal"
        for tighten in (True, False):
            got = check(MODELS[name], ops, tighten=tighten).verdict
            assert got == expected, f"seed {seed} ({name}, tighten={tighten}): {got} != {expected}\n{raw}"
        seen.add((name, expected))
    assert len(seen) == 8  # both verdicts for every model


def _strict(model):
    """The model without dominance: never-returning operations must be placed too, and are
    then pending operations for the pruning like any other."""
    return type(f"Strict{type(model).__name__}", (type(model),), {"indeterminate_always_legal": False})()


def _assert_linearization(model, part, prepared, lin, context):
    dominance = getattr(model, "indeterminate_always_legal", False)
    assert len(set(lin)) == len(lin), context
    left = set(range(len(part))) - set(lin)
    assert all(dominance and part[i].ret == INF for i in left), f"{context}: left out {sorted(left)}"
    state = model.init()
    for pos, i in enumerate(lin):
        later_returned = [j for j in lin[pos + 1:] if part[j].ret < part[i].call]
        assert not later_returned, f"{context}: op {i} placed before {later_returned}, which returned before its call"
        ok, state = model.step(state, *prepared[i])
        assert ok, f"{context}: op {i} is not legal at position {pos}"


def _pruned_and_plain(model, ops, context, budget=None):
    """Each partition searched with and without the pruning (``_Doom``): the verdicts must
    agree, and a linearization found must be one. Returns the verdicts (None: the plain search
    went over ``budget``)."""
    verdicts = []
    for part in model.partition(ops):
        prepared = [model.prepare(o) for o in part]
        pruned, _, lin, _ = porcupine._search(model, part, prepared, None, False, prune=True)
        try:
            plain = porcupine._search(model, part, prepared, None, False, budget, prune=False)[0]
        except porcupine._OverBudget:
            verdicts.append(None)
            continue
        assert pruned == plain, f"{context}: pruned search says {pruned}, plain search {plain}"
        if pruned == "ok":
            _assert_linearization(model, part, prepared, lin, context)
        verdicts.append(pruned)
    return verdicts


def test_pruning_agrees_with_the_plain_search_on_random_histories():
    # larger than brute force can take, adversarial outputs, and models with and without
    # dominance (no model here lacks it, but the pruning handles both)
    seen = set()
    for seed in range(1200):
        rng = random.Random(seed)
        name = rng.choice(sorted(MODELS))
        model = _strict(MODELS[name]) if seed % 4 == 3 else MODELS[name]
        raw = random_history(rng, name, rng.randint(6, 13), unique=seed % 2 == 0, unknown_weight=(1, 3, 6)[seed % 3])
        try:
            ops = drop_indeterminate(validate_history(load_history(raw)), model.is_read)
        except HistoryError:
            continue
        for tighten in (True, False):
            context = f"seed {seed} ({type(model).__name__}, tighten={tighten})\n{raw}"
            for v in _pruned_and_plain(model, model.tighten(ops) if tighten else ops, context):
                seen.add((name, seed % 4 == 3, v))
    assert len(seen) == 16  # both verdicts for every model, with and without dominance


def test_pruning_agrees_with_the_plain_search_on_generated_histories():
    # realistic concurrency: good histories and each mutation of them
    verdicts = []
    for seed in range(80):
        rng = random.Random(seed)
        name = gen.MODELS[seed % len(gen.MODELS)]
        g = gen.generate(name, rng, n_ops=rng.randint(20, 60), n_clients=rng.randint(2, 6), n_keys=rng.randint(1, 2),
                         unknown_ratio=rng.choice([0.0, 0.1, 0.2]), failed_ratio=0.05)
        histories = [g] + [m(g, random.Random(seed)) for k, m in sorted(gen.MUTATIONS.items())
                           if k != "revision_regression" or name == "kv-revision"]
        for h in histories:
            if h is None:
                continue
            model = MODELS[name]
            ops = model.tighten(drop_indeterminate(validate_history(load_history(h.ops)), model.is_read))
            verdicts += _pruned_and_plain(model, ops, f"seed {seed}, {name}: {h.reason or 'good'}", budget=200_000)
    assert verdicts.count("ok") >= 100 and verdicts.count("illegal") >= 100, verdicts


def test_pruned_search_reports_the_stranded_operation():
    # what the report says when the pruned search explains (the plain one was over budget)
    def failure(model, raw):
        ops = load_history(raw)
        verdict, _, _, info = porcupine._search(model, ops, [model.prepare(o) for o in ops], None, True)
        assert verdict == "illegal"
        return info["failure"]

    # the put at revision 5 returned before the put at revision 4 was called
    f = failure(KVRevision(), [
        {"id": 1, "client": 1, "kind": "put", "input": ["a", "x"], "output": 5, "call": 0, "ret": 1},
        {"id": 2, "client": 2, "kind": "put", "input": ["a", "y"], "output": 4, "call": 2, "ret": 3},
    ])
    assert f["op"] == 2 and f["linearized"] == [1], f
    assert "moved past it for good (watermark 5, it needs at most 3)" in f["message"], f["message"]
    # x was overwritten by y before the read of x was called
    f = failure(KV(), [
        {"id": 1, "client": 1, "kind": "put", "input": ["k", "x"], "call": 0, "ret": 1},
        {"id": 2, "client": 1, "kind": "put", "input": ["k", "y"], "call": 2, "ret": 3},
        {"id": 3, "client": 2, "kind": "get", "input": ["k"], "output": "x", "call": 4, "ret": 5},
    ])
    assert f["op"] == 3 and f["linearized"] == [1, 2], f
    assert "what it observes, ('k', 'x'), no longer holds" in f["message"], f["message"]


def _stale():
    return [
        {"id": 1, "client": 0, "kind": "write", "input": 1, "call": 0, "ret": 5},
        {"id": 2, "client": 1, "kind": "write", "input": 2, "call": 6, "ret": 10},
        {"id": 3, "client": 2, "kind": "read", "output": 2, "call": 7, "ret": 9},
        {"id": 4, "client": 2, "kind": "read", "output": 1, "call": 11, "ret": 12},
    ]


def test_illegal_result_reports_longest_linearization_and_failing_point():
    r = check(Register(), _stale())
    assert r.verdict == "illegal"
    (p,) = r.partitions
    assert p.failure["op"] == 4
    assert p.failure["time"] == 12
    assert p.failure["linearized"] == [1, 2, 3]
    assert "op 4" in p.failure["message"] and "not legal" in p.failure["message"]
    assert p.longest and p.longest[0] == [1, 2, 3]
    assert p.op_longest[1] == 0
    info = r.info["partitions"][0]
    assert info["failure"]["op"] == 4 and info["longest"][0] == [1, 2, 3]


def test_ok_result_carries_a_valid_linearization():
    ops = _stale()
    ops[3]["output"] = 2
    r = check(Register(), ops)
    assert r.verdict == "ok"
    lin = r.partitions[0].linearization
    assert sorted(lin) == [1, 2, 3, 4]
    by_id = {o["id"]: o for o in ops}
    for a_pos, a in enumerate(lin):  # real time respected
        for b in lin[:a_pos]:
            assert not by_id[a]["ret"] < by_id[b]["call"]
    model, state = Register(), Register().init()
    for op_id in lin:
        ok, state = model.step(state, *model.prepare(load_history([by_id[op_id]])[0]))
        assert ok


def _pathological(n=22, bad_read=True):
    """n concurrent writes of distinct values, then a read of a value nobody wrote: proving it
    illegal means visiting every subset of the writes."""
    ops = [{"id": i, "client": i, "kind": "write", "input": i, "call": 0, "ret": 100} for i in range(n)]
    ops.append({"id": n, "client": n, "kind": "read", "output": -1 if bad_read else n - 1, "call": 101, "ret": 102})
    return ops


def test_timeout_gives_unknown_never_ok():
    t0 = time.monotonic()
    r = check(Register(), _pathological(), timeout=0.2)
    elapsed = time.monotonic() - t0
    assert r.verdict == "unknown", r.explain()
    assert r.info["timed_out"]
    assert "NOT known to be linearizable" in r.explain()
    assert elapsed < 5, elapsed
    # zero timeout: still never ok
    assert check(Register(), _pathological(), timeout=0).verdict != "ok"


def test_timeout_in_one_partition_makes_the_whole_check_unknown():
    ops = [{"id": i, "client": i, "kind": "put", "input": ["a", i], "call": 0, "ret": 100} for i in range(22)]
    ops.append({"id": 100, "client": 100, "kind": "get", "input": ["a"], "output": -1, "call": 101, "ret": 102})
    ops.append({"id": 101, "client": 101, "kind": "put", "input": ["b", 1], "call": 0, "ret": 1})
    r = check(KV(), ops, timeout=0.2)
    assert r.verdict == "unknown"
    assert [p.verdict for p in r.partitions] == ["unknown", "skipped"]


def test_illegal_partition_stops_the_check_unless_asked():
    ops = _stale()
    ops = [dict(o, kind="put" if o["kind"] == "write" else "get", input=["a", o["input"]] if o["kind"] == "write" else ["a"]) for o in ops]
    ops.append({"id": 9, "client": 9, "kind": "put", "input": ["b", 1], "call": 0, "ret": 1})
    r = check(KV(), ops)
    assert r.verdict == "illegal"
    assert [p.verdict for p in r.partitions] == ["illegal", "skipped"]
    r = check(KV(), ops, stop_on_illegal=False)
    assert [p.verdict for p in r.partitions] == ["illegal", "ok"]


def test_good_pathological_history_is_fast():
    # the same shape, but the read returns the value the first order tried leaves
    assert check(Register(), _pathological(bad_read=False), timeout=10).verdict == "ok"


def test_indeterminate_operations_left_at_the_end():
    # regression: a never-returning cas that changes nothing must not make the search prune
    # its own completion
    ops = [
        {"id": 0, "client": 2, "kind": "cas", "input": [2, 2], "output": False, "call": 9, "ret": 13},
        {"id": 2, "client": 1, "kind": "cas", "input": [1, 2], "output": True, "call": 5, "ret": None, "outcome": "unknown"},
    ]
    r = check(Register(), ops)
    assert r.verdict == "ok"
    assert sorted(r.partitions[0].linearization) == [0, 2]


def test_many_indeterminate_writes_of_unread_values_stay_fast():
    # 30 indeterminate puts whose values nobody reads, among reads of one value: as
    # interchangeable twins they cost k+1 cases, not 2**30 subsets
    ops = [{"id": 0, "client": 0, "kind": "put", "input": ["k", "v0"], "call": 0, "ret": 1}]
    ops += [{"id": i, "client": i, "kind": "put", "input": ["k", f"lost{i}"], "call": 2, "ret": None,
             "outcome": "unknown"} for i in range(1, 31)]
    ops += [{"id": 100 + i, "client": 100, "kind": "get", "input": ["k"], "output": "v0", "call": 10 + 2 * i,
             "ret": 11 + 2 * i} for i in range(20)]
    assert check(KV(), ops, timeout=10).verdict == "ok"
    ops.append({"id": 200, "client": 100, "kind": "get", "input": ["k"], "output": "v-never", "call": 90, "ret": 91})
    assert check(KV(), ops, timeout=10).verdict == "illegal"
