"""bench/sustained.py and bench/plots.py without processes: what the sustained workload reads
from the members' logs, how it sums a timeline up, and that its picture is drawn.

(`etcdlab-bench put --timeline`, which writes the timelines, is tested in
test_bench_timeline.py and bench/tests/timeline_test.cc.)"""

import datetime
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))

import sustained  # noqa: E402

ETCD_LOG = """\
2026-12-07 18:21:12.541493 I | embed: snapshot count = 10
2026-12-07 18:21:13.311115 I | etcdserver: start to snapshot (applied: 11, lastsnap: 0)
2026-12-07 18:21:13.317408 I | etcdserver: saved snapshot at index 11
2026-12-07 18:21:13.320000 I | etcdserver: compacted raft log at 6
2026-12-07 18:21:13.579005 I | etcdserver: start to snapshot (applied: 22, lastsnap: 11)
2026-12-07 18:21:13.583663 I | etcdserver: saved snapshot at index 22
"""

ETCDLAB_LOG = """\
[2026-12-07 18:26:45.001] [info] etcdlab m1: became follower at term 2
[2026-12-07 18:26:49.240] [info] etcdlab m1: snapshot at index 20004 (0.106 s, written beside the node)
[2026-12-07 18:26:52.000] [error] etcdlab m1: snapshot at index 30000 failed (tried again later): x
[2026-12-07 18:26:52.401] [info] etcdlab m1: snapshot at index 40017 (0.324 s, written beside the node)
[2026-12-07 18:26:53.000] [info] etcdlab m1: installed snapshot 50000 from the leader
"""


def test_etcd_snapshots_are_the_saved_lines_timed_from_their_start(tmp_path):
    log = tmp_path / "m0.log"
    log.write_text(ETCD_LOG)
    snaps = sustained.snapshots("etcd", log)
    assert [s["index"] for s in snaps] == [11, 22]
    assert snaps[0]["done"] == datetime.datetime(2026, 12, 7, 18, 21, 13, 317408)
    assert snaps[0]["seconds"] == pytest.approx(0.006293)


def test_etcdlab_snapshots_are_those_written_not_failed_or_installed(tmp_path):
    log = tmp_path / "m1.log"
    log.write_text(ETCDLAB_LOG)
    snaps = sustained.snapshots("etcdlab", log)
    assert [(s["index"], s["seconds"]) for s in snaps] == [(20004, 0.106), (40017, 0.324)]
    assert snaps[1]["done"] == datetime.datetime(2026, 12, 7, 18, 26, 52, 401000)


def test_a_member_without_a_log_has_no_snapshots(tmp_path):
    assert sustained.snapshots("etcd", tmp_path / "missing.log") == []


def second(i, ok, p99, mx=None):
    return {"second": i, "ok": ok, "errors": 0, "ops_per_s": float(ok), "p50_ms": p99 and p99 / 4,
            "p90_ms": p99 and p99 / 2, "p99_ms": p99, "max_ms": mx if mx is not None else p99}


def record(kind="etcdlab"):
    timeline = [second(0, 9000, 12.0), second(1, 0, None), second(2, 3000, 1400.0, 1700.0),
                second(3, 9100, 150.0)]
    result = {"ops_per_s": 5275.0, "ok": 21100, "errors": 0, "errors_by_kind": {},
              "latency_ms": {"p50": 4.0, "p90": 9.0, "p99": 1100.0, "max": 1700.0},
              "cpu_percent": {"leader": 90.0, "follower1": 30.0, "follower2": 30.0,
                              "load_tool": 20.0, "others": 5.0, "irq": 3.0, "steal": 0.0},
              "busiest_others": [], "command": "etcdlab-bench put ..."}
    members = {"m0": {"role": "leader", "snapshots": [{"at_s": 1.2, "index": 100000,
                                                        "seconds": 1.1}]},
               "m1": {"role": "follower", "snapshots": []},
               "m2": {"role": "follower", "snapshots": [{"at_s": 1.3, "index": 100001,
                                                          "seconds": None}]}}
    return sustained.summarize(kind, result, timeline, members)


# The table's worst seconds are what a reader looks for: the silent second and the one after.
def test_summary_names_the_worst_second_and_counts_stalls():
    r = record()
    assert (r["worst_second"], r["worst_second_p99_ms"]) == (2, 1400.0)
    assert (r["lowest_second"], r["lowest_second_ops_per_s"]) == (1, 0.0)
    assert r["silent_seconds"] == 1
    assert r["seconds_over_stall_ms"] == 2  # 1,400 and 150 ms
    assert r["snapshots_per_member"] == {"m0": 1, "m1": 0, "m2": 1}
    assert r["longest_snapshot_s"] == 1.1


def test_table_has_both_stores_and_the_picture():
    settings = {"started": "2026-12-07 19:00", "command": "bench/compare-etcd --sustained",
                "duration_s": 4.0, "snapshot_count": 0}
    machine = {"hostname": "h", "cpus": 2, "cpu": "c", "mem_gib": 8, "kernel": "k",
               "data_fs": "/dev/x ext4", "raw_fdatasync_per_s": 200,
               "loadavg_at_start": ["0.1", "0.2", "0.3"], "etcd": "etcd 3.4", "etcdlab_commit": "x"}
    text = sustained.table([record("etcdlab"), record("etcd")], settings, machine, "p.png")
    assert "| measure | etcd | etcdlab |" in text
    assert "| worst 1-second p99 ms | 1,400.0 (second 2) | 1,400.0 (second 2) |" in text
    assert "m0 (leader): 1, m1: 0, m2: 1" in text
    assert "![puts/s and p99 per second, both stores](p.png)" in text
    assert "busy with other work" not in text


def test_picture_is_drawn_with_a_silent_second(tmp_path):
    pytest.importorskip("matplotlib")
    import plots
    png = tmp_path / "s.png"
    plots.sustained([record("etcd"), record("etcdlab")], png,
                    {"started": "2026-12-07 19:00", "clients": 64, "snapshot_count": 0})
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# The log lines above are copied from the servers; these check that the servers still write
# them, so that a changed log line fails here rather than as "0 snapshots" in a result table.
def _servers():
    import os
    import shutil
    from etcdlab.local import find_binary
    out = []
    try:
        out.append(("etcdlab", find_binary()))
        bench = find_binary("etcdlab-bench")
    except FileNotFoundError as e:
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            raise
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=str(e)))]
    etcd = shutil.which("etcd") or "/usr/bin/etcd"
    if pathlib.Path(etcd).exists():
        out.append(("etcd", etcd))
    return [(kind, binary, bench) for kind, binary in out]


@pytest.mark.parametrize("kind,binary,bench", _servers())
def test_the_servers_log_the_snapshots_the_workload_counts(kind, binary, bench):
    import subprocess
    import time
    from etcdlab.local import LocalCluster
    with LocalCluster(n=1, binary=binary, snapshot_count=50) as c:
        c.wait_leader()
        out = subprocess.run([bench, "put", "--endpoints", c.endpoint(0), "--clients", "4",
                              "--total", "400", "--key-size", "16", "--key-space", "100000",
                              "--sequential-keys"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        deadline = time.monotonic() + 15
        while True:  # a snapshot is logged once written, a little after its entries apply
            snaps = sustained.snapshots(kind, c.log_path(0))
            if len(snaps) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        log = pathlib.Path(c.log_path(0)).read_text(errors="replace")
        assert len(snaps) >= 3, f"{kind} logged {len(snaps)} snapshots after 400 puts:\n{log}"
        assert [s["index"] for s in snaps] == sorted(s["index"] for s in snaps)
        assert all(s["seconds"] is not None and s["seconds"] >= 0 for s in snaps), snaps
