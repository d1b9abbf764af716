"""Txns on the simulated KV cluster (etcdlab.Cluster(kv=True).txn, the server's KvNode) under
partitions, lossy networks, crashes and restarts: every history of txns (compare-and-swaps,
two-key writes, nested txns, range deletes, read-only txns) with plain puts, gets and deletes
is strictly serializable by checkers.check_txns; and the same history with one response
altered as a broken server would answer (a stale read, a compare decided on old state, a txn
applied at two revisions) is refused.

Seeds: ETCDLAB_SEED replays one; ETCDLAB_SEED_BASE picks others; ETCDLAB_LONG=1 runs 10,000."""

import copy
import random

import pytest

import etcdlab
from etcdlab import checkers
from etcdlab import txn as t
from etcdlab._convert import ms_from_us
from etcdlab.txn import TxnResult

from seeding import replay, seed_count, seeds
from sim_faults import Faults, wait_leader

KEYS = [b"a", b"b", b"c", b"d"]


# ---- etcdlab.txn's builders in the simulator's tuple form (Cluster.txn's docstring)
def _sim_compare(c: t.Compare) -> tuple:
    target = {"VALUE": "value", "VERSION": "version", "CREATE": "create", "MOD": "mod",
              "LEASE": "lease"}[c.target]
    result = {"EQUAL": "==", "NOT_EQUAL": "!=", "LESS": "<", "GREATER": ">"}[c.result]
    return (c.key, c.range_end or b"", target, result, c.operand)


def _sim_op(op: t.Op) -> tuple:
    if op.kind == "txn":
        return ("txn", [_sim_compare(c) for c in op.compare], [_sim_op(o) for o in op.success],
                [_sim_op(o) for o in op.failure])
    r = op.record
    key, end = _b(r["key"]), _b(r.get("range_end", b""))
    if op.kind == "range":
        return ("range", key, end, 0, r.get("limit", 0), False)
    if op.kind == "put":
        return ("put", key, _b(r.get("value", b"")), r.get("lease", 0), False, False, False)
    return ("delete", key, end, bool(r.get("prev_kv")))


def _b(x) -> bytes:
    return x.encode() if isinstance(x, str) else bytes(x)


class Workload:
    """Seeded txns and plain operations through random members; a txn's record is kept by op
    id, to join the simulator's history (its times and outcomes) at the end."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.c = etcdlab.Cluster(n=5, seed=seed, kv=True, client_retry_ms=300,
                                 client_deadline_ms=3000, record_events=True)
        self.txns: dict[int, dict] = {}
        self.values: dict[bytes, list] = {k: [] for k in KEYS}  # values put so far, per key
        self.n = 0

    def value(self, key: bytes) -> bytes:
        self.n += 1
        v = b"%s%d" % (key, self.n)
        self.values[key].append(v)
        return v

    def guess(self, key: bytes) -> bytes:
        """A value the key may hold now (a recent one): compares that hold now and then."""
        seen = self.values[key]
        return self.rng.choice(seen[-2:]) if seen else b"none"

    def txn(self, compare, success, failure=()):
        via = self.rng.choice([None, self.rng.randrange(5)])
        op = self.c.txn([_sim_compare(c) for c in compare], [_sim_op(o) for o in success],
                        [_sim_op(o) for o in failure], via=via)
        self.txns[op.id] = {"compare": [c.to_record() for c in compare],
                            "success": [o.to_record() for o in success],
                            "failure": [o.to_record() for o in failure]}

    def step(self):
        rng, k = self.rng, self.rng.choice(KEYS)
        other = self.rng.choice([x for x in KEYS if x != k])
        what = rng.random()
        if what < 0.25:  # compare-and-swap on the value, reading it either way
            self.txn([t.value(k) == self.guess(k)], [t.put(k, self.value(k)), t.get(k)],
                     [t.get(k)])
        elif what < 0.35:  # create if absent
            self.txn([t.create(k) == 0], [t.put(k, self.value(k))], [t.get(k)])
        elif what < 0.45:  # two keys at one revision, if the version allows
            self.txn([t.version(k) < 4], [t.put(k, self.value(k)), t.put(other, self.value(other))],
                     [t.delete(k)])
        elif what < 0.52:  # nested: the inner compare decided on the store before the txn
            self.txn([t.mod(k) > 0],
                     [t.put(k, self.value(k)),
                      t.txn([t.value(other) == self.guess(other)], [t.delete(other)],
                            [t.get(b"a", b"e")])],
                     [t.put(other, self.value(other))])
        elif what < 0.57:
            self.txn([t.version(b"a", b"e") > 1], [t.delete(b"b", b"d")], [t.get(b"a", b"e")])
        elif what < 0.75:  # read-only: the node's read path, no log entry
            self.txn([t.value(k) != self.guess(k)], [t.get(b"a", b"e")], [t.get(k)])
        elif what < 0.85:
            self.c.put(k, self.value(k), via=rng.choice([None, rng.randrange(5)]))
        elif what < 0.95:
            self.c.get(k, via=rng.choice([None, rng.randrange(5)]))
        else:
            self.c.delete_range(k, via=rng.choice([None, rng.randrange(5)]))

    def run(self, rounds: int = 40):
        wait_leader(self.c)
        faults = Faults(self.c, self.rng)
        for _ in range(rounds):
            for _ in range(self.rng.randint(1, 4)):
                self.step()
            faults.next()
            self.c.run(self.rng.choice([5, 20, 80, 300]))
        faults.end()
        assert self.c.run_until(lambda: all(op.done for op in self.c._ops), 20000), \
            "clients never finished"

    def history(self) -> list:
        """The plain operations (Cluster.history) and the txns, on one clock (virtual ms)."""
        out = list(self.c.history)
        for op in self.c._core.history():
            record = self.txns.get(op.id)
            if record is None:
                continue
            outcome = op.outcome.name if op.outcome.name != "pending" else "unknown"
            output = None
            if outcome == "ok":
                answer = self.c._op(op.id).result
                if "error" in answer:
                    outcome = "failed"  # refused (validation): nothing was applied
                else:
                    output = TxnResult.from_answer(answer).to_record()
            out.append(checkers.Operation(client=op.id, kind="txn", input=record, output=output,
                                          call=ms_from_us(op.call_us), ret=ms_from_us(op.return_us),
                                          outcome=outcome, id=op.id))
        return out


def explain(seed, test):
    return replay(seed, "python/tests/test_txn_sim.py", test)


@pytest.mark.parametrize("seed", seeds(seed_count(200, 10000)))
def test_txn_histories_under_faults_are_strictly_serializable(seed):
    w = Workload(seed)
    w.run()
    history = w.history()
    done = [op for op in history if op.outcome == "ok" and op.kind == "txn"]
    assert len(done) > 10, f"too few txns got through to mean anything\n{explain(seed, 'faults')}"
    # The committed log (every member's store as it grew) fills revision gaps exactly: a third
    # of the operations end indeterminate under these faults (deadline 3 s).
    r = checkers.check_txns(history, committed=w.c.store_events)
    assert r.verdict == "ok", f"{r.explain()}\n{explain(seed, 'faults')}"
    w.c.check_invariants()


def _ok_txns(history, writes: bool):
    return [op for op in history if op.kind == "txn" and op.outcome == "ok"
            and any(_writes(r) for r in op.output["responses"]) == writes]


def _writes(response) -> bool:
    kind, body = next(iter(response.items()))
    if kind == "put":
        return True
    if kind == "delete":
        return body["deleted"] > 0
    return kind == "txn" and any(_writes(r) for r in body["responses"])


@pytest.mark.parametrize("seed", seeds(5, default_start=301))
def test_broken_answers_in_a_simulated_history_are_refused(seed):
    """One run's history, altered three ways as a broken server would have answered."""
    w = Workload(seed)
    w.run()
    history = w.history()
    assert checkers.check_txns(history).verdict == "ok", explain(seed, "broken")

    # a read-only txn answered from an older state: its range at header revision - 1
    reads = [op for op in _ok_txns(history, writes=False)
             if op.output["responses"] and "range" in op.output["responses"][0]
             and op.output["responses"][0]["range"]["kvs"]]
    stale = copy.deepcopy(history)
    victim = next(op for op in stale if op.id == reads[-1].id)
    kv = victim.output["responses"][0]["range"]["kvs"][0]
    kv["value"] = kv["value"] + "-stale"
    assert checkers.check_txns(stale).first.kind == "stale-read", explain(seed, "broken")

    # a write txn whose compare was decided wrongly: it says the other branch ran
    flipped = copy.deepcopy(history)
    victim = next(op for op in flipped if op.id == _ok_txns(history, writes=True)[-1].id)
    victim.output["succeeded"] = not victim.output["succeeded"]
    r = checkers.check_txns(flipped)
    assert r.verdict == "illegal", explain(seed, "broken")

    # a write txn applied a second time, after everything else: a last read sees one of its
    # values at a revision no operation made
    writes = [op for op in _ok_txns(history, writes=True)
              if op.input["success" if op.output["succeeded"] else "failure"][0].get("put")]
    again = writes[len(writes) // 2]
    put = again.input["success" if again.output["succeeded"] else "failure"][0]["put"]
    top = max(op.output["revision"] for op in history
              if op.outcome == "ok" and isinstance(op.output, dict) and "revision" in op.output)
    end = max(op.ret for op in history if op.outcome == "ok")
    read = checkers.Operation(
        client="late", kind="get", input={"key": put["key"]},
        output={"kvs": [{"key": put["key"], "value": put["value"], "mod_revision": top + 1}],
                "count": 1, "revision": top + 1},
        call=end + 1, ret=end + 2, id="late")
    r = checkers.check_txns(history + [read])
    assert r.first.kind == "applied-twice", f"{r.explain()}\n{explain(seed, 'broken')}"
