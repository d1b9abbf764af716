"""Lab 5's lock recipe (etcdlab._core.LockRecipe) driven by simulated lock clients
(etcdlab.LockSim) on the simulated cluster, under paused and killed clients, partitions,
crashed members and lossy networks, and judged by checkers.check_locks:

  overlap            two clients never believe they hold the lock while both their leases live
  revision-overlap   a client is told it holds the lock only at a revision at or after the one
                     that deleted its predecessor's key
  token-order        each new holder's token (its key's create revision) is greater
  stale-write        a fenced resource never accepts a token older than one it accepted
  wrong-refusal      it refuses only older tokens

and, of the clients themselves: only a paused client believes past its lease's end (the others
give a session up when no keep-alive was answered for a TTL), so only paused clients have
writes refused.

100 seeds in make check, 2,000 with ETCDLAB_LONG=1; ETCDLAB_SEED replays one,
ETCDLAB_SEED_BASE picks others. A failure prints the seed, the clients' last steps and the
line that replays it.
"""

import random

import pytest

import etcdlab
from etcdlab.sim_locks import LockSim

from seeding import replay, seed_count, seeds
from sim_faults import Faults

FAULTS_MS = 12_000
TAIL_MS = 8_000  # whole again: sessions are granted, the lock passes on
PAUSE_MS = (500, 4_500)  # past a 2 s TTL, or not


def explain(sim, seed, test, result=None):
    head = f"{result.explain()}\n" if result is not None else ""
    return (f"{head}the clients' last steps:\n{sim.trail()}\n"
            f"{replay(seed, 'python/tests/test_lock_sim.py', test)}")


def lock_workload(seed, *, wait=True, fenced=True, clients=4):
    """`clients` clients take one lock in turn (holds of 0.4-1.2 s, TTL 2 s) while, for
    FAULTS_MS, the cluster is partitioned, members crash and restart and the network loses
    messages (sim_faults.Faults), clients are paused for 0.5-4.5 s and one may be killed;
    then the cluster is whole again, every client goes on, for TAIL_MS."""
    rng = random.Random(seed * 7907 + 3)
    sim = LockSim(clients, seed=seed, fenced=fenced, wait=wait)
    faults = Faults(sim.cluster, rng)
    end = sim.now_ms + FAULTS_MS
    resume_at = {}
    killed = False
    while sim.now_ms < end:
        f = rng.random()
        if f < 0.6:
            faults.next()
        elif f < 0.85:  # the holder, more often than not: the pause that matters
            holders = [cl for cl in sim.clients if cl.holding and not cl.paused]
            cl = rng.choice(holders if holders and rng.random() < 0.6 else sim.clients)
            if not cl.paused and cl.state != "killed":
                cl.pause()
                resume_at[cl.name] = sim.now_ms + rng.uniform(*PAUSE_MS)
        elif f < 0.88 and not killed:
            rng.choice(sim.clients).kill()
            killed = True
        sim.run(rng.uniform(100, 700))
        for cl in sim.clients:
            if cl.paused and sim.now_ms >= resume_at[cl.name]:
                cl.resume()
    faults.end()
    for cl in sim.clients:
        cl.resume()
    sim.run(TAIL_MS)
    return sim


def paused_during(cl, belief) -> bool:
    ended = belief.ended_ms if belief.ended_ms is not None else float("inf")
    return any(p0 < ended and belief.acquired_ms < p1 for p0, p1 in cl.pauses)


@pytest.mark.parametrize("seed", seeds(seed_count(100, 2_000)))
def test_live_holders_exclude_each_other_under_faults(seed):
    test = "test_live_holders_exclude_each_other_under_faults"
    sim = lock_workload(seed)
    result = sim.check()
    assert result.verdict == "ok", explain(sim, seed, test, result)
    assert len(sim.beliefs) >= 3, f"premise: the lock was taken\n{explain(sim, seed, test)}"
    after = [b for b in sim.beliefs if b.acquired_ms >= sim.now_ms - TAIL_MS]
    assert after, f"the lock is taken again once the cluster is whole\n{explain(sim, seed, test)}"
    for b in sim.beliefs:  # the client's rule: a session without answers for a TTL is given up
        cl = sim.client(b.client)
        lease_end = sim.lease_end_ms(b.lease)
        outlived = lease_end is not None and (b.ended_ms is None or b.ended_ms > lease_end)
        assert not outlived or b.end == "killed" or paused_during(cl, b), (
            f"client {b.client} believed it held token {b.token} after its lease ended at "
            f"{lease_end} ms without being paused\n{explain(sim, seed, test)}")
    for w in sim.resource.refused:
        b = next(b for b in sim.client(w.client).beliefs if b.token == w.token)
        assert paused_during(sim.client(w.client), b), (
            f"only a paused client writes with a stale token: {w}\n{explain(sim, seed, test)}")
    sim.cluster.check_invariants()


def test_pauses_past_the_ttl_make_fencing_refuse_writes():
    """Premise of the suite: its pauses do outlive leases, and fencing refuses the writes of
    the paused holders (in some of the runs: a pause may hit a client that holds nothing)."""
    refused = 0
    for seed in seeds(10, default_start=9):
        refused += len(lock_workload(seed).resource.refused)
    assert refused >= 2, f"only {refused} writes refused in 10 runs"


def paused_holder(fenced, seed=1):
    """The Jepsen schedule: A takes the lock and is paused before its write for 5 s (its
    lease has a TTL of 2 s); B and C queue behind it; A wakes up and writes."""
    sim = LockSim(3, seed=seed, fenced=fenced, hold_ms=(600, 600))
    a = sim.client("A")
    assert sim.run_until(lambda: a.holding, 10_000), sim.trail()
    a.pause()
    sim.run(5_000)
    a.resume()
    sim.run(2_000)
    return sim


def test_a_paused_holder_writes_with_its_old_token():
    fenced, unfenced = paused_holder(True), paused_holder(False)
    assert fenced.cluster.trace_hash() == unfenced.cluster.trace_hash(), \
        "the resource's answers change nothing the clients do: one seed, one run"
    a = fenced.client("A")
    first = a.beliefs[0]
    lease_end = fenced.lease_end_ms(first.lease)
    assert lease_end is not None and lease_end < first.ended_ms, "A's lease expired while paused"
    others = [b for b in fenced.beliefs if b.client != "A" and b.acquired_ms < first.ended_ms]
    assert others and all(b.acquired_ms > lease_end for b in others), \
        f"the lock passed on only once A's lease was gone\n{fenced.trail()}"
    assert all(b.token > first.token for b in others)

    stale = [w for w in fenced.resource.writes if w.client == "A" and w.token == first.token]
    assert len(stale) == 1 and not stale[0].accepted, f"fencing refuses A's write: {stale}"
    assert stale[0].highest > first.token
    result = fenced.check()
    assert result.ok, result.explain()  # the recipe held: no two live holders, no stale write

    taken = [w for w in unfenced.resource.writes if w.client == "A" and w.token == first.token]
    assert len(taken) == 1 and taken[0].accepted and unfenced.resource.stale == taken
    result = unfenced.check()
    kinds = {v.kind for v in result.violations}
    assert kinds == {"stale-write"}, result.explain()


@pytest.mark.parametrize("seed", seeds(5, default_start=11))
def test_a_driver_that_does_not_wait_is_caught(seed):
    """The broken driver: every client holds the lock once its first txn is answered, without
    waiting for the key before its own. The checker must flag two live holders at once."""
    sim = lock_workload(seed, wait=False)
    result = sim.check()
    kinds = {v.kind for v in result.violations}
    assert {"overlap", "revision-overlap"} <= kinds, (
        f"a lock that does not wait must be caught, got {sorted(kinds)}\n"
        f"{explain(sim, seed, 'test_a_driver_that_does_not_wait_is_caught')}")


def test_same_seed_same_lock_run():
    a, b = lock_workload(5), lock_workload(5)
    assert a.cluster.trace_hash() == b.cluster.trace_hash()
    assert a.beliefs == b.beliefs and a.resource.writes == b.resource.writes


def test_the_store_passes_the_lock_in_create_revision_order():
    """owners(): the lock as the store had it. Each client's belief starts after the store
    made it the owner; tokens grow along the owners."""
    sim = LockSim(3, seed=2)
    sim.run(6_000)
    owners = sim.owners()
    assert len(owners) >= 4 and [o[3] for o in owners] == sorted(o[3] for o in owners)
    for b in sim.beliefs:
        became = next(o[0] for o in owners if (o[2], o[3]) == (b.client, b.token))
        assert became <= b.acquired_ms


def test_bad_arguments_are_refused():
    for kwargs, says in [({"clients": 0}, "clients is a number of clients >= 1"),
                         ({"hold_ms": (5, 1)}, "hold_ms is a (lo, hi) range"),
                         ({"hold_ms": (0, 10)}, "hold_ms must be above 0")]:
        with pytest.raises(ValueError, match=says.replace("(", r"\(").replace(")", r"\)")):
            LockSim(**kwargs)
    c = etcdlab.Cluster(n=3, seed=1, kv=True)
    with pytest.raises(ValueError, match="an encoded request is not empty"):
        c.txn_encoded(b"")
    with pytest.raises(TypeError, match="needs a KV cluster"):
        etcdlab.Cluster(n=3, seed=1).txn_encoded(b"x")
