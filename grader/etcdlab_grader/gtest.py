"""Listing and running GoogleTest tests, each in its own process.

One process per test, so a crash or a hang costs one test and not the lab, and a time limit
applies to each test. A test passes only on positive evidence: gtest's JSON report names it with
no failure and the process exits 0. A process that exits early without a report (a stray exit()
in student code, say) is a crash, not a pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import GraderError
from .process import describe_exit, live, run_limited

PASSED, FAILED, TIMED_OUT, CRASHED, SKIPPED = "passed", "failed", "timed out", "crashed", "skipped"
# Only pytest reports it: an error outside the test body (a fixture), or a file that could not be
# imported. It scores like a failure.
ERROR = "error"

MAX_OUTPUT_LINES = 40
_TAIL_LINES = 20  # of a crash's or a timeout's output
_LIST_TIMEOUT = 60


@dataclass
class TestResult:
    name: str
    status: str
    seconds: float
    output: str = ""  # for people: the failure, trimmed; empty when passed

    @property
    def passed(self) -> bool:
        return self.status == PASSED


# ---- the environment ---------------------------------------------------------------------------

def test_environment(seed_base: int | None, broken: str | None = None) -> dict[str, str]:
    """The environment tests run in.

    Inherited GTEST_* and ETCDLAB_* variables are dropped: a stray ETCDLAB_SEED would replay one
    seed instead of the hidden set, GTEST_FILTER or GTEST_REPEAT would change what runs.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GTEST_", "ETCDLAB_"))}
    env["GTEST_COLOR"] = "no"
    if seed_base is not None:
        env["ETCDLAB_SEED_BASE"] = str(seed_base)
    if broken is not None:
        env["ETCDLAB_BROKEN"] = broken
    return env


# ---- listing -----------------------------------------------------------------------------------

def list_tests(binary: Path, env: dict[str, str]) -> list[str]:
    """The full names (Suite.Test) of the tests in `binary`, in order, without DISABLED_ ones."""
    if not binary.exists():
        raise GraderError(f"no test binary at {binary}")
    try:
        proc = subprocess.run([str(binary), "--gtest_list_tests"], capture_output=True,
                              env=env, stdin=subprocess.DEVNULL, timeout=_LIST_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ListFailure(f"{binary.name} --gtest_list_tests did not finish "
                          f"in {_LIST_TIMEOUT} s") from None
    text = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        why = describe_exit(proc.returncode)
        raise ListFailure(f"{binary.name} --gtest_list_tests {why}",
                          tail(text + proc.stderr.decode("utf-8", "replace"), _TAIL_LINES))
    return parse_test_list(text)


class ListFailure(Exception):
    """The binary could not even list its tests (it crashes at start-up, say)."""

    def __init__(self, summary: str, output: str = ""):
        super().__init__(summary)
        self.summary = summary
        self.output = output


def parse_test_list(text: str) -> list[str]:
    # The format: a suite line "Suite.  # TypeParam = X" at column 0, then its tests indented
    # "  Name  # GetParam() = Y". Anything else at column 0 (a log line printed at start-up) ends
    # the current suite.
    names: list[str] = []
    suite = None
    for line in text.splitlines():
        if not line.strip():
            continue
        bare = line.split("#", 1)[0].strip()
        if not line[0].isspace():
            suite = bare if bare.endswith(".") and " " not in bare else None
        elif suite is not None and bare and " " not in bare:
            if not (suite.startswith("DISABLED_") or bare.startswith("DISABLED_")):
                names.append(suite + bare)
    return names


# ---- running one test ----------------------------------------------------------------------

def run_test(binary: Path, name: str, *, time_limit: float, env: dict[str, str]) -> TestResult:
    """Runs one test in its own process (and process group) in a scratch directory.

    The scratch directory is the test's working directory and TMPDIR, so files a test leaves
    behind (on a failure, say) vanish with it and cannot leak into the next test.
    """
    with tempfile.TemporaryDirectory(prefix="etcdlab-grade-") as scratch_name:
        scratch = Path(scratch_name)
        (scratch / "cwd").mkdir()
        (scratch / "tmp").mkdir()
        report_path = scratch / "result.json"
        log_path = scratch / "output.log"
        cmd = [str(binary), f"--gtest_filter={name}", f"--gtest_output=json:{report_path}",
               "--gtest_color=no"]
        done = run_limited(cmd, cwd=scratch / "cwd", env=dict(env, TMPDIR=str(scratch / "tmp")),
                           time_limit=time_limit, log_path=log_path)
        report = _read_report(report_path)
    return classify(name, returncode=done.returncode, timed_out=done.timed_out, report=report,
                    output=done.output, seconds=done.seconds, time_limit=time_limit)


def classify(name: str, *, returncode: int, timed_out: bool, report: dict | None, output: str,
             seconds: float, time_limit: float) -> TestResult:
    """What happened to one test, from its exit status, its JSON report and its output."""
    # The output never starts with the status: reports print "<status>: <first line>".
    if timed_out:
        return TestResult(name, TIMED_OUT, seconds,
                          f"still running after {time_limit:g} s (the per-test limit); killed. "
                          f"{last_output(output)}")
    if returncode < 0:
        return TestResult(name, CRASHED, seconds,
                          f"the process {describe_exit(returncode)}. {last_output(output)}")
    entry = _find_in_report(report, name)
    if entry is None:
        return TestResult(name, CRASHED, seconds,
                          f"the process {describe_exit(returncode)} before the test reported a "
                          f"result. {last_output(output)}")
    failures = [f.get("failure", "") for f in entry.get("failures", [])]
    if failures:
        section = _test_section(output, name)
        return TestResult(name, FAILED, seconds,
                          trim_output(section or "\n\n".join(failures)))
    if entry.get("result") == "SKIPPED" or entry.get("status") == "NOTRUN":
        return TestResult(name, SKIPPED, seconds,
                          trim_output(_test_section(output, name) or "the test was skipped"))
    if returncode != 0:
        return TestResult(name, CRASHED, seconds,
                          f"the test passed but the process {describe_exit(returncode)} "
                          f"(a crash at exit?). {last_output(output)}")
    return TestResult(name, PASSED, seconds)


def _read_report(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(errors="replace"))
    except (OSError, ValueError):
        return None


def _find_in_report(report: dict | None, name: str) -> dict | None:
    if not isinstance(report, dict):
        return None
    for suite in report.get("testsuites", []):
        for test in suite.get("testsuite", []):
            if f"{suite.get('name')}.{test.get('name')}" == name:
                return test
    return None


def _test_section(output: str, name: str) -> str:
    """The lines gtest printed for `name`, from its RUN line to its result line, exclusive."""
    lines = output.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith("[ RUN      ] " + name)), None)
    if start is None:
        return ""
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith(("[  FAILED  ] " + name, "[  SKIPPED ] " + name,
                                        "[       OK ] " + name))), len(lines))
    return "\n".join(lines[start + 1:end]).strip("\n")


# ---- trimming output for people ----------------------------------------------------------------

def last_output(output: str, n: int = _TAIL_LINES) -> str:
    """"Last output:" and the output's last `n` lines, or a sentence saying there was none."""
    if not output.strip():
        return "It printed nothing."
    return f"Last output:\n{tail(output, n)}"


def tail(text: str, n: int) -> str:
    lines = text.rstrip("\n").splitlines()
    if len(lines) <= n:
        return "\n".join(lines)
    return "\n".join([f"[... {len(lines) - n} earlier lines]"] + lines[-n:])


def trim_output(text: str, max_lines: int = MAX_OUTPUT_LINES,
                keep: tuple[str, ...] = ("replay:",)) -> str:
    """At most about `max_lines` lines: the start (what broke first), the end, and always the
    first line holding each marker of `keep` (by default the seed/replay line, which is what a
    student needs to reproduce the failure)."""
    lines = text.rstrip("\n").splitlines()
    if len(lines) <= max_lines:
        return "\n".join(lines)
    head_n = max_lines * 3 // 4
    tail_n = max_lines - head_n - 2
    head, rest = lines[:head_n], lines[head_n:]
    end = rest[-tail_n:] if tail_n > 0 else []
    omitted = rest[:len(rest) - len(end)]
    out = head + [f"[... {len(omitted)} lines omitted ...]"]
    for marker in keep:
        line = next((ln for ln in omitted if marker in ln), None)
        if line is not None and line not in out and not any(marker in ln for ln in head + end):
            out.append(line)
    return "\n".join(out + end)


# ---- running many ------------------------------------------------------------------------------

def run_tests(binary: Path, names: list[str], *, time_limits: dict[str, float],
              env: dict[str, str], jobs: int, stop_at_first_failure: bool = False,
              on_result: Callable[[TestResult], None] | None = None) -> dict[str, TestResult]:
    """Runs `names` with `jobs` workers; returns the results by name.

    With stop_at_first_failure no new test starts once one has not passed (the ones already
    running finish), so the result may hold fewer tests than asked for.
    """
    results: dict[str, TestResult] = {}
    pending = list(names)
    running = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        try:
            stop = False
            while pending or running:
                while pending and not stop and len(running) < max(1, jobs):
                    name = pending.pop(0)
                    running[pool.submit(run_test, binary, name, time_limit=time_limits[name],
                                        env=env)] = name
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    result = future.result()
                    results[result.name] = result
                    if on_result:
                        on_result(result)
                    if stop_at_first_failure and not result.passed:
                        stop = True
        except BaseException:
            live.kill_all()  # Ctrl-C: the tests run in their own sessions and would not see it
            raise
    # In the order asked for, not the order finished.
    return {n: results[n] for n in names if n in results}
