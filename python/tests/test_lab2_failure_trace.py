"""A failing lab 2 scenario leaves its run to watch (labs/02-raft/tests/failure_trace.h): it
writes build/lab2-traces/<Suite>.<Test>.seed<N>.json and prints the one line that shows it,
`view this run: build/bin/etcdlab-view --trace <path>`, with paths to paste from where the tests
ran. The failures are real ones: the reference Raft with a deliberately broken variant
(lab02-tests-broken, ETCDLAB_BROKEN), one failing an assertion while the cluster lives, one
breaking an invariant (an exception that ends the test through the cluster).

Needs build/bin/lab02-tests-broken; skipped without it, an error under make check
(ETCDLAB_E2E_REQUIRED=1)."""

import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest

from etcdlab.local import find_binary

CASES = {
    # variant, test, seed: how it fails
    "assertion": ("leader-never-steps-down", "ElectionScenario.NoLeaderWithoutQuorum", 2),
    "invariant": ("apply-uncommitted", "ReplicationScenario.BasicAgreement", 1),
}


@pytest.fixture(scope="module")
def binary():
    try:
        path = Path(find_binary("lab02-tests-broken"))
    except FileNotFoundError:
        path = None
    if path is None or not path.exists():
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            pytest.fail("build/bin/lab02-tests-broken is not built")
        pytest.skip("build/bin/lab02-tests-broken is not built")
    return path


def _run_failing(binary: Path, case: str):
    variant, test, seed = CASES[case]
    root = binary.parents[2]  # <root>/<build>/bin/lab02-tests-broken: paths print from <root>
    trace = binary.parents[1] / "lab2-traces" / f"{test}.seed{seed}.json"
    trace.unlink(missing_ok=True)
    env = dict(os.environ, ETCDLAB_SEED=str(seed), ETCDLAB_BROKEN=variant)
    env.pop("ETCDLAB_LOG", None)
    proc = subprocess.run([str(binary), f"--gtest_filter={test}"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    return proc, root, trace, test, seed


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_failing_scenario_writes_its_run_and_prints_how_to_view_it(binary, case):
    proc, root, trace, test, seed = _run_failing(binary, case)
    try:
        assert proc.returncode != 0, f"{test} with its broken variant passed:\n{proc.stdout}"
        lines = re.findall(r"^view this run: (\S+) --trace (\S+)$", proc.stdout, re.M)
        assert len(lines) == 1, f"one line per failing cluster:\n{proc.stdout[-3000:]}"
        viewer, path = lines[0]
        build = binary.parents[1].name
        assert viewer == f"{build}/bin/etcdlab-view", "relative to where the tests ran"
        assert path == f"{build}/lab2-traces/{test}.seed{seed}.json"
        assert os.access(root / viewer, os.X_OK)
        recording = json.loads((root / path).read_text())
        assert recording["format"] == "etcdlab-view/1" and recording["source"] == "sim"
        assert recording["title"] == f"{test} seed {seed}" and recording["seed"] == seed
        assert f"ETCDLAB_SEED={seed} make lab2 TEST={test}" in recording["replay"]
        frames = recording["frames"]
        assert 1 < len(frames) <= 3000
        assert all(len(f["nodes"]) == recording["nodes"] for f in frames)
        if case == "invariant":
            # The last frame is the event that broke the rule, named by its trace line.
            event = int(re.search(r"broken on node \d+ at event (\d+)", proc.stdout).group(1))
            assert frames[-1]["seq"] == event
            assert frames[-1]["event"].startswith(f"#{event} ")
        else:
            # The report's moment: the last frame is the cluster as the failure found it.
            moment = float(re.search(r"assertion failed: seed \d+, t=([\d.]+) ms", proc.stdout)
                           .group(1))
            assert frames[-1]["t_ms"] <= moment
            leaders = [n for n in frames[-1]["nodes"] if n["role"] == "leader"]
            assert leaders, "the leader that never stepped down is in the picture"
    finally:
        trace.unlink(missing_ok=True)


def test_the_printed_command_serves_the_trace(binary):
    proc, root, trace, test, seed = _run_failing(binary, "assertion")
    try:
        viewer, path = re.search(r"^view this run: (\S+) --trace (\S+)$", proc.stdout,
                                 re.M).groups()
        server = subprocess.Popen([str(root / viewer), "--trace", path, "--port", "0"], cwd=root,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = server.stdout.readline()
            assert first.startswith("etcdlab view: http://127.0.0.1:"), first + server.stderr.read()
            url = first.split(": ", 1)[1].strip()
            with urllib.request.urlopen(url + "api/info", timeout=30) as r:
                info = json.loads(r.read())
            assert info["source"] == "trace" and info["title"] == f"{test} seed {seed}"
            assert info["controls"] is False
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        trace.unlink(missing_ok=True)
