"""The peer protocol's bytes (server/runtime/peer_frames.h, common/include/etcdlab/codec.h),
written from Python so a test can speak to a member's peer port as an outsider would, and what
it watches for the member's verdict: whether it closes the connection, and its metrics."""

import re
import socket
import struct
import time

_CRC32C_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC32C_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def blob(b: bytes) -> bytes:
    return varint(len(b)) + b


def frame(kind: int, payload: bytes) -> bytes:
    body = bytes([kind]) + payload
    return struct.pack("<II", len(body), crc32c(body)) + body


def token_hash(token: str) -> int:
    h = 0xCBF29CE484222325
    for c in token.encode():
        h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


PROTOCOL_VERSION = 2
HELLO, MESSAGE, NODE_MESSAGE = 1, 2, 8
APPEND = 2
KEEP_ALIVE = 1  # server::NodeMessage::Kind::kKeepAlive


def hello(cluster: int, token: str, sender: int, to: int) -> bytes:
    payload = (blob(b"etcdlab-peer") + varint(PROTOCOL_VERSION) + varint(cluster) +
               varint(token_hash(token)) + varint(sender) + varint(to))
    return frame(HELLO, payload)


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
