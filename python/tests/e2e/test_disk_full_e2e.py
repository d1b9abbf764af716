"""A member's disk made full, and slow, on real processes (issue 23, items 3 and 4: "ENOSPC on
the WAL or SQLite gives the NOSPACE alarm or a clean stop, never a corrupted file").

What etcdlab does, as etcd does: a member that cannot persist stops at once (exit code 2) with
a log line naming the file and the cause; it acknowledged nothing it had not persisted; once
the operator gives space back it restarts with everything it had acknowledged and catches up.
Copies that are not the log (a defragment, a snapshot save, a Raft snapshot, a staged
snapshot) fail alone, give their space back, and the member serves on.

The member's data dir is a small tmpfs (python/etcdlab/disk_faults.py; needs root or user
namespaces: the tests skip, saying why, without them) with 1 MiB WAL segments, so that the log
needs new space within a few hundred writes."""

import re
import threading
import time

import pytest

from etcdlab.client import Client, EtcdError
from etcdlab.disk_faults import DiskFaults, DiskFaultsUnavailable
from etcdlab.local import LocalCluster
from test_operations_e2e import assert_hashes_equal

SMALL_WAL = ["--experimental-wal-segment-bytes", str(1 << 20)]
VALUE = 1024  # bytes per put: the disk fills within a few hundred


class Writer(threading.Thread):
    """Puts k000000, k000001, ... with 1 KiB values through `endpoints` until stopped,
    remembering what was acknowledged (and what may or may not have been applied)."""

    def __init__(self, endpoints, prefix="k"):
        super().__init__(daemon=True)
        self.client = Client(endpoints, timeout=3.0)
        self.prefix = prefix
        self.acked: dict[str, bytes] = {}
        self.errors: list[str] = []
        self.halt = threading.Event()

    def value(self, n: int) -> bytes:
        return (f"{self.prefix}{n}-".encode() * VALUE)[:VALUE]

    def run(self):
        n = 0
        while not self.halt.is_set():
            key = f"{self.prefix}{n:06d}"
            try:
                self.client.put(key, self.value(n))
                self.acked[key] = self.value(n)
            except (EtcdError, OSError) as e:
                self.errors.append(str(e))
                time.sleep(0.02)  # (a member down: the client fails over meanwhile)
            n += 1

    def stop(self):
        self.halt.set()
        self.join(10)
        self.client.close()

    def acked_since(self, count: int) -> int:
        return len(self.acked) - count


def small_disks(cluster, members, mib):
    disks = DiskFaults(cluster)
    try:
        for i in members:
            disks.small_disk(i, mib)
    except DiskFaultsUnavailable as e:
        disks.close()
        pytest.skip(f"no small disk for a member here: {e}")
    return disks


def wait_exit(cluster, i, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not cluster.running(i):
            return cluster.procs[i].returncode
        time.sleep(0.05)
    return None


def stop_line(cluster, i):
    """The member's last words: the line that says why it stopped."""
    log = open(cluster.log_path(i), errors="replace").read()
    lines = [line for line in log.splitlines() if "storage failure" in line]
    return lines[-1] if lines else ""


def assert_a_clean_stop_on_a_full_disk(cluster, i, line):
    assert line, f"member {i} stopped without saying why; log {cluster.log_path(i)}"
    member_dir = f"{cluster.data_dir}/{cluster.names[i]}/"
    assert member_dir in line, f"the stop names no file of the member's data dir: {line}"
    assert re.search(r"No space left on device|database or disk is full", line), line


def assert_every_acked_write_is_there(client, acked):
    missing = []
    for key, value in acked.items():
        if client.value(key) != value:
            missing.append(key)
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:5]}"


def test_a_follower_whose_disk_fills_stops_cleanly_and_catches_up_once_space_is_back():
    cluster = LocalCluster(3, snapshot_count=500, extra_args=SMALL_WAL)
    disks = small_disks(cluster, [0], mib=12)
    with disks, cluster:
        leader = cluster.wait_leader()
        if leader == 0:  # a follower fills here (the leader: the next test's single member)
            Client([cluster.endpoint(0)]).call(
                "/v3/maintenance/transfer-leadership", {"targetID": str(cluster.member_id(1))})
            leader = cluster.wait_leader()
        writer = Writer([cluster.endpoint(j) for j in (1, 2)])
        writer.start()
        assert writer.client.wait(lambda: len(writer.acked) >= 50, 15), writer.errors[-3:]
        filled = disks.make_disk_full(0)
        t_full = time.monotonic()
        code = wait_exit(cluster, 0, 30)
        t_stop = time.monotonic() - t_full
        assert code == 2, f"member 0 still running {code}; log {cluster.log_path(0)}"
        line = stop_line(cluster, 0)
        assert_a_clean_stop_on_a_full_disk(cluster, 0, line)
        # The other two serve on.
        before = len(writer.acked)
        assert writer.client.wait(lambda: writer.acked_since(before) >= 100, 15), \
            f"the cluster stopped serving with one member down: {writer.errors[-3:]}"
        writer.stop()
        print(f"\nfilled {filled >> 10} KiB; member 0 stopped {t_stop:.2f} s later: {line}")

        # Still full: the restart refuses, for the same reason, and damages nothing.
        cluster.start_member(0)
        assert wait_exit(cluster, 0, 15) is not None, "a member on a full disk cannot serve"
        disks.free_disk(0)
        cluster.start_member(0)
        cluster.wait_healthy(0, 20)
        reader = cluster.client([0])
        assert reader.wait(lambda: reader.get("x", serializable=True)["header"]["revision"]
                           >= writer.client.get("x")["header"]["revision"], 20)
        assert_every_acked_write_is_there(cluster.client(), writer.acked)
        assert_hashes_equal(cluster)
        # And it writes again.
        cluster.client([0]).put("after", "space is back")
        reader.close()


def test_a_single_member_whose_disk_fills_stops_and_keeps_every_acknowledged_write():
    cluster = LocalCluster(1, extra_args=SMALL_WAL)
    disks = small_disks(cluster, [0], mib=8)
    with disks, cluster:
        cluster.wait_leader()
        writer = Writer([cluster.endpoint(0)])
        writer.start()
        assert writer.client.wait(lambda: len(writer.acked) >= 50, 15), writer.errors[-3:]
        disks.make_disk_full(0)
        code = wait_exit(cluster, 0, 30)
        writer.stop()
        assert code == 2, f"member 0: {code}; log {cluster.log_path(0)}"
        assert_a_clean_stop_on_a_full_disk(cluster, 0, stop_line(cluster, 0))
        # What the clients saw: the request in flight is answered by a closed connection,
        # the next ones by a refused one (the process is gone, as etcd's would be).
        assert writer.errors, "writes after the stop must fail"
        assert any("connect" in e or "Connection" in e or "Remote" in e for e in writer.errors), \
            writer.errors[-3:]
        disks.free_disk(0)
        cluster.start_member(0)
        cluster.wait_healthy(0, 20)
        c = cluster.client()
        assert_every_acked_write_is_there(c, writer.acked)
        c.put("after", "space is back")
        assert c.value("after") == b"space is back"
        c.close()


def test_a_defragment_that_does_not_fit_fails_alone_and_gives_its_space_back():
    cluster = LocalCluster(1, snapshot_count=1000, extra_args=SMALL_WAL)
    disks = small_disks(cluster, [0], mib=32)
    with disks, cluster:
        cluster.wait_leader()
        c = cluster.client(timeout=20.0)
        # Keys that stay (VACUUM writes them all again) and a third as many that go.
        for n in range(3000):
            c.put(f"big{n:05d}", b"x" * 256)
        for n in range(1000):
            c.put(f"gone{n:05d}", b"y" * 256)
        rev = c.delete("gone", prefix=True)["header"]["revision"]
        c.compact(rev, physical=True)
        # A defragment with room empties SQLite's own WAL file: the next one must find new
        # space for the whole database (else it reuses that file's old frames).
        c.defragment(cluster.endpoint(0))
        c.put("before", "the fill")
        db_size = int(c.status(cluster.endpoint(0))["dbSize"])
        disk = disks.disks[0]
        disks.make_disk_full(0, leave=db_size // 4)  # VACUUM needs about the live data's size
        free_before = disk.free_bytes()
        with pytest.raises(EtcdError) as failed:
            c.defragment(cluster.endpoint(0))
        message = str(failed.value)
        print(f"\ndatabase {db_size >> 10} KiB, {free_before >> 10} KiB free (of {disk.mib} MiB): "
              f"{message}")
        assert "database or disk is full" in message or "No space left" in message, message
        assert cluster.running(0), f"a failed defragment stopped the member: {cluster.log_path(0)}"
        assert disk.free_bytes() >= free_before - (64 << 10), \
            "the failed defragment kept the space it took"
        # The member serves on: the old database, and new writes.
        c.put("after", "defragment failed")
        assert c.value("after") == b"defragment failed"
        disks.free_disk(0)
        c.defragment(cluster.endpoint(0))  # with room again, it runs
        assert c.value("after") == b"defragment failed"
        assert c.get("big", prefix=True, count_only=True)["count"] == 3000
        c.close()


def timed_puts(client, prefix, count):
    """`count` puts one after another; returns each one's seconds."""
    took = []
    for n in range(count):
        t0 = time.monotonic()
        client.put(f"{prefix}{n:04d}", f"{prefix}{n}")
        took.append(time.monotonic() - t0)
    return took


def test_a_slow_disk_on_a_follower_then_on_the_leader_slows_writes_but_loses_none():
    delay_ms = 200
    with LocalCluster(3, failpoints=True) as cluster:
        disks = DiskFaults(cluster)
        leader = cluster.wait_leader()
        follower = (leader + 1) % 3
        client = cluster.client([leader])
        term0 = int(client.status(cluster.endpoint(leader))["raftTerm"])
        medians = {}
        for name, who, count in (("fast", None, 30), ("slow-follower", follower, 30),
                                 ("slow-leader", leader, 10)):
            if who is not None:
                disks.slow_disk(who, delay_ms)
            took = sorted(timed_puts(client, f"{name}/", count))
            medians[name] = took[len(took) // 2]
            disks.heal()
            for n in range(count):
                assert client.value(f"{name}/{n:04d}") == f"{name}/{n}".encode()
        term1 = int(client.status(cluster.endpoint(leader))["raftTerm"])
        print(f"\nmedian put with every fsync {delay_ms} ms slower: " +
              ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in medians.items()) +
              f"; term {term0} -> {term1}")
        # A slow follower is outvoted: the leader and the other follower commit without it.
        assert medians["slow-follower"] < delay_ms / 1000, medians
        # The leader applies (and answers) only what it has synced itself.
        assert medians["slow-leader"] >= delay_ms / 1000, medians
        assert term1 == term0, "syncs run beside the node thread: heartbeats go on"
        assert_hashes_equal(cluster)
        client.close()
