"""Issue 24 on real processes: a member sent a damaged snapshot on its peer port (by something
that knows the cluster token and a member's id) refuses it before its node sees it, tells the
sender why (frame kind 9), removes the staged file, logs the peer and the reason, and goes on
serving. (A whole snapshot still installs: test_operations_e2e.py's
test_a_member_down_past_the_snapshot_count_catches_up_by_snapshot.) Polls with deadlines."""

import os
import socket
import struct
import time

import pytest

from etcdlab.local import LocalCluster
from etcdlab.peer_wire import SNAPSHOT, SNAPSHOT_BEGIN, SNAPSHOT_CHUNK, read_varint

from peer_wire import blob, dial_peer, frame, hello, varint

SNAPSHOT_REFUSED = 9  # peer_frames.h


def snapshot_message(sender: int, to: int, term: int, index: int, voters: list) -> bytes:
    """codec.h's Message (version 1) of type kSnapshot, with its SnapshotMeta."""
    body = varint(1) + varint(SNAPSHOT) + varint(to) + varint(sender) + varint(term)
    body += varint(0) + varint(0) + varint(0)  # log_term, index, no entries
    body += varint(0) + varint(0) + varint(0)  # commit, reject, reject_hint
    body += varint(index) + varint(term) + varint(len(voters))
    for v in voters:
        body += varint(v)
    body += varint(0) + blob(b"")  # no learners, no context
    return body


def node_header() -> bytes:
    """A node snapshot header that decodes (state_machine.h: version 3, no members, alarms,
    removed ids or recent requests), with its fixed64 length in front."""
    header = varint(3) + varint(0) + varint(0) + varint(0) + varint(0)
    return struct.pack("<Q", len(header)) + header


def read_until_closed(s: socket.socket, within: float) -> bytes:
    s.settimeout(0.2)
    got = b""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    return got


def refusal(data: bytes):
    """The first kind 9 frame in `data`: (term, index, reason), or None."""
    at = 0
    while at + 9 <= len(data):
        length, _ = struct.unpack_from("<II", data, at)
        kind, payload = data[at + 8], data[at + 9:at + 8 + length]
        if kind == SNAPSHOT_REFUSED:
            term, i = read_varint(payload, 0)
            index, i = read_varint(payload, i)
            n, i = read_varint(payload, i)
            return term, index, payload[i:i + n].decode()
        at += 8 + length
    return None


@pytest.mark.timeout(120)
def test_a_damaged_snapshot_from_a_peer_is_refused_and_the_member_serves_on():
    with LocalCluster(n=3) as c:
        c.wait_leader()
        cl = c.client()
        cl.put("keep", "me")
        status = cl.status(c.endpoint(1))
        cl.close()
        cluster, term = int(status["header"]["cluster_id"]), int(status["raftTerm"])
        sender, target = c.member_id(0), c.member_id(1)
        voters = [c.member_id(i) for i in range(3)]
        damages = [
            ("a header that does not decode", b"\x05garbage", "header part"),
            ("a header alone", node_header(), "no store"),
            ("a store that is not a database", node_header() + b"x" * 8192,
             "not a SQLite database"),
            ("a store cut short", node_header() + b"SQLite format 3\x00" + b"\x10\x00" * 20,
             "truncated"),
        ]
        for n, (name, payload, says) in enumerate(damages):
            index = 10**6 + n
            s = dial_peer(c, c.peer_ports[1])
            begin = varint(len(payload)) + snapshot_message(sender, target, term, index, voters)
            s.sendall(hello(cluster, c.token, sender, target) + frame(SNAPSHOT_BEGIN, begin) +
                      frame(SNAPSHOT_CHUNK, payload))
            answer = refusal(read_until_closed(s, 10))
            s.close()
            assert answer is not None, f"{name}: the sender is told the snapshot was refused"
            assert answer[:2] == (term, index), name
            assert says in answer[2], f"{name}: {answer[2]}"

        incoming = os.path.join(c.data_dir, c.names[1], "member", "snap-incoming")
        assert not os.path.isdir(incoming) or os.listdir(incoming) == [], \
            "no staged file is left behind"
        with open(c.log_path(1)) as f:
            log = f.read()
        assert log.count("refused snapshot") == len(damages)
        assert f"from member {sender:x}: " in log, "the warning names the peer"
        assert "installed snapshot" not in log

        # The member serves on, as a follower of the real leader.
        cl = c.client([1])
        try:
            assert cl.value("keep") == b"me"
            cl.put("after", "yes")
            assert cl.value("after") == b"yes"
        finally:
            cl.close()
        assert c.running(1)
