"""bench/scale.py (`make bench-scale`): how each figure's growth is labelled (no processes), and
the script's whole path at its smallest (real processes: 2,000 keys, both stores, 3 members
each, about 40 s), so that a renamed field, a changed log line or a refused request fails here
rather than in a run of hours.

The process test needs build/bin/etcdlab, build/bin/etcdlab-bench and /usr/bin/etcd (3.4); it
is skipped without them except under make check (ETCDLAB_E2E_REQUIRED=1)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import scale_report  # noqa: E402


def test_growth_labels_follow_the_exponent_of_the_data():
    sizes = [100_000, 1_000_000, 5_000_000]
    assert scale_report.growth([(n, 3.0) for n in sizes], False)["label"] == "flat"
    assert scale_report.growth([(n, n / 1000) for n in sizes], False)["label"] == "linear"
    assert scale_report.growth([(n, (n / 1000) ** 2) for n in sizes], False)["label"] == \
        "worse than linear"
    assert scale_report.growth([(n, n ** 0.3) for n in sizes], False)["label"] == "sublinear"
    steps = scale_report.growth([(n, n / 1000) for n in sizes], False)["cost_ratios"]
    assert steps == [10.0, 5.0]


def test_throughput_grows_as_its_inverse():
    # puts/s falling as the data grows is a cost growing linearly
    g = scale_report.growth([(1_000, 10_000.0), (10_000, 1_000.0)], True)
    assert g["exponent"] == 1.0 and g["label"] == "linear"


def test_a_store_whose_cost_grows_faster_is_marked():
    def record(kind, n, restart_s):
        return {"target": kind, "keys": n, "restart": {"seconds": restart_s}}
    records = [record("etcd", 1000, 1.0), record("etcd", 10_000, 1.1),
               record("etcdlab", 1000, 1.0), record("etcdlab", 10_000, 10.0)]
    g = scale_report.growth_all(records)
    assert g["restart"]["grows_faster"] == "etcdlab"
    assert g["restart"]["etcd"]["label"] == "flat"
    assert "grows_faster" not in g["load_puts"]  # not measured: no mark
    assert g["load_puts"]["etcd"]["label"] == "—"


def test_two_figures_of_one_class_are_not_marked_however_far_apart():
    # noise below flat (a cost that falls as the data grows) against a flat one: no finding
    records = [{"target": "etcd", "keys": 1000, "restart": {"seconds": 2.0}},
               {"target": "etcd", "keys": 10_000, "restart": {"seconds": 0.5}},
               {"target": "etcdlab", "keys": 1000, "restart": {"seconds": 1.0}},
               {"target": "etcdlab", "keys": 10_000, "restart": {"seconds": 1.1}}]
    g = scale_report.growth_all(records)["restart"]
    assert g["etcd"]["label"] == g["etcdlab"]["label"] == "flat"
    assert "grows_faster" not in g


def _binaries():
    needed = [REPO / "build" / "bin" / "etcdlab", REPO / "build" / "bin" / "etcdlab-bench",
              pathlib.Path("/usr/bin/etcd"), pathlib.Path("/usr/bin/etcdctl")]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            raise FileNotFoundError(f"bench/scale.py needs {', '.join(missing)}")
        pytest.skip(f"missing {', '.join(missing)}")


def test_smallest_scale_run_measures_every_figure_on_both_stores(tmp_path):
    _binaries()
    out = tmp_path / "scale"
    # --snapshot-count 500: at 2,000 keys the new member must still catch up by a snapshot.
    run = subprocess.run([sys.executable, str(REPO / "bench" / "scale.py"), "--sizes", "2000",
                          "--short", "--no-build", "--snapshot-count", "500", "--out", str(out),
                          "--tmp", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    data = json.loads(out.with_suffix(".json").read_text())
    assert [(r["target"], r["keys"]) for r in data["records"]] == [("etcd", 2000),
                                                                   ("etcdlab", 2000)]
    for r in data["records"]:
        who = r["target"]
        missing = [fid for fid, _, getter, _, _ in scale_report.FIGURES
                   if scale_report.value(r, getter) is None]
        assert not missing, f"{who}: no figure for {missing}: {r}"
        assert r["load"]["errors"] == 0, (who, r["load"])
        assert len(r["members"]) == 3 and sum(m["role"] == "leader"
                                              for m in r["members"].values()) == 1, r["members"]
        assert r["load"]["keys_present"] == 2000, (who, r["load"])
        assert r["ranges"]["keys_wide"]["keys"] == r["ranges"]["keys_wide"]["keys_read"] == 1000
        assert r["ranges"]["keys_1"]["keys_read"] == 1
        assert r["snapshot_save"]["ok"], (who, r["snapshot_save"])
        # the revision the new member reached is the whole load's: 2,000 puts and more
        assert r["catch_up"]["revision"] > 2000 and r["catch_up"]["by_snapshot"], r["catch_up"]
        c = r["compaction"]
        assert c["error"] is None and c["revisions_removed"] == 2000, c
        assert c["revision"] > r["catch_up"]["revision"], c
    text = out.with_suffix(".md").read_text()
    assert "## Scale" in text and "2,000 keys: etcdlab" in text
    assert not list(tmp_path.glob("scale-*")), "the run left its data dirs behind"
    # --report rewrites the same table from the stored measurements alone
    written = out.with_suffix(".md").read_text()
    out.with_suffix(".md").unlink()
    again = subprocess.run([sys.executable, str(REPO / "bench" / "scale.py"), "--report",
                            str(out.with_suffix(".json"))], capture_output=True, text=True,
                           timeout=60)
    assert again.returncode == 0, again.stderr[-3000:]
    assert out.with_suffix(".md").read_text() == written
