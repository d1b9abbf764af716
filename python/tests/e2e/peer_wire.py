"""Forged peer frames for the e2e tests (the protocol's bytes are etcdlab.peer_wire's), the
connection they are sent on (plain TCP, or TLS when the cluster's peers speak it), and what a
test watches for the member's verdict: whether it closes the connection, and its metrics."""

import re
import socket
import struct  # noqa: F401 (tests take it from here)
import time

from etcdlab.peer_wire import (HELLO, MESSAGE, NODE_MESSAGE, PROTOCOL_VERSION, blob,  # noqa: F401
                               crc32c, frame, hello, token_hash, varint)

APPEND = 2
KEEP_ALIVE = 1  # server::NodeMessage::Kind::kKeepAlive


def append(sender: int, to: int, term: int, index: int, log_term: int, commit: int,
           entries: list) -> bytes:
    """A Raft append (codec.h's Message, version 1); entries are (index, term, data)."""
    body = varint(1) + varint(APPEND) + varint(to) + varint(sender) + varint(term)
    body += varint(log_term) + varint(index) + varint(len(entries))
    for e_index, e_term, data in entries:
        body += varint(e_index) + varint(e_term) + varint(0) + blob(data)
    body += varint(commit) + varint(0) + varint(0)
    body += varint(0) + varint(0) + varint(0) + varint(0)  # snapshot meta: index term [] []
    body += blob(b"")
    return frame(MESSAGE, body)


def node_message(sender: int, to: int, kind: int, request: int, lease: int) -> bytes:
    """A kind 8 frame carrying a node message (kv_node_leases.cc: version 1, kind, from, to,
    request, lease, with_keys, not_leader, ttl, granted ttl, keys)."""
    data = (varint(1) + varint(kind) + varint(sender) + varint(to) + varint(request) +
            varint(lease) + varint(0) + varint(0) + varint(0) + varint(0) + varint(0))
    return frame(NODE_MESSAGE, varint(sender) + varint(to) + blob(data))


def dial_peer(cluster, port: int) -> socket.socket:
    """A connection to a member's peer port, as an outsider opens one. Over TLS (the cluster's
    peer URLs are https://) it is a TLS connection with a peer certificate of the cluster's own
    CA (a member's, no CN): an insider's certificate, which the member's TLS accepts, so the
    test reaches what the member checks past TLS (the hello, the sender's id, frame sizes)."""
    s = socket.create_connection(("127.0.0.1", port))
    if cluster.pki is None:
        return s
    _, dialling = cluster.pki.peer_tls("outsider")
    return dialling.wrap_socket(s, server_hostname="127.0.0.1")


def closed_by_server(s: socket.socket, within: float) -> bool:
    """Whether the member closes `s` within `within` seconds (EOF or reset)."""
    s.settimeout(0.2)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if s.recv(4096) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def metric(cluster, i: int, name: str) -> float:
    """Member i's value of an unlabelled metric (its /metrics)."""
    c = cluster.client()
    try:
        status, body = c.raw(cluster.endpoint(i), "GET", "/metrics")
    finally:
        c.close()
    assert status == 200
    m = re.search(rf"^{name} (\S+)$", body.decode(), re.M)
    assert m, f"{name} is not exposed"
    return float(m.group(1))
