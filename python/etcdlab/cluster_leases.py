"""Leases on a simulated KV cluster (``etcdlab.Cluster(kv=True)``): the client calls, what each
member's lessor holds, and a record of when members gain and lose leases.

The calls go through the server's node (``KvNode``, with the lessor of lab 4) as the JSON
gateway's would: a grant and a revoke are proposals through the log; a keep-alive and a
time-to-live question run on the leader's clock (a follower forwards them to the leader over
the simulated network); the lease list is answered by the node asked, from what it applied.
Expiry is the leader's decision, carried out as a revoke through the log. Each call returns an
``Op`` at once, whose ``result`` is the gateway's answer (``ID``, ``TTL``, ``grantedTTL``,
``keys``, ``leases``, or ``error``) once it is ok.

``Cluster(kv=True, record_leases=True)`` looks at every member's leases after every event and
records each change (:class:`~etcdlab.views.LeaseChange`); ``checkers.check_leases`` reads
that record with the history (``Cluster.lease_observations``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from . import _core
from .views import LeaseChange, LeaseView

if TYPE_CHECKING:
    from .cluster import Op

__all__ = ["LeaseCalls", "LeaseRecorder", "LEASE_KINDS", "ANSWERED_AS_WRITES"]

LEASE_KINDS = ("lease_grant", "lease_revoke", "lease_keepalive", "lease_time_to_live", "leases")
# Lease questions the simulator carries as reads, whose answers are shaped as writes' are
# (kv_outputs.h): Op.result decodes them so.
ANSWERED_AS_WRITES = frozenset({"lease_keepalive", "lease_time_to_live", "leases"})


def int64(value, what: str, minimum: int = -2**63) -> int:
    """``value`` checked as an int in [minimum, 2**63) (bools refused: True is not a lease)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} is an int, not {value!r}")
    if not minimum <= value < 2**63:
        low = "-2**63" if minimum == -2**63 else str(minimum)
        raise ValueError(f"{what} must be in [{low}, 2**63), not {value}")
    return value


def lease_value(kind: str, result: dict):
    """What ``Op.value`` says for a lease operation's answer: the granted ID; a keep-alive's
    TTL (None when the lease is gone, which etcd does not treat as an error); the TTL left
    (-1 when gone); the list of ids; None for a revoke or an error."""
    if "error" in result:
        return None
    if kind == "lease_grant":
        return result["ID"]
    if kind == "lease_keepalive":
        return result.get("TTL") or None
    if kind == "lease_time_to_live":
        return result["TTL"]
    if kind == "leases":
        return [lease["ID"] for lease in result["leases"]]
    return None


def lease_history_entry(kind: str, args: dict, answer: Optional[dict]):
    """(input, output) of a lease operation in ``Cluster.history``; output None unless ok."""
    if answer is None:
        return dict(args), None
    revision = answer["header"]["revision"]
    if kind == "lease_grant":
        return dict(args), {"ID": answer["ID"], "TTL": answer["TTL"], "revision": revision}
    if kind == "lease_revoke":
        return dict(args), {"revision": revision}
    if kind == "lease_keepalive":
        return dict(args), {"TTL": answer.get("TTL", 0)}
    if kind == "lease_time_to_live":
        return dict(args), {"TTL": answer["TTL"], "grantedTTL": answer.get("grantedTTL")}
    return dict(args), {"leases": [lease["ID"] for lease in answer["leases"]]}


class LeaseCalls:
    """The lease calls of :class:`etcdlab.Cluster` (a mixin: it uses the cluster's
    ``_core``, ``_need_kv`` and ``_kv_op``). ``via`` is the node to ask (default: whichever
    node the client finds); lease ids are etcd's signed 64-bit ints, TTLs seconds."""

    def lease_grant(self, ttl_s: int, lease_id: int = 0, *, via: Optional[int] = None) -> "Op":
        """Grants a lease of ``ttl_s`` seconds (raised to the minimum, ceil(1.5 election
        timeouts): 2 s with the default 10 ticks of 100 ms); ``lease_id`` 0 lets the node pick
        the id. ``op.value`` is the id; errors: "etcdserver: lease already exists",
        "etcdserver: too large lease TTL"."""
        self._need_kv("lease_grant")
        ttl_s = int64(ttl_s, "ttl_s (seconds)", minimum=0)
        lease_id = int64(lease_id, "lease_id")
        data = _core.kv_lease_grant_request(lease_id, ttl_s)
        return self._kv_op("lease_grant", {"ID": lease_id, "TTL": ttl_s},
                           self._core.propose(data, via))

    def lease_revoke(self, lease_id: int, *, via: Optional[int] = None) -> "Op":
        """Revokes the lease: its keys are deleted, all at one revision. An unknown lease
        answers "etcdserver: requested lease not found"."""
        self._need_kv("lease_revoke")
        data = _core.kv_lease_revoke_request(int64(lease_id, "lease_id"))
        return self._kv_op("lease_revoke", {"ID": lease_id}, self._core.propose(data, via))

    def lease_keepalive(self, lease_id: int, *, via: Optional[int] = None) -> "Op":
        """One keep-alive: the leader starts the lease's TTL again. ``op.value`` is the TTL, or
        None when the lease is gone (unknown, expired or revoked)."""
        self._need_kv("lease_keepalive")
        query = _core.kv_keepalive_query(int64(lease_id, "lease_id"))
        return self._kv_op("lease_keepalive", {"ID": lease_id}, self._core.read(via, query))

    def lease_time_to_live(self, lease_id: int, *, keys: bool = False,
                           via: Optional[int] = None) -> "Op":
        """How long the lease has left as the leader's clock says (``TTL``, whole seconds
        rounded down, -1 when gone; ``op.value``), its ``grantedTTL``, and with ``keys`` its
        keys."""
        self._need_kv("lease_time_to_live")
        if not isinstance(keys, bool):
            raise TypeError(f"keys is a bool, not {keys!r}")
        query = _core.kv_time_to_live_query(int64(lease_id, "lease_id"), keys)
        return self._kv_op("lease_time_to_live", {"ID": lease_id},
                           self._core.read(via, query))

    def leases(self, *, via: Optional[int] = None) -> "Op":
        """The leases the node asked has applied; ``op.value`` is their ids, ascending."""
        self._need_kv("leases")
        return self._kv_op("leases", {}, self._core.read(via, _core.kv_leases_query()))

    # ---- what the members hold
    @property
    def lease_changes(self) -> list[LeaseChange]:
        """Every time a member gained or lost a lease, in order (``record_leases=True``)."""
        return list(self._recorder().changes)

    def lease_observations(self) -> dict:
        """What ``checkers.check_leases`` reads beside the history: ``time_ms`` (now),
        ``changes`` (each ``(time_ms, node, lease, held)``), and per up node ``members[i]``
        its ``leases`` (ids) and ``events`` (every write its store holds: ``(revision, "put" |
        "delete", key, lease)``). Let the cluster settle first (every member caught up), or
        the members will rightly disagree."""
        recorder = self._recorder()
        members = {}
        for i in range(len(self.nodes)):
            ids = self._core.kv_lease_ids(i)
            if ids is not None:
                members[i] = {"leases": ids, "events": self._core.kv_events(i)}
        changes = [(ch.time_ms, ch.node, ch.lease, ch.held) for ch in recorder.changes]
        return {"time_ms": self.now_ms, "changes": changes, "members": members}

    def _recorder(self) -> "LeaseRecorder":
        if self._lease_recorder is None:
            raise TypeError("lease changes are recorded by Cluster(..., kv=True, "
                            "record_leases=True)")
        return self._lease_recorder


def member_leases(core, index: int) -> dict[int, LeaseView]:
    """Node ``index``'s leases as its lessor holds them ({} while it is down)."""
    held = core.kv_leases(index, True)
    if held is None:
        return {}
    return {d["ID"]: LeaseView(d["ID"], d["TTL"], d["grantedTTL"], tuple(d["keys"]))
            for d in held["leases"]}


class LeaseRecorder:
    """Looks at every member's leases after every event (the cluster calls ``observe``) and
    records what changed. A member that is down holds nothing and records nothing; back up, it
    starts from what it holds then."""

    def __init__(self, cluster):
        self._cluster = cluster
        self._held: list[Optional[frozenset]] = [None] * len(cluster.nodes)
        self.changes: list[LeaseChange] = []

    def observe(self) -> bool:
        core = self._cluster._core
        for i, before in enumerate(self._held):
            ids = core.kv_lease_ids(i)
            now = None if ids is None else frozenset(ids)
            if before is not None and now is not None and now != before:
                t = core.now_ms()
                self.changes += [LeaseChange(t, i, lease, False) for lease in sorted(before - now)]
                self.changes += [LeaseChange(t, i, lease, True) for lease in sorted(now - before)]
            self._held[i] = now
        return False
