"""check_txns (the revision-witness checker extended to txns and ranges) on hand-made histories:
one it accepts, and one per rule it must refuse, each named by the fault it models (a txn
applied at two revisions, a stale read, a multi-key txn split, a wrong compare result, a wrong
delete count, a lost indeterminate txn...)."""

from source_checkers import use_source_checkers

use_source_checkers()

import pytest  # noqa: E402

from etcdlab.checkers import HistoryError, check_revisions, check_txns  # noqa: E402

_ids = iter(range(1, 10**9))


# ---- records, in etcdlab.txn's to_record() shape
def c(key, target, result, operand):
    field = {"VALUE": "value", "VERSION": "version", "CREATE": "create_revision",
             "MOD": "mod_revision", "LEASE": "lease"}[target]
    return {"key": key, "target": target, "result": result, field: operand}


def P(key, value, **kw):
    return {"put": dict(key=key, value=value, **kw)}


def G(key, range_end=None, **opts):
    d = dict(key=key, **opts)
    if range_end is not None:
        d["range_end"] = range_end
    return {"range": d}


def D(key, range_end=None, **kw):
    d = dict(key=key, **kw)
    if range_end is not None:
        d["range_end"] = range_end
    return {"delete": d}


def T(compare=(), success=(), failure=()):
    return {"txn": {"compare": list(compare), "success": list(success), "failure": list(failure)}}


def kv(key, value, create, mod, version, lease=0):
    return {"key": key, "value": value, "create_revision": create, "mod_revision": mod,
            "version": version, "lease": lease}


def rr(*kvs, count=None, more=False):
    return {"range": {"kvs": list(kvs), "count": len(kvs) if count is None else count,
                      "more": more}}


def rp(prev=None):
    return {"put": {} if prev is None else {"prev_kv": prev}}


def rd(n, prevs=None):
    return {"delete": {"deleted": n} if prevs is None else {"deleted": n, "prev_kvs": prevs}}


def rt(succeeded, *responses):
    return {"txn": {"succeeded": succeeded, "responses": list(responses)}}


def txn(client, call, ret, compare, success, failure, succeeded, rev, responses,
        outcome="ok"):
    return {"id": next(_ids), "client": client, "kind": "txn", "call": call, "ret": ret,
            "input": {"compare": list(compare), "success": list(success),
                      "failure": list(failure)},
            "output": None if outcome != "ok" else
            {"succeeded": succeeded, "revision": rev, "responses": list(responses)},
            "outcome": outcome}


def good():
    """Two clients: a create-if-absent, a compare-and-swap, a two-key txn, a read-only txn with
    a sorted limited range, a nested txn, a range delete, a failed compare, plain put/get."""
    return [
        # rev 2: a = a1 if a is absent
        txn(0, 0, 2, [c("a", "CREATE", "EQUAL", 0)], [P("a", "a1")], [G("a")], True, 2, [rp()]),
        # rev 3: b and c at ONE revision
        txn(1, 1, 3, [], [P("b", "b1"), P("c", "c1")], [], True, 3, [rp(), rp()]),
        # read-only: the newest key by create revision (b and c tie at 3: either is right)
        txn(0, 4, 5, [], [G("a", "z", sort_order="DESCEND", sort_target="CREATE", limit=1)], [],
            True, 3, [rr(kv("c", "c1", 3, 3, 1), count=3, more=True)]),
        # rev 4: CAS on a's mod revision, reading its own write and the old value
        txn(1, 6, 8, [c("a", "MOD", "EQUAL", 2)], [P("a", "a2", prev_kv=True), G("a")],
            [G("a")], True, 4, [rp(kv("a", "a1", 2, 2, 1)), rr(kv("a", "a2", 2, 4, 2))]),
        # the same CAS again fails: the failure branch reads
        txn(0, 9, 10, [c("a", "MOD", "EQUAL", 2)], [P("a", "a3")], [G("a")], False, 4,
            [rr(kv("a", "a2", 2, 4, 2))]),
        # rev 5: nested: if b = b1 then (if version(c) > 1 ... else delete [b, d))
        txn(1, 11, 12, [c("b", "VALUE", "EQUAL", "b1")],
            [T([c("c", "VERSION", "GREATER", 1)], [P("c", "c2")], [D("b", "d", prev_kv=True)])],
            [], True, 5,
            [rt(False, rd(2, [kv("b", "b1", 3, 3, 1), kv("c", "c1", 3, 3, 1)]))]),
        # a value compare on a missing key is false, even != ""
        txn(0, 13, 14, [c("b", "VALUE", "NOT_EQUAL", "")], [P("x", "x1")], [G("b")], False, 5,
            [rr()]),
        {"id": next(_ids), "client": 0, "kind": "put", "input": {"key": "b", "value": "b2"},
         "output": {"revision": 6}, "call": 15, "ret": 16},
        {"id": next(_ids), "client": 1, "kind": "get", "input": {"key": "a", "range_end": "c"},
         "output": {"kvs": [kv("a", "a2", 2, 4, 2), kv("b", "b2", 6, 6, 1)], "count": 2,
                    "revision": 6}, "call": 17, "ret": 18},
    ]


def test_a_good_txn_history_is_ok():
    r = check_txns(good())
    assert r.verdict == "ok", r.explain()
    assert r.info["max_revision"] == 6 and r.info["gaps"] == []


def test_check_revisions_hands_txn_histories_over():
    assert check_revisions(good()).verdict == "ok"
    h = good()
    h[2]["output"]["responses"][0]["range"]["kvs"][0]["value"] = "c0"
    assert check_revisions(h).first.kind == "stale-read"


def test_a_txn_applied_at_two_revisions():
    """The server applied the CAS twice (a retried proposal): a read sees its value with a
    revision that no operation made, while the CAS itself reported another."""
    h = good()[:4] + [
        txn(0, 20, 21, [], [G("a")], [], True, 5, [rr(kv("a", "a2", 2, 5, 3))]),
    ]
    r = check_txns(h)
    assert r.verdict == "illegal"
    assert r.first.kind == "applied-twice", r.explain()
    assert "applied at two revisions" in r.first.message
    assert "revision 5" in r.first.message and "revision 4" in r.first.message


def test_a_stale_read_in_a_read_only_txn():
    """Served from a member behind the leader: a linearizable read at header 4 that still
    sees a1 (the value before the CAS at 4)."""
    h = good()[:4] + [
        txn(0, 9, 10, [], [G("a")], [], True, 4, [rr(kv("a", "a1", 2, 2, 1))]),
    ]
    r = check_txns(h)
    assert r.verdict == "illegal" and r.first.kind == "stale-read", r.explain()
    assert "b'a'=b'a1'(c2 m2 v1) where the replay has b'a'=b'a2'(c2 m4 v2)" in r.first.message


def test_a_stale_read_that_keeps_its_revision_is_caught_by_real_time():
    """The same stale value with its old header revision: consistent with the replay, but
    the read was called after the CAS returned with revision 4."""
    h = good()[:4] + [
        txn(0, 9, 10, [], [G("a")], [], True, 3, [rr(kv("a", "a1", 2, 2, 1))]),
    ]
    r = check_txns(h)
    assert r.verdict == "illegal" and r.first.kind == "real-time", r.explain()


def test_a_split_two_key_txn():
    """b and c are written at one revision: a read at that revision sees both or neither."""
    h = good()[:2] + [
        txn(0, 4, 5, [], [G("b", "d")], [], True, 3, [rr(kv("b", "b1", 3, 3, 1))]),
    ]
    r = check_txns(h)
    assert r.verdict == "illegal" and r.first.kind == "stale-read", r.explain()
    assert "count 1 where the replay has 2" in r.first.message


def test_a_compare_answered_wrongly():
    """The CAS's compare holds at its revision (a's mod is 2) but a broken server took the
    failure branch and reported it."""
    h = good()[:3] + [
        txn(1, 6, 8, [c("a", "MOD", "EQUAL", 2)], [G("b")], [G("a")], False, 3,
            [rr(kv("a", "a1", 2, 2, 1))]),
    ]
    r = check_txns(h)
    assert r.verdict == "illegal" and r.first.kind == "stale-read", r.explain()
    assert "the compares failed where in the replay they hold" in r.first.message


def test_a_value_compare_on_a_missing_key_that_held():
    h = [txn(0, 0, 1, [c("nokey", "VALUE", "NOT_EQUAL", "")], [P("x", "1")], [], True, 2,
             [rp()])]
    r = check_txns(h)
    assert r.verdict == "illegal" and r.first.kind == "bad-write", r.explain()


def test_a_wrong_delete_count():
    h = good()[:5] + [
        txn(1, 11, 12, [], [D("a", "z")], [], True, 5, [rd(2)]),
    ]
    r = check_txns(h)
    assert r.verdict == "illegal" and r.first.kind == "bad-write", r.explain()
    assert "deleted 2 key(s) where the replay deletes 3" in r.first.message


def test_a_lost_write_txn():
    """A txn acknowledged at revision 3, then a read at 4 that does not see it."""
    h = [
        txn(0, 0, 1, [], [P("a", "1")], [], True, 2, [rp()]),
        txn(1, 2, 3, [], [P("b", "1")], [], True, 3, [rp()]),
        txn(0, 4, 5, [], [P("c", "1")], [], True, 4, [rp()]),
        txn(1, 6, 7, [], [G("a", "z")], [], True, 4,
            [rr(kv("a", "1", 2, 2, 1), kv("c", "1", 4, 4, 1))]),
    ]
    r = check_txns(h)
    assert r.verdict == "illegal" and r.first.kind == "stale-read"


def test_an_indeterminate_txn_fills_the_revision_a_read_saw():
    h = [
        txn(0, 0, 1, [], [P("a", "1")], [], True, 2, [rp()]),
        txn(1, 2, None, [c("a", "VALUE", "EQUAL", "1")], [P("a", "2")], [], None, None, [],
            outcome="unknown"),
        txn(2, 5, 6, [], [G("a")], [], True, 3, [rr(kv("a", "2", 2, 3, 2))]),
    ]
    r = check_txns(h)
    assert r.verdict == "ok", r.explain()
    assert r.info["assigned"] == {3: h[1]["id"]}


def test_an_indeterminate_txn_whose_compare_fails_there_cannot_fill_a_gap():
    """Revision 3 is a gap, and the only indeterminate txn would take its (read-only)
    failure branch there: nothing made revision 3."""
    h = [
        txn(0, 0, 1, [], [P("a", "1")], [], True, 2, [rp()]),
        txn(1, 2, None, [c("a", "VALUE", "EQUAL", "0")], [P("b", "2")], [G("a")], None, None,
            [], outcome="unknown"),
        txn(2, 5, 6, [], [P("c", "1")], [], True, 4, [rp()]),
    ]
    r = check_txns(h)
    assert r.verdict == "illegal", r.explain()
    assert r.first.kind == "lost-revision"
    assert "writes nothing" in r.first.message


def test_the_committed_log_fills_gaps_exactly():
    """Two indeterminate txns could each have made revision 3 as far as reads tell (nobody
    read it); the committed log says which one did, and refuses a log no operation matches."""
    h = [
        txn(0, 0, 1, [], [P("a", "1")], [], True, 2, [rp()]),
        txn(1, 2, None, [], [P("b", "x")], [], None, None, [], outcome="unknown"),
        txn(2, 2, None, [], [P("b", "y")], [], None, None, [], outcome="unknown"),
        txn(3, 5, 6, [], [P("c", "1")], [], True, 4, [rp()]),
    ]
    log = [{"type": "PUT", "kv": {"key": "a", "value": "1", "mod_revision": 2}},
           {"type": "PUT", "kv": {"key": "b", "value": "y", "mod_revision": 3}},
           {"type": "PUT", "kv": {"key": "c", "value": "1", "mod_revision": 4}}]
    r = check_txns(h, committed=log)
    assert r.verdict == "ok" and r.info["assigned"] == {3: h[2]["id"]}, r.explain()
    log[1]["kv"]["value"] = "z"
    r = check_txns(h, committed=log)
    assert r.first.kind == "lost-revision"
    assert "the committed log holds put b'b'=b'z' there" in r.first.message
    log[1]["kv"]["value"], log[2]["kv"]["value"] = "y", "2"
    r = check_txns(h, committed=log)
    assert r.first.kind == "bad-write"  # acknowledged c=1, committed c=2
    assert "does put b'c'=b'1', but the committed log holds put b'c'=b'2'" in r.first.message


def test_an_indeterminate_read_only_txn_is_dropped():
    h = good() + [txn(3, 30, None, [], [G("a")], [], None, None, [], outcome="unknown")]
    assert check_txns(h).verdict == "ok"


def test_a_serializable_read_may_be_stale_but_not_wrong():
    h = good()[:4] + [
        {"id": next(_ids), "client": 3, "kind": "get", "input": {"key": "a", "serializable": True},
         "output": {"kvs": [kv("a", "a1", 2, 2, 1)], "count": 1, "revision": 3},
         "call": 9, "ret": 10},
    ]
    assert check_txns(h).verdict == "ok"
    h[-1]["output"]["kvs"][0]["value"] = "zz"
    assert check_txns(h).first.kind == "stale-read"


def test_a_get_of_a_past_revision_is_judged_there():
    h = good()[:4] + [
        {"id": next(_ids), "client": 3, "kind": "get", "input": {"key": "a", "revision": 2},
         "output": {"kvs": [kv("a", "a1", 2, 2, 1)], "count": 1, "revision": 4},
         "call": 9, "ret": 10},
    ]
    assert check_txns(h).verdict == "ok"
    h[-1]["input"]["revision"] = 4
    assert check_txns(h).first.kind == "stale-read"


def test_ties_in_the_sort_target_may_come_in_any_order_but_not_anything():
    h = good()
    h[2]["output"]["responses"][0]["range"]["kvs"] = [kv("b", "b1", 3, 3, 1)]
    assert check_txns(h).verdict == "ok"
    h[2]["output"]["responses"][0]["range"]["kvs"] = [kv("a", "a1", 2, 2, 1)]
    assert check_txns(h).first.kind == "stale-read"


def test_nested_compares_see_the_store_before_the_txn():
    """etcd 3.4 decides every branch before running any: the nested compare finds n absent
    (version 0) although the outer branch put it first; its range sees the put."""
    ok = txn(0, 0, 1, [], [P("n", "1"), T([c("n", "VERSION", "EQUAL", 0)], [G("n")])], [], True,
             2, [rp(), rt(True, rr(kv("n", "1", 2, 2, 1)))])
    assert check_txns([ok]).verdict == "ok"
    seen_write = txn(0, 0, 1, [], [P("n", "1"), T([c("n", "VERSION", "EQUAL", 0)], [G("n")])],
                     [], True, 2, [rp(), rt(False)])
    assert check_txns([seen_write]).first.kind == "bad-write"


def test_histories_it_cannot_judge_say_why():
    with pytest.raises(HistoryError, match="past revision inside a txn"):
        check_txns([txn(0, 0, 1, [], [G("a", revision=2)], [], True, 2, [rr()])])
    with pytest.raises(HistoryError, match="header revision"):
        check_txns([{"id": 1, "client": 0, "kind": "txn", "call": 0, "ret": 1,
                     "input": {"compare": [], "success": [], "failure": []},
                     "output": {"succeeded": True, "responses": []}}])
    with pytest.raises(HistoryError, match="one of range, put, delete, txn"):
        check_txns([txn(0, 0, 1, [], [{"lock": {"key": "a"}}], [], True, 2, [rp()])])
