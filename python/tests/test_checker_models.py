"""Hand-made histories with known verdicts, for each sequential model."""

from source_checkers import use_source_checkers

use_source_checkers()

import random  # noqa: E402

import pytest  # noqa: E402

from etcdlab.checkers import UNKNOWN, KV, CountingLog, HistoryError, KVRevision, Register, check  # noqa: E402

_ids = iter(range(1, 10**9))


def op(client, kind, input=None, output=None, call=0, ret=0, outcome="ok"):
    return {
        "id": next(_ids),
        "client": client,
        "kind": kind,
        "input": input,
        "output": output,
        "call": call,
        "ret": ret,
        "outcome": outcome,
    }


def verdict(model, ops, **kw):
    return check(model, ops, timeout=10, **kw).verdict


# ---- Register


def test_register_porcupine_examples():
    # from Porcupine's TestRegisterModel (MIT 6.824 2017 quiz 2)
    ok = [op(0, "write", 100, None, 0, 100), op(1, "read", None, 100, 25, 75), op(2, "read", None, None, 30, 60)]
    assert verdict(Register(), ok) == "ok"
    bad = [op(0, "write", 200, None, 0, 100), op(1, "read", None, 200, 10, 30), op(2, "read", None, None, 40, 90)]
    assert verdict(Register(), bad) == "illegal"


def test_register_zero_duration_ops():
    ok = [
        op(0, "write", 100, None, 0, 100),
        op(1, "read", None, 100, 25, 75),
        op(2, "read", None, None, 30, 30),
        op(3, "read", None, None, 30, 30),
    ]
    assert verdict(Register(), ok) == "ok"


def test_concurrent_writes_with_reads_in_between():
    base = [op(0, "write", 1, None, 0, 10), op(1, "write", 2, None, 0, 10)]
    # during the writes, 1 then 2 is a valid order
    assert verdict(Register(), base + [op(2, "read", None, 1, 2, 4), op(2, "read", None, 2, 5, 8)]) == "ok"
    # and 2 then 1
    assert verdict(Register(), base + [op(2, "read", None, 2, 2, 4), op(2, "read", None, 1, 5, 8)]) == "ok"
    # but after both completed, the value cannot change any more
    assert verdict(Register(), base + [op(2, "read", None, 1, 11, 12), op(2, "read", None, 2, 13, 14)]) == "illegal"
    # a read before any write completed may see nothing yet
    assert verdict(Register(), base + [op(2, "read", None, None, 0, 1)]) == "ok"


def test_stale_read_after_completed_write():
    h = [op(0, "write", 1, None, 0, 5), op(0, "write", 2, None, 6, 10), op(1, "read", None, 1, 11, 12)]
    assert verdict(Register(), h) == "illegal"
    # overlapping the second write, the old value is fine
    h[2]["call"] = 8
    assert verdict(Register(), h) == "ok"


def test_cas():
    h = [op(0, "write", 1, None, 0, 1), op(0, "cas", [1, 2], True, 2, 3), op(0, "read", None, 2, 4, 5)]
    assert verdict(Register(), h) == "ok"
    assert verdict(Register(), h + [op(1, "cas", [1, 3], True, 6, 7)]) == "illegal"
    assert verdict(Register(), h + [op(1, "cas", [1, 3], False, 6, 7)]) == "ok"
    assert verdict(Register(), h + [op(1, "cas", [2, 3], "fail", 6, 7)]) == "illegal"
    assert verdict(Register(), h + [op(1, "cas", {"old": 2, "new": 3}, {"ok": True}, 6, 7), op(1, "read", None, 3, 8, 9)]) == "ok"


def test_unknown_write_may_or_may_not_have_happened():
    w = [op(0, "write", 1, None, 0, 1), op(1, "write", 2, None, 2, 5, outcome="unknown")]
    assert verdict(Register(), w + [op(2, "read", None, 2, 10, 11)]) == "ok"  # it happened
    assert verdict(Register(), w + [op(2, "read", None, 1, 10, 11)]) == "ok"  # not (yet)
    assert verdict(Register(), w + [op(2, "read", None, 1, 10, 11), op(2, "read", None, 2, 100, 101)]) == "ok"  # late
    # once seen, it cannot un-happen
    assert verdict(Register(), w + [op(2, "read", None, 2, 10, 11), op(2, "read", None, 1, 12, 13)]) == "illegal"
    # and it cannot take effect before it was called
    assert verdict(Register(), w + [op(2, "read", None, 2, 1, 1)]) == "illegal"
    # same without tightening (the write stays at +infinity)
    assert verdict(Register(), w + [op(2, "read", None, 2, 10, 11), op(2, "read", None, 1, 12, 13)], tighten=False) == "illegal"


def test_unknown_reads_and_failed_writes_are_dropped():
    h = [op(0, "write", 1, None, 0, 1), op(1, "read", None, 42, 2, 3, outcome="unknown")]
    assert verdict(Register(), h) == "ok"
    h = [op(0, "write", 5, None, 0, 1, outcome="failed"), op(1, "read", None, 5, 2, 3)]
    assert verdict(Register(), h) == "illegal"


def test_overlapping_client_rejected_by_check():
    h = [op(0, "write", 1, None, 0, 10), op(0, "read", None, 1, 5, 6)]
    with pytest.raises(HistoryError, match="overlapping"):
        check(Register(), h)


# ---- KV


def test_kv_put_get_delete():
    h = [
        op(0, "put", ["a", "1"], None, 0, 1),
        op(0, "get", ["a"], "1", 2, 3),
        op(0, "get", "b", None, 4, 5),
        op(0, "delete", ["a"], 1, 6, 7),
        op(0, "get", ["a"], None, 8, 9),
        op(0, "delete", ["a"], {"deleted": 0}, 10, 11),
    ]
    assert verdict(KV(), h) == "ok"
    assert verdict(KV(), h + [op(0, "delete", ["a"], 1, 12, 13)]) == "illegal"
    assert verdict(KV(), h + [op(0, "get", ["a"], "1", 12, 13)]) == "illegal"


def test_kv_partitions_per_key_and_reports_the_key():
    h = [
        op(0, "put", {"key": "a", "value": "x"}, None, 0, 1),
        op(1, "put", {"key": "b", "value": "y"}, None, 0, 1),
        op(0, "put", ["a", "x2"], None, 2, 3),
        op(1, "get", ["b"], "y", 2, 3),
        op(2, "get", ["a"], "x", 4, 5),  # stale
    ]
    r = check(KV(), h)
    assert r.verdict == "illegal"
    assert len(r.partitions) == 2
    bad = r.illegal_partitions
    assert len(bad) == 1 and bad[0].label == "key 'a'"
    assert bad[0].failure["op"] == h[4]["id"]
    assert str(h[4]["id"]) in r.explain()


def test_kv_unknown_put_and_delete():
    h = [op(0, "put", ["a", "1"], None, 0, 1), op(1, "delete", ["a"], None, 2, 3, outcome="unknown")]
    assert verdict(KV(), h + [op(2, "get", ["a"], None, 5, 6)]) == "ok"
    assert verdict(KV(), h + [op(2, "get", ["a"], "1", 5, 6)]) == "ok"
    assert verdict(KV(), h + [op(2, "get", ["a"], None, 5, 6), op(2, "get", ["a"], "1", 7, 8)]) == "illegal"


def test_kv_rejects_unknown_kinds():
    with pytest.raises(HistoryError, match="no operation kind 'txn'"):
        check(KV(), [op(0, "txn", ["a"], None, 0, 1)])


# ---- CountingLog


def test_counting_log():
    w = [op(0, "write", "c1", None, 0, 10), op(1, "write", "c2", None, 0, 10)]
    assert verdict(CountingLog(), w + [op(2, "read", None, "1", 2, 3), op(2, "read", None, 2, 4, 5)]) == "ok"
    assert verdict(CountingLog(), w + [op(2, "read", None, 3, 4, 5)]) == "illegal"  # one too many
    assert verdict(CountingLog(), w + [op(2, "read", None, 1, 11, 12)]) == "illegal"  # stale
    assert verdict(CountingLog(), w + [op(2, "read", None, 2, 1, 3), op(2, "read", None, 1, 4, 5)]) == "illegal"


def test_counting_log_unknown_appends_both_ways():
    w = [op(0, "propose", "a", None, 0, 1), op(1, "propose", "b", None, 0, 1), op(2, "propose", "c", None, 2, 3, outcome="unknown")]
    assert verdict(CountingLog(), w + [op(3, "read", None, "3", 10, 11)]) == "ok"
    assert verdict(CountingLog(), w + [op(3, "read", None, "2", 10, 11)]) == "ok"
    assert verdict(CountingLog(), w + [op(3, "read", None, "3", 10, 11), op(3, "read", None, "2", 12, 13)]) == "illegal"
    assert verdict(CountingLog(), w + [op(3, "read", None, "4", 10, 11)]) == "illegal"


def test_counting_log_many_indeterminate_appends_stay_fast():
    # 40 interchangeable indeterminate appends: the twin rule keeps this linear, not 2**40
    h = [op(i, "write", f"c{i}", None, 0, 5, outcome="unknown") for i in range(40)]
    h.append(op(99, "read", None, 41, 10, 11))
    r = check(CountingLog(), h, timeout=10)
    assert r.verdict == "illegal"
    h[-1]["output"] = 17
    assert check(CountingLog(), h, timeout=10).verdict == "ok"


def test_counting_log_bad_read_output():
    with pytest.raises(HistoryError, match="not a count"):
        check(CountingLog(), [op(0, "read", None, "many", 0, 1)])


# ---- KVRevision


def g(key, value, mod, create, version, header):
    return {"value": value, "mod_revision": mod, "create_revision": create, "version": version, "revision": header}


def test_kv_revision_basic():
    h = [
        op(0, "put", ["a", "x"], 2, 0, 1),
        op(0, "get", ["a"], g("a", "x", 2, 2, 1, 2), 2, 3),
        op(1, "put", ["b", "q"], {"revision": 3}, 4, 5),
        op(0, "put", ["a", "y"], 4, 6, 7),
        op(0, "get", ["a"], ("y", 4, 2, 2, 4), 8, 9),
        op(0, "delete", ["a"], {"deleted": 1, "revision": 5}, 10, 11),
        op(0, "get", ["a"], None, 12, 13),
        op(0, "delete", ["a"], (0, 5), 14, 15),
        op(0, "put", ["a", "z"], 6, 16, 17),
        op(0, "get", ["a"], g("a", "z", 6, 6, 1, 6), 18, 19),
    ]
    assert verdict(KVRevision(), h) == "ok"


@pytest.mark.parametrize(
    "bad",
    [
        op(0, "get", ["a"], g("a", "x", 3, 2, 1, 4), 2, 3),  # wrong mod revision
        op(0, "get", ["a"], g("a", "x", 2, 2, 2, 4), 2, 3),  # wrong version
        op(0, "get", ["a"], g("a", "x", 2, 2, 1, 1), 2, 3),  # header below the key's revision
        op(0, "put", ["a", "y"], 2, 2, 3),  # revision not above the key's last one
        op(0, "delete", ["a"], (0, 5), 2, 3),  # claims nothing to delete
        op(0, "get", ["a"], None, 2, 3),  # absent
    ],
)
def test_kv_revision_violations(bad):
    h = [op(0, "put", ["a", "x"], 2, 0, 1)]
    assert verdict(KVRevision(), h) == "ok"
    assert verdict(KVRevision(), h + [bad]) == "illegal"


def test_kv_revision_unknown_put_is_bound_by_the_first_read():
    h = [op(0, "put", ["a", "x"], 3, 0, 1), op(1, "put", ["a", "y"], None, 2, 3, outcome="unknown")]
    assert verdict(KVRevision(), h + [op(2, "get", ["a"], g("a", "y", 7, 3, 2, 7), 10, 11)]) == "ok"
    assert verdict(KVRevision(), h + [op(2, "get", ["a"], g("a", "x", 3, 3, 1, 9), 10, 11)]) == "ok"
    two = [op(2, "get", ["a"], g("a", "y", 7, 3, 2, 7), 10, 11), op(2, "get", ["a"], g("a", "y", 8, 3, 2, 9), 12, 13)]
    assert verdict(KVRevision(), h + two) == "illegal"
    assert verdict(KVRevision(), h + two, tighten=False) == "illegal"
    # the unknown revision must be above the key's previous one
    assert verdict(KVRevision(), h + [op(2, "get", ["a"], g("a", "y", 3, 3, 2, 7), 10, 11)]) == "illegal"


def test_kv_revision_counts_integer_room_for_an_unknown_put():
    # x at 3, y indeterminate, z at 4 after y was called: y would need a revision strictly
    # between 3 and 4, so a version-3 read of z is impossible; with z at 5 it is fine.
    h = [
        op(0, "put", ["a", "x"], 3, 0, 1),
        op(1, "put", ["a", "y"], None, 2, 3, outcome="unknown"),
        op(0, "put", ["a", "z"], 4, 4, 5),
    ]
    assert verdict(KVRevision(), h + [op(2, "get", ["a"], g("a", "z", 4, 3, 3, 4), 10, 11)], tighten=False) == "illegal"
    h[2]["output"] = 5
    assert verdict(KVRevision(), h + [op(2, "get", ["a"], g("a", "z", 5, 3, 3, 5), 10, 11)], tighten=False) == "ok"


# ---- What the models promise the search's pruning (models.py: retired/observes/writes,
# watermark/expiry), checked along random walks of legal steps over small value domains.


def _pool(name):
    """(input, output) pairs as ``prepare`` makes them, legal or not in any given state."""
    if name == "register":
        vals = [None, 1, 2]
        return ([(("read",), v) for v in vals + [UNKNOWN]] + [(("write", v), None) for v in (1, 2)]
                + [(("cas", a, b), r) for a in vals for b in (1, 2) for r in (True, False, UNKNOWN)])
    if name == "kv":
        return ([(("get", k), v) for k in "ab" for v in (None, "1", "2", UNKNOWN)]
                + [(("put", k, v), None) for k in "ab" for v in ("1", "2")]
                + [(("delete", k), r) for k in "ab" for r in (0, 1, UNKNOWN)])
    if name == "counting-log":
        return [(("write",), None)] + [(("read",), n) for n in (0, 1, 2, 3, UNKNOWN)]
    revs = range(1, 6)
    gets = [(None, None, None, None, h) for h in (None, 2, 4)]
    gets += [(v, m, c, n, h) for v in ("1", "2") for m in revs for c in (1, 2, 3) if c <= m for n in (1, 2) for h in (None, m, 5)]
    return ([(("get", "a"), o) for o in gets + [UNKNOWN]]
            + [(("put", "a", v), r) for v in ("1", "2") for r in list(revs) + [UNKNOWN]]
            + [(("delete", "a"), (d, r)) for d in (0, 1) for r in revs] + [(("delete", "a"), UNKNOWN)])


@pytest.mark.parametrize("name", ["register", "kv", "counting-log", "kv-revision"])
def test_pruning_promises_hold_along_random_walks(name):
    model = {"register": Register, "kv": KV, "counting-log": CountingLog, "kv-revision": KVRevision}[name]()
    pool = _pool(name)
    # reads legal exactly where their fact holds: they tell whether a fact holds (KV, Register)
    probes = [(i, o) for i, o in pool if i[0] in ("read", "get") and o is not UNKNOWN and name in ("kv", "register")]
    rng = random.Random(7)
    for walk in range(300):
        state, gone = model.init(), set()  # gone: retired since, and not written again
        for _ in range(25):
            inp, out = rng.choice(pool)
            ok, new = model.step(state, inp, out)
            if not ok:
                continue
            trace = f"walk {walk}: {model.describe_state(state)} --{model.describe_operation(inp, out)}--> {model.describe_state(new)}"
            if model.watermark(state) is not None:
                assert model.watermark(new) >= model.watermark(state), trace
            retired = set(model.retired(state, new))
            for pi, po in probes:
                f = model.observes(pi, po)
                before, after = model.step(state, pi, po)[0], model.step(new, pi, po)[0]
                if before and not after:
                    assert f in retired, f"{trace}: {f!r} stopped holding but is not retired"
                if after and not before:
                    assert f == model.writes(inp, out), f"{trace}: {f!r} started holding, not written"
            gone.discard(model.writes(inp, out))
            gone |= retired
            state = new
            for pi, po in pool:
                f = model.observes(pi, po)
                if f is not None and f in gone:
                    assert not model.step(state, pi, po)[0], f"{trace}: {model.describe_operation(pi, po)} needs retired {f!r}"
                e = model.expiry(pi, po)
                if e is not None:
                    assert not (model.watermark(state) > e and model.step(state, pi, po)[0]), (
                        f"{trace}: {model.describe_operation(pi, po)} legal past its expiry {e}")


# ---- what the per-key models cannot judge


@pytest.mark.parametrize("model", [KV(), KVRevision()], ids=["KV", "KVRevision"])
def test_kv_models_refuse_leases_and_multi_key_operations(model):
    """An expiring lease deletes keys with no delete in the history, and a range spans keys the
    per-key partitions split: the models say so rather than misjudge the history."""
    put = op(1, "put", {"key": "a", "value": "1"}, {"revision": 2}, 0, 10)
    grant = op(2, "lease_grant", {"ID": 7, "TTL": 3}, {"ID": 7, "TTL": 3, "revision": 1}, 0, 10)
    with pytest.raises(HistoryError, match="no lease operations.*check_leases"):
        check(model, [put, grant], timeout=10)
    wide = op(3, "delete", {"key": "a", "range_end": "z"}, {"deleted": 1, "revision": 3}, 20, 30)
    with pytest.raises(HistoryError, match="a write to several keys"):
        check(model, [put, wide], timeout=10)
    scan = op(4, "get", {"key": "a", "range_end": "z"}, {"value": None, "revision": 3}, 20, 30)
    with pytest.raises(HistoryError, match="a read over several keys: leave it out"):
        check(model, [put, scan], timeout=10)
