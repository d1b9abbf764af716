"""Issue 23's defects, each tried on a real member the way an outside probe found it: a forged
peer frame from an id that is not a member, a frame header that claims 64 MiB, idle peer
connections, and a member run out of file descriptors. Each test polls with deadlines."""

import os
import re
import socket
import stat
import tempfile
import time

import pytest

from etcdlab.local import LocalCluster, find_binary

from peer_wire import append, closed_by_server, dial_peer, hello, metric, struct


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def peer_port(member, i: int = 0) -> int:
    return member.peer_ports[i]


@pytest.fixture(scope="module")
def member():
    with LocalCluster(n=1) as c:
        c.wait_leader()
        c.client().put("keep", "me")
        yield c


def still_serving(member):
    c = member.client()
    try:
        assert c.value("keep") == b"me", "nothing was lost and the member still answers"
    finally:
        c.close()


def test_a_forged_append_from_an_id_that_is_not_a_member_is_dropped_and_counted(member):
    """Defect 1: knowing the cluster token, an outsider (id 0xdeadbeef) sent an append with a
    higher term; the member followed it ("leader is now deadbeef") and committed its entry."""
    c = member.client()
    status = c.status(member.endpoint(0))
    c.close()
    cluster, me, term = (int(status["header"]["cluster_id"]), member.member_id(0),
                         int(status["raftTerm"]))
    before = metric(member, 0, "etcdlab_network_peer_unknown_sender_dropped_total")
    s = dial_peer(member, peer_port(member))
    s.sendall(hello(cluster, member.token, 0xDEADBEEF, me) +
              append(0xDEADBEEF, me, term + 1000, 0, 0, 100,
                     [(1, term + 1000, b"forged entry")]))
    assert closed_by_server(s, 5), "the forger's connection is dropped"
    s.close()
    assert metric(member, 0, "etcdlab_network_peer_unknown_sender_dropped_total") == before + 1
    c = member.client()
    after = c.status(member.endpoint(0))
    c.close()
    assert int(after["raftTerm"]) == term, "the forged term was not taken"
    assert int(after["leader"]) == me
    with open(member.log_path(0)) as f:
        log = f.read()
    assert "leader is now deadbeef" not in log
    assert "id deadbeef is not a member of the cluster" in log
    still_serving(member)


def test_frame_headers_claiming_64_mib_cost_nothing(member):
    """Defect 2: 8 bytes claiming a 64 MiB frame made the reader reserve 64 MiB; 10 such
    connections took the member from 22 MB to 662 MB resident."""
    pid = member.procs[0].pid
    before = rss_bytes(pid)
    claim = struct.pack("<II", 64 << 20, 0)
    socks = []
    for _ in range(10):
        s = dial_peer(member, peer_port(member))
        s.sendall(claim)
        socks.append(s)
    for s in socks:
        assert closed_by_server(s, 5), "a first frame over a hello's size is refused at once"
        s.close()
    grown = rss_bytes(pid) - before
    assert grown < 16 << 20, f"resident memory grew by {grown} bytes"
    still_serving(member)


def test_idle_peer_connections_are_closed_after_the_handshake_deadline(member):
    """Defect 2: peer connections had no read deadline (10 idle ones stayed open for 60 s and
    more). A connection must send its hello within 5 s."""
    before = metric(member, 0, "etcdlab_network_peer_connections_timed_out_total")
    start = time.monotonic()
    socks = [dial_peer(member, peer_port(member)) for _ in range(10)]
    for s in socks:
        assert closed_by_server(s, 15), "an idle peer connection is closed by its deadline"
        s.close()
    assert time.monotonic() - start < 15
    assert metric(member, 0, "etcdlab_network_peer_connections_timed_out_total") >= before + 10
    still_serving(member)


def wrapper(tmp: str, limits: str) -> str:
    """A launcher that sets the descriptor limits (as `ulimit` in a shell) and runs the server."""
    path = os.path.join(tmp, "etcdlab-limited")
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\n{limits}\nexec {find_binary()} \"$@\"\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
    return path


def test_the_soft_descriptor_limit_is_raised_to_the_hard_one():
    with tempfile.TemporaryDirectory() as tmp:
        with LocalCluster(n=1, binary=wrapper(tmp, "ulimit -Sn 100")) as c:
            c.wait_leader()
            with open(f"/proc/{c.procs[0].pid}/limits") as f:
                line = next(x for x in f if x.startswith("Max open files"))
            soft, hard = line.split()[3:5]
            assert soft == hard and soft != "100", line
            with open(c.log_path(0)) as f:
                assert f"open file limit raised from 100 to {hard}" in f.read()


def test_out_of_descriptors_the_member_refuses_clients_instead_of_dying():
    """Defect 3: with `ulimit -n 64`, 49 idle client connections and 15 puts gave "storage
    failure: create ...snap.tmp: Too many open files; stopping" (exit 2). Now the last
    descriptors are kept for files: clients are refused, snapshots are still written."""
    with tempfile.TemporaryDirectory() as tmp:
        with LocalCluster(n=1, binary=wrapper(tmp, "ulimit -n 64"), snapshot_count=5) as c:
            c.wait_leader()
            idle = []
            for _ in range(49):
                try:
                    idle.append(socket.create_connection(("127.0.0.1", c.client_ports[0]),
                                                         timeout=2))
                except OSError:
                    pass
            failed = 0
            for i in range(15):
                client = c.client(timeout=2.0)
                try:
                    client.put(f"k{i}", "v")
                except Exception:  # refused (closed at once) while the idle ones hold slots
                    failed += 1
                finally:
                    client.close()
            assert c.procs[0].poll() is None, f"the member died; see {c.log_path(0)}"
            for s in idle:
                s.close()
            client = c.client()
            deadline = time.monotonic() + 15
            while True:  # the idle ones are closed: descriptors come back
                try:
                    for i in range(15):
                        client.put(f"k{i}", "v")
                    break
                except Exception:
                    assert time.monotonic() < deadline, "puts never succeeded again"
                    time.sleep(0.1)
            assert client.value("k14") == b"v"
            client.close()
            assert metric(c, 0, "etcdlab_network_client_connections_refused_total") > 0
            # A snapshot is written beside the node and logged once done: wait for the line.
            deadline = time.monotonic() + 10
            while True:
                with open(c.log_path(0)) as f:
                    log = f.read()
                assert "storage failure" not in log, log[-2000:]
                if re.search(r"snapshot at index \d+ \(", log):
                    break
                assert time.monotonic() < deadline, "snapshots were still written"
                time.sleep(0.1)
            assert c.procs[0].poll() is None
