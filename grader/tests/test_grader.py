"""Tests of the grader against fake gtest binaries and a fake cmake (see grader_fakes.py).

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
from etcdlab_grader import GraderError, build, cli, gtest, reports  # noqa: E402
from etcdlab_grader.grading import GradeRequest, Progress, grade  # noqa: E402
from etcdlab_grader.rubric import load_rubric, select_tests  # noqa: E402
from etcdlab_grader.scoring import BUILD_FAILED, score_lab  # noqa: E402

ALL_PASS = {"Typed/Memory.First": "pass", "Alpha.Second": "pass", "Beta.One": "pass",
            "Beta.Two": "pass"}


# ---- the rubric --------------------------------------------------------------------------------

def test_the_real_rubric_loads_with_lab_1_worth_100():
    rubric = load_rubric(GRADER_DIR / "rubric.toml")
    lab = rubric.lab(1)
    assert [p.id for p in lab.parts] == ["A", "B", "C", "D", "E"]
    assert lab.max_score == 100
    assert lab.owned == ("labs/01-log/src",)
    assert lab.targets.student == "lab01-tests"
    assert lab.targets.reference == "lab01-tests-reference"


def test_real_rubric_puts_each_lab_1_suite_in_its_part():
    lab = load_rubric(GRADER_DIR / "rubric.toml").lab(1)
    names = ["LogStorageContract/MemoryStorage.AppendThenReadBack", "Record.UnknownTypeIsCorruption",
             "WalTest.EmptyWalReplaysNothing", "WalRecovery.IndexGapIsCorruption",
             "WalCrashMatrix.TornLastWrite", "WalOnRealDisk.ReplaysAfterReopen",
             "SnapshotFile.EmptyPayloadIsAllowed", "LogStorageContract/WalStorage.AppendThenReadBack",
             "WalStorageTest.TornTailIsRepairedAndReported",
             "WalStorageDifferential.MatchesTheInMemoryTwin", "Stray.Test"]
    s = select_tests(lab, names)
    assert s.by_part["A"] == names[:1]
    assert s.by_part["B"] == names[1:2]
    assert s.by_part["C"] == names[2:6]
    assert s.by_part["D"] == names[6:7]
    assert s.by_part["E"] == names[7:10]
    assert s.unselected == ["Stray.Test"]
    assert s.empty_parts == [] and s.overlaps == {}


def test_real_rubric_lab_4_grades_the_lessor_and_the_watch_hub_out_of_100():
    lab = load_rubric(GRADER_DIR / "rubric.toml").lab(4)
    assert [p.id for p in lab.parts] == ["A", "B", "C", "D", "E"]
    assert lab.max_score == 100
    assert {p.id: p.weight for p in lab.parts}["A"] == 40  # unchanged since it was graded alone
    assert lab.owned == ("labs/04-lease-watch/src/lease", "labs/04-lease-watch/src/watch")
    assert lab.targets.broken == "lab04-tests-broken"
    lease = ["LeaseGrant.ATtlBelowTheMinimumIsRaisedToIt", "LeaseRevoke.X", "LeaseAttach.X",
             "LeasePersistence.X", "LeaseClock.X", "LeaseFailover.X",
             "LeaseDifferential.MatchesTheModel"]
    watch = ["WatchSynced.X", "WatchCatchUp.X", "WatchSlowConsumer.X", "WatchProgress.X",
             "WatchGuarantees.RandomWorkloadsKeepEveryGuarantee"]
    s = select_tests(lab, lease + watch + ["WatchRules.Stray"])
    assert s.by_part["A"] == lease
    assert [s.by_part[p] for p in "BCD"] == [[n] for n in watch[:3]]
    assert s.by_part["E"] == watch[3:]
    assert s.unselected == ["WatchRules.Stray"]
    variants = {b.name for b in lab.broken}
    assert {"min-ttl-not-applied", "revoke-in-two-writes", "put-without-lease-keeps-it",
            "promote-keeps-old-expiry", "renew-keeps-expiry", "follower-expires"} <= variants
    assert {"revision-split-across-responses", "fallen-behind-skips-its-revision",
            "compacted-watcher-not-cancelled", "progress-while-unsynced"} <= variants


def test_selection_reports_empty_parts_and_overlaps(tmp_path):
    lab = load_rubric(fakes.write_rubric(tmp_path / "r.toml")).lab(1)
    s = select_tests(lab, ["Alpha.X"])
    assert s.empty_parts == ["B"]
    assert any("part B selects no test" in p for p in s.problems())


@pytest.mark.parametrize("mangle, complaint", [
    (lambda t: t.replace("weight = 30", "weigth = 30"), "unknown key(s) weigth"),
    (lambda t: t.replace("weight = 30", "weight = -1"), "`weight` must be a positive number"),
    (lambda t: t.replace('owned = ["labs/01-log/src"]', 'owned = ["/etc"]'), "must be relative"),
    (lambda t: t.replace("[lab.1]", "[lab.one]"), "named by its number"),
    (lambda t: t + "\n[[lab.1.broken]]\nname = \"x\"\ndescription = \"y\"\n", "no `broken` binary"),
])
def test_rubric_mistakes_are_named(tmp_path, mangle, complaint):
    path = fakes.write_rubric(tmp_path / "r.toml")
    path.write_text(mangle(path.read_text()))
    with pytest.raises(GraderError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        load_rubric(path)


def test_part_time_limit_overrides_the_labs(tmp_path):
    lab = load_rubric(fakes.write_rubric(tmp_path / "r.toml")).lab(1)
    assert [p.time_limit for p in lab.parts] == [10.0, 0.5]


# ---- listing and running -----------------------------------------------------------------------

def test_parse_test_list_handles_typed_suites_comments_disabled_and_noise():
    text = ("Running main() from gtest_main.cc\n"
            "Typed/Memory.  # TypeParam = etcdlab::MemoryStorage\n"
            "  First\n"
            "  DISABLED_Slow\n"
            "Param/Suite.  # TypeParam = x\n"
            "  Case/0  # GetParam() = 1\n"
            "DISABLED_Whole.\n"
            "  Any\n")
    assert gtest.parse_test_list(text) == ["Typed/Memory.First", "Param/Suite.Case/0"]


def _run(tmp_path, behavior, time_limit=5.0, env=None):
    binary = fakes.write_gtest(tmp_path / "bin" / "t", {"S.T": behavior})
    return gtest.run_test(binary, "S.T", time_limit=time_limit,
                          env=env or gtest.test_environment(1))


def test_a_passing_test_passes(tmp_path):
    assert _run(tmp_path, "pass").status == gtest.PASSED


def test_a_failure_is_trimmed_but_keeps_its_replay_line(tmp_path):
    result = _run(tmp_path, "fail")
    assert result.status == gtest.FAILED
    lines = result.output.splitlines()
    assert len(lines) <= gtest.MAX_OUTPUT_LINES + 1
    assert lines[0] == "x.cc:12: Failure"
    assert any("replay: ETCDLAB_SEED=3 make lab1 TEST=S.T" in ln for ln in lines)
    assert "lines omitted" in result.output


def test_a_hang_is_killed_at_the_time_limit(tmp_path):
    result = _run(tmp_path, "hang", time_limit=0.5)
    assert result.status == gtest.TIMED_OUT
    assert result.seconds < 5
    assert "0.5 s" in result.output


def test_a_crash_names_the_signal_and_shows_the_last_output(tmp_path):
    result = _run(tmp_path, "crash")
    assert result.status == gtest.CRASHED
    assert "SIGSEGV" in result.output
    assert "about to crash" in result.output


def test_exiting_0_without_a_result_is_a_crash_not_a_pass(tmp_path):
    result = _run(tmp_path, "exit0")
    assert result.status == gtest.CRASHED
    assert "exited with status 0 before the test reported a result" in result.output


def test_a_binary_that_cannot_start_is_a_crash_not_a_traceback(tmp_path):
    binary = fakes.write_gtest(tmp_path / "bin" / "t", {"S.T": "pass"})
    binary.chmod(0o644)  # as while a build relinks it
    result = gtest.run_test(binary, "S.T", time_limit=5, env=gtest.test_environment(1))
    assert result.status == gtest.CRASHED
    assert "could not start" in result.output and "Permission denied" in result.output


def test_tests_get_the_seed_base_and_never_a_stray_replay_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("ETCDLAB_SEED", "3")
    monkeypatch.setenv("GTEST_FILTER", "Nothing.*")
    assert _run(tmp_path, "env", env=gtest.test_environment(77)).status == gtest.PASSED


def test_stop_at_first_failure_starts_no_new_test(tmp_path):
    tests = {f"S.T{i}": "pass" for i in range(6)}
    tests["S.T0"] = "fail"
    binary = fakes.write_gtest(tmp_path / "t", tests)
    names = list(tests)
    results = gtest.run_tests(binary, names, time_limits=dict.fromkeys(names, 5.0),
                              env=gtest.test_environment(None), jobs=1,
                              stop_at_first_failure=True)
    assert list(results) == ["S.T0"]


# ---- scoring -----------------------------------------------------------------------------------

def test_each_part_earns_its_weight_times_the_share_passed(tmp_path):
    lab = load_rubric(fakes.write_rubric(tmp_path / "r.toml")).lab(1)
    names = ["Typed/Memory.First", "Alpha.Second", "Beta.One", "Beta.Two", "Beta.Three"]
    results = {n: gtest.TestResult(n, gtest.PASSED, 0.1) for n in names}
    results["Beta.Two"] = gtest.TestResult("Beta.Two", gtest.FAILED, 0.1, "no")
    del results["Beta.Three"]  # not run: counts as failed
    scored = score_lab(lab, select_tests(lab, names), results)
    assert [round(p.score, 6) for p in scored.parts] == [30, round(70 / 3, 6)]
    assert scored.max_score == 100
    assert (scored.passed, scored.total) == (3, 5)


def test_a_part_with_no_tests_scores_nothing(tmp_path):
    lab = load_rubric(fakes.write_rubric(tmp_path / "r.toml")).lab(1)
    names = ["Alpha.Only"]
    scored = score_lab(lab, select_tests(lab, names),
                       {"Alpha.Only": gtest.TestResult("Alpha.Only", gtest.PASSED, 0.0)})
    assert scored.score == 30


# ---- whole runs: JSON, Gradescope, build failures ----------------------------------------------

def _grade_with_build_dir(tmp_path, monkeypatch, tests, *extra_args):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls")
    binary = fakes.write_gtest(tmp_path / "src" / "lab01-tests", tests)
    build_dir = fakes.fake_build_dir(tmp_path / "build", {"lab01-tests": binary})
    rubric = fakes.write_rubric(tmp_path / "r.toml")
    return cli.main(["--lab", "1", "--rubric", str(rubric), "--build-dir", str(build_dir),
                     "--seed-base", "77", "--quiet", "--work-dir", str(tmp_path / "w"),
                     *extra_args])


def test_gradescope_results_have_the_documented_shape(tmp_path, monkeypatch, capsys):
    tests = dict(ALL_PASS, **{"Beta.Two": "fail"})
    out = tmp_path / "results.json"
    assert _grade_with_build_dir(tmp_path, monkeypatch, tests, "--gradescope", str(out)) == 0
    data = json.loads(out.read_text())
    assert set(data) >= {"score", "execution_time", "output", "tests"}
    assert data["score"] == 65  # A: 30; B: 70 x 1/2
    assert isinstance(data["execution_time"], int)
    assert "seed base 77" in data["output"]
    by_name = {t["name"]: t for t in data["tests"]}
    assert set(by_name) == {"Part A / Typed/Memory.First", "Part A / Alpha.Second",
                            "Part B / Beta.One", "Part B / Beta.Two"}
    for t in data["tests"]:
        assert set(t) == {"name", "score", "max_score", "status", "output"}
        assert t["status"] in ("passed", "failed")
    assert by_name["Part A / Alpha.Second"]["max_score"] == 15
    assert by_name["Part B / Beta.Two"] == {**by_name["Part B / Beta.Two"], "score": 0,
                                            "max_score": 35, "status": "failed"}
    assert "ETCDLAB_SEED_BASE=77 make lab1 TEST=Beta.Two" in by_name["Part B / Beta.Two"]["output"]
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(100)


def test_json_and_markdown_reports_record_the_seed_base(tmp_path, monkeypatch, capsys):
    tests = dict(ALL_PASS, **{"Beta.Two": "crash"})
    j, md = tmp_path / "g.json", tmp_path / "g.md"
    assert _grade_with_build_dir(tmp_path, monkeypatch, tests, "--json", str(j),
                                 "--report", str(md)) == 0
    data = json.loads(j.read_text())
    assert data["seed_base"] == 77 and data["score"] == 65 and data["max_score"] == 100
    statuses = {t["name"]: t["status"] for t in data["labs"][0]["tests"]}
    assert statuses["Beta.Two"] == "crashed"
    text = md.read_text()
    assert "seed base 77" in text and "Beta.Two" in text and "SIGSEGV" in text
    terminal = capsys.readouterr().out
    assert "65/100" in terminal and "--seed-base 77" in terminal


def test_an_unknown_lab_is_a_grader_error_not_a_traceback(tmp_path, capsys):
    rubric = fakes.write_rubric(tmp_path / "r.toml")
    assert cli.main(["--lab", "9", "--rubric", str(rubric), "--quiet"]) == 1
    assert "grader error: lab 9 is not in" in capsys.readouterr().err


def _pristine_and_submission(tmp_path):
    pristine = tmp_path / "pristine"
    for rel, text in {"labs/01-log/src/wal.cc": "skeleton", "labs/01-log/tests/t.cc": "tests",
                      "labs/01-log/include/etcdlab/wal.h": "api", "build/junk": "x",
                      ".git/HEAD": "x", "grader/rubric.toml": ""}.items():
        (pristine / rel).parent.mkdir(parents=True, exist_ok=True)
        (pristine / rel).write_text(text)
    submission = tmp_path / "alice"
    for rel, text in {"labs/01-log/src/wal.cc": "alice's", "labs/01-log/tests/t.cc": "hacked"}.items():
        (submission / rel).parent.mkdir(parents=True, exist_ok=True)
        (submission / rel).write_text(text)
    return pristine, submission


def _request(tmp_path, pristine, submission, rubric):
    return GradeRequest(labs=[rubric.lab(1)], explicit=True, reference=False,
                        submission=submission, build_dir=None, work_root=tmp_path / "work",
                        seed_base=5, jobs=1, lab_selector="1", pristine=pristine)


def test_a_compile_error_is_a_build_failure_with_the_error_lines(tmp_path, monkeypatch):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls", fail="build",
                        targets=["lab01-tests"])
    pristine, submission = _pristine_and_submission(tmp_path)
    rubric = load_rubric(fakes.write_rubric(tmp_path / "r.toml"))
    run = grade(_request(tmp_path, pristine, submission, rubric), Progress(quiet=True))
    lab = run.labs[0]
    assert lab.status == BUILD_FAILED and lab.score == 0 and lab.max_score == 100
    assert "error: 'fsync_all' was not declared" in lab.log_excerpt
    work = Path(run.work_tree)  # kept: the build failed
    assert work.parent.parent == tmp_path / "work"
    # The student's code replaced the skeleton; their edited test did not replace the grader's.
    assert (work / "labs/01-log/src/wal.cc").read_text() == "alice's"
    assert (work / "labs/01-log/tests/t.cc").read_text() == "tests"
    assert not (work / "build" / "junk").exists() and not (work / ".git").exists()
    calls = (tmp_path / "calls").read_text()
    assert "-DETCDLAB_TESTS_ONLY=ON" in calls and "--target lab01-tests" in calls
    text = reports.terminal(run)
    assert "BUILD FAILED" in text and "Traceback" not in text
    gs = reports.gradescope(run)
    assert gs["score"] == 0 and [t["max_score"] for t in gs["tests"]] == [30, 70]


def test_the_command_line_reports_a_build_failure_and_exits_0(tmp_path, monkeypatch, capsys):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls", fail="build",
                        targets=["lab01-tests"])
    pristine, submission = _pristine_and_submission(tmp_path)
    monkeypatch.setattr(cli, "PRISTINE_ROOT", pristine)
    rubric = fakes.write_rubric(tmp_path / "r.toml")
    out = tmp_path / "g.json"
    rc = cli.main(["--lab", "1", "--rubric", str(rubric), "--submission", str(submission),
                   "--work-dir", str(tmp_path / "work"), "--json", str(out)])
    captured = capsys.readouterr()
    assert rc == 0
    assert "[BUILD FAILED]" in captured.out
    assert "wal.cc:42:5: error: 'fsync_all' was not declared in this scope" in captured.out
    assert "Traceback" not in captured.out + captured.err
    lab = json.loads(out.read_text())["labs"][0]
    assert lab["status"] == "build failed" and lab["score"] == 0 and lab["max_score"] == 100


def test_a_missing_owned_folder_is_a_build_failure_that_says_which(tmp_path, monkeypatch):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls",
                        targets=["lab01-tests"])
    pristine, _ = _pristine_and_submission(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    rubric = load_rubric(fakes.write_rubric(tmp_path / "r.toml"))
    run = grade(_request(tmp_path, pristine, empty, rubric), Progress(quiet=True))
    assert run.labs[0].status == BUILD_FAILED
    assert "the submission has no labs/01-log/src" in run.labs[0].message


def test_a_configure_failure_scores_every_lab_0(tmp_path, monkeypatch):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls", fail="configure")
    pristine, submission = _pristine_and_submission(tmp_path)
    rubric = load_rubric(fakes.write_rubric(tmp_path / "r.toml"))
    run = grade(_request(tmp_path, pristine, submission, rubric), Progress(quiet=True))
    assert [lab.status for lab in run.labs] == [BUILD_FAILED]
    assert "CMake Error at CMakeLists.txt:3" in run.labs[0].log_excerpt


def test_a_submission_wrapped_in_one_folder_is_found(tmp_path):
    (tmp_path / "sub" / "etcdlab-main" / "labs/01-log/src").mkdir(parents=True)
    root, note = build.find_submission_root(tmp_path / "sub", ["labs/01-log/src"])
    assert root == tmp_path / "sub" / "etcdlab-main" and "etcdlab-main" in note


def test_error_excerpt_keeps_error_lines_with_context_and_stays_short():
    log = "\n".join([f"[{i}/900] Building CXX object x{i}.o" for i in range(500)]
                    + ["wal.cc: In function 'f':", "wal.cc:3:1: error: expected ';'", "  3 | }",
                       "    | ^"] + [f"[{i}/900] Building" for i in range(500, 900)]
                    + [f"b.cc:{i}:1: error: again" for i in range(50)])
    text = build.error_excerpt(log)
    lines = text.splitlines()
    assert len(lines) <= 31
    assert "wal.cc:3:1: error: expected ';'" in lines
    assert "wal.cc: In function 'f':" in lines  # context before
    assert "  3 | }" in lines  # context after
    assert "Building CXX object x0.o" not in text


def test_error_excerpt_without_error_lines_shows_the_end():
    text = build.error_excerpt("\n".join(f"line {i}" for i in range(100)), max_lines=5)
    assert text.splitlines() == [f"line {i}" for i in range(95, 100)]


# ---- self-check --------------------------------------------------------------------------------

def _self_check(tmp_path, monkeypatch, capsys, student, reference, broken=None, variants=None,
                audit=False):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls")
    binaries = {"lab01-tests": fakes.write_gtest(tmp_path / "s" / "t", student),
                "lab01-tests-reference": fakes.write_gtest(tmp_path / "r" / "t", reference)}
    if broken is not None:
        binaries["lab01-tests-broken"] = fakes.write_gtest(tmp_path / "b" / "t", reference, broken)
    build_dir = fakes.fake_build_dir(tmp_path / "build", binaries)
    rubric = fakes.write_rubric(tmp_path / "r.toml", variants)
    rc = cli.main(["--self-check", "--rubric", str(rubric), "--build-dir", str(build_dir),
                   "--quiet", "--work-dir", str(tmp_path / "w")] + (["--audit"] if audit else []))
    return rc, capsys.readouterr().out


def test_self_check_passes_when_reference_passes_and_skeleton_fails(tmp_path, monkeypatch, capsys):
    skeleton = dict.fromkeys(ALL_PASS, "fail")
    rc, out = _self_check(tmp_path, monkeypatch, capsys, skeleton, ALL_PASS)
    assert rc == 0, out
    assert "100/100" in out and "0/100" in out and "self-check passed" in out


def test_self_check_names_a_test_that_passes_on_the_skeleton(tmp_path, monkeypatch, capsys):
    skeleton = dict(dict.fromkeys(ALL_PASS, "fail"), **{"Beta.One": "pass"})
    rc, out = _self_check(tmp_path, monkeypatch, capsys, skeleton, ALL_PASS)
    assert rc == 1
    assert "Beta.One passes on the untouched skeleton" in out


def test_self_check_fails_on_a_test_in_no_part(tmp_path, monkeypatch, capsys):
    reference = dict(ALL_PASS, **{"Gamma.Lost": "pass"})
    rc, out = _self_check(tmp_path, monkeypatch, capsys, dict.fromkeys(reference, "fail"),
                          reference)
    assert rc == 1 and "Gamma.Lost is selected by no part" in out


def test_self_check_catches_broken_variants_and_audit_says_which_tests(tmp_path, monkeypatch,
                                                                       capsys):
    variants = [("off-by-one", "reads one entry too many"), ("sneaky", "no test notices")]
    broken = {"off-by-one": {"Beta.Two": "fail", "Alpha.Second": "fail"}}
    rc, out = _self_check(tmp_path, monkeypatch, capsys, dict.fromkeys(ALL_PASS, "fail"),
                          ALL_PASS, broken=broken, variants=variants, audit=True)
    assert rc == 1
    assert "off-by-one: caught by 2 test(s)" in out
    assert "broken variant sneaky (no test notices) passes every test" in out
    assert "B  Beta.Two  (failed)" in out
