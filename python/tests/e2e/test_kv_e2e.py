"""A real 3-member cluster: KV through every member, linearizable reads across members, a
leader killed with SIGKILL under load, a restarted member catching up."""

import threading
import time

from etcdlab import checkers
from etcdlab.client import EtcdError, recorded_put


def test_kv_through_every_member(cluster):
    for i in range(3):
        c = cluster.client([i])
        c.put(f"k{i}", f"v{i}")
    for i in range(3):
        c = cluster.client([i])
        for j in range(3):
            assert c.value(f"k{j}") == f"v{j}".encode(), f"member {i} reads k{j}"
    c = cluster.client()
    got = c.get("k", prefix=True)
    assert [kv["key"] for kv in got["kvs"]] == [b"k0", b"k1", b"k2"]
    assert got["count"] == 3
    d = c.delete("k", prefix=True, prev_kv=True)
    assert d["deleted"] == 3 and len(d["prev_kvs"]) == 3
    assert c.get("k", prefix=True).get("kvs") is None


def test_write_on_one_member_is_read_linearizably_on_another(cluster):
    for n in range(20):
        w = cluster.client([n % 3])
        r = cluster.client([(n + 1) % 3])
        rev = w.put("lin", str(n))["header"]["revision"]
        got = r.get("lin")
        assert got["kvs"][0]["value"] == str(n).encode(), "a linearizable read sees the write"
        assert got["header"]["revision"] >= rev


def test_revisions_and_history(cluster):
    c = cluster.client()
    r1 = c.put("h", "a")["header"]["revision"]
    r2 = c.put("h", "b")["header"]["revision"]
    assert r2 == r1 + 1
    assert c.get("h", revision=r1)["kvs"][0]["value"] == b"a"
    c.compact(r2, physical=True)
    try:
        c.get("h", revision=r1)
        raise AssertionError("a compacted revision must fail")
    except EtcdError as e:
        assert e.message == "etcdserver: mvcc: required revision has been compacted"
        assert e.status == 400 and e.code == 11


def _writer(client, name, stop, history, lock):
    """Puts until stopped. A put that may or may not have been applied is recorded as unknown
    and never returns, so the writer goes on under a new client id (as a Jepsen process
    does after an indeterminate operation); one that surely failed is recorded as failed."""
    n, incarnation, who = 0, 0, name
    while not stop.is_set():
        op = recorded_put(client, who, f"load/{n % 10}", f"{name}-{n}")
        with lock:
            history.append(op)
        if op.outcome == "unknown":
            incarnation += 1
            who = f"{name}.{incarnation}"
        n += 1


def test_kill_the_leader_under_load_loses_no_acknowledged_write(cluster):
    history, lock, stop = [], threading.Lock(), threading.Event()
    clients = [cluster.client(timeout=3) for _ in range(4)]
    threads = [threading.Thread(target=_writer, args=(clients[i], f"c{i}", stop, history, lock))
               for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    old = cluster.wait_leader()
    cluster.kill(old)
    deadline = time.monotonic() + 15
    new = None
    while time.monotonic() < deadline:
        new = cluster.leader()
        if new is not None and new != old:
            break
        time.sleep(0.05)
    assert new is not None and new != old, "the survivors elect a new leader"
    time.sleep(1.0)
    cluster.start_member(old)
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    acked = [op for op in history if op.outcome == "ok"]
    assert len(acked) > 20, "writes went through before and after the kill"
    reader = cluster.client()
    # Every acknowledged write is in the store's history at its revision.
    for op in acked:
        key, value = op.input["key"], op.input["value"]
        got = reader.get(key, revision=op.output["revision"])
        assert got["kvs"][0]["value"] == value.encode(), f"acknowledged {op} is missing"
    # Every member converges to the same state.
    cluster.wait_healthy(old)
    rev = reader.get("load/", prefix=True)["header"]["revision"]
    hashes = set()
    for i in range(3):
        ci = cluster.client([i])
        assert ci.wait(lambda: ci.get("load/", prefix=True, serializable=True)["header"]["revision"] >= rev, 15)
        hashes.add(ci.hash(cluster.endpoint(i)))
    assert len(hashes) == 1, "every member's hash is equal at the end"
    # The history of puts with their revisions is linearizable (revisions witness the order).
    result = checkers.check_revisions(history)
    assert result.verdict == "ok", result.explain()


def test_a_restarted_member_catches_up(cluster):
    c = cluster.client()
    victim = (cluster.wait_leader() + 1) % 3
    cluster.stop(victim)
    for n in range(50):
        c.put(f"catch/{n}", str(n))
    cluster.start_member(victim)
    cluster.wait_healthy(victim)
    v = cluster.client([victim])
    assert v.wait(lambda: v.get("catch/", prefix=True, serializable=True).get("count") == 50, 15)
