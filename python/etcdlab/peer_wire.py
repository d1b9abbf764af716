"""The peer protocol's bytes (server/runtime/peer_frames.h, common/include/etcdlab/codec.h) in
Python: enough to cut a member's peer stream into frames, read who a connection comes from (its
hello) and what a Raft message is (type, sender, term), and to write a hello. The link proxies
(link_proxy.py) read frames with it; the e2e tests forge frames with it.

Frames (integers little-endian):  u32 length | u32 crc32c(kind + payload) | u8 kind | payload
Integers inside payloads are LEB128 varints (codec.h's Writer::u64)."""

from __future__ import annotations

import struct

__all__ = ["crc32c", "varint", "read_varint", "blob", "frame", "token_hash", "hello",
           "decode_hello", "message_head", "snapshot_size", "FRAME_HEADER_BYTES",
           "PROTOCOL_VERSION", "HELLO", "MESSAGE", "SNAPSHOT_BEGIN", "SNAPSHOT_CHUNK",
           "MEMBERS_REQUEST", "MEMBERS", "REMOVED", "NODE_MESSAGE", "APPEND", "HEARTBEAT"]

FRAME_HEADER_BYTES = 8
PROTOCOL_VERSION = 2
MAGIC = b"etcdlab-peer"
# peer_frames.h's FrameKind
HELLO, MESSAGE, SNAPSHOT_BEGIN, SNAPSHOT_CHUNK = 1, 2, 3, 4
MEMBERS_REQUEST, MEMBERS, REMOVED, NODE_MESSAGE = 5, 6, 7, 8
# types.h's MessageType (those a leader sends at its term)
APPEND, HEARTBEAT, SNAPSHOT = 2, 8, 10

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


def read_varint(data: bytes, at: int) -> tuple[int, int]:
    """(value, offset after it); ValueError if `data` ends inside it."""
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("truncated or overlong varint")
        b = data[at]
        at += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, at


def blob(b: bytes) -> bytes:
    return varint(len(b)) + b


def frame(kind: int, payload: bytes) -> bytes:
    body = bytes([kind]) + payload
    return struct.pack("<II", len(body), crc32c(body)) + body


def token_hash(token: str) -> int:
    """FNV-1a of the cluster token (peer_frames.h): peers compare hashes, never the token."""
    h = 0xCBF29CE484222325
    for c in token.encode():
        h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def hello(cluster: int, token: str, sender: int, to: int) -> bytes:
    """A whole hello frame, as a member sends first on a connection it dials."""
    payload = (blob(MAGIC) + varint(PROTOCOL_VERSION) + varint(cluster) +
               varint(token_hash(token)) + varint(sender) + varint(to))
    return frame(HELLO, payload)


def decode_hello(payload: bytes) -> dict:
    """A hello's payload (after the kind byte) -> {version, cluster, token_hash, from, to}."""
    n, at = read_varint(payload, 0)
    if payload[at:at + n] != MAGIC:
        raise ValueError("not an etcdlab peer hello")
    at += n
    out = {}
    for name in ("version", "cluster", "token_hash", "from", "to"):
        out[name], at = read_varint(payload, at)
    return out


def message_head(payload: bytes) -> tuple[int, int, int, int]:
    """A Raft message's (type, to, from, term): the first fields of codec.h's Message after
    its encoding version."""
    at = read_varint(payload, 0)[1]
    fields = []
    for _ in range(4):
        v, at = read_varint(payload, at)
        fields.append(v)
    return fields[0], fields[1], fields[2], fields[3]


def snapshot_size(payload: bytes) -> int:
    """The payload bytes a snapshot-begin frame announces (its chunks follow)."""
    return read_varint(payload, 0)[0]
