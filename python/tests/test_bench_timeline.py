"""`etcdlab-bench put --timeline FILE` against the ceiling server (real processes): the file has
one JSON line per second of the run, and the lines add up to the run's own summary.

The per-second arithmetic (silent seconds, late answers, partial seconds, merging) is unit-tested
in bench/tests/timeline_test.cc; this checks the wiring: the option, the window, the file.
Needs build/bin/etcdlab-bench; skipped without it except under make check."""

import json
import os
import select
import subprocess
import time

import pytest

from etcdlab.local import find_binary


@pytest.fixture
def bench_binary():
    try:
        return find_binary("etcdlab-bench")
    except FileNotFoundError as e:
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            raise
        pytest.skip(str(e))


@pytest.fixture
def ceiling(bench_binary):
    """The ceiling server on a port it picks; yields that port (read from its first line)."""
    p = subprocess.Popen([bench_binary, "ceiling-server", "--port", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 10
        line = ""
        while not line.endswith("\n"):
            left = deadline - time.monotonic()
            assert left > 0 and p.poll() is None, f"ceiling-server did not start: {line!r}"
            ready, _, _ = select.select([p.stdout], [], [], left)
            if ready:
                line += p.stdout.readline()
        assert "listening on" in line, line
        yield int(line.rsplit(":", 1)[1])
    finally:
        p.terminate()
        p.wait(timeout=10)


def run_put(bench_binary, port, timeline, *extra):
    out = subprocess.run(
        [bench_binary, "put", "--endpoints", f"127.0.0.1:{port}", "--clients", "4",
         "--warmup", "0", "--val-size", "256", "--key-size", "16", "--key-space", "1000000",
         "--sequential-keys", "--json", "--timeline", str(timeline), *extra],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_timeline_has_a_line_per_second_of_the_duration_adding_up_to_the_summary(
        bench_binary, ceiling, tmp_path):
    path = tmp_path / "timeline.jsonl"
    summary = run_put(bench_binary, ceiling, path, "--duration", "2.5")
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    steps = "\n".join(json.dumps(x) for x in lines)
    assert [x["second"] for x in lines] == [0, 1, 2], steps  # ceil(2.5) seconds
    assert sum(x["ok"] for x in lines) == summary["ok"] > 0, steps
    assert sum(x["errors"] for x in lines) == summary["errors"] == 0, steps
    for x in lines:  # the ceiling answers every second of the run
        assert x["ok"] > 0, steps
        assert x["p50_ms"] <= x["p90_ms"] <= x["p99_ms"] <= x["max_ms"], steps
    # The run's slowest answer is the slowest of some second (both printed to 4 decimals).
    assert max(x["max_ms"] for x in lines) == pytest.approx(summary["latency_ms"]["max"],
                                                              abs=1e-4), steps
    # The last line covers half a second: its rate is counted over that half.
    assert lines[2]["ops_per_s"] == pytest.approx(2 * lines[2]["ok"], abs=0.1), steps


def test_timeline_of_a_total_run_covers_the_seconds_it_took(bench_binary, ceiling, tmp_path):
    path = tmp_path / "timeline.jsonl"
    summary = run_put(bench_binary, ceiling, path, "--total", "2000")
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert len(lines) >= 1
    assert sum(x["ok"] for x in lines) == summary["ok"] == 2000


def test_timeline_path_that_cannot_be_written_fails_before_the_run(bench_binary, ceiling,
                                                                   tmp_path):
    t0 = time.monotonic()
    out = subprocess.run(
        [bench_binary, "put", "--endpoints", f"127.0.0.1:{ceiling}", "--duration", "30",
         "--timeline", str(tmp_path / "no-such-dir" / "t.jsonl")],
        capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "--timeline" in out.stderr + out.stdout
    assert time.monotonic() - t0 < 20  # refused at once, not after the 30 s run
