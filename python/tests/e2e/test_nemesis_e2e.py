"""The real-process nemesis (etcdlab/nemesis.py): a seeded schedule of faults on the peer links
(cut by reset or blackhole, one way or both, partitions, a bridge, the leader isolated, delays,
drops), on the processes (kill -9 and restart, SIGSTOP and SIGCONT) and on the disks (made full,
made slow: the initial members' data dirs are small tmpfs; where this machine cannot make them,
the run says so and goes on without disk faults), with membership changes while they hold, under a recorded KV load through every member. Once everything is healed:
the history is strictly serializable (check_txns), no acknowledged write is missing from any
member's event history, every member has the same event history and the same hash.

make check runs 45 s of faults on 3 members. ETCDLAB_LONG=1 runs the long one instead: 5
members, faults held up to 8 s, ETCDLAB_NEMESIS_SECONDS of them (default 1800), and prints the
timeline and the summary table:

    ETCDLAB_LONG=1 PYTHONPATH=build/python /usr/bin/python3 -m pytest -s \\
        python/tests/e2e/test_nemesis_e2e.py -k long
"""

import contextlib
import os

import pytest

from etcdlab.disk_faults import DiskFaults, DiskFaultsUnavailable
from etcdlab.local import LocalCluster
from etcdlab.nemesis import run_nemesis
from seeding import replay, seeds

LONG = os.environ.get("ETCDLAB_LONG") == "1"


def _run(seed: int, n: int, seconds: float, test_name: str, hold_s=(1.0, 4.0)) -> None:
    print(f"\nETCDLAB_SEED={seed} (replay: {replay(seed, __file__, test_name)})", flush=True)
    # snapshot_count 500: members that were away, and new learners, catch up by snapshots,
    # which then cross the faulty links too. 1 MiB WAL segments: a 64 MiB disk holds the run.
    cluster = LocalCluster(n=n, link_proxies=True, link_seed=seed, snapshot_count=500,
                           failpoints=True,
                           extra_args=["--experimental-wal-segment-bytes", str(1 << 20)])
    disks = DiskFaults(cluster)
    try:
        for i in range(n):
            disks.small_disk(i, mib=64)
    except DiskFaultsUnavailable as e:
        print(f"no disk faults in this run: {e}", flush=True)
        disks.close()
        disks = None
    with disks or contextlib.nullcontext(), cluster:  # (the cluster stops first)
        report = run_nemesis(cluster, seed=seed, seconds=seconds, hold_s=hold_s, disks=disks,
                             log=lambda line: print(line, flush=True))
        print(report.table(), flush=True)
        assert report.passed, (
            f"the nemesis broke a promise (seed {seed}; logs kept in {cluster.data_dir}; "
            f"replay: {replay(seed, __file__, test_name)}):\n{report.table()}")
        assert sum(report.faults.values()) >= 3, "faults were injected"
        assert report.operations.get("ok", 0) > 100, "the load went through between faults"


@pytest.mark.skipif(LONG, reason="ETCDLAB_LONG=1 runs the long version instead")
@pytest.mark.parametrize("seed", seeds(1, default=[11]))
def test_under_link_process_and_membership_faults_no_acknowledged_write_is_lost(seed):
    _run(seed, 3, 45, "test_under_link_process_and_membership_faults")


@pytest.mark.skipif(not LONG, reason="ETCDLAB_LONG=1 runs it (30 minutes)")
@pytest.mark.parametrize("seed", seeds(1, default=[2026]))
def test_long_nemesis_keeps_every_promise(seed):
    _run(seed, 5, float(os.environ.get("ETCDLAB_NEMESIS_SECONDS", "1800")),
         "test_long_nemesis_keeps_every_promise", hold_s=(1.0, 8.0))
