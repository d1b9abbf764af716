"""Listing and running a lab's Python (pytest) tests: one pytest process per test file.

The files are the grader's pristine copies, never a submission's: their folders are copied into
a scratch tree and pytest runs there. That also keeps python/tests/conftest.py from finding a
build/python next to the files (it falls back to the checkout's build, which links the
reference): in the scratch tree there is none, so the package under test is PYTHONPATH's alone.

A test passes only on positive evidence: pytest's JUnit XML names it with no failure, error or
skip. A file's run has a time limit (the per-test limits of its tests, added up) and is killed
with its process group past it. A run that ends without a report (the extension crashed the
interpreter, or the limit was hit) is done again one test per process, each under its own limit,
so a crash or a hang costs the test that crashes or hangs, not the file.
"""

from __future__ import annotations

import ast
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import GraderError
from .build import PYTHON
from .gtest import (CRASHED, ERROR, TIMED_OUT, TestResult, last_output, tail,
                    test_environment)
from .junit import JunitError, read_junit
from .process import Finished, describe_exit, run_limited
from .rubric import PYTHON as PYTHON_KIND, Lab, Selection, select_tests, time_limits

# Hypothesis examples per property: more than a student's default run (25).
PROPERTY_EXAMPLES = 50

_TAIL_LINES = 20
_COLLECT_TIMEOUT = 120  # importing the package and the tests; nothing of the student's runs
_PYTEST_CONFIGS = ("pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
_CACHES = ("__pycache__", ".pytest_cache", ".hypothesis", "*.pyc")


# ---- the environment and the command -----------------------------------------------------------

def python_environment(seed_base: int | None, pythonpath: Path) -> dict[str, str]:
    """The environment pytest runs in: the C++ tests' (the same hidden seed base, no inherited
    ETCDLAB_* or GTEST_*), without inherited PYTHON*, PYTEST_* and HYPOTHESIS_* variables (a
    PYTEST_ADDOPTS or a PYTHONPATH of the grader's shell would change what runs), and with the
    package under test on PYTHONPATH."""
    env = {k: v for k, v in test_environment(seed_base).items()
           if not k.startswith(("PYTHON", "PYTEST_", "HYPOTHESIS_"))}
    env.update({
        "PYTHONPATH": str(pythonpath),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",  # so the output before a crash or a kill is not lost
        "ETCDLAB_PROPERTY_EXAMPLES": str(PROPERTY_EXAMPLES),
        "HYPOTHESIS_PROFILE": "ci",  # deterministic, no example database (python/tests/conftest.py)
    })
    return env


def pytest_command(scratch: Path, targets: list[str], junit: Path) -> list[str]:
    """Runs `targets` (a file, or node ids) with a JUnit report, from the scratch tree."""
    return [PYTHON, "-m", "pytest", *targets, f"--junitxml={junit}", "-p", "no:cacheprovider",
            "-q", "--tb=short", f"--rootdir={scratch}"]


def collect_command(scratch: Path, test_file: str) -> list[str]:
    return [PYTHON, "-m", "pytest", test_file, "--collect-only", "-q", "-p", "no:cacheprovider",
            f"--rootdir={scratch}"]


# ---- the scratch tree --------------------------------------------------------------------------

def prepare_scratch(pristine: Path, files: tuple[str, ...], scratch: Path) -> Path:
    """Copies the folder of each test file (its conftest.py and helpers too) from the pristine
    tree into `scratch`, at the same relative path, so node ids read as in the repository."""
    for rel in files:
        if not (pristine / rel).is_file():
            raise GraderError(f"{rel} is listed in `python_tests` but there is no such file in "
                              f"{pristine}")
    for folder in sorted({str(Path(rel).parent) for rel in files}):
        dst = scratch / folder
        if not dst.exists():
            shutil.copytree(pristine / folder, dst, ignore=shutil.ignore_patterns(*_CACHES))
    configs = [c for c in _PYTEST_CONFIGS if (pristine / c).is_file()]
    for c in configs:
        shutil.copy2(pristine / c, scratch / c)
    if "pytest.ini" not in configs:
        # Stops pytest from taking a configuration file from a folder above the scratch tree.
        (scratch / "pytest.ini").write_text("[pytest]\n")
    (scratch / "tmp").mkdir(exist_ok=True)
    return scratch


# ---- listing -----------------------------------------------------------------------------------

@dataclass
class Collected:
    names: list[str]  # node ids, in file order
    error: str = ""  # why the file could not be collected (then names come from reading it)


def collect(scratch: Path, test_file: str, env: dict[str, str]) -> Collected:
    """The node ids of `test_file`, as pytest collects them with the package under test.

    When the file cannot be imported (the extension does not load, say), its tests are read
    from its source instead, so each can be reported as an error rather than vanish.
    """
    log = scratch / f".collect-{_slug(test_file)}.log"
    done = run_limited(collect_command(scratch, test_file), cwd=scratch,
                       env=dict(env, TMPDIR=str(scratch / "tmp")),
                       time_limit=_COLLECT_TIMEOUT, log_path=log)
    prefix = test_file + "::"
    names = [ln.strip() for ln in done.output.splitlines() if ln.strip().startswith(prefix)]
    if done.returncode == 0 and names:
        return Collected(names)
    if done.returncode == 5:  # pytest: no tests collected
        return Collected([])
    _check_environment(done.output, test_file)
    if done.timed_out:
        why = f"collecting the tests did not finish in {_COLLECT_TIMEOUT} s"
    else:
        why = f"pytest could not collect {test_file} (it {describe_exit(done.returncode)})"
    return Collected(tests_in_source(scratch / test_file, test_file),
                     f"{why}; no test of the file ran. pytest's output:\n"
                     f"{tail(done.output, 2 * _TAIL_LINES)}")


def tests_in_source(path: Path, test_file: str) -> list[str]:
    """The node ids pytest would collect from `path` by its default rules (test_* functions,
    test_* methods of Test* classes), read without importing it. Parametrized tests count once."""
    try:
        tree = ast.parse(path.read_text(errors="replace"))
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                node.name.startswith("test"):
            names.append(f"{test_file}::{node.name}")
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names += [f"{test_file}::{node.name}::{m.name}" for m in node.body
                      if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and m.name.startswith("test")]
    return names


_MISSING_MODULE = re.compile(r"No module named '?([A-Za-z0-9_.]+)'?")


def _check_environment(output: str, test_file: str) -> None:
    """A module the tests need that the interpreter lacks is the grading machine's problem, not
    the submission's: raise it rather than score every test 0."""
    for m in _MISSING_MODULE.finditer(output):
        module = m.group(1)
        if module.split(".")[0] != "etcdlab":  # the package under test: the submission's build
            raise GraderError(f"{PYTHON} cannot import {module}, which {test_file} needs; "
                              f"install it (tools/deps.sh installs what the tests need)")


# ---- running -----------------------------------------------------------------------------------

@dataclass
class FileRun:
    results: dict[str, TestResult]
    note: str = ""  # for the report: the file's run died and its tests were run one at a time


def run_file(scratch: Path, test_file: str, names: list[str], *, time_limits: dict[str, float],
             env: dict[str, str], whole_file: bool = True) -> FileRun:
    """Runs the tests `names` of `test_file` in one pytest process; see the module's doc.

    `whole_file`: `names` are all of the file's tests, so pytest is given the file; otherwise
    it is given the node ids (a test the rubric grades in no part is not run).
    """
    if not names:
        return FileRun({})
    limit = sum(time_limits[n] for n in names)
    done, report = _run_pytest(scratch, [test_file] if whole_file else names, names, limit, env)
    if report is not None and not done.timed_out:
        return FileRun(_complete(report, names, done))
    if len(names) == 1:
        return FileRun(_complete(report, names, done, limit))
    why = (f"ran past its limit of {limit:g} s (the per-test limits of its {len(names)} tests "
           f"added up)" if done.timed_out else f"{describe_exit(done.returncode)} without a "
           f"report")
    results = {}
    for name in names:
        one, one_report = _run_pytest(scratch, [name], [name], time_limits[name], env)
        results[name] = _complete(one_report, [name], one, time_limits[name])[name]
    return FileRun(results, f"pytest {test_file} {why}: its tests were run again one per process")


@dataclass
class _Report:
    results: dict[str, TestResult]  # by node id, of the tests asked for
    stray_error: str = ""  # an error of no test: the file could not be collected


def _run_pytest(scratch: Path, targets: list[str], names: list[str], limit: float,
                env: dict[str, str]) -> tuple[Finished, _Report | None]:
    """One pytest process: how it ended, and what its JUnit report says (None: no usable
    report)."""
    slug = _slug(targets[0])
    junit = scratch / f".junit-{slug}.xml"
    junit.unlink(missing_ok=True)
    done = run_limited(pytest_command(scratch, targets, junit), cwd=scratch,
                       env=dict(env, TMPDIR=str(scratch / "tmp")), time_limit=limit,
                       log_path=scratch / f".pytest-{slug}.log")
    if done.timed_out:
        return done, None
    try:
        text = junit.read_text(errors="replace")
    except OSError:
        return done, None
    try:
        results, stray = read_junit(text, names)
    except JunitError as e:
        done.output += f"\n[{e}]"
        return done, None
    return done, _Report(results, stray)


def _complete(report: _Report | None, names: list[str], done: Finished,
              limit: float | None = None) -> dict[str, TestResult]:
    """A result for every test of `names`: the report's, else why there is none."""
    last = last_output(done.output, _TAIL_LINES)
    out: dict[str, TestResult] = {}
    for name in names:
        if report is None:
            if done.timed_out:
                out[name] = TestResult(name, TIMED_OUT, done.seconds,
                                       f"still running after {limit:g} s (the per-test "
                                       f"limit); killed. {last}")
            else:
                out[name] = TestResult(name, CRASHED, done.seconds,
                                       f"pytest {describe_exit(done.returncode)} without a "
                                       f"JUnit report. {last}")
            continue
        result = report.results.get(name)
        if result is None:
            why = (f"the test file could not be collected:\n{report.stray_error}"
                   if report.stray_error else
                   f"pytest's report has no result for this test (pytest "
                   f"{describe_exit(done.returncode)}). {last}")
            result = TestResult(name, ERROR, 0.0, why)
        elif result.passed and done.returncode < 0:
            result = TestResult(name, CRASHED, result.seconds,
                                f"the test passed but pytest "
                                f"{describe_exit(done.returncode)} (a crash at exit?). {last}")
        out[name] = result
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[-80:]


# ---- a lab's Python parts ----------------------------------------------------------------------

@dataclass
class PythonRun:
    selection: Selection  # of the lab's python parts
    results: dict[str, TestResult]
    notes: list[str] = field(default_factory=list)


def run_python_parts(lab: Lab, pristine: Path, env: dict[str, str]) -> PythonRun:
    """Lists the lab's pytest files, gives their tests to the python parts and runs them."""
    with tempfile.TemporaryDirectory(prefix="etcdlab-grade-py-") as name:
        scratch = prepare_scratch(pristine, lab.python_tests, Path(name))
        collected = {f: collect(scratch, f, env) for f in lab.python_tests}
        selection = select_tests(lab, [n for c in collected.values() for n in c.names],
                                 kind=PYTHON_KIND)
        limits = time_limits(lab, selection)
        chosen = set(selection.all_tests())
        run = PythonRun(selection, {})
        for test_file, c in collected.items():
            names = [n for n in c.names if n in chosen]
            if c.error:
                run.results.update({n: TestResult(n, ERROR, 0.0, c.error) for n in names})
                continue
            file_run = run_file(scratch, test_file, names, time_limits=limits, env=env,
                                whole_file=names == c.names)
            run.results.update(file_run.results)
            if file_run.note:
                run.notes.append(file_run.note)
    return run
