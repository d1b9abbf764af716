"""`etcdlab-bench put --json` against the ceiling server (real processes): the histogram buckets
it stores ("latency_buckets_ns", for bench/plots.py's latency curves) count every answer, agree
with the octaves and quantiles beside them, and draw.

The buckets' arithmetic is unit-tested in bench/tests/histogram_test.cc; this checks the wiring.
Needs build/bin/etcdlab-bench; skipped without it except under make check."""

import json
import math
import pathlib
import subprocess
import sys

from test_bench_timeline import bench_binary, ceiling  # noqa: F401 (fixtures)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))

import plots  # noqa: E402


def test_stored_buckets_count_every_answer_and_agree_with_the_quantiles(
        bench_binary, ceiling, tmp_path):  # noqa: F811
    out = subprocess.run(
        [bench_binary, "put", "--endpoints", f"127.0.0.1:{ceiling}", "--clients", "2",
         "--duration", "1", "--warmup", "0", "--val-size", "256", "--key-size", "16", "--json"],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    buckets = r["latency_buckets_ns"]
    steps = f"ok {r['ok']}, latency_ms {r['latency_ms']}, buckets {buckets}"
    assert r["ok"] > 0 and sum(c for _, _, c in buckets) == r["ok"], steps
    assert sum(row["count"] for row in r["histogram"]) == r["ok"], steps
    assert all(lo < hi for lo, hi, _ in buckets), steps
    assert all(a[1] <= b[0] for a, b in zip(buckets, buckets[1:])), steps  # ordered, disjoint
    lat = r["latency_ms"]
    # Each stored quantile is in the bucket holding the answer of its rank (JSON: 4 decimals).
    for name, q in plots.QUANTILES[1:]:
        rank, below = max(1, math.ceil(q * r["ok"])), 0  # as LatencyHistogram::quantile
        for lo, hi, count in buckets:
            below += count
            if below >= rank:
                assert lo / 1e6 - 1e-4 <= lat[name] <= hi / 1e6 + 1e-4, (name, lo, hi, steps)
                break
    # The picture draws a line through the buckets: more points than the quantiles give.
    assert len(plots.bucket_points(r)) > len(plots.percentile_points(r)), steps
    runs = [{"target": kind, "members": 3, "workload": "put-2", "label": "put, 2 clients",
             "result": r} for kind in ("etcd", "etcdlab")]
    png = tmp_path / "l.png"
    plots.latency(runs, png, {"started": "2026-12-08 00:00", "duration_s": 1.0})
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
