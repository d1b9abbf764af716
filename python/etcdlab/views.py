"""What an observer of a simulated cluster reads back: roles, role changes, log entries, a
member's leases, and what a watch receives.

Enumerations are :class:`enum.StrEnum`: a member *is* its string, so ``node.role == "leader"``,
``rc.role == Role.leader``, ``f"{rc.role}"`` and ``rc.role.name`` all agree, with one spelling
(``"pre_candidate"``, as in Python identifiers). Times are virtual milliseconds (``time_ms``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Optional

__all__ = ["Role", "EntryType", "RoleChange", "LogEntry", "LeaseView", "LeaseChange", "KeyValue",
           "WatchEvent", "WatchResponse"]


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


@dataclass(frozen=True, slots=True)
class KeyValue:
    """A key as the store holds it at one revision (etcd's mvccpb.KeyValue). A delete's event
    carries only ``key`` and ``mod_revision`` (the deletion's revision), as etcd's does."""

    key: bytes
    value: bytes = b""
    create_revision: int = 0
    mod_revision: int = 0
    version: int = 0
    lease: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> "KeyValue":
        return cls(d["key"], d.get("value", b""), d.get("create_revision", 0),
                   d.get("mod_revision", 0), d.get("version", 0), d.get("lease", 0))

    def to_dict(self) -> dict:
        return {"key": self.key, "value": self.value, "create_revision": self.create_revision,
                "mod_revision": self.mod_revision, "version": self.version, "lease": self.lease}


@dataclass(frozen=True, slots=True, repr=False)
class WatchEvent:
    """What one write did to one key: ``type`` "PUT" or "DELETE", the key after it (``kv``),
    and the key before it (``prev_kv``: only when the watch asked for it, and the key existed).
    ``revision`` is the write's revision."""

    type: str
    kv: KeyValue
    prev_kv: Optional[KeyValue] = None

    @property
    def revision(self) -> int:
        return self.kv.mod_revision

    @property
    def key(self) -> bytes:
        return self.kv.key

    @classmethod
    def from_dict(cls, d: dict) -> "WatchEvent":
        prev = d.get("prev_kv")
        return cls(d.get("type", "PUT"), KeyValue.from_dict(d["kv"]),
                   None if prev is None else KeyValue.from_dict(prev))

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"type": self.type, "kv": self.kv.to_dict()}
        if self.prev_kv is not None:
            d["prev_kv"] = self.prev_kv.to_dict()
        return d

    def __str__(self) -> str:
        kv = self.kv
        text = f"{self.type} {kv.key!r}@{kv.mod_revision}"
        if self.type == "PUT":
            text += f"={kv.value!r}"
        if self.prev_kv is not None:
            text += f" (was {self.prev_kv.value!r}@{self.prev_kv.mod_revision})"
        return text

    def __repr__(self) -> str:
        return f"WatchEvent({self})"


@dataclass(frozen=True, slots=True, repr=False)
class WatchResponse:
    """One response of a watch stream, as etcd's WatchResponse (``revision`` is its header
    revision: the member's store revision when it was made, 0 on a compaction's cancel), with
    where and when the client read it: ``node`` (member index), ``connection`` (0 for the
    watch's first stream, 1 after its first resume...) and ``time_ms``.

    Kinds: ``created`` (the answer to the create; with ``canceled`` too, a refusal);
    ``canceled`` (the watcher is gone: asked for, or ``compact_revision`` > 0 when the history
    it needed was compacted); events; or none of these, a **progress** response (``watch_id``
    -1 for an answer to a progress request, the watch's own id for a notification): every
    event up to ``revision`` has been sent. ``fragment``: more pieces of this response follow.
    """

    watch_id: int
    revision: int
    created: bool = False
    canceled: bool = False
    compact_revision: int = 0
    cancel_reason: str = ""
    fragment: bool = False
    events: tuple[WatchEvent, ...] = ()
    node: Optional[int] = None
    connection: int = 0
    time_ms: float = 0.0

    @property
    def progress(self) -> bool:
        return not (self.created or self.canceled or self.events or self.fragment)

    @classmethod
    def from_dict(cls, d: dict, *, node: Optional[int] = None, connection: int = 0,
                  time_ms: float = 0.0) -> "WatchResponse":
        return cls(d["watch_id"], d["revision"], d.get("created", False),
                   d.get("canceled", False), d.get("compact_revision", 0),
                   d.get("cancel_reason", ""), d.get("fragment", False),
                   tuple(WatchEvent.from_dict(e) for e in d.get("events", ())), node,
                   connection, time_ms)

    def to_dict(self) -> dict:
        return {"watch_id": self.watch_id, "revision": self.revision, "created": self.created,
                "canceled": self.canceled, "compact_revision": self.compact_revision,
                "cancel_reason": self.cancel_reason, "fragment": self.fragment,
                "events": [e.to_dict() for e in self.events], "node": self.node,
                "connection": self.connection, "time_ms": self.time_ms}

    def __str__(self) -> str:
        if self.created:
            what = "created" + (f", refused: {self.cancel_reason}" if self.canceled else "")
        elif self.canceled:
            what = (f"cancelled, compact_revision {self.compact_revision}"
                    if self.compact_revision else "cancelled")
        elif self.events:
            what = ", ".join(str(e) for e in self.events)
        else:
            what = "progress"
        return f"[rev {self.revision}] {what}"

    def __repr__(self) -> str:
        more = ", more follow" if self.fragment else ""
        return (f"WatchResponse(id {self.watch_id}, member {self.node}, stream "
                f"{self.connection}, at {self.time_ms:.1f} ms: {self}{more})")
