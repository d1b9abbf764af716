"""The lease checker: what a run did with leases, against what etcd promises about them.

Two inputs. The **history**: client operations (``Cluster.history`` of a KV cluster) of kinds
``lease_grant`` (input ``{"ID", "TTL"}``, output ``{"ID", "TTL", "revision"}``),
``lease_keepalive`` (``{"ID"}`` -> ``{"TTL"}``, 0 when the lease was gone), ``lease_revoke``
(``{"ID"}`` -> ``{"revision"}``), ``delete`` (``{"key"}`` -> ``{"deleted", "revision"}``) and
``put`` (input ``"lease"`` when it attached the key to one); other kinds are ignored. The
**observations** (``Cluster.lease_observations()``, recorded with ``record_leases=True``):

    {"time_ms": t,                        # when the members were looked at last
     "changes": [(time_ms, node, lease, held), ...],   # a member gained / lost a lease
     "members": {node: {"leases": [ids], "events": [(revision, "put" | "delete", key, lease)]}}}

where ``events`` are every write the member's store holds, oldest first (none compacted).

The rules, each a kind of :class:`Violation`:

``early-expiry``
    No member loses a lease before an OK answer said it would live: a grant or keep-alive
    called at ``c`` and answered with TTL ``s`` promises the lease until ``c + s`` seconds,
    whatever the leaders do meanwhile (a new leader gives every lease its TTL again plus an
    election timeout). A loss after a client's revoke of the lease was called is excused.
``split-revoke``
    A revoke (or an expiry, which is a revoke) deletes every key attached to the lease at one
    revision: a key attached to a lease may leave it by a delete only at the revision that
    empties the lease of keys, if the lease is gone, or by a client's delete of that key.
``lost-key``
    A key attached to a lease that a member still holds is deleted by no client.
``leaked-key``
    A lease a member no longer holds left none of its keys attached on that member.
``disagreement``
    Every member looked at ends with the same leases, the same keys on each, the same
    revision. (Let the cluster settle first: a member that lags rightly differs.)
``not-expired``
    With ``idle_ms``: a lease nobody kept alive (no grant or keep-alive returned) during the
    last ``idle_ms`` before ``time_ms`` is gone from every member. Choose ``idle_ms`` longer
    than a TTL plus an election timeout plus the time the cluster took to become whole and
    elect a leader at the end of the run.

Deletes by client ``delete_range`` are not in ``Cluster.history``: a workload that checks
leases deletes leased keys one key at a time, or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Optional

from .history import INF, load_history
from .revisions import RevisionResult, Violation

__all__ = ["check_leases", "LeaseResult"]


class LeaseResult(RevisionResult):
    """The verdict of :func:`check_leases`: "ok" or "illegal" with its violations, the first
    first; ``info`` counts the operations, leases, members and changes looked at."""


def _t(ms: float) -> str:
    """A time in ms as people read it: 3719.939, not 3719.9390000000003."""
    if ms == INF or ms is None:
        return "never"
    return f"{ms:.3f}".rstrip("0").rstrip(".")


def _field(d: Any, name: str, default: Any = None) -> Any:
    return d.get(name, default) if isinstance(d, dict) else default


class _Leases:
    """What the history says about each lease."""

    def __init__(self, ops):
        self.promises: dict[int, list] = defaultdict(list)  # lease -> [(call, until, op)]
        self.revokes: dict[int, list] = defaultdict(list)   # lease -> [call] (ok or unknown)
        self.last_kept: dict[int, float] = {}               # lease -> last grant/keep-alive return
        self.deletes: dict[bytes, list] = defaultdict(list)  # key -> [revision or None]
        self.grants: dict[int, int] = defaultdict(int)      # lease -> OK grants of that id
        self.count = 0
        for op in ops:
            lease = _field(op.input, "ID")
            if op.kind in ("lease_grant", "lease_keepalive"):
                self.count += 1
                if op.kind == "lease_grant":
                    lease = _field(op.output, "ID", lease)
                    self.grants[lease] += op.outcome == "ok"
                if op.outcome != "failed":
                    self.last_kept[lease] = max(self.last_kept.get(lease, -INF), op.ret)
                ttl_s = _field(op.output, "TTL", 0) if op.outcome == "ok" else 0
                if ttl_s and ttl_s > 0:
                    self.promises[lease].append((op.call, op.call + ttl_s * 1000.0, op))
            elif op.kind == "lease_revoke":
                self.count += 1
                if op.outcome != "failed":
                    self.revokes[lease].append(op.call)
            elif op.kind == "delete" and op.outcome != "failed":
                key = _field(op.input, "key")
                rev = _field(op.output, "revision") if op.outcome == "ok" else None
                self.deletes[key].append(rev)

    def revoked_by_client(self, lease: int, t: float) -> bool:
        return any(call <= t for call in self.revokes.get(lease, ()))

    def deleted_by_client(self, key: bytes, revision: int) -> bool:
        return any(rev is None or rev == revision for rev in self.deletes.get(key, ()))


def _early_expiries(leases: _Leases, changes) -> Iterable[Violation]:
    for t, node, lease, held in changes:
        if held or leases.revoked_by_client(lease, t):
            continue
        broken = [(until, call, op) for call, until, op in leases.promises.get(lease, ())
                  if call <= t < until]
        if broken:
            until, call, op = max(broken, key=lambda b: b[0])
            yield Violation(
                "early-expiry",
                f"member {node} lost lease {lease} at {_t(t)} ms, but {op.kind} op {op.id} "
                f"(called at {_t(call)} ms, answered TTL {_field(op.output, 'TTL')} s) promised "
                f"it until {_t(until)} ms ({_t(until - t)} ms early)",
                [op.id], [], [t, call])


def _replay(node, member: dict, leases: _Leases) -> tuple[dict, int, list]:
    """Replays a member's writes: (key -> lease of the keys present, last revision,
    violations of split-revoke and lost-key)."""
    final = set(member.get("leases", ()))
    attached: dict[bytes, int] = {}   # key -> lease, for keys with one
    present: dict[bytes, int] = {}    # key -> lease (0: none), keys present
    by_revision: dict[int, list] = defaultdict(list)
    for revision, kind, key, lease in member.get("events", ()):
        by_revision[revision].append((kind, key, lease))
    out = []
    last = 0
    for revision in sorted(by_revision):
        last = revision
        emptied: dict[int, list] = defaultdict(list)  # lease -> keys this revision deleted
        for kind, key, lease in by_revision[revision]:
            had = attached.pop(key, 0)
            if kind == "delete":
                present.pop(key, None)
                if had:
                    emptied[had].append(key)
            else:
                present[key] = lease
                if lease:
                    attached[key] = lease
        for lease, keys in emptied.items():
            still = sorted(k for k, l in attached.items() if l == lease)
            # (A lease revoked and granted again under its id is held at the end, but was not
            # when its keys went.)
            revoke = not still and (lease not in final or leases.grants.get(lease, 0) > 1)
            stray = [k for k in keys if not revoke and not leases.deleted_by_client(k, revision)]
            if not stray:
                continue
            if lease in final:
                out.append(Violation(
                    "lost-key",
                    f"member {node}: revision {revision} deleted {_keys(stray)} of lease "
                    f"{lease}, which it still holds, and no client deleted them", [],
                    [revision]))
            else:
                out.append(Violation(
                    "split-revoke",
                    f"member {node}: revision {revision} deleted {_keys(stray)} of lease "
                    f"{lease} while {_keys(still)} stayed attached to it: a revoke deletes "
                    f"all of a lease's keys at one revision", [], [revision]))
    for key, lease in sorted(attached.items()):
        if lease not in final:
            out.append(Violation(
                "leaked-key",
                f"member {node}: key {key!r} is still attached to lease {lease}, which the "
                f"member no longer holds", [], [last]))
    return present, last, out


def _keys(keys) -> str:
    return "[" + ", ".join(repr(k) for k in keys) + "]"


def check_leases(history: Any, observations: dict, *, idle_ms: Optional[float] = None,
                 max_violations: int = 100) -> LeaseResult:
    """Checks a run's leases (see the module doc): ``history`` as ``load_history`` takes it,
    ``observations`` as ``Cluster.lease_observations()`` gives them."""
    ops = load_history(history)
    leases = _Leases(ops)
    if not isinstance(observations, dict) or "members" not in observations:
        raise TypeError("observations are a dict with time_ms, changes and members, as "
                        "Cluster(kv=True, record_leases=True).lease_observations() returns")
    changes = sorted(observations.get("changes", ()), key=lambda c: c[0])
    members = {int(node): m for node, m in observations["members"].items()}
    end = observations.get("time_ms", INF)
    violations = list(_early_expiries(leases, changes))

    states = {}
    for node in sorted(members):
        present, last, found = _replay(node, members[node], leases)
        states[node] = (sorted(members[node].get("leases", ())), present, last)
        violations += found
    if states:
        first = min(states)
        for node, state in states.items():
            for what, mine, theirs in zip(("leases", "keys and their leases", "revision"),
                                          state, states[first]):
                if mine != theirs:
                    violations.append(Violation(
                        "disagreement",
                        f"member {node} ends with {what} {_short(mine)}, member {first} with "
                        f"{_short(theirs)}"))
                    break
    if idle_ms is not None:
        for lease, kept in sorted(leases.last_kept.items()):
            if kept == INF or end - kept < idle_ms:
                continue
            holders = [node for node, state in states.items() if lease in state[0]]
            if holders:
                violations.append(Violation(
                    "not-expired",
                    f"lease {lease} was last kept alive at {_t(kept)} ms, {_t(end - kept)} ms "
                    f"before the end, but members {holders} still hold it", [], [], [kept]))

    info = {"operations": len(ops), "lease operations": leases.count,
            "members": len(members), "changes": len(changes)}
    return LeaseResult("illegal" if violations else "ok", violations[:max_violations], info)


def _short(value, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
