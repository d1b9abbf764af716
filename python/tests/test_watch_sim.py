"""Watches on the simulated cluster (etcdlab.Cluster(kv=True): the server's KvNode with the
watch hub of lab 4), driven from Python under partitions, lost messages, crashes, leader changes
and compaction, and judged by checkers.check_watches against every write the cluster committed
(recorded from the members' stores as they grew: record_events=True).

Four watch clients (a key, a prefix, every key, a range; prev_kv and filters at random; some
slow readers) watch random members; they resume elsewhere from the revision after the last one
they know of when their member crashes (as etcd's clients do), cancel and watch again now and
then, ask for progress, and watch again from after the compact revision when compaction cancels
them. Meanwhile clients put, delete (keys and ranges), attach keys to leases, revoke leases
(each revision of a range delete or a revoke may hold several events) and compact (below what
the members applied). Every stream must be ordered, unique, atomic, reliable, resumable and
bookmarkable, with the right prev_kv and filters; at the end, with the cluster whole, every
watch has all of its range.

200 seeds in make check, 10,000 with ETCDLAB_LONG=1; ETCDLAB_SEED replays one,
ETCDLAB_SEED_BASE picks others. A failure prints its seed and the line that replays it.
"""

import random

import pytest

import etcdlab
from etcdlab import checkers

from seeding import replay, seed_count, seeds
from sim_faults import Faults, settle, wait_leader

FAULTS_MS = 8_000
RANGES = [dict(key="k1"), dict(key="k", prefix=True), dict(key="", prefix=True),
          dict(key="k2", range_end="k6")]


def explain(seed, test):
    return replay(seed, "python/tests/test_watch_sim.py", test)


class Client:
    """A watch client: how it reads, and what it tallied."""

    def __init__(self, watch, slow):
        self.w, self.slow = watch, slow
        self.resumes = 0  # after a cancel or a compaction (a crash resumes by itself)


def open_watches(c, rng):
    clients = []
    for k, where in enumerate(RANGES):
        filters = []
        if k == 3 and rng.random() < 0.3:
            filters.append("NOPUT")
        elif k != 3 and rng.random() < 0.15:
            filters.append("NODELETE")
        w = c.watch(**where, prev_kv=rng.random() < 0.6, filters=filters, resume=True,
                    name=f"w{k}")
        clients.append(Client(w, slow=rng.random() < 0.4))
    return clients


def read(client, rng):
    w = client.w
    if client.slow:
        w.take(max=rng.randint(0, 2))
    else:
        w.take()
    if w.state in ("cancelled", "compacted"):
        # Cancelled when it asked, or compacted: its client (reads the keys again, not modelled,
        # and) watches from the revision after the last it knows of: next_revision.
        w.resume()
        client.resumes += 1
    elif w.state == "open":
        f = rng.random()
        if f < 0.02:
            w.request_progress()
        elif f < 0.04:
            w.cancel()


def write(c, rng, counter):
    f = rng.random()
    key = f"k{rng.randint(0, 4)}"
    if f < 0.55:
        counter[0] += 1
        c.put(key, f"v{counter[0]}")
    elif f < 0.65:
        c.delete_range(key)
    elif f < 0.7:
        c.delete_range("k3", "k6")  # several keys at one revision: atomic or not
    elif f < 0.78:
        lease = 500 + rng.randint(0, 3)
        c.lease_grant(60, lease)
        for k in rng.sample(range(5, 8), 2):  # a revoke deletes both at one revision
            counter[0] += 1
            c.put(f"k{k}", f"l{counter[0]}", lease=lease)
    elif f < 0.84:
        c.lease_revoke(500 + rng.randint(0, 3))
    elif f < 0.87:
        revision = c.recorded_revision
        if revision > 3:
            c.compact(rng.randint(max(1, revision - 20), revision))


def watch_workload(seed, *, snapshot_every=0):
    """The clients above for FAULTS_MS of faults (sim_faults.Faults, and now and then a crash
    of a member some watch is on); then the cluster heals and settles, and every
    client reads (fast, asking for progress) until it knows it has caught up with the last
    revision."""
    rng = random.Random(seed * 7919 + 3)
    c = etcdlab.Cluster(n=3, seed=seed, kv=True, record_events=True,
                        snapshot_every=snapshot_every)
    wait_leader(c)
    clients = open_watches(c, rng)
    faults = Faults(c, rng)
    counter = [0]
    end = c.now_ms + FAULTS_MS
    next_fault = c.now_ms + 300
    while c.now_ms < end:
        for _ in range(3):
            write(c, rng, counter)
        c.run(rng.randint(20, 250))
        for client in clients:
            read(client, rng)
        if c.now_ms >= next_fault:
            watched = [cl.w.node for cl in clients if cl.w.node is not None]
            if watched and not faults.down and rng.random() < 0.2:
                faults.down.add(rng.choice(watched))  # a watch's member: its streams die
                c.crash(next(iter(faults.down)))
            else:
                faults.next()
            next_fault = c.now_ms + rng.randint(300, 1500)
    faults.end()
    settle(c)
    for client in clients:
        client.slow = False
    for _ in range(200):
        c.run(100)
        for client in clients:
            read(client, rng)
            client.w.request_progress()  # how a client learns it has caught up
        if all(cl.w.next_revision > c.recorded_revision for cl in clients):
            break
    return c, clients


def check(seed, test, **workload):
    c, clients = watch_workload(seed, **workload)
    result = c.check_watches(settled=True)
    assert result.verdict == "ok", f"{result.explain()}\n{explain(seed, test)}"
    behind = [cl.w for cl in clients if cl.w.next_revision <= c.recorded_revision]
    assert not behind, (f"watches never caught up with revision {c.recorded_revision}: "
                        f"{behind}\n{explain(seed, test)}")
    c.check_invariants()
    return c, clients, result


@pytest.mark.parametrize("seed", seeds(seed_count(200, 10_000)))
def test_watches_under_faults(seed):
    check(seed, "test_watches_under_faults")


@pytest.mark.parametrize("seed", seeds(6, default_start=501))
def test_watches_survive_snapshots_and_restarts(seed):
    """Snapshots every 8 entries: a lagging or restarted member installs the store from a
    snapshot, and its watchers catch up from the new store (the hub's restored())."""
    c, _, _ = check(seed, "test_watches_survive_snapshots_and_restarts", snapshot_every=8)
    assert max(n.snapshot_index for n in c.nodes) > 0, "premise: a snapshot was taken"


def test_the_workload_exercises_what_watches_get_wrong():
    """Premise of the suite: across a few seeds its watches are resumed after crashes and
    cancelled by compaction, leaders change, slow readers fall behind, progress is answered."""
    tally = dict(leader_changes=0, disconnects=0, compaction_cancels=0, progress=0, events=0,
                 streams=0)
    for seed in seeds(8, default_start=1):
        c, clients, result = check(seed, "test_the_workload_exercises_what_watches_get_wrong")
        tally["leader_changes"] += len({rc.node for rc in c.role_changes
                                         if rc.role == "leader"}) > 1
        for cl in clients:
            ends = [conn.end for conn in cl.w.connections]
            tally["disconnects"] += ends.count("disconnected")
        tally["compaction_cancels"] += result.info["compaction cancels"]
        tally["progress"] += result.info["progress"]
        tally["events"] += result.info["events"]
        tally["streams"] += result.info["streams"]
    assert tally["leader_changes"] >= 4, tally
    assert tally["disconnects"] >= 4, tally
    assert tally["compaction_cancels"] >= 1, tally
    assert tally["progress"] >= 8 and tally["events"] >= 1000, tally


def test_same_seed_same_watch_run():
    (a, ca), (b, cb) = watch_workload(3), watch_workload(3)
    assert a.trace_hash() == b.trace_hash(), "one seed must give one run"
    assert [cl.w.record() for cl in ca] == [cl.w.record() for cl in cb]


# ---- the API ---------------------------------------------------------------------------------

def kv_cluster(seed=2):
    c = etcdlab.Cluster(n=3, seed=seed, kv=True, record_events=True)
    wait_leader(c)
    return c


def done(c, *ops, ms=5000):
    assert c.run_until(lambda: all(o.done for o in ops), ms), f"not answered: {ops}"


def test_a_watch_answers_as_etcd_does():
    c = kv_cluster()
    w = c.watch("a", prev_kv=True, via=1)
    p = c.watch("dir/", prefix=True, filters=["NODELETE"], via=2)
    assert (w.node, w.state, w.next_revision) == (1, "open", 0)
    done(c, c.put("a", "1"), c.put("dir/x", "1"), c.put("b", "1"))
    done(c, c.put("a", "2"), c.delete_range("dir/x"), c.delete_range("a"))
    c.run(200)
    got = w.take()
    assert got[0].created and got[0].watch_id == 0 and got[0].revision == 1
    assert [str(r) for r in got[1:]] == [
        "[rev 2] PUT b'a'@2=b'1'", "[rev 5] PUT b'a'@5=b'2' (was b'1'@2)",
        "[rev 7] DELETE b'a'@7 (was b'2'@5)"]
    assert {r.node for r in got} == {1} and w.next_revision == 8
    assert [e.revision for e in w.events] == [2, 5, 7] and w.responses == got
    assert [str(e) for r in p.take() for e in r.events] == ["PUT b'dir/x'@3=b'1'"]
    assert w.take() == [] and w.queued == 0
    # A watch from the past gets the history from its start, inclusive.
    old = c.watch("a", start_revision=5)
    c.run(100)
    old.take()
    assert [e.revision for e in old.events] == [5, 7] and old.next_revision == 8
    # Progress: a promise that every event up to its revision has been sent.
    assert w.request_progress()
    c.run(100)
    (progress,) = w.take()
    assert progress.progress and progress.watch_id == -1 and progress.revision == 7
    # Cancel: answered on the stream, then the watch has ended.
    assert w.cancel() and w.state == "cancelling"
    c.run(100)
    (cancelled,) = w.take()
    assert cancelled.canceled and w.state == "cancelled" and not w.open
    assert not w.cancel() and not w.request_progress() and w.take() == []
    assert c.check_watches(settled=True).ok
    members = {i: c.nodes[i].store_events() for i in range(3)}  # every member's MVCC history
    assert all(m == c.store_events for m in members.values())
    assert checkers.check_watches(c.watches, members, settled=True).ok
    assert [x.name for x in c.watches] == ["w0", "w1", "w2"]
    assert c.watch_stats(2) == {"streams": 1, "watchers": 1, "unsynced": 0}


def test_a_crash_ends_the_stream_and_resume_continues_from_the_next_revision():
    c = kv_cluster()
    w = c.watch("k", prefix=True, via=0)
    auto = c.watch("k", prefix=True, via=0, resume=True)
    done(c, *[c.put(f"k{i}", "v") for i in range(3)])
    c.run(100)
    w.take(), auto.take()
    assert w.next_revision == auto.next_revision == 5
    c.crash(0)
    assert w.state == "disconnected" and w.node is None and w.take() == []
    put = c.put("k9", "after", via=1)
    done(c, put, ms=10_000)
    c.run(100)
    assert [str(e) for r in auto.take() for e in r.events] == ["PUT b'k9'@5=b'after'"], \
        "resume=True: the next take() watched again elsewhere from revision 5"
    assert auto.node in (1, 2) and [s.end for s in auto.connections] == ["disconnected", "open"]
    assert auto.connections[1].start_revision == 5
    w.resume(via=2)
    c.run(100)
    w.take()
    assert [e.revision for e in w.events] == [2, 3, 4, 5] and w.node == 2
    c.restart(0)
    c.run(500)
    assert w.take() == [] and w.state == "open", "a restart does not touch a stream elsewhere"
    assert c.check_watches(settled=True).ok


def test_a_watch_from_a_compacted_revision_is_cancelled_with_the_compact_revision():
    c = kv_cluster()
    done(c, *[c.put("k", str(i)) for i in range(5)])
    done(c, c.compact(4))
    c.run(100)
    w = c.watch("k", start_revision=3)
    c.run(100)
    created, cancelled = w.take()
    assert created.created and cancelled.canceled and cancelled.compact_revision == 4
    assert w.state == "compacted" and w.compact_revision == 4 and w.next_revision == 5
    w.resume()
    c.run(100)
    w.take()
    assert [e.revision for e in w.events] == [5, 6]
    assert c.check_watches(settled=True).ok


def test_bad_watch_arguments_are_refused_before_anything_is_sent():
    c = etcdlab.Cluster(n=3, seed=1, kv=True)
    wait_leader(c)
    c.crash(2)
    for call, error, says in [
        (lambda: c.watch("k", filters=["NOPUTS"]), ValueError, "NOPUT or NODELETE"),
        (lambda: c.watch("k", filters="nodelete"), ValueError, "not 'nodelete'"),
        (lambda: c.watch("k", start_revision=-1), ValueError, "start_revision must be in [0,"),
        (lambda: c.watch("k", start_revision=1.5), TypeError, "start_revision is an int"),
        (lambda: c.watch("k", prev_kv=1), TypeError, "prev_kv is a bool, not 1"),
        (lambda: c.watch(5), TypeError, "bytes or str"),
        (lambda: c.watch("k", via=2), ValueError, "member 2 is down"),
        (lambda: c.watch("k", via=7), IndexError, "no node 7"),
        (lambda: c.store_events, TypeError, "record_events=True"),
        (lambda: c.nodes[0].store_events(0), ValueError, "from_revision must be in [1,"),
        (lambda: c.check_watches(), TypeError, "record_events=True"),
        (lambda: etcdlab.Cluster(n=3, record_events=True), ValueError, "needs a KV cluster"),
        (lambda: etcdlab.Cluster(n=3).watch("k"), TypeError, "needs a KV cluster"),
    ]:
        with pytest.raises(error) as e:
            call()
        assert says in str(e.value), str(e.value)
    w = c.watch("k", via=0)
    for call, error, says in [
        (lambda: w.take(max=-1), ValueError, "max (responses) must be in [0,"),
        (lambda: w.take(max="3"), TypeError, "max (responses) is an int"),
        (lambda: w.resume(start_revision=-2), ValueError, "start_revision must be in [0,"),
    ]:
        with pytest.raises(error) as e:
            call()
        assert says in str(e.value), str(e.value)
    assert len(c.watches) == 1, "refused watches were never opened"
