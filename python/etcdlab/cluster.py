"""A deterministic simulated Raft cluster, driven from Python.

The event loop, the network, the disks and the invariant checks are C++ (``etcdlab._core``);
this module gives them a Python shape: keyword options, node indexes ``0 .. n-1``, operation
objects that complete as virtual time runs, and histories the checkers read.

    import etcdlab
    c = etcdlab.Cluster(n=5, seed=7)
    c.run_until(lambda: c.leader() is not None, timeout_ms=5000)
    op = c.propose(b"x")
    c.run(1000)
    assert op.outcome == "ok"
    c.isolate(c.leader())
    ...

Every Raft invariant is checked after every event (``check_invariants=False`` turns that off);
a broken one raises :class:`etcdlab.InvariantViolation` naming the invariant, the node, the
event and what each node did last.

The KV calls (``kv=True``) are in cluster_kv.py, the lease calls and the lease recorder in
cluster_leases.py, the watches and the recorder of committed events in cluster_watches.py:
mixins of :class:`Cluster`.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Optional, Sequence

from . import _core
from ._convert import NEVER_MS
from ._convert import as_bytes as _b
from ._convert import ms_from_us as _ms
from .checkers.history import Operation as HistoryOperation
from .cluster_kv import KvCalls
from .cluster_leases import (ANSWERED_AS_WRITES, LEASE_KINDS, LeaseCalls, LeaseRecorder, int64,
                             lease_value, member_leases)
from .cluster_view import ViewCalls
from .cluster_watches import WatchCalls
from .views import LeaseView, LogEntry, Role, RoleChange, WatchEvent

__all__ = ["Cluster", "Op", "Node", "NEVER_MS"]

_KIND_NAMES = {
    _core.Operation.Kind.propose: "write",
    _core.Operation.Kind.read: "read",
    _core.Operation.Kind.conf_change: "conf_change",
    _core.Operation.Kind.transfer: "transfer",
}


def _pair(value, what: str) -> tuple:
    """A (lo, hi) pair of milliseconds, as fsync_ms= and delay_ms= take them."""
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise TypeError(f"{what} is a (lo, hi) pair of milliseconds, not {value!r}") from None
    return lo, hi


_CRASH_MODES = tuple(_core.CrashMode.__members__)


class Op:
    """A client operation: returned at once, completed as virtual time runs."""

    def __init__(self, cluster: "Cluster", op_id: int):
        self._cluster = cluster
        self.id = op_id

    @property
    def _op(self):
        return self._cluster._core.op(self.id)

    @property
    def done(self) -> bool:
        return self._op.done

    @property
    def outcome(self) -> str:
        """"pending", "ok", "failed" (definitely not done) or "unknown" (may have happened)."""
        return self._op.outcome.name

    @property
    def value(self):
        """What a read returned, else None: the number of commands applied (the plain log); for
        a KV ``get`` the key's value (None when absent); for a lease operation, the granted ID,
        a keep-alive's TTL (None: the lease is gone), the TTL left, or the list of lease ids."""
        op = self._op
        kind = self._kv_kind
        if kind in LEASE_KINDS:
            result = self.result
            return None if result is None else lease_value(kind, result)
        if op.kind != _core.Operation.Kind.read or op.outcome != _core.Outcome.ok:
            return None
        if kind is None:
            return int(op.output)
        kvs = self.result.get("kvs") or []
        return kvs[0]["value"] if kvs else None

    @property
    def result(self) -> Optional[dict]:
        """A KV operation's answer, shaped like the JSON gateway's (``header.revision``,
        ``kvs``, ``count``, ``prev_kv``, ``deleted``; ``ID``, ``TTL``, ``grantedTTL``,
        ``keys``, ``leases``; or ``error``), once it is ok; else None."""
        op = self._op
        if self._kv_kind is None or op.outcome != _core.Outcome.ok:
            return None
        if op.kind == _core.Operation.Kind.read and self._kv_kind not in ANSWERED_AS_WRITES:
            return _core.kv_read_output(op.output)
        return _core.kv_write_output(op.output)

    @property
    def raw_output(self) -> Optional[bytes]:
        """The node's answer as the simulator encodes it, once the operation is ok (else
        None): what ``etcdlab._core.LockRecipe.answer`` reads after a ``txn_encoded``."""
        op = self._op
        return bytes(op.output) if op.outcome == _core.Outcome.ok else None

    @property
    def kind(self) -> str:
        """"write" / "read" on the plain log; "put", "delete", "delete_range", "get", "range",
        "compact", "lease_grant", "lease_revoke", "lease_keepalive", "lease_time_to_live",
        "leases" on KV; "conf_change", "transfer"."""
        return self._kv_kind or _KIND_NAMES[self._op.kind]

    @property
    def _kv_kind(self) -> Optional[str]:
        spec = self._cluster._kv_ops.get(self.id)
        return spec[0] if spec else None

    @property
    def input(self) -> bytes:
        return self._op.input

    @property
    def index(self) -> int:
        """The log index a write was applied at, or a read's read index."""
        return self._op.index

    @property
    def call_ms(self) -> float:
        return _ms(self._op.call_us)

    @property
    def return_ms(self) -> float:
        return _ms(self._op.return_us)

    @property
    def attempts(self) -> int:
        return self._op.attempts

    def __repr__(self) -> str:
        return f"Op(id={self.id}, {self.kind}, {self.outcome}, call={self.call_ms:.1f} ms)"


class Node:
    """One node as an observer sees it (a fresh view at every attribute access)."""

    def __init__(self, cluster: "Cluster", index: int):
        self._cluster = cluster
        self.index = index

    @property
    def _view(self):
        return self._cluster._core.node(self.index)

    up = property(lambda self: self._view.up)
    member = property(lambda self: self._view.member)
    term = property(lambda self: self._view.term)
    commit = property(lambda self: self._view.commit)
    applied = property(lambda self: self._view.applied)
    first_index = property(lambda self: self._view.first_index)
    last_index = property(lambda self: self._view.last_index)
    snapshot_index = property(lambda self: self._view.snapshot_index)
    commands_applied = property(lambda self: self._view.commands_applied)
    messages_sent = property(lambda self: self._view.messages_sent)
    bytes_sent = property(lambda self: self._view.bytes_sent)
    wal_bytes = property(lambda self: self._view.wal_bytes)
    restarts = property(lambda self: self._view.restarts)

    @property
    def role(self) -> Role:
        """:class:`etcdlab.Role`, a str: "follower", "pre_candidate", "candidate" or
        "leader"."""
        return Role(self._view.role.name)

    @property
    def vote(self) -> Optional[int]:
        """The node index voted for in this term, or None."""
        return self._view.vote

    @property
    def leader(self) -> Optional[int]:
        """The node index this node believes is leader, or None."""
        return self._view.leader

    @property
    def voters(self) -> list[int]:
        return [v - 1 for v in self._view.conf.voters]

    @property
    def learners(self) -> list[int]:
        return [v - 1 for v in self._view.conf.learners]

    @property
    def leases(self) -> dict[int, LeaseView]:
        """KV clusters: this node's leases as its lessor holds them, by id ({} while it is
        down): :class:`etcdlab.LeaseView` with the TTL left as this node's clock says."""
        self._cluster._need_kv("Node.leases")
        return member_leases(self._cluster._core, self.index)

    @property
    def lease_primary(self) -> bool:
        """KV clusters: whether this node's lessor runs the leases' clock (the leader's does:
        it alone renews and expires leases)."""
        self._cluster._need_kv("Node.lease_primary")
        held = self._cluster._core.kv_leases(self.index)
        return bool(held and held["primary"])

    def store_events(self, from_revision: int = 1) -> list[WatchEvent]:
        """KV clusters: every write this node's store holds from ``from_revision`` on, as
        events with prev_kv ([] while it is down): its MVCC history, which
        ``checkers.check_watches`` takes (one list per member, merged). A ValueError if
        compaction removed revisions from there (``record_events=True`` records them as they
        are applied instead)."""
        self._cluster._need_kv("Node.store_events")
        events = self._cluster._core.kv_store_events(
            self.index, int64(from_revision, "from_revision", minimum=1))
        return [WatchEvent.from_dict(e) for e in events or ()]

    @property
    def log(self) -> list[LogEntry]:
        """The persisted log after the snapshot (empty while the node is down), as
        :class:`etcdlab.LogEntry`: index, term, type, data, and on the plain log the op_id and
        command that data holds."""
        plain = not self._cluster.kv
        return [LogEntry.from_core(e, plain) for e in self._cluster._core.log(self.index)]

    def __repr__(self) -> str:
        v = self._view
        state = "up" if v.up else "down"
        return (f"Node({self.index}, {state}, term={v.term}, {v.role.name}, commit={v.commit}, "
                f"applied={v.applied}, last_index={v.last_index})")


class Cluster(KvCalls, LeaseCalls, WatchCalls, ViewCalls):
    """A simulated cluster of ``n`` Raft nodes, numbered ``0 .. n-1``.

    Options (all keyword): ``seed``, ``pre_vote``, ``check_quorum``, ``election_ticks``,
    ``heartbeat_ticks``, ``tick_ms`` (virtual ms per tick, 100 by default),
    ``max_append_bytes``, ``max_inflight``, ``initial_voters`` (the first k nodes form the
    cluster; the rest join by :meth:`add_voter`), ``snapshot_every`` (entries between snapshots,
    0 = never), ``linearizable_reads`` (False answers reads from local state: stale reads become
    possible, which is what ReadIndex prevents), ``fsync_ms=(lo, hi)``, ``delay_ms=(lo, hi)``,
    ``drop``, ``duplicate``, ``reorder``, ``client_retry_ms``, ``client_deadline_ms``,
    ``check_invariants``, ``record_trace``, ``kv``, ``record_leases``, ``record_events``,
    ``view_frames`` (keep the live view's last N frames: :meth:`view_recording`,
    :mod:`etcdlab.view`).

    With ``kv=True`` every node runs the server's node (``KvNode``: the request tracking and
    answers, the apply and the MVCC store of ``etcdlab`` itself, in memory, and etcd's
    membership rules) instead of the plain log, and the cluster takes :meth:`put`, :meth:`get`,
    :meth:`range`, :meth:`delete_range` and :meth:`compact`; their answers are what the JSON
    gateway would answer and carry store revisions, so :attr:`history` feeds
    ``checkers.check_revisions`` and ``checkers.KVRevision``. A KV client never re-sends a
    request a node took (``client_retry_ms`` does not apply): it waits for that node's answer,
    and tries another node only when one refused it (no leader).

    A KV cluster has leases too (:meth:`lease_grant`, :meth:`lease_keepalive`,
    :meth:`lease_revoke`, :meth:`lease_time_to_live`, :meth:`leases`, ``put(lease=)``;
    ``nodes[i].leases``); with ``record_leases=True`` it records every change of every
    member's leases (:attr:`lease_changes`) for ``checkers.check_leases``.

    And watches (:meth:`watch`: a stream to one member, :class:`etcdlab.cluster_watches.Watch`);
    with ``record_events=True`` it records every write committed (:attr:`store_events`, read
    from the members' stores as they grow) for ``checkers.check_watches``.
    """

    def __init__(self, n: int = 5, seed: int = 1, *, pre_vote: bool = True,
                 check_quorum: bool = True, election_ticks: int = 10, heartbeat_ticks: int = 1,
                 tick_ms: float = 100, max_append_bytes: int = 64 << 10, max_inflight: int = 64,
                 initial_voters: Optional[int] = None, snapshot_every: int = 0,
                 linearizable_reads: bool = True, fsync_ms: tuple = (0.2, 2),
                 delay_ms: tuple = (1, 5), drop: float = 0.0, duplicate: float = 0.0,
                 reorder: float = 0.0, reorder_max_ms: float = 2000,
                 client_retry_ms: float = 1000, client_deadline_ms: float = 10000,
                 check_invariants: bool = True, record_trace: bool = False, kv: bool = False,
                 record_leases: bool = False, record_events: bool = False,
                 view_frames: int = 0):
        o = _core.ClusterOptions()
        o.nodes = n
        o.seed = seed
        o.pre_vote = pre_vote
        o.check_quorum = check_quorum
        o.election_ticks = election_ticks
        o.heartbeat_ticks = heartbeat_ticks
        o.tick_ms = tick_ms
        o.max_append_bytes = max_append_bytes
        o.max_inflight = max_inflight
        o.initial_voters = -1 if initial_voters is None else initial_voters
        o.snapshot_every = snapshot_every
        o.linearizable_reads = linearizable_reads
        o.fsync_min_ms, o.fsync_max_ms = _pair(fsync_ms, "fsync_ms")
        o.network = self._network(delay_ms, drop, duplicate, reorder, reorder_max_ms)
        o.client_retry_ms = client_retry_ms
        o.client_deadline_ms = client_deadline_ms
        o.check_invariants = check_invariants
        o.record_trace = record_trace
        o.view_frames = view_frames
        o.kv = kv
        self.kv = kv
        self.seed = seed
        self.tick_ms = tick_ms
        self._core = _core.Cluster(o)
        self.nodes = [Node(self, i) for i in range(n)]
        self._ops: list[Op] = []
        self._kv_ops: dict[int, tuple] = {}  # op id -> (kind, input) for KV operations
        for flag, what in ((record_leases, "record_leases"), (record_events, "record_events")):
            if flag and not kv:
                raise ValueError(f"{what} needs a KV cluster: etcdlab.Cluster(..., kv=True, "
                                 f"{what}=True)")
        # Recorders look at the members after every event (run, run_until, step, tick).
        self._lease_recorder = LeaseRecorder(self) if record_leases else None
        self._init_watches(record_events)
        self._observers = [r.observe for r in (self._lease_recorder, self._event_recorder)
                           if r is not None]

    @staticmethod
    def _network(delay_ms, drop, duplicate, reorder, reorder_max_ms):
        net = _core.NetworkOptions()
        net.delay_min_ms, net.delay_max_ms = _pair(delay_ms, "delay_ms")
        net.drop = drop
        net.duplicate = duplicate
        net.reorder = reorder
        net.reorder_max_ms = reorder_max_ms
        return net

    def __len__(self) -> int:
        return len(self.nodes)

    # ---- time
    @property
    def now_ms(self) -> float:
        return self._core.now_ms()

    @property
    def events(self) -> int:
        return self._core.events()

    def _observe(self) -> bool:
        for observe in self._observers:
            observe()
        return False

    def run(self, ms: float) -> None:
        """Lets ``ms`` virtual milliseconds pass (``ms >= 0``)."""
        if not self._observers:
            self._core.run_ms(ms)
            return
        if not (isinstance(ms, (int, float)) and math.isfinite(ms) and ms >= 0):
            self._core.run_ms(ms)  # raises the simulator's own message, changes nothing
        self._core.run_until(self._observe, ms)  # the same events run_ms would process

    def run_until(self, predicate: Callable[[], bool], timeout_ms: float) -> bool:
        """Runs until ``predicate()`` holds (checked after every event) or ``timeout_ms`` pass."""
        if not callable(predicate):
            raise TypeError(f"run_until takes a function of no arguments, e.g. "
                            f"lambda: c.leader() is not None, not {predicate!r}")
        if not self._observers:
            return self._core.run_until(predicate, timeout_ms)
        return self._core.run_until(lambda: self._observe() or predicate(), timeout_ms)

    def tick(self) -> None:
        """Lets one tick interval pass (every node ticks once)."""
        self.run(self.tick_ms)

    def step(self) -> None:
        """Processes the next event."""
        self._core.step()
        self._observe()

    # ---- faults
    def partition(self, groups: Sequence[Iterable[int]]) -> None:
        """Nodes talk only within their group (nodes in no group are isolated); a node may be
        in one group only."""
        try:
            lists = [list(g) for g in groups]
        except TypeError:
            raise TypeError(f"partition takes groups of node indexes, e.g. [[0, 1], [2, 3, 4]], "
                            f"not {groups!r}") from None
        self._core.partition(lists)

    def heal(self) -> None:
        """Ends partitions, isolations and cuts (``network()`` settings stay)."""
        self._core.heal()

    def isolate(self, node: int) -> None:
        self._core.isolate(node)

    def cut(self, a: int, b: int, one_way: bool = False) -> None:
        """Cuts a -> b, and b -> a unless ``one_way``."""
        self._core.cut(a, b, one_way)

    def network(self, *, drop: float = 0.0, duplicate: float = 0.0, delay_ms: tuple = (1, 5),
                reorder: float = 0.0, reorder_max_ms: float = 2000) -> None:
        """Sets loss, duplication, delay and reordering for every link until changed."""
        self._core.set_network(self._network(delay_ms, drop, duplicate, reorder, reorder_max_ms))

    def crash(self, node: int, mode: str = "any") -> None:
        """The node loses its memory and, as ``mode`` says, its disk's unsynced bytes:
        "drop_unsynced", "random_prefix", "torn_write" or "any"."""
        if not isinstance(mode, str):
            raise TypeError(f"crash mode is one of {', '.join(_CRASH_MODES)}, not {mode!r}")
        if mode not in _CRASH_MODES:
            raise ValueError(f"unknown crash mode {mode!r}: one of {', '.join(_CRASH_MODES)}")
        self._core.crash(node, _core.CrashMode.__members__[mode])

    def restart(self, node: int) -> None:
        self._core.restart(node)

    # ---- clients
    def _op(self, op_id: int) -> Op:
        op = Op(self, op_id)
        self._ops.append(op)
        return op

    def propose(self, data: bytes, via: Optional[int] = None) -> Op:
        """A command for the log, through node ``via`` (or whichever node the client finds)."""
        self._not_kv("propose", "put/delete_range")
        return self._op(self._core.propose(_b(data, "data"), via))

    def read(self, via: Optional[int] = None) -> Op:
        """A linearizable read (ReadIndex) of the number of commands applied."""
        self._not_kv("read", "get/range")
        return self._op(self._core.read(via))

    def add_voter(self, node: int) -> Op:
        return self._op(self._core.add_voter(node))

    def add_learner(self, node: int) -> Op:
        return self._op(self._core.add_learner(node))

    def remove_node(self, node: int) -> Op:
        return self._op(self._core.remove_node(node))

    def transfer_leader(self, to: int) -> Op:
        return self._op(self._core.transfer_leader(to))

    # ---- observation
    def leader(self) -> Optional[int]:
        """The index of the up node that is leader in the highest term, or None."""
        return self._core.leader()

    @property
    def role_changes(self) -> list[RoleChange]:
        """Every change of term, role or leader, in order, as :class:`etcdlab.RoleChange`
        (time_ms, node, term, role, leader)."""
        return [RoleChange(rc.time_ms, rc.node, rc.term, Role(rc.role.name), rc.leader)
                for rc in self._core.role_changes()]

    @property
    def trace(self) -> list:
        """Every event (only with ``record_trace=True``): seq, time_ms (and time_us), node,
        kind, text; ``str(event)`` reads it."""
        return self._core.trace()

    def recent_events(self) -> str:
        """The last events of every node, as failure reports print them."""
        return self._core.recent_events()

    def trace_hash(self) -> str:
        """A hash of the run: one seed and schedule, one hash."""
        return self._core.trace_hash()

    @property
    def history(self) -> list[HistoryOperation]:
        """Client writes and reads as the checkers read them (membership changes and transfers
        left out). Each operation is its own client: they may overlap freely.

        On a KV cluster: single-key ``put``, ``get`` and ``delete`` with their revisions, in
        the shapes ``checkers.KVRevision`` and ``checkers.check_revisions`` read (ranges,
        multi-key deletes and compactions are left out; an answer with an error counts as
        failed: it changed nothing); and the lease operations (``lease_grant`` {"ID", "TTL"}
        -> {"ID", "TTL", "revision"}, ``lease_revoke`` {"ID"} -> {"revision"},
        ``lease_keepalive`` {"ID"} -> {"TTL"} (0: gone), ``lease_time_to_live``, ``leases``),
        a put with a lease carrying it as input "lease": ``checkers.check_leases`` reads them.
        The KV models refuse a history with leases: an expiry deletes keys that no operation
        of the history deletes."""
        if self.kv:
            return self._kv_history()
        out = []
        for op in self._core.history():
            kind = _KIND_NAMES[op.kind]
            if kind not in ("write", "read"):
                continue
            outcome = op.outcome.name
            if outcome == "pending":
                outcome = "unknown"
            output = None
            if kind == "read" and op.outcome == _core.Outcome.ok:
                output = int(op.output)
            out.append(HistoryOperation(
                client=op.id, kind=kind, input=op.input, output=output,
                call=_ms(op.call_us), ret=_ms(op.return_us), outcome=outcome, id=op.id))
        return out

    def check_invariants(self) -> None:
        """Runs the checks that are not incremental (every pair of logs, equal states on
        caught-up nodes). Raises :class:`etcdlab.InvariantViolation`."""
        self._core.check_invariants()

    def __repr__(self) -> str:
        return f"Cluster(n={len(self.nodes)}, seed={self.seed}, t={self.now_ms:.1f} ms)"
