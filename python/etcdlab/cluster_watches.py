"""Watches on a simulated KV cluster (``etcdlab.Cluster(kv=True)``): a client's watch stream to
one member, through the server's node (``KvNode``, with the watch hub of lab 4), and a record of
every write the cluster committed, which ``checkers.check_watches`` judges the streams against.

A watch is a stream to **one member**, served from what that member has applied: not
linearizable (a member that lags sends later), but ordered, unique, atomic, reliable and
resumable. It lives in the member's memory like a TCP connection: when the member crashes (or
restarts), the stream ends with it and every response it had not been read yet is lost. The
client then knows the revision after the last one it received (``Watch.next_revision``) and
watches again elsewhere from there (``Watch.resume()``; ``resume=True`` does it by itself at
the next read, as etcd's clients do). A watcher whose next revision was compacted away is
cancelled with ``compact_revision``: its client reads the keys again and watches from after
that read (etcd's clients stop there too, with ErrCompacted).

The client reads responses between the simulator's events: ``Watch.take()`` reads all that
are queued, ``take(max=n)`` at most ``n`` (a slow reader: the member keeps at most 128
responses per stream; a watcher whose stream is full falls behind and catches up from the
store's history later, or is cancelled if that history is compacted meanwhile).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Optional, Sequence

from ._convert import as_bytes as _b
from .cluster_leases import int64
from .views import WatchEvent, WatchResponse

if TYPE_CHECKING:
    from .cluster import Cluster

__all__ = ["Watch", "WatchCalls", "EventRecorder", "FILTERS"]

FILTERS = ("NOPUT", "NODELETE")  # etcd's WatchCreateRequest.FilterType names
_ALL = 2**63 - 1  # "take every queued response"


def watch_range(key: bytes, range_end, prefix: bool) -> tuple[bytes, bytes]:
    """(key, range_end) as the node takes them; see cluster_kv's rules for prefixes."""
    from .cluster_kv import _range_end, _range_key
    end = _range_end(key, range_end, prefix)
    return _range_key(key, end), end


class _Connection:
    """One stream of a watch: the member it went to and what came back on it."""

    __slots__ = ("node", "restarts", "stream", "watch_id", "start_revision", "opened_ms",
                 "responses", "end", "cancel_requested")

    def __init__(self, node: int, restarts: int, stream: int, start_revision: int,
                 opened_ms: float):
        self.node, self.restarts, self.stream = node, restarts, stream
        self.watch_id = -1
        self.start_revision = start_revision
        self.opened_ms = opened_ms
        self.responses: list[WatchResponse] = []
        self.end = "open"
        self.cancel_requested = False

    def record(self) -> dict:
        return {"node": self.node, "start_revision": self.start_revision,
                "opened_ms": self.opened_ms, "watch_id": self.watch_id, "end": self.end,
                "cancel_requested": self.cancel_requested,
                "responses": [r.to_dict() for r in self.responses]}


class Watch:
    """A client's watch on a key, a range or a prefix (``Cluster.watch`` makes it): one stream
    at a time to one member; every response it read, on every stream, is kept.

    ``state``: "open"; "cancelling" (``cancel()`` asked, its answer not read yet); "cancelled";
    "compacted" (its next revision was compacted: ``compact_revision``); "refused";
    "disconnected" (its member crashed or restarted: the stream died with it); "closed"
    (``close()``). Every state but "open" and "cancelling" ends the stream; ``resume()`` opens
    a new one.
    """

    def __init__(self, cluster: "Cluster", name: str, key: bytes, range_end: bytes, *,
                 prev_kv: bool, filters: tuple, progress_notify: bool, fragment: bool,
                 resume: bool):
        self._cluster = cluster
        self.name = name
        self.key, self.range_end = key, range_end
        self.prev_kv, self.filters = prev_kv, filters
        self.progress_notify, self.fragment = progress_notify, fragment
        self.auto_resume = resume
        self.connections: list[_Connection] = []
        self.compact_revision = 0
        self._next = 0  # the first revision it still needs (0: none known yet)

    # ---- what it knows
    @property
    def state(self) -> str:
        conn = self._live()
        return conn.end if conn is not None else self.connections[-1].end

    @property
    def open(self) -> bool:
        return self.state in ("open", "cancelling")

    @property
    def node(self) -> Optional[int]:
        """The member its stream goes to, None once the stream ended."""
        conn = self._live()
        return conn.node if conn is not None and conn.end in ("open", "cancelling") else None

    @property
    def watch_id(self) -> int:
        return self.connections[-1].watch_id

    @property
    def next_revision(self) -> int:
        """The first revision it has not received yet, as an etcd client keeps it: the last
        event's revision + 1, or a progress response's revision + 1, or (from the next write)
        the created response's + 1; after a compaction cancel, the compact revision + 1. 0 while
        it knows none (its created response not read yet)."""
        return self._next

    @property
    def responses(self) -> list[WatchResponse]:
        """Every response read, on every stream, in the order read."""
        return [r for conn in self.connections for r in conn.responses]

    @property
    def events(self) -> list[WatchEvent]:
        """Every event read, in the order read."""
        return [e for conn in self.connections for r in conn.responses for e in r.events]

    @property
    def queued(self) -> int:
        """Responses its stream holds that it has not read (0 once the stream ended)."""
        conn = self._live()
        if conn is None or conn.end not in ("open", "cancelling"):
            return 0
        return self._cluster._core.kv_watch_queued(conn.node, conn.stream) or 0

    def record(self) -> dict:
        """What ``checkers.check_watches`` reads: the request and every stream's responses."""
        return {"name": self.name, "key": self.key, "range_end": self.range_end,
                "prev_kv": self.prev_kv, "filters": list(self.filters),
                "progress_notify": self.progress_notify, "fragment": self.fragment,
                "connections": [conn.record() for conn in self.connections]}

    # ---- what it does
    def take(self, max: Optional[int] = None) -> list[WatchResponse]:
        """Reads the responses its stream holds, oldest first (at most ``max``: a slow reader),
        and returns them; they are kept in :attr:`responses` too. A stream whose member crashed
        or restarted reads nothing: the watch is "disconnected" (with ``resume=True`` it
        resumes on another member at once and reads there)."""
        if max is not None:
            max = int64(max, "max (responses)", minimum=0)
        conn = self._live()
        if conn.end == "disconnected" and self.auto_resume and self._cluster._up_members():
            self.resume()
            conn = self._live()
        if conn.end not in ("open", "cancelling"):
            return []
        got = self._cluster._core.kv_take_watch_responses(conn.node, conn.stream,
                                                          _ALL if max is None else max)
        now = self._cluster.now_ms
        index = len(self.connections) - 1
        out = []
        for d in got:
            r = WatchResponse.from_dict(d, node=conn.node, connection=index, time_ms=now)
            conn.responses.append(r)
            out.append(r)
            self._learn(conn, r)
            if conn.end not in ("open", "cancelling"):
                break  # its last response: the stream is closed now
        return out

    def cancel(self) -> bool:
        """Asks its member to cancel it; the answer ("canceled") comes with the next take().
        False if the stream had already ended."""
        conn = self._live()
        if conn is None or conn.end != "open":
            return False
        conn.cancel_requested = True
        if self._cluster._core.kv_cancel_watch(conn.node, conn.stream, conn.watch_id):
            conn.end = "cancelling"
        return True

    def request_progress(self) -> bool:
        """Asks for a progress response: once it is caught up, its member sends the current
        revision, a promise that every event up to it was sent. False if the stream ended."""
        conn = self._live()
        if conn is None or conn.end not in ("open", "cancelling"):
            return False
        return self._cluster._core.kv_request_watch_progress(conn.node, conn.stream)

    def close(self) -> None:
        """The client goes away: its stream (and watcher) end on the member."""
        conn = self._live()
        if conn is not None and conn.end in ("open", "cancelling"):
            self._cluster._core.kv_close_watch_stream(conn.node, conn.stream)
            conn.end = "closed"

    def resume(self, start_revision: Optional[int] = None, *, via: Optional[int] = None) -> None:
        """Watches again, the same keys with the same options, on a new stream to member ``via``
        (default: any member that is up), from ``start_revision`` (default: ``next_revision``,
        where the last stream left off, as etcd's clients resume). The stream it had, if still
        open, is closed first. After a compaction cancel, read the keys first and resume from
        that read's revision + 1."""
        if start_revision is None:
            start_revision = self._next
        start_revision = int64(start_revision, "start_revision", minimum=0)
        self.close()
        self._cluster._open_watch_stream(self, start_revision, via)

    # ---- bookkeeping
    def _live(self) -> Optional[_Connection]:
        """The last connection, marked "disconnected" if its member went down or restarted."""
        if not self.connections:
            return None
        conn = self.connections[-1]
        if conn.end in ("open", "cancelling"):
            view = self._cluster._core.node(conn.node)
            if not view.up or view.restarts != conn.restarts:
                conn.end = "disconnected"
        return conn

    def _learn(self, conn: _Connection, r: WatchResponse) -> None:
        if r.created:
            if r.canceled:
                conn.end = "refused"
                self._close_stream(conn)
                return
            conn.watch_id = r.watch_id
            if conn.start_revision == 0 and self._next < r.revision + 1:
                self._next = r.revision + 1
            return
        if r.canceled:
            if r.compact_revision != 0:
                conn.end = "compacted"
                self.compact_revision = r.compact_revision
                self._next = max(self._next, r.compact_revision + 1)
            else:
                conn.end = "cancelled"
            self._close_stream(conn)
            return
        if r.events:
            self._next = max(self._next, r.events[-1].revision + 1)
        elif not r.fragment:
            self._next = max(self._next, r.revision + 1)  # progress: nothing up to it is due

    def _close_stream(self, conn: _Connection) -> None:
        # One watch per stream: a watch that ended leaves nothing to read on it.
        self._cluster._core.kv_close_watch_stream(conn.node, conn.stream)

    def __repr__(self) -> str:
        where = f"member {self.node}" if self.node is not None else self.state
        return (f"Watch({self.name}, {self.key!r}..{self.range_end!r}, {where}, "
                f"{len(self.connections)} stream(s), next_revision={self._next})")


class WatchCalls:
    """The watch calls of :class:`etcdlab.Cluster` (a mixin: it uses the cluster's ``_core``,
    ``_need_kv``, ``seed`` and ``nodes``)."""

    def watch(self, key, range_end=None, *, prefix: bool = False, start_revision: int = 0,
              prev_kv: bool = False, filters: Sequence[str] = (), progress_notify: bool = False,
              fragment: bool = False, via: Optional[int] = None, resume: bool = False,
              name: Optional[str] = None) -> Watch:
        """Watches ``key`` (or [key, range_end), or every key with the prefix ``key``) on
        member ``via`` (default: any member that is up), from ``start_revision`` (inclusive;
        0: from the next write). ``prev_kv``: events carry the key as it was before;
        ``filters``: "NOPUT" and/or "NODELETE" leave those events out; ``progress_notify``:
        an idle watcher gets a progress response every 10 minutes of virtual time;
        ``fragment``: a large response may come in pieces; ``resume``: when its member goes
        down, the next take() watches again elsewhere from ``next_revision``. One stream per
        watch, as etcdctl's."""
        self._need_kv("watch")
        key = _b(key)
        key, end = watch_range(key, range_end, prefix)
        filters = tuple(filters) if not isinstance(filters, str) else (filters,)
        for f in filters:
            if f not in FILTERS:
                raise ValueError(f"a watch filter is NOPUT or NODELETE (etcd's names), not {f!r}")
        for flag, what in ((prefix, "prefix"), (prev_kv, "prev_kv"), (resume, "resume"),
                           (progress_notify, "progress_notify"), (fragment, "fragment")):
            if not isinstance(flag, bool):
                raise TypeError(f"{what} is a bool, not {flag!r}")
        start_revision = int64(start_revision, "start_revision", minimum=0)
        watches = self._watch_objects
        w = Watch(self, name or f"w{len(watches)}", key, end, prev_kv=prev_kv, filters=filters,
                  progress_notify=progress_notify, fragment=fragment, resume=resume)
        self._open_watch_stream(w, start_revision, via)
        watches.append(w)
        return w

    @property
    def watches(self) -> list[Watch]:
        """Every watch opened on this cluster, in order."""
        return list(self._watch_objects)

    def watch_stats(self, node: int) -> Optional[dict]:
        """Member ``node``'s watch hub: ``streams``, ``watchers``, ``unsynced`` (watchers
        behind its store, catching up from history); None while it is down."""
        self._need_kv("watch_stats")
        return self._core.kv_watch_stats(node)

    # ---- the committed history
    @property
    def store_events(self) -> list[WatchEvent]:
        """Every write the cluster committed, as events in revision order (with prev_kv), read
        from the members' stores as they grew (``record_events=True``)."""
        return list(self._events().events)

    @property
    def recorded_revision(self) -> int:
        """The revision :attr:`store_events` is complete to (the furthest any member applied,
        as of the last event; 1 before the first write)."""
        return self._events().recorded

    def check_watches(self, watches=None, **options):
        """``checkers.check_watches`` on this cluster's watches (or ``watches``) against
        :attr:`store_events`, with its seed, the revisions it could not record (``unknown``)
        and the highest compaction it saw; ``options`` go to the checker (``settled``)."""
        from .checkers import check_watches
        recorder = self._events()
        recorder.observe()
        return check_watches(self.watches if watches is None else watches, recorder.events,
                             seed=self.seed, unknown=list(recorder.unknown),
                             compacted=recorder.compacted, **options)

    def _init_watches(self, record_events: bool) -> None:
        self._watch_objects: list[Watch] = []
        self._watch_rng = random.Random(self.seed * 7919 + 15)  # "any member": one seed, one run
        self._event_recorder = EventRecorder(self) if record_events else None

    def _events(self) -> "EventRecorder":
        if self._event_recorder is None:
            raise TypeError("the committed events are recorded by Cluster(..., kv=True, "
                            "record_events=True)")
        return self._event_recorder


    def _up_members(self) -> list[int]:
        return [i for i in range(len(self.nodes)) if self._core.node(i).up]

    def _open_watch_stream(self, w: Watch, start_revision: int, via: Optional[int]) -> None:
        if via is None:
            up = self._up_members()
            if not up:
                raise ValueError("no member is up to watch on")
            via = self._watch_rng.choice(up)
        stream = self._core.kv_open_watch_stream(via)
        if stream is None:
            raise ValueError(f"member {via} is down: a watch needs a member that is up")
        conn = _Connection(via, self._core.node(via).restarts, stream, start_revision,
                           self.now_ms)
        w.connections.append(conn)
        if start_revision > 0:
            w._next = start_revision
        self._core.kv_watch(via, stream, w.key, w.range_end, start_revision, w.prev_kv,
                            "NOPUT" in w.filters, "NODELETE" in w.filters, w.progress_notify,
                            w.fragment)


class EventRecorder:
    """Reads every write the cluster commits from the members' stores as they grow: after
    every event, from the up member whose store is furthest ahead. A compaction only removes
    revisions the members applied some event earlier, so nothing is missed — unless one apply
    batch writes a revision and compacts it too; then those revisions are noted in ``unknown``
    (the checker does not judge them)."""

    def __init__(self, cluster):
        self._core = cluster._core
        self.events: list[WatchEvent] = []
        self.recorded = 1  # every revision up to this one is recorded (1: the empty store)
        self.unknown: list[tuple[int, int]] = []  # [from, to] revisions compacted unrecorded
        self.compacted = 0  # the highest compact revision seen

    def observe(self) -> bool:
        best = None
        for i, held in enumerate(self._core.kv_store_revisions()):
            if held is None:
                continue
            self.compacted = max(self.compacted, held[1])
            if held[0] > self.recorded and (best is None or held[0] > best[1]):
                best = (i, held[0], held[1])
        if best is not None:
            i, revision, compacted = best
            start = self.recorded + 1
            if compacted >= start:  # gone before it could be read (see above)
                self.unknown.append((start, compacted))
                start = compacted + 1
            self.events += [WatchEvent.from_dict(e) for e in self._core.kv_store_events(i, start)]
            self.recorded = revision
        return False
