"""Tests of the grader's Python (pytest) parts: the rubric, the JUnit XML reader, the command and
environment pytest runs with, and whole runs against a fake `python3 -m pytest` (grader_fakes.py).
Two tests run the real pytest on a tiny file, to pin the JUnit format the reader expects.

Run: /usr/bin/python3 -m pytest -q grader/tests
"""

import json
import sys
from pathlib import Path

import pytest

GRADER_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(GRADER_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import grader_fakes as fakes  # noqa: E402
from etcdlab_grader import GraderError, build, cli, gtest, junit, pytests, reports  # noqa: E402
from etcdlab_grader.grading import GradeRequest, Progress, grade  # noqa: E402
from etcdlab_grader.rubric import GTEST, PYTHON, load_rubric, select_tests  # noqa: E402

FILE = fakes.PYTEST_FILE
ALL_PASS = {"Typed/Memory.First": "pass", "Alpha.Second": "pass", "Beta.One": "pass",
            "Beta.Two": "pass"}


def node(name):
    return f"{FILE}::{name}"


# ---- the rubric --------------------------------------------------------------------------------

def test_the_real_rubric_gives_lab_2_a_python_part_and_still_100():
    lab = load_rubric(GRADER_DIR / "rubric.toml").lab(2)
    assert lab.max_score == 100
    assert lab.python_tests == ("python/tests/test_raft_properties.py",)
    [p] = lab.parts_of(PYTHON)
    assert (p.id, p.weight, p.patterns) == ("P", 10, ("python/tests/test_raft_properties.py::*",))
    assert {p.id: p.weight for p in lab.parts} == {"A": 20, "B": 20, "C": 15, "D": 15, "E": 10,
                                                   "F": 10, "P": 10}


def test_python_tests_go_to_python_parts_and_gtest_names_to_the_others(tmp_path):
    lab = load_rubric(fakes.write_rubric(tmp_path / "r.toml", python=True)).lab(1)
    py = select_tests(lab, [node("test_a"), node("test_b")], kind=PYTHON)
    assert py.by_part == {"P": [node("test_a"), node("test_b")]}
    assert py.problems() == []
    cpp = select_tests(lab, ["Alpha.X", "Beta.Y"], kind=GTEST)
    assert set(cpp.by_part) == {"A", "B"} and cpp.problems() == []


def test_a_python_test_in_two_python_parts_is_an_overlap(tmp_path):
    path = fakes.write_rubric(tmp_path / "r.toml", python=True)
    path.write_text(path.read_text() + fakes.PYTHON_PART.replace('"P"', '"Q"').replace(
        "::*", "::test_a"))
    lab = load_rubric(path).lab(1)
    s = select_tests(lab, [node("test_a"), node("test_b")], kind=PYTHON)
    assert s.overlaps == {node("test_a"): ["P", "Q"]}


@pytest.mark.parametrize("mangle, complaint", [
    (lambda t: t.replace('kind = "python"', 'kind = "pyhton"'), "`kind` is 'gtest' or 'python'"),
    (lambda t: t.replace('python_tests = ["python/tests/test_p.py"]\n', ""),
     "lists no `python_tests` files"),
    (lambda t: t.replace('kind = "python"\n', "").replace("::*", ""),
     "no part has kind = \"python\""),
    (lambda t: t.replace('tests = ["python/tests/test_p.py::*"]', 'tests = ["test_p.py"]'),
     "must be a pytest node id"),
    (lambda t: t.replace('tests = ["python/tests/test_p.py::*"]',
                         'tests = ["python/tests/test_q.py::*"]'), "names no file listed"),
    (lambda t: t.replace('["python/tests/test_p.py"]',
                         '["python/tests/test_p.py", "python/tests/test_q.py"]'),
     "python/tests/test_q.py is selected by no python part"),
    (lambda t: t.replace('kind = "python"\n', "").replace(
        'python_tests = ["python/tests/test_p.py"]\n', ""), "needs kind = \"python\""),
    (lambda t: t.replace('["python/tests/test_p.py"]', '["python/tests/*.py"]'),
     "lists test files such as"),
    (lambda t: t.replace('["python/tests/test_p.py"]', '["/abs/test_p.py"]'), "must be relative"),
    (lambda t: t.replace('kind = "python"', 'kind = "python"\nexamples = 9'),
     "unknown key(s) examples"),
])
def test_python_part_mistakes_are_named(tmp_path, mangle, complaint):
    path = fakes.write_rubric(tmp_path / "r.toml", python=True)
    path.write_text(mangle(path.read_text()))
    with pytest.raises(GraderError, match=complaint.replace("(", r"\(").replace(")", r"\)")
                       .replace("*", r"\*")):
        load_rubric(path)


# ---- the JUnit report --------------------------------------------------------------------------

def _xml(*cases):
    return ('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
            + "".join(cases) + "</testsuite></testsuites>")


def test_junit_address_mangles_node_ids_as_pytest_does():
    assert junit.junit_address("python/tests/test_x.py::test_y") == \
        ("python.tests.test_x", "test_y")
    assert junit.junit_address("python/tests/test_x.py::TestC::test_y[a/b::c]") == \
        ("python.tests.test_x.TestC", "test_y[a/b::c]")


def test_junit_pass_fail_error_and_skip():
    long_text = "\n".join([f"frame {i}" for i in range(60)]
                          + ["E   AssertionError: seed 9; replay: ETCDLAB_SEED=9 pytest x"]
                          + [f"after {i}" for i in range(30)])
    text = _xml(
        '<testcase classname="python.tests.test_p" name="test_ok" time="0.5" />',
        '<testcase classname="python.tests.test_p" name="test_bad" time="1.25">'
        f'<failure message="AssertionError: boom">{long_text}</failure></testcase>',
        '<testcase classname="python.tests.test_p" name="test_fixture" time="0">'
        '<error message="failed on setup with &quot;fixture missing&quot;">E   fixture missing'
        '</error></testcase>',
        '<testcase classname="python.tests.test_p" name="test_later" time="0">'
        '<skipped type="pytest.skip" message="not today">test_p.py:3: not today</skipped>'
        '</testcase>')
    names = [node(n) for n in ("test_ok", "test_bad", "test_fixture", "test_later")]
    results, stray = junit.read_junit(text, names)
    assert stray == ""
    assert [results[n].status for n in names] == [gtest.PASSED, gtest.FAILED, gtest.ERROR,
                                                  gtest.SKIPPED]
    ok, bad, fixture, later = (results[n] for n in names)
    assert ok.seconds == 0.5 and ok.output == ""
    lines = bad.output.splitlines()
    assert len(lines) <= gtest.MAX_OUTPUT_LINES + 3 and "lines omitted" in bad.output
    assert any("replay: ETCDLAB_SEED=9" in ln for ln in lines)  # kept though in the middle
    assert bad.seconds == 1.25
    assert fixture.output == "E   fixture missing"
    assert later.output == "not today"
    assert reports.headline(bad) == "AssertionError: seed 9; replay: ETCDLAB_SEED=9 pytest x"


def test_junit_a_file_that_could_not_be_collected_is_a_stray_error():
    text = _xml('<testcase classname="" name="python.tests.test_p" time="0">'
                '<error message="collection failure">E   ModuleNotFoundError: No module named '
                "'etcdlab'</error></testcase>")
    results, stray = junit.read_junit(text, [node("test_a")])
    assert results == {}
    assert "No module named 'etcdlab'" in stray


def test_junit_malformed_xml_is_a_junit_error():
    with pytest.raises(junit.JunitError, match="not valid XML"):
        junit.read_junit("<testsuites><testcase classname=", [node("test_a")])
    with pytest.raises(junit.JunitError, match="<html>"):
        junit.read_junit("<html></html>", [node("test_a")])


# ---- the command and the environment -----------------------------------------------------------

def test_pytest_gets_the_seed_base_the_package_and_nothing_inherited(monkeypatch, tmp_path):
    for k, v in {"ETCDLAB_SEED": "3", "ETCDLAB_PROPERTY_EXAMPLES": "1", "PYTHONPATH": "/evil",
                 "PYTEST_ADDOPTS": "-x", "HYPOTHESIS_PROFILE": "dev", "GTEST_FILTER": "x"}.items():
        monkeypatch.setenv(k, v)
    env = pytests.python_environment(77, tmp_path / "build" / "python")
    assert env["ETCDLAB_SEED_BASE"] == "77"
    assert env["PYTHONPATH"] == str(tmp_path / "build" / "python")
    assert env["ETCDLAB_PROPERTY_EXAMPLES"] == "50" and env["HYPOTHESIS_PROFILE"] == "ci"
    for gone in ("ETCDLAB_SEED", "PYTEST_ADDOPTS", "GTEST_FILTER"):
        assert gone not in env
    assert "ETCDLAB_SEED_BASE" not in pytests.python_environment(None, tmp_path)


def test_pytest_command_writes_junit_without_a_cache(tmp_path):
    cmd = pytests.pytest_command(tmp_path, [FILE], tmp_path / "r.xml")
    assert cmd[:4] == [build.PYTHON, "-m", "pytest", FILE]
    assert f"--junitxml={tmp_path / 'r.xml'}" in cmd and "-q" in cmd
    assert cmd[cmd.index("-p") + 1] == "no:cacheprovider"
    assert f"--rootdir={tmp_path}" in cmd


def test_the_package_is_the_reference_or_the_students(tmp_path):
    targets = [build.PYTHON_TARGET, build.student_python_target(2)]
    d = fakes.fake_build_dir(tmp_path / "b", {}, targets=targets)
    ref = build.python_package(d, 2, reference=True)
    assert (ref.target, ref.path) == ("etcdlab_python", d / "python")
    student = build.python_package(d, 2, reference=False)
    assert (student.target, student.path) == ("etcdlab_python_core_lab02_student_package",
                                              d / "python-lab02-student")
    own = fakes.fake_build_dir(tmp_path / "own", {}, targets=targets, own_labs="2")
    assert build.python_package(own, 2, reference=False).path == own / "python"
    with pytest.raises(GraderError, match="ETCDLAB_OWN_LABS=2"):
        build.python_package(own, 2, reference=True)
    bare = fakes.fake_build_dir(tmp_path / "bare", {})
    with pytest.raises(GraderError, match="-DETCDLAB_BUILD_PYTHON=ON"):
        build.python_package(bare, 2, reference=True)


# ---- running a file (fake python) --------------------------------------------------------------

def _pristine(tmp_path, names):
    pristine = tmp_path / "pristine"
    test_file = pristine / FILE
    test_file.parent.mkdir(parents=True, exist_ok=True)
    test_file.write_text(fakes.pytest_file_source(names))
    (test_file.parent / "conftest.py").write_text("# the pristine conftest\n")
    (pristine / "labs/01-log/src").mkdir(parents=True, exist_ok=True)
    (pristine / "labs/01-log/src/wal.cc").write_text("skeleton")
    (pristine / "labs/01-log/tests").mkdir(parents=True, exist_ok=True)
    (pristine / "grader").mkdir(exist_ok=True)
    return pristine


def _fake_python(tmp_path, monkeypatch, tests, **spec):
    python = fakes.write_python(tmp_path / "fakebin" / "python3", tests, **spec)
    monkeypatch.setattr(pytests, "PYTHON", str(python))
    monkeypatch.setenv("FAKE_PYTHON_LOG", str(tmp_path / "python.log"))
    return python


def _calls(tmp_path):
    return [json.loads(ln) for ln in (tmp_path / "python.log").read_text().splitlines()]


def _run_python(tmp_path, monkeypatch, tests, limit=5.0, **spec):
    _fake_python(tmp_path, monkeypatch, tests, **spec)
    rubric = fakes.write_rubric(tmp_path / "r.toml", python=True)
    rubric.write_text(rubric.read_text().replace('kind = "python"',
                                                 f'kind = "python"\ntime_limit = {limit}'))
    lab = load_rubric(rubric).lab(1)
    pristine = _pristine(tmp_path, list(tests))
    env = pytests.python_environment(77, tmp_path / "pkg" / "python")
    return pytests.run_python_parts(lab, pristine, env)


def test_a_file_runs_once_from_a_scratch_copy_of_the_pristine_tests(tmp_path, monkeypatch):
    monkeypatch.setenv("ETCDLAB_SEED", "3")
    tests = {"test_a": "pass", "test_b": "fail", "test_c": "skip", "test_d": "error"}
    run = _run_python(tmp_path, monkeypatch, tests)
    assert {n: r.status for n, r in run.results.items()} == {
        node("test_a"): "passed", node("test_b"): "failed", node("test_c"): "skipped",
        node("test_d"): "error"}
    assert run.selection.by_part == {"P": [node(n) for n in tests]} and run.notes == []
    collect, once = _calls(tmp_path)  # one collection, one run of the whole file
    assert "--collect-only" in collect["args"] and once["args"][0] == FILE
    assert once["cwd"] != str(tmp_path / "pristine")  # a scratch tree...
    assert once["file_text"] == fakes.pytest_file_source(tests)  # ...with the pristine file
    assert once["env"]["PYTHONPATH"] == str(tmp_path / "pkg" / "python")
    assert once["env"]["ETCDLAB_SEED_BASE"] == "77" and "ETCDLAB_SEED" not in once["env"]
    assert any(a.startswith("--junitxml=") for a in once["args"])


def test_a_test_in_no_part_is_not_run(tmp_path, monkeypatch):
    _fake_python(tmp_path, monkeypatch, {"test_a": "pass", "test_b": "hang"})
    rubric = fakes.write_rubric(tmp_path / "r.toml", python=True)
    rubric.write_text(rubric.read_text().replace("test_p.py::*", "test_p.py::test_a"))
    lab = load_rubric(rubric).lab(1)
    run = pytests.run_python_parts(lab, _pristine(tmp_path, ["test_a", "test_b"]),
                                   pytests.python_environment(1, tmp_path))
    assert list(run.results) == [node("test_a")] and run.results[node("test_a")].passed
    assert run.selection.unselected == [node("test_b")]
    assert _calls(tmp_path)[-1]["args"][0] == node("test_a")  # the node id, not the file


def test_a_crash_costs_only_the_test_that_crashes(tmp_path, monkeypatch):
    tests = {"test_a": "pass", "test_b": "crash", "test_c": "pass"}
    run = _run_python(tmp_path, monkeypatch, tests)
    statuses = {n: r.status for n, r in run.results.items()}
    assert statuses == {node("test_a"): "passed", node("test_b"): "crashed",
                        node("test_c"): "passed"}
    crashed = run.results[node("test_b")]
    assert "SIGSEGV" in crashed.output and "Segmentation fault" in crashed.output
    assert "run again one per process" in run.notes[0]


def test_a_hang_is_a_timeout_of_that_test(tmp_path, monkeypatch):
    tests = {"test_a": "pass", "test_b": "hang"}
    run = _run_python(tmp_path, monkeypatch, tests, limit=0.5)
    assert run.results[node("test_a")].passed
    hung = run.results[node("test_b")]
    assert hung.status == gtest.TIMED_OUT and "0.5 s" in hung.output
    assert "ran past its limit of 1 s" in run.notes[0]


def test_a_package_that_does_not_import_is_an_error_per_test(tmp_path, monkeypatch):
    tests = {"test_a": "pass", "test_b": "pass"}
    run = _run_python(tmp_path, monkeypatch, tests, collect="error")
    assert set(run.results) == {node("test_a"), node("test_b")}  # read from the file itself
    for r in run.results.values():
        assert r.status == gtest.ERROR
        assert "undefined symbol" in r.output and "no test of the file ran" in r.output
    assert len(_calls(tmp_path)) == 1  # nothing was run after the collection failed


def test_a_malformed_report_is_a_crash_not_a_pass(tmp_path, monkeypatch):
    run = _run_python(tmp_path, monkeypatch, {"test_a": "pass"}, report="malformed")
    r = run.results[node("test_a")]
    assert r.status == gtest.CRASHED and "not valid XML" in r.output


def test_a_module_the_machine_lacks_is_a_grader_error(tmp_path, monkeypatch):
    with pytest.raises(GraderError, match="cannot import hypothesis"):
        _run_python(tmp_path, monkeypatch, {"test_a": "pass"}, collect="missing-module")


# ---- the real pytest, on a tiny file -----------------------------------------------------------

REAL_TESTS = '''
import pytest
import etcdlab

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")

def test_pass():
    assert etcdlab.ANSWER == 42

def test_fail():
    assert etcdlab.ANSWER == 41, "seed 5; replay: ETCDLAB_SEED=5 make it"

def test_error(broken):
    pass

def test_skip():
    pytest.skip("not today")

class TestGroup:
    @pytest.mark.parametrize("x", [1, 2])
    def test_param(self, x):
        assert x == 1
'''


def _real(tmp_path, with_package=True):
    pristine = tmp_path / "pristine"
    (pristine / "python/tests").mkdir(parents=True)
    (pristine / FILE).write_text(REAL_TESTS)
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    if with_package:
        (pkg / "etcdlab").mkdir()
        (pkg / "etcdlab" / "__init__.py").write_text("ANSWER = 42\n")
    rubric = fakes.write_rubric(tmp_path / "r.toml", python=True)
    lab = load_rubric(rubric).lab(1)
    return pytests.run_python_parts(lab, pristine, pytests.python_environment(7, pkg))


def test_the_real_pytest_report_is_read_test_by_test(tmp_path):
    run = _real(tmp_path)
    statuses = {n.split("::", 1)[1]: r.status for n, r in run.results.items()}
    assert statuses == {"test_pass": "passed", "test_fail": "failed", "test_error": "error",
                        "test_skip": "skipped", "TestGroup::test_param[1]": "passed",
                        "TestGroup::test_param[2]": "failed"}
    assert "replay: ETCDLAB_SEED=5" in run.results[node("test_fail")].output
    assert "fixture broke" in run.results[node("test_error")].output


def test_the_real_pytest_import_error_is_reported_per_test(tmp_path):
    run = _real(tmp_path, with_package=False)
    # Not importable at all: the tests are read from the file, each an error.
    assert set(run.results) == {node("test_pass"), node("test_fail"), node("test_error"),
                                node("test_skip"), node("TestGroup::test_param")}
    assert all(r.status == gtest.ERROR and "No module named 'etcdlab'" in r.output
               for r in run.results.values())


# ---- whole runs --------------------------------------------------------------------------------

def _grade_build_dir(tmp_path, monkeypatch, tests, py_tests, *extra, fail=""):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls", fail=fail)
    _fake_python(tmp_path, monkeypatch, py_tests)
    pristine = _pristine(tmp_path, list(py_tests))
    monkeypatch.setattr(cli, "PRISTINE_ROOT", pristine)
    binary = fakes.write_gtest(tmp_path / "src" / "lab01-tests", tests)
    build_dir = fakes.fake_build_dir(tmp_path / "build", {"lab01-tests": binary},
                                     targets=[build.PYTHON_TARGET,
                                              build.student_python_target(1)])
    rubric = fakes.write_rubric(tmp_path / "r.toml", python=True)
    return cli.main(["--lab", "1", "--rubric", str(rubric), "--build-dir", str(build_dir),
                     "--seed-base", "77", "--quiet", "--work-dir", str(tmp_path / "w"), *extra])


def test_reports_include_the_python_part_like_any_other(tmp_path, monkeypatch, capsys):
    out, j, md = tmp_path / "results.json", tmp_path / "g.json", tmp_path / "g.md"
    rc = _grade_build_dir(tmp_path, monkeypatch, ALL_PASS, {"test_a": "pass", "test_b": "fail"},
                          "--gradescope", str(out), "--json", str(j), "--report", str(md))
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["score"] == 95  # A 30 + B 60 + P 10 x 1/2
    by_name = {t["name"]: t for t in data["tests"]}
    assert by_name[f"Part P / {node('test_a')}"]["score"] == 5
    failed = by_name[f"Part P / {node('test_b')}"]
    assert failed["status"] == "failed" and failed["max_score"] == 5
    assert ("ETCDLAB_SEED_BASE=77 ETCDLAB_PROPERTY_EXAMPLES=50 "
            "PYTHONPATH=build/python-lab01-student /usr/bin/python3 -m pytest "
            f"{node('test_b')}") in failed["output"]
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(100)
    lab = json.loads(j.read_text())["labs"][0]
    assert [(p["id"], p["kind"], p["status"]) for p in lab["parts"]][-1] == \
        ("P", "python", "graded")
    assert {t["name"]: t["status"] for t in lab["tests"]}[node("test_b")] == "failed"
    terminal = capsys.readouterr().out
    assert "Properties" in terminal and "1/2" in terminal
    assert f"P  {node('test_b')}  failed: AssertionError: seed 9" in terminal
    assert "python/tests/test_p.py" in md.read_text()
    # The package graded was the student's (python-lab01-student), with the run's seed base.
    run_env = _calls(tmp_path)[-1]["env"]
    assert run_env["PYTHONPATH"] == str(tmp_path / "build" / "python-lab01-student")
    assert run_env["ETCDLAB_SEED_BASE"] == "77"


def test_a_python_package_that_does_not_build_fails_that_part_only(tmp_path, monkeypatch,
                                                                   capsys):
    out = tmp_path / "results.json"
    rc = _grade_build_dir(tmp_path, monkeypatch, ALL_PASS, {"test_a": "pass"},
                          "--gradescope", str(out), fail=build.student_python_target(1))
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["score"] == 90
    [p_entry] = [t for t in data["tests"] if t["name"].startswith("Part P")]
    assert p_entry["name"] == "Part P: Properties" and p_entry["max_score"] == 10
    assert p_entry["output"].startswith("build failed: building "
                                        "etcdlab_python_core_lab01_student_package failed")
    terminal = capsys.readouterr().out
    assert "part P [BUILD FAILED]" in terminal and "[BUILD FAILED]" not in terminal.splitlines()[0]
    assert "Traceback" not in terminal


def test_a_fresh_submission_build_builds_the_python_package_with_the_students_lab(
        tmp_path, monkeypatch):
    binary = fakes.write_gtest(tmp_path / "src" / "lab01-tests", ALL_PASS)
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls",
                        targets=["lab01-tests", build.PYTHON_TARGET],
                        binaries={"lab01-tests": binary})
    _fake_python(tmp_path, monkeypatch, {"test_a": "pass"})
    pristine = _pristine(tmp_path, ["test_a"])
    submission = tmp_path / "alice"
    (submission / "labs/01-log/src").mkdir(parents=True)
    (submission / "labs/01-log/src/wal.cc").write_text("alice's")
    (submission / FILE).parent.mkdir(parents=True)
    (submission / FILE).write_text("def test_a():\n    pass  # edited to pass\n")
    rubric = load_rubric(fakes.write_rubric(tmp_path / "r.toml", python=True))
    run = grade(GradeRequest(labs=[rubric.lab(1)], explicit=True, reference=False,
                             submission=submission, build_dir=None, work_root=tmp_path / "work",
                             seed_base=5, jobs=1, lab_selector="1", pristine=pristine),
                Progress(quiet=True))
    assert run.labs[0].score == 100
    calls = (tmp_path / "calls").read_text()
    configure = calls.splitlines()[0]
    assert "-DETCDLAB_BUILD_PYTHON=ON" in configure and "-DETCDLAB_TESTS_ONLY=OFF" in configure
    assert "-DETCDLAB_OWN_LABS=1" in configure
    assert "--target lab01-tests" in calls and "--target etcdlab_python" in calls
    [run_dir] = (tmp_path / "work").iterdir()  # the run's own folder; its tree is removed
    work = run_dir / "tree"
    assert not work.exists()
    last = _calls(tmp_path)[-1]
    assert last["env"]["PYTHONPATH"] == str(work / "build" / "python")
    assert last["file_text"] == fakes.pytest_file_source(["test_a"])  # not the student's edit


# ---- self-check --------------------------------------------------------------------------------

def _self_check(tmp_path, monkeypatch, capsys, reference_py, skeleton_py, own_labs="",
                broken=False):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls")
    _fake_python(tmp_path, monkeypatch, reference_py,
                 by_path={"python": {"tests": reference_py},
                          "python-lab01-student": {"tests": skeleton_py}})
    monkeypatch.setattr("etcdlab_grader.selfcheck.PRISTINE_ROOT",
                        _pristine(tmp_path, list(reference_py)))
    binaries = {"lab01-tests": fakes.write_gtest(tmp_path / "s" / "t",
                                                 dict.fromkeys(ALL_PASS, "fail")),
                "lab01-tests-reference": fakes.write_gtest(tmp_path / "r" / "t", ALL_PASS)}
    variants = None
    if broken:
        binaries["lab01-tests-broken"] = fakes.write_gtest(
            tmp_path / "b" / "t", ALL_PASS, {"off": {"Beta.Two": "fail"}})
        variants = [("off", "off by one")]
    build_dir = fakes.fake_build_dir(tmp_path / "build", binaries,
                                     targets=[build.PYTHON_TARGET,
                                              build.student_python_target(1)],
                                     own_labs=own_labs)
    rubric = fakes.write_rubric(tmp_path / "r.toml", variants, python=True)
    rc = cli.main(["--self-check", "--rubric", str(rubric), "--build-dir", str(build_dir),
                   "--quiet", "--work-dir", str(tmp_path / "w")])
    return rc, capsys.readouterr().out


def test_self_check_counts_the_python_part_in_reference_and_skeleton(tmp_path, monkeypatch,
                                                                     capsys):
    rc, out = _self_check(tmp_path, monkeypatch, capsys, {"test_a": "pass", "test_b": "pass"},
                          {"test_a": "fail", "test_b": "error"}, broken=True)
    assert rc == 0, out
    assert "6 tests (4 C++, 2 Python), each in one of 3 parts" in out
    assert "100/100 (6/6 pass" in out and "0/100 (0/6 pass)" in out
    assert "C++ tests only: Python part(s) P are not run against the variants" in out
    calls = (tmp_path / "calls").read_text()
    assert "etcdlab_python etcdlab_python_core_lab01_student_package" in calls


def test_self_check_names_a_python_test_that_passes_on_the_skeleton(tmp_path, monkeypatch,
                                                                    capsys):
    rc, out = _self_check(tmp_path, monkeypatch, capsys, {"test_a": "pass", "test_b": "pass"},
                          {"test_a": "fail", "test_b": "pass"})
    assert rc == 1
    assert f"{node('test_b')} passes on the untouched skeleton" in out


def test_self_check_refuses_a_reference_package_that_links_student_code(tmp_path, monkeypatch,
                                                                       capsys):
    rc, out = _self_check(tmp_path, monkeypatch, capsys, {"test_a": "pass"}, {"test_a": "fail"},
                          own_labs="1")
    assert rc == 1
    assert "ETCDLAB_OWN_LABS=1" in out and "reconfigure with -DETCDLAB_OWN_LABS=" in out
    assert "part(s) P ran no test" in out
