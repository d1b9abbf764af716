"""Leases asked of a follower, on a real 3-member cluster: the lease clock runs on the leader
only, so a follower forwards keep-alives and time-to-live questions to it as node messages
over the peer transport (frame kind 8), and proposes revokes through Raft. A node-message
frame from an id that is not a member, or too large to be one, is refused. Every wait polls
with a deadline."""

import time

import pytest

from etcdlab.local import LocalCluster

from peer_wire import (KEEP_ALIVE, closed_by_server, dial_peer, hello, metric, node_message,
                       struct)

TTL = 3  # seconds: above the minimum TTL (1.5 election timeouts of 500 ms)
KEY = "leased"


@pytest.fixture(scope="module")
def three():
    with LocalCluster(n=3) as c:
        c.wait_leader()
        yield c


def roles(cluster) -> tuple[int, int, int]:
    """(leader, follower, other follower) as member indexes."""
    leader = cluster.wait_leader()
    followers = [i for i in range(3) if i != leader]
    return leader, followers[0], followers[1]


def grant(c, endpoint: str) -> int:
    return int(c.lease_grant(TTL, endpoint=endpoint)["ID"])


def time_to_live(c, endpoint: str, lease: int) -> dict:
    return c.lease_time_to_live(lease, keys=True, endpoint=endpoint)


def wait_gone(c, endpoint: str, within: float) -> float:
    """Seconds until the leased key is gone (read at `endpoint`); fails after `within`."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        if c.get(KEY, endpoint=endpoint).get("kvs") is None:
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"the leased key is still there after {within} s")


def test_a_lease_kept_alive_only_through_a_follower_outlives_its_ttl(three):
    """The follower forwards each keep-alive to the leader (whose clock expires leases): kept
    alive for three TTLs through the follower alone, the lease and its key stay; left alone,
    they go within a TTL and a little."""
    leader, follower, other = roles(three)
    c = three.client()
    try:
        fep = three.endpoint(follower)
        lease = grant(c, fep)
        c.put(KEY, "v", lease=lease, endpoint=fep)
        start = time.monotonic()
        while time.monotonic() - start < 3 * TTL:
            assert c.lease_keepalive(lease, endpoint=fep) == TTL, "renewed for a whole TTL"
            assert c.get(KEY, endpoint=three.endpoint(leader)).get("kvs"), \
                f"the key went {time.monotonic() - start:.1f} s in, while kept alive"
            time.sleep(TTL / 3)
        answer = time_to_live(c, fep, lease)
        assert 0 < int(answer["TTL"]) <= TTL and int(answer["grantedTTL"]) == TTL
        assert answer.get("keys") == [KEY.encode()]
        # The other follower answers the same question from the leader's clock too.
        assert 0 < int(time_to_live(c, three.endpoint(other), lease)["TTL"]) <= TTL
        gone_after = wait_gone(c, three.endpoint(other), TTL + 4)
        assert gone_after >= TTL - 1, f"expired {gone_after:.1f} s after its last keep-alive"
        assert int(time_to_live(c, fep, lease)["TTL"]) == -1
        assert c.lease_keepalive(lease, endpoint=fep) is None, "an expired lease is gone"
    finally:
        c.close()


def test_a_lease_revoked_through_a_follower_takes_its_key_at_once(three):
    leader, follower, other = roles(three)
    c = three.client()
    try:
        fep = three.endpoint(follower)
        lease = grant(c, fep)
        c.put(KEY, "v", lease=lease, endpoint=three.endpoint(other))
        assert int(time_to_live(c, fep, lease)["grantedTTL"]) == TTL
        c.lease_revoke(lease, endpoint=fep)
        assert c.get(KEY, endpoint=three.endpoint(leader)).get("kvs") is None, \
            "the revoke and the key's delete are one write"
        assert int(time_to_live(c, three.endpoint(other), lease)["TTL"]) == -1
    finally:
        c.close()


def test_node_message_frames_from_a_non_member_or_oversized_are_refused(three):
    """An outsider knowing the cluster token (id 0xdeadbeef) sends keep-alives for a lease to
    the leader's peer port: were they heard, the leader would renew the lease. They are not:
    each connection is dropped and counted, and the lease expires on time. A node-message
    frame claiming more than a hello's size before the hello is refused at once."""
    leader, follower, _ = roles(three)
    c = three.client()
    try:
        status = c.status(three.endpoint(leader))
        cluster, leader_id = int(status["header"]["cluster_id"]), three.member_id(leader)
        lease = grant(c, three.endpoint(leader))
        c.put(KEY, "v", lease=lease, endpoint=three.endpoint(leader))
        unknown = "etcdlab_network_peer_unknown_sender_dropped_total"
        bad = "etcdlab_network_peer_bad_frames_total"
        before = metric(three, leader, unknown)
        forged = 0
        start = time.monotonic()
        while c.get(KEY, endpoint=three.endpoint(follower)).get("kvs"):
            assert time.monotonic() - start < TTL + 4, "forged keep-alives kept the lease alive"
            s = dial_peer(three, three.peer_ports[leader])
            s.sendall(hello(cluster, three.token, 0xDEADBEEF, leader_id) +
                      node_message(0xDEADBEEF, leader_id, KEEP_ALIVE, 1, lease))
            assert closed_by_server(s, 5), "the forger's connection is dropped"
            s.close()
            forged += 1
            time.sleep(0.3)
        assert time.monotonic() - start >= TTL - 1
        assert metric(three, leader, unknown) >= before + forged
        with open(three.log_path(leader)) as f:
            assert "id deadbeef is not a member of the cluster" in f.read()

        bad_before = metric(three, leader, bad)
        s = dial_peer(three, three.peer_ports[leader])
        s.sendall(struct.pack("<II", 64 << 20, 0) + bytes([8]))  # kind 8, claiming 64 MiB
        assert closed_by_server(s, 2), "refused at the header, before any wait"
        s.close()
        assert metric(three, leader, bad) == bad_before + 1
        assert c.put("still", "serving", endpoint=three.endpoint(follower))
    finally:
        c.close()
