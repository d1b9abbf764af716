"""TLS defenses beyond the certificate chain (issue 19's review): etcd's --peer-cert-allowed-cn,
checked both ways as etcd 3.4 checks it, and TLS handshakes counted against
--max-client-connections, each with a deadline, so connections that never handshake cannot
starve the clients. Certificates are made at run time; every wait polls with a deadline."""

import pathlib
import socket
import time

from etcdlab.local import LocalCluster, TestPki

from peer_wire import metric

ALLOWED = "etcdlab-peer"


def wait_for_line(path: str, text: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if text in pathlib.Path(path).read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


def test_a_peer_whose_certificate_has_another_cn_is_refused_both_ways():
    """Every member runs with --peer-cert-allowed-cn etcdlab-peer; members 0 and 1 have peer
    certificates with that CN, member 2 one of the same CA with CN "intruder". etcd 3.4 (tried
    on this machine) refuses such a peer on both sides: the accepting member refuses its client
    certificate, and a member dialling it refuses its server certificate. So 0 and 1 form the
    cluster, member 2 hears nothing, and the leader's log names the CN it refused, once as the
    side that accepted and once as the side that dialled."""
    cluster = LocalCluster(n=3, tls=True, extra_args=["--peer-cert-allowed-cn", ALLOWED])
    cluster.pki = TestPki()  # (a CA of its own: these members' certificates are this test's)
    for i, cn in enumerate((ALLOWED, ALLOWED, "intruder")):
        cluster.pki.issue_member(cluster.names[i], cn)
    with cluster:
        leader = cluster.wait_leader()
        assert leader in (0, 1), "the member with the refused CN cannot lead"
        c = cluster.client([0, 1])
        assert c.wait(lambda: c.put("k", "v"), 15), "the two allowed members commit"
        c.close()
        refused = f'certificate CN "intruder" is not the allowed "{ALLOWED}" ' \
                  f'(--peer-cert-allowed-cn)'
        log = cluster.log_path(leader)
        assert wait_for_line(log, f"dropping the connection from 127.0.0.1: TLS handshake "
                                  f"refused: {refused}", 15), \
            "as the accepting side, the leader refuses member 2's client certificate"
        assert wait_for_line(log, f"TLS handshake with 127.0.0.1:{cluster.peer_ports[2]} "
                                  f"refused: {refused}", 15), \
            "as the dialling side, the leader refuses member 2's server certificate"
        lone = cluster.client([2], timeout=2.0)
        status = lone.status(cluster.endpoint(2))
        assert int(status.get("leader", 0)) == 0, "member 2 never learned of a leader"
        assert lone.get("k", serializable=True).get("kvs") is None, "nothing reached member 2"
        lone.close()


def test_a_member_without_the_allowed_cn_flag_is_still_refused_by_one_that_has_it():
    """The check is the flag-holder's alone: member 0 has --peer-cert-allowed-cn, member 1 does
    not and its CN is another. Member 0 refuses member 1 either way, so the pair has no
    quorum; member 0's log names the CN."""
    class OnlyMember0Checks(LocalCluster):
        def args(self, i, state=None):
            return super().args(i, state) + (["--peer-cert-allowed-cn", ALLOWED] if i == 0 else [])

    cluster = OnlyMember0Checks(n=2, tls=True)
    cluster.pki = TestPki()
    cluster.pki.issue_member(cluster.names[0], ALLOWED)
    cluster.pki.issue_member(cluster.names[1], "other")
    with cluster:
        log = cluster.log_path(0)
        assert wait_for_line(log, 'dropping the connection from 127.0.0.1: TLS handshake '
                                  'refused: certificate CN "other" is not the allowed', 15)
        assert wait_for_line(log, f"TLS handshake with 127.0.0.1:{cluster.peer_ports[1]} "
                                  f'refused: certificate CN "other" is not the allowed', 15)
        c = cluster.client([0, 1], timeout=1.0)
        for i in (0, 1):
            assert int(c.status(cluster.endpoint(i)).get("leader", 0)) == 0, \
                "no leader: the two cannot talk"
        c.close()


def test_handshakes_count_against_max_client_connections_and_each_has_a_deadline():
    """A slowloris opens more TCP connections to a TLS client port than --max-client-connections
    allows and never starts a handshake. Connections still in their handshake count against
    the limit: those past it are closed at once (and counted as refused) instead of holding a
    descriptor each; the others are closed by the handshake deadline (--client-read-timeout);
    then a real client is served again."""
    limit, deadline_ms, extra = 6, 3000, 5
    with LocalCluster(n=1, tls=True, extra_args=[
            "--max-client-connections", str(limit),
            "--client-read-timeout", str(deadline_ms)]) as cluster:
        cluster.wait_leader()
        refused_before = metric(cluster, 0, "etcdlab_network_client_connections_refused_total")
        start = time.monotonic()
        socks = [socket.create_connection(("127.0.0.1", cluster.client_ports[0]), timeout=5)
                 for _ in range(limit + extra)]
        for s in socks:
            s.setblocking(False)
        closed_at = {}
        limit_at = start + deadline_ms / 1000 + 15
        while len(closed_at) < len(socks):
            assert time.monotonic() < limit_at, \
                f"{len(socks) - len(closed_at)} connections still open past the deadline"
            for i, s in enumerate(socks):
                if i in closed_at:
                    continue
                try:
                    if s.recv(1) == b"":
                        closed_at[i] = time.monotonic() - start
                except BlockingIOError:
                    pass
                except OSError:
                    closed_at[i] = time.monotonic() - start
            time.sleep(0.05)
        for s in socks:
            s.close()
        early = sorted(t for t in closed_at.values() if t < deadline_ms / 2000)
        late = sorted(t for t in closed_at.values() if t >= deadline_ms / 2000)
        assert len(early) >= extra, \
            f"connections past the limit are refused at once (closed at {sorted(closed_at.values())})"
        assert late, "connections within the limit wait for their deadline"
        assert metric(cluster, 0, "etcdlab_network_client_connections_refused_total") >= \
            refused_before + extra
        assert wait_for_line(cluster.log_path(0), "tls: refused a client connection from "
                                                  "127.0.0.1", 5)
        c = cluster.client(timeout=2.0)
        assert c.wait(lambda: c.put("after", "slowloris"), 10), "a real client is served again"
        assert c.value("after") == b"slowloris"
        c.close()
