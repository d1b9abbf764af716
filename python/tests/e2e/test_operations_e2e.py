"""Operating a real cluster: snapshots (catch-up, save and restore), membership changes under
load, partitions through failpoints, repeated SIGKILL, and the backend quota. Real processes on
loopback, one cluster at a time, polling with deadlines.

ETCDLAB_LONG=1 runs the long versions (20 kill cycles instead of 3)."""

import json
import os
import subprocess
import threading
import time

import pytest

from etcdlab import checkers
from etcdlab.client import Client, EtcdError, recorded_put
from etcdlab.local import LocalCluster, find_binary

LONG = os.environ.get("ETCDLAB_LONG") == "1"


class Load:
    """Writers putting through every member until stopped, recording a history for the
    checkers. A put that may or may not have applied ends its writer's client (a new one takes
    over), as a Jepsen process does."""

    def __init__(self, cluster, writers=3, prefix="load/"):
        self.cluster = cluster
        self.history = []
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(f"w{i}", prefix))
                        for i in range(writers)]

    def _run(self, name, prefix):
        n, incarnation, who = 0, 0, name
        while not self.stop_flag.is_set():
            client = Client(self.cluster.endpoints, timeout=8)
            try:
                op = recorded_put(client, who, f"{prefix}{n % 7}", f"{name}-{n}")
            finally:
                client.close()
            if op.outcome == "failed":
                time.sleep(0.05)
            with self.lock:
                self.history.append(op)
            if op.outcome == "unknown":
                incarnation += 1
                who = f"{name}.{incarnation}"
            n += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join()

    def acknowledged(self):
        return [op for op in self.history if op.outcome == "ok"]

    def wait_progress(self, count=5, timeout=30):
        """Waits until `count` more puts are acknowledged. A put forwarded to a leader that
        died waits out the server's request timeout (5 s + 2 election timeouts, as etcd's),
        so progress after a fault can take seconds."""
        start = len(self.acknowledged())
        deadline = time.monotonic() + timeout
        while len(self.acknowledged()) < start + count:
            assert time.monotonic() < deadline, "the cluster made no progress"
            time.sleep(0.05)


def assert_acknowledged_present(cluster, load):
    reader = cluster.client()
    for op in load.acknowledged():
        got = reader.get(op.input["key"], revision=op.output["revision"])
        assert got["kvs"][0]["value"] == op.input["value"].encode(), f"lost {op}"
    result = checkers.check_revisions(load.history)
    assert result.verdict == "ok", result.explain()
    reader.close()


def assert_hashes_equal(cluster, members=None):
    members = cluster.members if members is None else members
    reader = cluster.client()
    rev = reader.get("x")["header"]["revision"]
    reader.close()
    hashes = {}
    for i in members:
        c = cluster.client([i])
        assert c.wait(lambda: c.get("x", serializable=True)["header"]["revision"] >= rev, 20), \
            f"member {i} never caught up to revision {rev}; log {cluster.log_path(i)}"
        hashes[i] = c.hash(cluster.endpoint(i))
        c.close()
    assert len(set(hashes.values())) == 1, f"members disagree: {hashes}"


def test_a_member_down_past_the_snapshot_count_catches_up_by_snapshot():
    with LocalCluster(n=3, snapshot_count=40) as c:
        leader = c.wait_leader()
        lagging = (leader + 1) % 3
        c.stop(lagging)
        client = c.client([i for i in range(3) if i != lagging])
        for n in range(150):
            client.put(f"k{n}", str(n))
        client.close()
        c.start_member(lagging)
        c.wait_healthy(lagging)
        assert_hashes_equal(c)
        log = open(c.log_path(lagging)).read()
        assert "installed snapshot" in log, "the member should have caught up by a snapshot"


def test_snapshot_save_then_restore_starts_a_new_cluster_with_the_same_data(tmp_path):
    ctl = find_binary("etcdlabctl")
    with LocalCluster(n=3) as c:
        c.wait_leader()
        client = c.client()
        for n in range(50):
            client.put(f"s{n}", f"v{n}")
        client.delete("s7")
        expected = client.get("s", prefix=True)
        client.close()
        # etcdlabctl saves it (streamed, SHA-256 checked); the Python client can too.
        saved = str(tmp_path / "backup.db")
        r = subprocess.run([ctl, f"--endpoints={c.endpoint(0)}", "snapshot", "save", saved],
                           capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout == f"Snapshot saved at {saved}\n", r.stderr
        status = subprocess.run([ctl, "snapshot", "status", saved, "-w", "json"],
                                capture_output=True, text=True)
        assert status.returncode == 0, status.stderr
        st = json.loads(status.stdout)
        assert st["revision"] == expected["header"]["revision"] and st["totalKey"] == 49, st
    # Three fresh members restored from the file form a new cluster.
    restored = LocalCluster(n=3)
    try:
        for i in range(3):
            r = subprocess.run([ctl, "snapshot", "restore", saved, "--name", restored.names[i],
                                "--data-dir", os.path.join(restored.data_dir, restored.names[i]),
                                "--initial-cluster", restored.initial_cluster,
                                "--initial-cluster-token", restored.token,
                                "--initial-advertise-peer-urls",
                                f"{restored.scheme}://127.0.0.1:{restored.peer_ports[i]}"],
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
        restored.start()
        restored.wait_leader()
        client = restored.client()
        got = client.get("s", prefix=True)
        assert got["kvs"] == expected["kvs"] and got["count"] == 49
        assert got["header"]["revision"] == expected["header"]["revision"]
        client.put("after", "restore")  # the new cluster takes writes
        assert_hashes_equal(restored)
        client.close()
    finally:
        restored.close()


def test_members_added_and_removed_under_load_lose_no_acknowledged_write():
    with LocalCluster(n=3) as c:
        c.wait_leader()
        with Load(c) as load:
            load.wait_progress()
            added = c.add_member()
            c.wait_healthy(added)
            load.wait_progress()
            learner = c.add_member(learner=True)
            c.wait_healthy(learner)
            ok = c.client([added])
            assert ok.wait(lambda: c.promote_member(learner), 20), "the learner is promoted"
            ok.close()
            load.wait_progress()
            c.remove_member(c.wait_leader())  # the leader itself
            c.wait_leader()
            load.wait_progress()
            leader = c.wait_leader()
            c.remove_member(next(i for i in c.members if i != leader))  # a follower
            load.wait_progress()
        assert len(load.acknowledged()) > 20
        names = [m.get("name") for m in c.client().members()]
        assert len(names) == 3, names
        assert_acknowledged_present(c, load)
        assert_hashes_equal(c)


def test_membership_errors_are_etcds():
    with LocalCluster(n=1) as c:
        c.wait_leader()
        client = c.client()
        url = f"{c.scheme}://127.0.0.1:{c.peer_ports[0]}"
        with pytest.raises(EtcdError) as e:
            client.member_add([url])
        assert (e.value.message, e.value.status) == ("etcdserver: Peer URLs already exists", 412)
        with pytest.raises(EtcdError) as e:
            client.member_remove(12345)
        assert (e.value.message, e.value.status) == ("etcdserver: member not found", 404)
        with pytest.raises(EtcdError) as e:
            client.member_promote(c.member_id(0))
        assert e.value.message == "etcdserver: can only promote a learner member"
        with pytest.raises(EtcdError) as e:
            client.member_add(["not a url"])
        assert e.value.message == "etcdserver: given member URLs are invalid"
        client.member_add(["http://127.0.0.1:1"], learner=True)
        with pytest.raises(EtcdError) as e:
            client.member_add(["http://127.0.0.1:2"], learner=True)
        assert e.value.message == "etcdserver: too many learner members in cluster"
        client.close()


def test_a_partitioned_minority_stops_answering_and_the_history_stays_linearizable():
    with LocalCluster(n=3, failpoints=True) as c:
        leader = c.wait_leader()
        with Load(c) as load:
            load.wait_progress()
            c.isolate(leader)  # the old leader is the minority
            minority = Client([c.endpoint(leader)], timeout=15)
            with pytest.raises(EtcdError) as e:
                minority.get("load/1")  # linearizable: needs the majority
            assert e.value.status == 503
            minority.close()
            load.wait_progress()  # the majority goes on
            c.heal()
            load.wait_progress()
        assert len(load.acknowledged()) > 10
        assert_acknowledged_present(c, load)
        assert_hashes_equal(c)


def test_repeated_sigkill_loses_nothing_acknowledged():
    cycles = 20 if LONG else 3
    with LocalCluster(n=3) as c:
        c.wait_leader()
        with Load(c) as load:
            for cycle in range(cycles):
                load.wait_progress()
                victim = c.wait_leader() if cycle % 2 == 0 else (cycle % 3)
                c.kill(victim)
                time.sleep(0.3)
                c.start_member(victim)
                c.wait_healthy(victim)
            load.wait_progress()
        assert len(load.acknowledged()) > 10
        assert_acknowledged_present(c, load)
        assert_hashes_equal(c)


def test_the_quota_raises_nospace_and_recovery_works():
    with LocalCluster(n=3, extra_args=["--quota-backend-bytes", "150000"]) as c:
        c.wait_leader()
        client = c.client()
        big = "x" * 20000
        with pytest.raises(EtcdError) as e:
            for n in range(100):
                client.put(f"big{n}", big)
        assert (e.value.message, e.value.status, e.value.code) == (
            "etcdserver: mvcc: database space exceeded", 429, 8)
        assert client.wait(lambda: client.alarms(), 10), "NOSPACE is raised cluster-wide"
        alarm = client.alarms()[0]
        assert alarm["alarm"] == "NOSPACE"
        for i in range(3):  # every member refuses puts and says it is unhealthy
            with pytest.raises(EtcdError):
                c.client([i]).put("more", "data")
            assert not client.health(c.endpoint(i))
        assert client.get("big0")["count"] == 1  # reads still work
        rev = client.delete("big", prefix=True)["header"]["revision"]  # deletes too
        client.compact(rev, physical=True)  # and compaction
        for i in range(3):
            client.defragment(c.endpoint(i))
        client.alarm_disarm(alarm["memberID"])
        assert client.wait(lambda: not client.alarms(), 10)
        client.put("after", "disarm")
        assert all(client.health(c.endpoint(i)) for i in range(3))
        client.close()
