"""Leases on the simulated cluster (etcdlab.Cluster(kv=True): the server's KvNode with the
lessor of lab 4), driven from Python under partitions, lost messages, crashes and leader
changes, and judged by checkers.check_leases:

  early-expiry   no member loses a lease before a keep-alive (or the grant) answered OK said
                 it would live (call + TTL), whatever the leaders did meanwhile
  split-revoke   a lease's keys go at one revision (revoked by a client or expired)
  leaked-key     a lease that is gone left none of its keys
  disagreement   members end with the same leases and keys
  not-expired    a lease nobody keeps alive is gone once the cluster is whole again

200 seeds in make check, 10,000 with ETCDLAB_LONG=1; ETCDLAB_SEED replays one,
ETCDLAB_SEED_BASE picks others. A failure prints its seed and the line that replays it.
"""

import random

import pytest

import etcdlab
from etcdlab import checkers

from seeding import replay, seed_count, seeds
from sim_faults import Faults, settle, wait_leader

TTL_S = 3
KEEPALIVE_MS = 700  # about TTL / 4, as clients keep leases alive
FAULTS_MS = 12_000
TAIL_MS = 20_000    # whole again: time for the abandoned leases to go (see IDLE_MS)
# A lease not kept alive for this long before the end must be gone: the cluster heals at the
# start of the tail, elects within a few seconds, and a keep-alive the client gave up on may
# still reach the leader until the node's request deadline (7 s); then TTL + election timeout.
IDLE_MS = 16_000


def explain(seed, test):
    return replay(seed, "python/tests/test_lease_sim.py", test)


def lease_workload(seed, *, snapshot_every=0):
    """Four services hold a lease of TTL_S each, with two keys on it: one keeps it alive to
    the end, one stops at a random time, one never keeps it alive, one keeps it alive until a
    client revokes it. Keep-alives go through random members every KEEPALIVE_MS while faults
    hit the cluster for FAULTS_MS; then it is whole again for TAIL_MS and settles."""
    rng = random.Random(seed * 104729 + 17)
    c = etcdlab.Cluster(n=3, seed=seed, kv=True, record_leases=True,
                        snapshot_every=snapshot_every)
    wait_leader(c)
    start = c.now_ms
    services = [dict(id=1000 + k, keep_until=start + FAULTS_MS + TAIL_MS) for k in range(4)]
    services[1]["keep_until"] = start + rng.uniform(2000, 8000)
    services[2]["keep_until"] = 0
    revoke_at = start + rng.uniform(1000, FAULTS_MS)
    grants = [c.lease_grant(TTL_S, s["id"]) for s in services]
    assert c.run_until(lambda: all(g.done for g in grants), 10_000), "grants never answered"
    for s, g in zip(services, grants):
        if g.outcome == "ok":
            for j in range(2):
                c.put(f"svc/{s['id']}/{j}", "up", lease=s["id"])
    faults = Faults(c, rng)
    next_fault = c.now_ms + 300
    end = start + FAULTS_MS + TAIL_MS
    while c.now_ms < end:
        if c.now_ms >= revoke_at:
            c.lease_revoke(services[3]["id"], via=rng.choice([None, rng.randrange(3)]))
            services[3]["keep_until"] = 0
            revoke_at = float("inf")
        for s in services:
            if c.now_ms < s["keep_until"]:
                c.lease_keepalive(s["id"], via=rng.choice([None, *range(3), *range(3)]))
        if c.now_ms < start + FAULTS_MS and c.now_ms >= next_fault:
            faults.next()
            next_fault = c.now_ms + rng.uniform(200, 1200)
        elif c.now_ms >= start + FAULTS_MS and faults is not None:
            faults.end()
            faults = None
        c.run(KEEPALIVE_MS)
    settle(c)
    return c


def check(seed, test, **workload):
    c = lease_workload(seed, **workload)
    history = c.history
    result = checkers.check_leases(history, c.lease_observations(), idle_ms=IDLE_MS)
    assert result.verdict == "ok", f"{result.explain()}\n{explain(seed, test)}"
    c.check_invariants()
    return c, history


@pytest.mark.parametrize("seed", seeds(seed_count(200, 10_000)))
def test_leases_under_faults(seed):
    c, history = check(seed, "test_leases_under_faults")
    kept = [op for op in history if op.kind == "lease_keepalive" and op.input["ID"] == 1000
            and op.outcome == "ok" and op.output["TTL"] > 0]
    assert kept, f"premise: some keep-alive of the kept lease was answered\n{explain(seed, 'test_leases_under_faults')}"
    gone = {1001, 1002, 1003}
    held = set(c.nodes[c.leader()].leases)
    assert not held & gone, (
        f"the leases nobody keeps alive are gone once the cluster is whole: {held}\n"
        f"{explain(seed, 'test_leases_under_faults')}")


@pytest.mark.parametrize("seed", seeds(6, default_start=501))
def test_leases_survive_snapshots_and_restarts(seed):
    """Snapshots every 8 entries: lagging and restarted members get the leases with the store
    (the lease table is in its database) and must agree with the rest."""
    c, _ = check(seed, "test_leases_survive_snapshots_and_restarts", snapshot_every=8)
    assert max(n.snapshot_index for n in c.nodes) > 0, "premise: a snapshot was taken"


def test_the_workload_changes_leaders_while_leases_live():
    """Premise of the suite: its faults make leaders change while leases are kept alive, so a
    new leader's lessor (promote: TTL plus an election timeout) is what is tested."""
    changed = 0
    for seed in seeds(5, default_start=1):
        c = lease_workload(seed)
        leaders = {rc.node for rc in c.role_changes if rc.role == "leader"}
        changed += len(leaders) > 1
    assert changed >= 3, f"only {changed} of 5 runs changed leaders"


def test_same_seed_same_lease_run():
    a, b = lease_workload(3), lease_workload(3)
    assert a.trace_hash() == b.trace_hash(), "one seed must give one run"
    assert a.lease_changes == b.lease_changes


# ---- the API ---------------------------------------------------------------------------------

def done(c, *ops, ms=5000):
    assert c.run_until(lambda: all(o.done for o in ops), ms), f"not answered: {ops}"
    return ops[0] if len(ops) == 1 else ops


def test_lease_calls_answer_as_the_gateway_does():
    c = etcdlab.Cluster(n=3, seed=2, kv=True)
    wait_leader(c)
    g = done(c, c.lease_grant(10, 7))
    assert (g.result["ID"], g.result["TTL"], g.value) == (7, 10, 7)
    short = done(c, c.lease_grant(1))  # below the minimum: ceil(1.5 x 1 s election timeout)
    assert short.result["TTL"] == 2 and short.value > 0, "the node picks a positive id"
    dup, big = done(c, c.lease_grant(5, 7), c.lease_grant(9_000_000_001))
    assert dup.result["error"] == "etcdserver: lease already exists" and dup.value is None
    assert big.result["error"] == "etcdserver: too large lease TTL"
    p = done(c, c.put("svc/a", "10.0.0.1", lease=7))
    assert "error" not in p.result
    follower = next(i for i in range(3) if i != c.leader())
    k, t, ls = done(c, c.lease_keepalive(7, via=follower),
                    c.lease_time_to_live(7, keys=True, via=follower), c.leases(via=follower))
    assert k.value == 10 and k.result["TTL"] == 10, "a follower forwards it to the leader"
    assert t.result["grantedTTL"] == 10 and 8 <= t.value <= 10 and t.result["keys"] == [b"svc/a"]
    assert ls.value == sorted([7, short.value])
    assert c.nodes[follower].leases[7].keys == (b"svc/a",)
    assert c.nodes[c.leader()].lease_primary and not c.nodes[follower].lease_primary
    r = done(c, c.lease_revoke(7))
    assert "error" not in r.result and r.value is None
    get, gone_k, gone_t, again = done(c, c.get("svc/a"), c.lease_keepalive(7),
                                      c.lease_time_to_live(7), c.lease_revoke(7))
    assert get.value is None, "a revoke deletes the lease's keys"
    assert gone_k.value is None and "TTL" not in gone_k.result, "etcd answers ID without TTL"
    assert gone_t.value == -1 and "grantedTTL" not in gone_t.result
    assert again.result["error"] == "etcdserver: requested lease not found"
    kinds = [op.kind for op in c.history]
    assert kinds.count("lease_grant") == 4 and "leases" in kinds and "put" in kinds


def test_a_new_leader_gives_every_lease_its_ttl_plus_an_election_timeout():
    """etcd 3.4's Promote: remaining TTLs are not replicated, so a new leader starts every
    lease's clock again, longer by an election timeout (1 s here): no lease expires early
    because the leader changed, and one nobody keeps alive still expires."""
    c = etcdlab.Cluster(n=3, seed=4, kv=True, record_leases=True)
    wait_leader(c)
    g = done(c, c.lease_grant(TTL_S, 5))
    c.run(1500)
    old = c.leader()
    assert c.nodes[old].leases[5].ttl_s == 1, "1.5 s of 3 s left, rounded down"
    c.crash(old)
    assert c.run_until(lambda: c.leader() not in (None, old), 10_000)
    new = c.leader()
    # Its clock starts once it applied its own term's first entry (a round trip after the
    # election: entries of the old term may still hold a revoke), with TTL + an election timeout.
    assert c.run_until(lambda: c.nodes[new].leases[5].ttl_s == TTL_S + 1, 1000), \
        "promoted: TTL + an election timeout"
    promoted = c.now_ms
    assert c.run_until(lambda: 5 not in c.nodes[new].leases, 10_000)
    lost = c.lease_changes[-1]
    assert lost.lease == 5 and not lost.held and lost.time_ms >= promoted + (TTL_S + 1) * 1000
    assert lost.time_ms > g.call_ms + TTL_S * 1000
    c.run(500)  # the follower applies the revoke too
    assert checkers.check_leases(c.history, c.lease_observations()).ok


def test_bad_lease_arguments_are_refused_before_anything_is_sent():
    c = etcdlab.Cluster(n=3, seed=1, kv=True)
    for call, error, says in [
        (lambda: c.lease_grant(-1), ValueError, "ttl_s (seconds) must be in [0, 2**63), not -1"),
        (lambda: c.lease_grant(1.5), TypeError, "ttl_s (seconds) is an int, not 1.5"),
        (lambda: c.lease_grant(5, True), TypeError, "lease_id is an int, not True"),
        (lambda: c.lease_revoke(2**63), ValueError, "lease_id must be in [-2**63, 2**63)"),
        (lambda: c.lease_keepalive("7"), TypeError, "lease_id is an int, not '7'"),
        (lambda: c.lease_time_to_live(7, keys=1), TypeError, "keys is a bool, not 1"),
        (lambda: c.put("k", "v", lease=None), TypeError, "lease is an int, not None"),
        (lambda: c.lease_changes, TypeError, "record_leases=True"),
        (lambda: etcdlab.Cluster(n=3, record_leases=True), ValueError, "needs a KV cluster"),
        (lambda: etcdlab.Cluster(n=3).lease_grant(5), TypeError, "needs a KV cluster"),
        (lambda: etcdlab.Cluster(n=3).nodes[0].leases, TypeError, "needs a KV cluster"),
    ]:
        with pytest.raises(error) as e:
            call()
        assert says in str(e.value)
    assert c.history == [], "nothing was proposed"
