"""What an observer of a simulated cluster reads back: roles, role changes, log entries, and
a member's leases.

Enumerations are :class:`enum.StrEnum`: a member *is* its string, so ``node.role == "leader"``,
``rc.role == Role.leader``, ``f"{rc.role}"`` and ``rc.role.name`` all agree, with one spelling
(``"pre_candidate"``, as in Python identifiers). Times are virtual milliseconds (``time_ms``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum
from typing import Optional

__all__ = ["Role", "EntryType", "RoleChange", "LogEntry", "LeaseView", "LeaseChange"]


class Role(StrEnum):
    """A node's Raft role."""

    follower = "follower"
    pre_candidate = "pre_candidate"
    candidate = "candidate"
    leader = "leader"


class EntryType(StrEnum):
    """What a log entry carries: a client command (or a new leader's empty entry), or a
    membership change."""

    normal = "normal"
    conf_change = "conf_change"


@dataclass(frozen=True, slots=True)
class RoleChange:
    """A change of one node's term, role or leader, at virtual time ``time_ms``."""

    time_ms: float
    node: int
    term: int
    role: Role
    leader: Optional[int]  # the node index it follows, or None

    @property
    def time_us(self) -> int:
        """The same time in microseconds (the simulator's own unit; kept for old code)."""
        return round(self.time_ms * 1000)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One entry of a node's log.

    ``data`` is the entry's payload as stored. On the plain log (``Cluster()`` without
    ``kv``) a client command's payload is an 8-byte little-endian operation id (the id the
    cluster gave the proposal; a retried proposal carries the same id and is applied once)
    followed by the bytes proposed: ``op_id`` and ``command`` split it. A new leader's empty
    entry has empty data; a ``conf_change`` entry's data is the encoded membership change.
    With ``kv=True`` the payload is the server's request encoding, and ``op_id`` and
    ``command`` are None.
    """

    index: int
    term: int
    type: EntryType
    data: bytes
    op_id: Optional[int] = None  # plain log, normal entries with a command
    command: Optional[bytes] = None

    @classmethod
    def from_core(cls, entry, plain_log: bool) -> "LogEntry":
        data = bytes(entry.data)
        kind = EntryType(entry.type.name)
        op_id = command = None
        if plain_log and kind == EntryType.normal and len(data) >= 8:
            (op_id,) = struct.unpack_from("<Q", data)
            command = data[8:]
        return cls(entry.index, entry.term, kind, data, op_id, command)


@dataclass(frozen=True, slots=True)
class LeaseView:
    """One lease as one member's lessor holds it (``c.nodes[i].leases``).

    ``ttl_s`` is the time left as *this member's* clock says, in whole seconds rounded down:
    only the leader's lessor runs a clock (it is the "primary"); a follower's says the granted
    TTL, as it would on becoming leader, before the election timeout it adds then. ``keys``
    are the keys attached to the lease, ascending.
    """

    id: int
    ttl_s: int
    granted_ttl_s: int
    keys: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class LeaseChange:
    """Node ``node`` gained (``held`` True: it applied the grant) or lost (False: it applied a
    revoke, or installed a snapshot without the lease) lease ``lease`` at ``time_ms``.
    Recorded after every event by ``Cluster(kv=True, record_leases=True)``; a node that crashes
    loses its leases from memory with no change recorded, and gains them again as it replays
    its log."""

    time_ms: float
    node: int
    lease: int
    held: bool
