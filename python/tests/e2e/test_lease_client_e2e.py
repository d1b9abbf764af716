"""etcdlab.Client's lease calls and etcdlab.LeaseKeepalive against real members. Single-member
clusters, and the leader of three (what a follower forwards to the leader is
test_lease_forwarding_e2e.py's). Waits poll with deadlines."""

import time

import pytest

from etcdlab import EtcdError, LeaseKeepalive, LocalCluster


def wait_for(predicate, timeout_s=10.0, every_s=0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    return predicate()


def test_grant_attach_time_to_live_list_revoke(single):
    """The round trip: keys attached by puts, detached by a put without the lease, and a revoke
    that deletes the lease's keys at one revision."""
    c = single.client()
    granted = c.lease_grant(ttl_s=60)
    lease = granted["ID"]
    assert granted["TTL"] == 60 and lease > 0
    c.put("a", "1", lease=lease)
    c.put("b", "2", lease=lease)
    c.put("c", "3", lease=lease)
    c.put("c", "4")  # detached
    ttl = c.lease_time_to_live(lease, keys=True)
    assert ttl["grantedTTL"] == 60 and 58 <= ttl["TTL"] <= 60
    assert sorted(ttl["keys"]) == [b"a", b"b"]
    assert "keys" not in c.lease_time_to_live(lease)
    assert c.get("a")["kvs"][0]["lease"] == lease
    assert lease in c.leases()
    assert c.lease_keepalive(lease) == 60
    before = c.get("c")["header"]["revision"]
    after = c.lease_revoke(lease)["header"]["revision"]
    assert after == before + 1, "a revoke deletes every key of its lease at one revision"
    assert c.value("a") is None and c.value("b") is None and c.value("c") == b"4"
    assert c.lease_time_to_live(lease) == {"header": c.lease_time_to_live(lease)["header"],
                                           "ID": lease, "TTL": -1}
    assert c.lease_keepalive(lease) is None
    assert lease not in c.leases()
    c.close()


def test_errors_are_etcds(single):
    c = single.client()
    assert c.lease_grant(ttl_s=0, lease_id=77)["TTL"] >= 1  # raised to the minimum
    assert c.lease_grant(ttl_s=30, lease_id=-7)["ID"] == -7  # any client id, even negative
    with pytest.raises(EtcdError) as e:
        c.lease_grant(ttl_s=30, lease_id=77)
    assert (e.value.message, e.value.code, e.value.status) == (
        "etcdserver: lease already exists", 9, 412)
    with pytest.raises(EtcdError) as e:
        c.lease_grant(ttl_s=9_000_000_001)
    assert (e.value.message, e.value.status) == ("etcdserver: too large lease TTL", 400)
    with pytest.raises(EtcdError) as e:
        c.lease_revoke(12345)
    assert (e.value.message, e.value.code, e.value.status) == (
        "etcdserver: requested lease not found", 5, 404)
    with pytest.raises(EtcdError) as e:
        c.put("k", "v", lease=12345)
    assert e.value.status == 404
    assert c.lease_time_to_live(12345)["TTL"] == -1
    c.close()


@pytest.mark.parametrize("call, error, says", [
    (lambda c: c.lease_grant("10"), TypeError, "ttl_s (seconds) is an int, not '10'"),
    (lambda c: c.lease_grant(True), TypeError, "ttl_s (seconds) is an int, not True"),
    (lambda c: c.lease_grant(1.5), TypeError, "ttl_s (seconds) is an int, not 1.5"),
    (lambda c: c.lease_grant(-1), ValueError, "ttl_s (seconds) must be in [0, 2**63), not -1"),
    (lambda c: c.lease_grant(10, lease_id=2**63), ValueError, "lease_id must be in [-2**63"),
    (lambda c: c.lease_grant(10, lease_id="7"), TypeError, "lease_id is an int"),
    (lambda c: c.lease_revoke(None), TypeError, "a lease id is an int, not None"),
    (lambda c: c.lease_revoke(-2**63 - 1), ValueError, "a lease id must be in [-2**63, 2**63)"),
    (lambda c: c.lease_keepalive(8.0), TypeError, "a lease id is an int, not 8.0"),
    (lambda c: c.lease_time_to_live(1, keys="yes"), TypeError, "keys is a bool, not 'yes'"),
    (lambda c: c.put("k", "v", lease="abc"), TypeError, "lease is an int, not 'abc'"),
    (lambda c: c.put("k", "v", lease=2**64), ValueError, "lease must be in [-2**63, 2**63)"),
    (lambda c: LeaseKeepalive(c, "1"), TypeError, "lease_id is an int, not '1'"),
    (lambda c: LeaseKeepalive("not a client", 1), TypeError, "client is an etcdlab.Client"),
    (lambda c: LeaseKeepalive(c, 1, on_lost=5), TypeError, "on_lost is a function"),
])
def test_bad_arguments_are_refused_before_sending(call, error, says):
    """Nothing listens at this endpoint: a bad argument must fail before any request."""
    from etcdlab import Client
    c = Client(["127.0.0.1:1"], timeout=0.5)
    with pytest.raises(error) as e:
        call(c)
    assert says in str(e.value)


def test_a_lease_kept_alive_outlives_its_ttl_and_expires_once_closed(single):
    c = single.client()
    lease = c.lease_grant(ttl_s=1)["ID"]  # the minimum with a 500 ms election timeout
    c.put("svc", "up", lease=lease)
    start = time.monotonic()
    with LeaseKeepalive(c, lease) as keeper:
        # three TTLs at a keep-alive every third of one: about nine rounds
        assert wait_for(lambda: time.monotonic() - start > 3 and keeper.rounds >= 6, 10)
        assert not keeper.lost and keeper.ttl_s == 1
        assert c.value("svc") == b"up", "a lease kept alive never expires"
    assert "closed" in repr(keeper)
    assert wait_for(lambda: c.value("svc") is None, 10), "closed: the lease expires"
    assert c.lease_time_to_live(lease)["TTL"] == -1
    c.close()


def test_the_keeper_reports_a_revoked_lease(single):
    c = single.client()
    lease = c.lease_grant(ttl_s=3)["ID"]
    seen = []
    with LeaseKeepalive(c, lease, on_lost=seen.append) as keeper:
        assert wait_for(lambda: keeper.rounds >= 1)
        c.lease_revoke(lease)
        assert keeper.wait_lost(timeout_s=5)
        assert keeper.lost and "expired or was revoked" in keeper.lost_reason
        assert seen == [keeper.lost_reason]
    with LeaseKeepalive(c, 424242) as unknown:  # never existed
        assert unknown.wait_lost(timeout_s=5) and unknown.rounds == 0
    c.close()


def test_the_keeper_reports_a_lease_it_cannot_reach():
    """No member: no answer within the first-answer timeout (client timeout + 1 s)."""
    from etcdlab import Client
    c = Client(["127.0.0.1:1"], timeout=0.2)
    with LeaseKeepalive(c, 5) as keeper:
        assert keeper.wait_lost(timeout_s=5)
        assert "no keep-alive answer for 1.2 s" in keeper.lost_reason


def test_revoke_on_the_leader_of_three_deletes_the_keys_on_every_member():
    with LocalCluster(n=3) as cluster:
        leader = cluster.wait_leader()
        c = cluster.client(members=[leader])
        lease = c.lease_grant(ttl_s=60)["ID"]
        c.put("r1", "v", lease=lease)
        c.put("r2", "v", lease=lease)
        members = [cluster.client(members=[i]) for i in range(3)]

        def keys(m):
            return m.get("r", prefix=True, serializable=True).get("count", 0)
        assert all(wait_for(lambda m=m: keys(m) == 2) for m in members)
        assert c.lease_time_to_live(lease)["grantedTTL"] == 60
        assert c.lease_keepalive(lease) == 60
        revision = c.lease_revoke(lease)["header"]["revision"]
        for m in members:
            assert wait_for(lambda m=m: keys(m) == 0), "every member applies the revoke"
            assert m.get("r1", revision=revision - 1, serializable=True)["count"] == 1, \
                "the keys lived until the revoke's revision, and went at that one"
            m.close()
        c.close()
