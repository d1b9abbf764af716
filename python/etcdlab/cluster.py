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
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional, Sequence

from . import _core
from .checkers.history import Operation as HistoryOperation

__all__ = ["Cluster", "Op", "Node", "NEVER_MS"]

NEVER_MS = float("inf")

_KIND_NAMES = {
    _core.Operation.Kind.propose: "write",
    _core.Operation.Kind.read: "read",
    _core.Operation.Kind.conf_change: "conf_change",
    _core.Operation.Kind.transfer: "transfer",
}


def _ms(us: int) -> float:
    return NEVER_MS if us == _core.NEVER else us / 1000.0


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
        """What a read returned (the number of commands applied), else None."""
        op = self._op
        if op.kind == _core.Operation.Kind.read and op.outcome == _core.Outcome.ok:
            return int(op.output)
        return None

    @property
    def kind(self) -> str:
        return _KIND_NAMES[self._op.kind]

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
    def role(self) -> str:
        """"follower", "pre_candidate", "candidate" or "leader"."""
        return self._view.role.name

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
    def log(self) -> list:
        """The persisted log after the snapshot: entries with index, term, type and data."""
        return self._cluster._core.log(self.index)

    def __repr__(self) -> str:
        v = self._view
        state = "up" if v.up else "down"
        return (f"Node({self.index}, {state}, term={v.term}, {v.role.name}, commit={v.commit}, "
                f"applied={v.applied}, last_index={v.last_index})")


class Cluster:
    """A simulated cluster of ``n`` Raft nodes, numbered ``0 .. n-1``.

    Options (all keyword): ``seed``, ``pre_vote``, ``check_quorum``, ``election_ticks``,
    ``heartbeat_ticks``, ``tick_ms`` (virtual ms per tick, 100 by default),
    ``max_append_bytes``, ``max_inflight``, ``initial_voters`` (the first k nodes form the
    cluster; the rest join by :meth:`add_voter`), ``snapshot_every`` (entries between snapshots,
    0 = never), ``linearizable_reads`` (False answers reads from local state: stale reads become
    possible, which is what ReadIndex prevents), ``fsync_ms=(lo, hi)``, ``delay_ms=(lo, hi)``,
    ``drop``, ``duplicate``, ``reorder``, ``client_retry_ms``, ``client_deadline_ms``,
    ``check_invariants``, ``record_trace``.
    """

    def __init__(self, n: int = 5, seed: int = 1, *, pre_vote: bool = True,
                 check_quorum: bool = True, election_ticks: int = 10, heartbeat_ticks: int = 1,
                 tick_ms: float = 100, max_append_bytes: int = 64 << 10, max_inflight: int = 64,
                 initial_voters: Optional[int] = None, snapshot_every: int = 0,
                 linearizable_reads: bool = True, fsync_ms: tuple = (0.2, 2),
                 delay_ms: tuple = (1, 5), drop: float = 0.0, duplicate: float = 0.0,
                 reorder: float = 0.0, reorder_max_ms: float = 2000,
                 client_retry_ms: float = 1000, client_deadline_ms: float = 10000,
                 check_invariants: bool = True, record_trace: bool = False):
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
        o.fsync_min_ms, o.fsync_max_ms = fsync_ms
        o.network = self._network(delay_ms, drop, duplicate, reorder, reorder_max_ms)
        o.client_retry_ms = client_retry_ms
        o.client_deadline_ms = client_deadline_ms
        o.check_invariants = check_invariants
        o.record_trace = record_trace
        self.seed = seed
        self.tick_ms = tick_ms
        self._core = _core.Cluster(o)
        self.nodes = [Node(self, i) for i in range(n)]
        self._ops: list[Op] = []

    @staticmethod
    def _network(delay_ms, drop, duplicate, reorder, reorder_max_ms):
        net = _core.NetworkOptions()
        net.delay_min_ms, net.delay_max_ms = delay_ms
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

    def run(self, ms: float) -> None:
        """Lets ``ms`` virtual milliseconds pass."""
        self._core.run_ms(ms)

    def run_until(self, predicate: Callable[[], bool], timeout_ms: float) -> bool:
        """Runs until ``predicate()`` holds (checked after every event) or ``timeout_ms`` pass."""
        return self._core.run_until(predicate, timeout_ms)

    def tick(self) -> None:
        """Lets one tick interval pass (every node ticks once)."""
        self._core.run_ms(self.tick_ms)

    def step(self) -> None:
        """Processes the next event."""
        self._core.step()

    # ---- faults
    def partition(self, groups: Sequence[Iterable[int]]) -> None:
        """Nodes talk only within their group (nodes in no group are isolated)."""
        self._core.partition([list(g) for g in groups])

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
        self._core.crash(node, getattr(_core.CrashMode, mode))

    def restart(self, node: int) -> None:
        self._core.restart(node)

    # ---- clients
    def _op(self, op_id: int) -> Op:
        op = Op(self, op_id)
        self._ops.append(op)
        return op

    def propose(self, data: bytes, via: Optional[int] = None) -> Op:
        """A command for the log, through node ``via`` (or whichever node the client finds)."""
        if isinstance(data, str):
            data = data.encode()
        return self._op(self._core.propose(data, via))

    def read(self, via: Optional[int] = None) -> Op:
        """A linearizable read (ReadIndex) of the number of commands applied."""
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
    def role_changes(self) -> list:
        """Every change of term, role or leader: (time_us, node, term, role, leader)."""
        return self._core.role_changes()

    @property
    def trace(self) -> list:
        """Every event (only with ``record_trace=True``); ``str(event)`` reads it."""
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
        left out). Each operation is its own client: they may overlap freely."""
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
