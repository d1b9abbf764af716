"""What the watch checker reads, in one normal form: events, responses (fragments joined), the
committed history (members merged, each event's previous version by replay) and a watch's
request. Inputs are dicts (``Watch.record()``, JSON-like) or objects with the same attribute
names (``etcdlab.WatchEvent``, ``etcdlab.WatchResponse``); see watches.py for the shapes."""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Any, Iterable, Optional

from .revisions import Violation

__all__: list[str] = []  # internal to check_watches


def get(x: Any, name: str, default: Any = None) -> Any:
    """A field of a dict, or an attribute of an object."""
    if isinstance(x, dict):
        return x.get(name, default)
    return getattr(x, name, default)


def as_bytes(x: Any) -> bytes:
    if isinstance(x, str):
        return x.encode()
    return bytes(x) if x is not None else b""


def kv_tuple(x: Any) -> Optional[tuple]:
    """(key, value, create_revision, mod_revision, version, lease), or None."""
    if x is None:
        return None
    return (as_bytes(get(x, "key")), as_bytes(get(x, "value", b"")),
            int(get(x, "create_revision", 0) or 0), int(get(x, "mod_revision", 0) or 0),
            int(get(x, "version", 0) or 0), int(get(x, "lease", 0) or 0))


class Event:
    """One event: type, kv and prev (kv_tuple()s)."""

    __slots__ = ("type", "kv", "prev")

    def __init__(self, e: Any):
        self.type = str(get(e, "type", "PUT"))
        self.kv = kv_tuple(get(e, "kv"))
        self.prev = kv_tuple(get(e, "prev_kv"))

    @property
    def rev(self) -> int:
        return self.kv[3]

    @property
    def key(self) -> bytes:
        return self.kv[0]

    def __str__(self) -> str:
        text = f"{self.type} {self.key!r}@{self.rev}"
        if self.type == "PUT":
            text += f"={self.kv[1]!r}"
        if self.prev is not None:
            text += f" (was {self.prev[1]!r}@{self.prev[3]})"
        return text


class Response:
    """One response as read (``pos``: its place in the stream, from 0)."""

    __slots__ = ("pos", "watch_id", "revision", "created", "canceled", "compact_revision",
                 "cancel_reason", "events", "time_ms")

    def __init__(self, pos: int, r: Any):
        self.pos = pos
        self.watch_id = int(get(r, "watch_id", -1))
        self.revision = int(get(r, "revision", 0))
        self.created = bool(get(r, "created", False))
        self.canceled = bool(get(r, "canceled", False))
        self.compact_revision = int(get(r, "compact_revision", 0) or 0)
        self.cancel_reason = str(get(r, "cancel_reason", "") or "")
        self.events = [Event(e) for e in get(r, "events", ()) or ()]
        self.time_ms = get(r, "time_ms")


def join_fragments(raw: Iterable[Any]) -> list[Response]:
    """The stream's responses with each fragmented response's pieces joined (numbered by its
    first piece: response 0 is the first read)."""
    out: list[Response] = []
    piece: Optional[Response] = None
    for pos, r in enumerate(raw):
        if piece is not None:
            piece.events += [Event(e) for e in get(r, "events", ()) or ()]
            piece.revision = int(get(r, "revision", piece.revision))
        else:
            piece = Response(pos, r)
        if not get(r, "fragment", False):
            out.append(piece)
            piece = None
    if piece is not None:
        out.append(piece)  # its last pieces never came: judged as it is
    return out


class History:
    """The committed events by revision, and each event's expected prev_kv by replay."""

    def __init__(self, history: Any, from_revision: int, unknown: Iterable, violations: list,
                 where: str):
        self.unknown = sorted((int(a), int(b)) for a, b in unknown)
        if isinstance(history, dict):
            events = self._merge(history, violations, where)
        else:
            events = [Event(e) for e in history]
        events.sort(key=lambda e: e.rev)  # stable: a revision's events keep their order
        self.by_rev: dict[int, list[Event]] = defaultdict(list)
        for e in events:
            self.by_rev[e.rev].append(e)
        self.revs = sorted(self.by_rev)
        self.from_revision = from_revision
        self.through = self.revs[-1] if self.revs else 0
        self.prev: dict[tuple, Optional[tuple]] = {}  # (rev, key) -> kv before it (known ones)
        state: dict[bytes, Optional[tuple]] = {}
        known_all = from_revision <= 1
        holes = list(self.unknown)
        for rev in self.revs:
            while holes and holes[0][0] <= rev:
                holes.pop(0)
                state, known_all = {}, False  # what a key was after a hole is unknown
            for e in self.by_rev[rev]:
                if e.key in state or known_all:
                    self.prev[(rev, e.key)] = state.get(e.key)
            for e in self.by_rev[rev]:
                state[e.key] = e.kv if e.type == "PUT" else None

    @staticmethod
    def _merge(members: dict, violations: list, where: str) -> list[Event]:
        merged: dict[int, list[Event]] = {}
        owner: dict[int, Any] = {}
        for member, events in sorted(members.items(), key=lambda m: str(m[0])):
            mine: dict[int, list[Event]] = defaultdict(list)
            for e in events or ():
                ev = Event(e)
                mine[ev.rev].append(ev)
            for rev, evs in mine.items():
                if rev not in merged:
                    merged[rev], owner[rev] = evs, member
                elif sorted((e.type, e.kv) for e in evs) != sorted(
                        (e.type, e.kv) for e in merged[rev]):
                    violations.append(Violation(
                        "history-disagreement",
                        f"{where}members {owner[rev]} and {member} disagree at revision {rev}: "
                        f"{show(merged[rev])} against {show(evs)}", revisions=[rev]))
        return [e for rev in sorted(merged) for e in merged[rev]]

    def known(self, rev: int) -> bool:
        if rev < self.from_revision or rev > self.through:
            return False
        return not any(a <= rev <= b for a, b in self.unknown)

    def span(self, lo: int, hi: int) -> Iterable[int]:
        """The history's revisions in [lo, hi]."""
        i = bisect.bisect_left(self.revs, lo)
        while i < len(self.revs) and self.revs[i] <= hi:
            yield self.revs[i]
            i += 1


def prefix_end(prefix: bytes) -> bytes:
    """The range end of every key with this prefix (etcd's GetPrefixRangeEnd)."""
    p = bytearray(prefix)
    while p and p[-1] == 0xFF:
        p.pop()
    if not p:
        return b"\0"
    p[-1] += 1
    return bytes(p)


def show(events, limit: int = 4) -> str:
    """Events as a message shows them: [PUT b'k'@5=b'v' (was b'u'@3), ...]."""
    shown = ", ".join(str(e) for e in events[:limit])
    more = f", and {len(events) - limit} more" if len(events) > limit else ""
    return f"[{shown}{more}]"


class WatchRequest:
    """A watch's request: its range and filters, and how to name it."""

    def __init__(self, w: Any, index: int):
        rec = w.record() if hasattr(w, "record") else w
        self.rec = rec
        self.name = str(get(rec, "name", f"watch {index}"))
        self.key = as_bytes(get(rec, "key"))
        self.end = as_bytes(get(rec, "range_end", b""))
        self.prev_kv = bool(get(rec, "prev_kv", False))
        filters = set(get(rec, "filters", ()) or ())
        self.no_put, self.no_delete = "NOPUT" in filters, "NODELETE" in filters
        self.connections = list(get(rec, "connections", ()) or ())

    def in_range(self, key: bytes) -> bool:
        if not self.end:
            return key == self.key
        if self.end == b"\0":
            return key >= self.key
        return self.key <= key < self.end

    def wants(self, e: Event) -> bool:
        if not self.in_range(e.key):
            return False
        return not (self.no_put if e.type == "PUT" else self.no_delete)

    def describe(self) -> str:
        if not self.end:
            what = f"key {self.key!r}"
        elif self.end == prefix_end(self.key) and self.key not in (b"", b"\0"):
            what = f"prefix {self.key!r}"
        elif self.end == b"\0":
            what = "every key" if self.key in (b"", b"\0") else f"keys from {self.key!r}"
        else:
            what = f"range [{self.key!r}, {self.end!r})"
        opts = [o for o, on in (("prev_kv", self.prev_kv), ("NOPUT", self.no_put),
                                ("NODELETE", self.no_delete)) if on]
        return f"watch {self.name} ({what}{', ' + ', '.join(opts) if opts else ''})"
