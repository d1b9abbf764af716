"""Reading and damaging a member's files as a disk would: WAL records (labs/01-log record.h:
length u32 | type u8 | header check u24 | crc32c(type + payload) u32 | payload) and bit flips."""

import glob
import os
import struct

from peer_wire import blob, crc32c, varint


def member_dir(cluster, i: int) -> str:
    return os.path.join(cluster.data_dir, cluster.names[i], "member")


def segments(cluster, i: int) -> list[str]:
    return sorted(glob.glob(os.path.join(member_dir(cluster, i), "raft", "wal", "*.wal")))


def records(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, type, length) of each record up to the first zero header (the preallocated
    tail)."""
    out, at = [], 0
    while at + 12 <= len(data):
        length, rtype = struct.unpack_from("<IB", data, at)
        if length == 0 and rtype == 0:
            break
        out.append((at, rtype, length))
        at += 12 + length
    return out


def record(rtype: int, payload: bytes) -> bytes:
    head = struct.pack("<IB", len(payload), rtype)
    check = crc32c(head) & 0xFFFFFF
    return head + struct.pack("<I", check)[:3] + struct.pack("<I", crc32c(bytes([rtype]) + payload)) \
        + payload


def entry_payload(index: int, term: int, etype: int, data: bytes) -> bytes:
    return varint(1) + varint(index) + varint(term) + varint(etype) + blob(data)


def flip_bit(path: str, offset: int, bit: int = 0) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ (1 << bit)]))
