"""etcdlab.Client.txn and etcdlab.txn's builders against a real etcd 3.4 and against etcdlab:
every compare target with every result (true and false), ranges and prefixes, missing keys,
each op and its typed result, nested txns, the revision rules, etcd's errors, arguments refused
before sending; and a concurrent compare-and-swap history that checkers.check_txns accepts
(and refuses once a read in it is made stale)."""

import threading

import pytest

from etcdlab import EtcdError
from etcdlab import txn as t
from etcdlab.checkers import check_txns
from etcdlab.txn import DeleteResult, PutResult, RangeResult, TxnResult, recorded_txn

from txn_servers import SERVERS, start


@pytest.fixture(scope="module", params=SERVERS)
def member(request):
    cluster = start(request.param)
    yield cluster
    cluster.close()


@pytest.fixture
def c(member, request):
    """A client, and a clean prefix per test: keys are `<test name>/...`."""
    client = member.client()
    client.prefix = request.node.name.split("[")[0] + "/"
    client.delete(client.prefix, prefix=True)
    yield client
    client.close()


def k(c, name):
    return c.prefix + name


def test_every_target_and_result(c):
    """Each target compared with each result, once true and once false (values: bytewise;
    the others: numbers)."""
    a = k(c, "a")
    rev = c.put(a, "m")["header"]["revision"]
    c.put(a, "m")  # version 2, create rev, mod rev + 1
    lease = c.lease_grant(60)["ID"]
    c.put(k(c, "l"), "x", lease=lease)
    cases = [
        (t.value(a) == "m", True), (t.value(a) == "n", False),
        (t.value(a) != "n", True), (t.value(a) != "m", False),
        (t.value(a) < "n", True), (t.value(a) < "a", False),
        (t.value(a) > "a", True), (t.value(a) > "z", False),
        (t.version(a) == 2, True), (t.version(a) == 1, False),
        (t.version(a) != 1, True), (t.version(a) > 1, True), (t.version(a) < 2, False),
        (t.create(a) == rev, True), (t.create(a) != rev, False),
        (t.create(a) < rev + 1, True), (t.create(a) > rev, False),
        (t.mod(a) == rev + 1, True), (t.mod(a) > rev, True), (t.mod(a) < rev + 1, False),
        (t.mod(a) != rev + 1, False),
        (t.lease(k(c, "l")) == lease, True), (t.lease(a) == 0, True),
        (t.lease(k(c, "l")) != lease, False), (t.lease(k(c, "l")) > 0, True),
        (t.lease(a) < 0, False),
    ]
    wrong = [f"{cmp}: {not want}" for cmp, want in cases
             if c.txn(compare=[cmp]).succeeded != want]
    assert not wrong, wrong
    c.lease_revoke(lease)


def test_missing_keys_ranges_and_prefixes(c):
    """A missing key compares as zeros, except in a value compare (always false); with a
    range, every key must satisfy the compare; an empty range is a missing key."""
    x = k(c, "x")
    assert c.txn(compare=[t.create(x) == 0]).succeeded
    assert c.txn(compare=[t.version(x) < 1]).succeeded
    assert not c.txn(compare=[t.value(x) != ""]).succeeded
    assert not c.txn(compare=[t.value(x) == ""]).succeeded
    for i in range(3):
        c.put(k(c, f"r/{i}"), f"v{i}")
    assert c.txn(compare=[t.version(k(c, "r/"), prefix=True) == 1]).succeeded
    assert c.txn(compare=[t.value(k(c, "r/"), prefix=True) > "v"]).succeeded
    assert not c.txn(compare=[t.value(k(c, "r/"), prefix=True) == "v1"]).succeeded
    assert c.txn(compare=[t.value(k(c, "r/1"), k(c, "r/2")) == "v1"]).succeeded
    assert c.txn(compare=[t.create(k(c, "s/"), prefix=True) == 0]).succeeded
    assert not c.txn(compare=[t.value(k(c, "s/"), prefix=True) == ""]).succeeded
    assert c.txn().succeeded  # no compares: the success branch


def test_ops_and_their_typed_results(c):
    a, b = k(c, "a"), k(c, "b")
    before = c.put(a, "1")["header"]["revision"]
    r = c.txn(compare=[t.value(a) == "1"],
              success=[t.get(a), t.put(a, "2", prev_kv=True), t.get(a, keys_only=True),
                       t.put(b, "x"), t.delete(k(c, "none")),
                       t.txn([t.value(b) == "x"], [t.put(k(c, "never"), "")],
                             [t.get(c.prefix, prefix=True, count_only=True)])],
              failure=[t.get(a)])
    assert isinstance(r, TxnResult) and r.succeeded and r.revision == before + 1
    assert r.header["member_id"] and r.header["revision"] == r.revision
    got, put, keys, put_b, nothing, nested = r.responses
    # a read before the branch's first write shows the revision before the txn
    assert isinstance(got, RangeResult) and got.revision == before
    assert [kv.value for kv in got.kvs] == [b"1"] and got.count == 1 and not got.more
    assert isinstance(put, PutResult) and put.prev_kv.value == b"1"
    assert put.revision == before + 1
    assert keys.kvs[0].value == b"" and keys.kvs[0].version == 2  # sees its own write
    assert isinstance(put_b, PutResult) and put_b.prev_kv is None
    assert isinstance(nothing, DeleteResult) and nothing.deleted == 0
    # a nested txn's compares see the store as it was before the txn (etcd 3.4 decides every
    # branch first), not the outer branch's put of b; its ops do see the writes
    assert isinstance(nested, TxnResult) and not nested.succeeded and nested.revision == 0
    assert nested.header == {} and nested.responses[0].count == 2
    assert nested.responses[0].kvs == []
    # one revision for the whole txn: a and b share their mod revision
    assert c.get(a)["kvs"][0]["mod_revision"] == c.get(b)["kvs"][0]["mod_revision"] == r.revision

    d = c.txn(success=[t.delete(c.prefix, prefix=True, prev_kv=True)])
    assert d.responses[0].deleted == 2 and d.revision == r.revision + 1
    assert sorted(kv.key for kv in d.responses[0].prev_kvs) == [a.encode(), b.encode()]
    # the failure branch; a read-only txn leaves the revision alone
    f = c.txn(compare=[t.value(a) == "1"], success=[t.put(a, "3")],
              failure=[t.get(c.prefix, prefix=True)])
    assert not f.succeeded and f.revision == d.revision and f.responses[0].kvs == []
    assert f.to_record() == {"succeeded": False, "revision": d.revision,
                             "responses": [{"range": {"kvs": [], "count": 0, "more": False}}]}


def test_sorted_limited_ranges_and_create_filters(c):
    """What the lock recipe reads: the oldest key under a prefix, and the newest one below a
    create revision."""
    revs = [c.put(k(c, f"q/{name}"), name)["header"]["revision"] for name in "cab"]
    oldest = t.get(k(c, "q/"), prefix=True, sort_target="CREATE", sort_order="ASCEND", limit=1)
    newest_below = t.get(k(c, "q/"), prefix=True, sort_target="CREATE", sort_order="DESCEND",
                         limit=1, max_create_revision=revs[2] - 1)
    r = c.txn(success=[oldest, newest_below])
    assert [kv.value for kv in r.responses[0].kvs] == [b"c"] and r.responses[0].more
    assert [kv.value for kv in r.responses[1].kvs] == [b"a"] and r.responses[1].count == 3


def test_etcds_errors(c, member):
    a = k(c, "a")
    cases = [
        (dict(success=[t.put(a, "1"), t.put(a, "2")]),
         ("etcdserver: duplicate key given in txn request", 3, 400)),
        (dict(success=[t.delete(c.prefix, prefix=True), t.txn(success=[t.put(a, "1")])]),
         ("etcdserver: duplicate key given in txn request", 3, 400)),
        (dict(success=[t.put(k(c, f"n{i}"), "") for i in range(129)]),
         ("etcdserver: too many operations in txn request", 3, 400)),
        (dict(success=[t.get(a, revision=10**9)]),
         ("etcdserver: mvcc: required revision is a future revision", 11, 400)),
        (dict(success=[t.put(a, "1", lease=123456789)]),
         ("etcdserver: requested lease not found", 5, 404)),
    ]
    for body, want in cases:
        with pytest.raises(EtcdError) as e:
            c.txn(**body)
        assert (e.value.message, e.value.code, e.value.status) == want, body
        assert not e.value.indeterminate
    assert c.txn(compare=[t.version(a) == 0] * 128).succeeded  # 128 is allowed


@pytest.mark.parametrize("call, error, says", [
    (lambda: t.value("k") == 5, TypeError, "a value compare's operand is bytes or str, not int"),
    (lambda: t.mod("k") == "5", TypeError, "a mod compare's operand is an int, not '5'"),
    (lambda: t.version("k") == 2**63, ValueError, "must be in [-2**63, 2**63)"),
    (lambda: t.lease("k") == True, TypeError, "a lease compare's operand (a lease id) is an int"),
    (lambda: t.mod("k") <= 5, TypeError, "no <="),
    (lambda: t.mod("k") >= 5, TypeError, "no >="),
    (lambda: t.value(5), TypeError, "a key is bytes or str, not int"),
    (lambda: t.value("k", "z", prefix=True), ValueError, "range_end or prefix=True, not both"),
    (lambda: bool(t.value("k") == "v"), TypeError, "a condition the server evaluates"),
    (lambda: t.get("k", sort_order="UP"), ValueError, "sort_order is one of NONE, ASCEND"),
    (lambda: t.get("k", limit="1"), TypeError, "limit is an int"),
    (lambda: t.put("k", 5), TypeError, "a value is bytes or str"),
    (lambda: t.put("k", "v", prev_kv=1), TypeError, "prev_kv is a bool"),
    (lambda: t.txn(compare=t.value("k") == "v"), TypeError, "compare is a list of Compares"),
    (lambda: t.txn(success=[{"request_put": {}}]), TypeError, "not a Op (build one with get"),
    (lambda: t.txn(compare=[t.put("k", "v")]), TypeError, "(build one with value(k) == v"),
])
def test_bad_arguments_are_refused_before_sending(call, error, says):
    with pytest.raises(error) as e:
        call()
    assert says in str(e.value)


def test_a_concurrent_compare_and_swap_history_passes_check_txns(c):
    """Four clients increment three counters by compare-and-swap txns and read them all in
    read-only txns; the recorded history is strictly serializable by check_txns. The same
    history with one read made stale is refused."""
    keys = [k(c, f"n{i}") for i in range(3)]
    setup = recorded_txn(c, "setup", [], [t.put(key, "0") for key in keys])
    setup.id = 0
    start_rev = setup.output["revision"] - 1  # the prefix is empty there
    history, lock = [setup], threading.Lock()

    def worker(w: int) -> None:
        client = c.__class__(c.endpoints)
        for i in range(15):
            key = keys[(w + i) % 3]
            if i % 3 == 2:
                op = recorded_txn(client, w, [], [t.get(c.prefix, prefix=True)])
            else:
                kv = client.get(key)["kvs"][0]
                new = f"{int(kv['value'].split(b'-')[0]) + 1}-c{w}-{i}"
                op = recorded_txn(client, w, [t.mod(key) == kv["mod_revision"]],
                                  [t.put(key, new)], [t.get(key)])
            with lock:
                op.id = len(history)
                history.append(op)
        client.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(op.ok for op in history)
    r = check_txns(history, initial_revision=start_rev)
    assert r.verdict == "ok", r.explain()
    wins = sum(1 for op in history[1:] if op.input["success"][0].get("put") and
               op.output["succeeded"])
    assert c.txn(success=[t.get(c.prefix, prefix=True)]).revision == start_rev + 1 + wins

    reads = [op for op in history if op.input["success"][0].get("range")]
    stale = reads[-1].output["responses"][0]["range"]["kvs"][0]
    stale["value"] = "never written"
    r = check_txns(history, initial_revision=start_rev)
    assert r.verdict == "illegal" and r.first.kind == "stale-read", r.explain()
