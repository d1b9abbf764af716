"""The load a nemesis run puts on a real cluster, and what it checks once everything is healed.

Load: several client threads, each through its own member first (then the others), doing a
seeded mix on a few keys: puts, deletes, linearizable and serializable gets, and compare-and-swap
txns. Every operation is recorded for etcdlab.checkers.check_txns (the revision-witness check of
strict serializability; serializable reads are judged at their own revision). A put, delete or
txn that may or may not have applied is "unknown" and its thread goes on under a new client id,
as a Jepsen process does; a read that failed tells nothing and is recorded as failed.

Checks at the end (after heal and convergence):
- every member serves the same event history (a watch from the first revision, read to the
  last one on each member), and every acknowledged write is in it at its revision: a put's key
  and value, a delete's tombstone, a txn's puts (``lost`` counts those that are not);
- every member's /v3/maintenance/hash (KV content, revision, compaction) is the same at the
  same revision.
The run's figures and verdicts are a :class:`Report`.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import txn as t
from .checkers import Operation
from .client import Client, EtcdError, recorded_put

__all__ = ["Workload", "Report", "history_of", "lost_writes", "wait_converged", "hashes",
           "unavailability", "summarize"]

PREFIX = "nem/"


class Workload:
    """``clients`` threads on ``keys`` keys, started by :meth:`start`, ended by :meth:`stop`;
    ``history`` holds the recorded operations (ids in order of recording)."""

    def __init__(self, cluster, seed: int, clients: int = 4, keys: int = 6,
                 timeout: float = 3.0):
        self.cluster = cluster
        self.seed = seed
        self.clients = clients
        self.keys = [f"{PREFIX}k{i}" for i in range(keys)]
        self.timeout = timeout
        self.history: list[Operation] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for k in range(self.clients):
            th = threading.Thread(target=self._run, args=(k,), name=f"load-{k}", daemon=True)
            self._threads.append(th)
            th.start()

    def stop(self) -> None:
        self._stop.set()
        for th in self._threads:
            th.join(self.timeout * 3 + 10)

    def _client(self, k: int) -> Client:
        """Member k first (modulo the members now), then the others: clients reach the
        cluster through different members, and fail over when theirs is gone."""
        try:
            eps = list(self.cluster.endpoints)
        except RuntimeError:  # the member set changed under us: use what we had
            eps = [self.cluster.endpoint(0)]
        first = k % len(eps)
        return Client(eps[first:] + eps[:first], timeout=self.timeout)

    def _record(self, op: Operation) -> None:
        with self._lock:
            op.id = len(self.history)
            self.history.append(op)

    def _run(self, k: int) -> None:
        rng = random.Random(self.seed * 1000 + k)
        client, n, incarnation = self._client(k), 0, 0
        who = f"c{k}"
        while not self._stop.is_set():
            if n % 50 == 49:  # pick up members added or removed since
                client.close()
                client = self._client(k)
            key = rng.choice(self.keys)
            value = f"c{k}-{n}"
            r = rng.random()
            if r < 0.35:
                op = recorded_put(client, who, key, value)
            elif r < 0.45:
                op = _recorded_delete(client, who, key)
            elif r < 0.65:
                op = _recorded_get(client, who, key, serializable=False)
            elif r < 0.75:
                op = _recorded_get(client, who, key, serializable=True)
            else:
                op = _recorded_cas(client, who, key, value, rng)
            self._record(op)
            if op.outcome == "unknown":
                incarnation += 1
                who = f"c{k}.{incarnation}"
            if op.outcome != "ok":
                # A failed request (no leader, refused): a short pause, not a spin (the run's
                # whole point is that members are often unavailable).
                self._stop.wait(0.05)
            n += 1
        client.close()


def _kv_value(kv: dict) -> str:
    v = kv.get("value", b"")
    return v.decode() if isinstance(v, bytes) else str(v)


def _recorded_delete(client: Client, who: Any, key: str) -> Operation:
    call = time.monotonic()
    try:
        a = client.delete(key)
        return Operation(client=who, kind="delete", input={"key": key},
                         output={"deleted": a.get("deleted", 0),
                                 "revision": a["header"]["revision"]},
                         call=call, ret=time.monotonic(), outcome="ok")
    except EtcdError as e:
        unknown = e.indeterminate
        return Operation(client=who, kind="delete", input={"key": key}, output=None, call=call,
                         ret=None if unknown else time.monotonic(),
                         outcome="unknown" if unknown else "failed")


def _recorded_get(client: Client, who: Any, key: str, serializable: bool) -> Operation:
    call = time.monotonic()
    inp = {"key": key, "serializable": True} if serializable else {"key": key}
    try:
        a = client.get(key, serializable=serializable)
    except EtcdError:
        return Operation(client=who, kind="get", input=inp, output=None, call=call,
                         ret=time.monotonic(), outcome="failed")
    kvs = a.get("kvs") or []
    out: dict = {"value": None, "revision": a["header"]["revision"]}
    if kvs:
        kv = kvs[0]
        out.update(value=_kv_value(kv), mod_revision=kv["mod_revision"],
                   create_revision=kv["create_revision"], version=kv["version"])
    return Operation(client=who, kind="get", input=inp, output=out, call=call,
                     ret=time.monotonic(), outcome="ok")


def _recorded_cas(client: Client, who: Any, key: str, value: str, rng: random.Random):
    """If the key still has the mod revision a read just saw, put a new value, else read it:
    the txn whose branch depends on what others did in between."""
    try:
        kvs = client.get(key, serializable=rng.random() < 0.5).get("kvs") or []
        mod = kvs[0]["mod_revision"] if kvs else 0
    except EtcdError:
        mod = 0
    from .txn import recorded_txn
    return recorded_txn(client, who, [t.mod(key) == mod], [t.put(key, value)], [t.get(key)])


# ---- after the run

def history_of(endpoint: str, until: int, idle_s: float = 30.0) -> list[tuple]:
    """The member's events on the load's keys from the first revision to `until`:
    (revision, type, key, value), read from a watch on that member alone (given up after
    `idle_s` seconds without an answer)."""
    c = Client([endpoint], timeout=idle_s)
    events: list[tuple] = []
    try:
        with c.watch(PREFIX, prefix=True, start_revision=1, resume=False) as w:
            last = 0
            while last < until:
                resp = w.next(idle_s)
                if resp is None:
                    break
                for e in resp.get("events", []):
                    kv = e["kv"]
                    events.append((kv["mod_revision"], e.get("type", "PUT"),
                                   kv["key"].decode(), _kv_value(kv)))
                    last = max(last, kv["mod_revision"])
    finally:
        c.close()
    return events


def lost_writes(history: list[Operation], events: list[tuple]) -> list[str]:
    """Acknowledged writes the committed history does not hold at their revision."""
    at: dict[tuple[int, str], tuple] = {(rev, key): (typ, val) for rev, typ, key, val in events}
    lost = []
    for op in history:
        if op.outcome != "ok":
            continue
        if op.kind == "put":
            want = ("PUT", op.input["value"])
            got = at.get((op.output["revision"], op.input["key"]))
            if got != want:
                lost.append(f"{op.describe()}: the history has {got} at its revision")
        elif op.kind == "delete" and op.output["deleted"]:
            got = at.get((op.output["revision"], op.input["key"]))
            if got is None or got[0] != "DELETE":
                lost.append(f"{op.describe()}: the history has {got} at its revision")
        elif op.kind == "txn" and op.output["succeeded"]:
            put = op.input["success"][0]["put"]
            got = at.get((op.output["revision"], put["key"]))
            if got != ("PUT", put["value"]):
                lost.append(f"{op.describe()}: the history has {got} at its revision")
    return lost


def wait_converged(cluster, timeout: float = 60.0) -> int:
    """Polls until every member (running, not removed) serves the same revision as a
    linearizable read; returns it. TimeoutError names the members behind."""
    deadline = time.monotonic() + timeout
    behind: dict = {}
    while time.monotonic() < deadline:
        c = cluster.client(timeout=2.0)
        try:
            target = c.get(PREFIX, prefix=True, count_only=True)["header"]["revision"]
        except EtcdError:
            time.sleep(0.2)
            continue
        finally:
            c.close()
        behind = {}
        for i in cluster.members:
            ci = cluster.client([i], timeout=2.0)
            try:
                rev = ci.get(PREFIX, prefix=True, count_only=True,
                             serializable=True)["header"]["revision"]
            except EtcdError as e:
                rev = f"error {e}"
            finally:
                ci.close()
            if rev != target:
                behind[i] = rev
        if not behind:
            return target
        time.sleep(0.2)
    raise TimeoutError(f"members not at the cluster's revision after {timeout} s: {behind}; "
                       f"logs in {cluster.data_dir}")


def hashes(cluster) -> dict[int, int]:
    out = {}
    for i in cluster.members:
        c = cluster.client([i], timeout=5.0)
        try:
            out[i] = c.hash(cluster.endpoint(i))
        finally:
            c.close()
    return out


def unavailability(history: list[Operation]) -> float:
    """The longest time (s) between two acknowledged writes: how long the cluster could not
    take one (the load writes all the time, so a long gap is a fault's doing)."""
    rets = sorted(op.ret for op in history
                  if op.outcome == "ok" and op.kind in ("put", "delete", "txn"))
    return max((b - a for a, b in zip(rets, rets[1:])), default=0.0)


def summarize(history: list[Operation]) -> dict[str, Any]:
    by: dict[str, int] = {}
    for op in history:
        by[op.outcome] = by.get(op.outcome, 0) + 1
        by[f"{op.kind} {op.outcome}"] = by.get(f"{op.kind} {op.outcome}", 0) + 1
    return {"operations": len(history), **dict(sorted(by.items()))}


@dataclass
class Report:
    seed: int
    seconds: float
    operations: dict
    faults: Counter
    membership: Counter
    verdict: str
    explain: str
    lost: list
    hashes: dict
    leader_changes: int
    max_term: int
    unavailable_s: float
    snapshots: tuple = (0, 0, 0)
    stopped: Counter = field(default_factory=Counter)
    timeline: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict == "ok" and not self.lost and len(set(self.hashes.values())) == 1

    def table(self) -> str:
        ops = self.operations
        rows = [("seed", self.seed), ("seconds", f"{self.seconds:.0f}"),
                ("operations", ops["operations"]),
                ("ok / failed / unknown", f"{ops.get('ok', 0)} / {ops.get('failed', 0)} / "
                                          f"{ops.get('unknown', 0)}")]
        rows += [(f"  {k}", v) for k, v in ops.items() if " " in k]
        rows += [(f"fault {k}", v) for k, v in sorted(self.faults.items())]
        rows += [(f"membership {k}", v) for k, v in sorted(self.membership.items())]
        rows += [(f"members that stopped by themselves (exit {k}), restarted", v)
                 for k, v in sorted(self.stopped.items())]
        rows += [("linearizability (check_txns)", self.verdict),
                 ("lost acknowledged writes", len(self.lost)),
                 ("hashes", " ".join(f"{i}:{h:08x}" for i, h in sorted(self.hashes.items()))),
                 ("equal hashes", len(set(self.hashes.values())) == 1),
                 ("leader changes (terms with a leader - 1)", self.leader_changes),
                 ("highest term", self.max_term),
                 ("snapshots sent / dropped whole / truncated by the proxies",
                  " / ".join(map(str, self.snapshots))),
                 ("longest time without an acknowledged write (s)", f"{self.unavailable_s:.1f}")]
        width = max(len(str(k)) for k, _ in rows)
        lines = [f"{str(k):<{width}}  {v}" for k, v in rows]
        if not self.passed:
            lines += ["", self.explain] + self.lost[:10]
        return "\n".join(lines)
