"""Grading runs as an instructor meets them: two at once in one checkout, archives, build logs,
edits outside the owned paths, the self-check on a fresh clone, and what the reports say.

Run: /usr/bin/python3 -m pytest -q grader/tests
"""

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

GRADER_DIR = Path(__file__).resolve().parents[1]
REPO = GRADER_DIR.parent
sys.path.insert(0, str(GRADER_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import grader_fakes as fakes  # noqa: E402
from etcdlab_grader import cli, gtest, reports, runs  # noqa: E402
from etcdlab_grader.grading import GradeRequest, Progress, grade  # noqa: E402
from etcdlab_grader.rubric import load_rubric  # noqa: E402
from etcdlab_grader.scoring import BUILD_FAILED  # noqa: E402

ALL_PASS = {"Typed/Memory.First": "pass", "Alpha.Second": "pass", "Beta.One": "pass",
            "Beta.Two": "pass"}
HALF_B = dict(ALL_PASS, **{"Beta.Two": "fail"})  # A 30 + B 70 x 1/2 = 65


def _pristine(tmp_path):
    pristine = tmp_path / "pristine"
    for rel, text in {"labs/01-log/src/wal.cc": "skeleton", "labs/01-log/tests/t.cc": "tests",
                      "labs/01-log/include/etcdlab/wal.h": "api", "build/junk": "x",
                      "grader/rubric.toml": ""}.items():
        (pristine / rel).parent.mkdir(parents=True, exist_ok=True)
        (pristine / rel).write_text(text)
    return pristine


def _submission(root: Path, tests: dict[str, str], extra: dict[str, str] | None = None) -> Path:
    """A clone whose owned folder says (tests.json) which fake tests its build passes."""
    files = {"labs/01-log/src/wal.cc": f"code of {root.name}",
             "labs/01-log/src/tests.json": fakes.gtest_spec(tests), **(extra or {})}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _request(tmp_path, pristine, submission, **kw):
    rubric = load_rubric(fakes.write_rubric(tmp_path / "r.toml"))
    return GradeRequest(labs=[rubric.lab(1)], explicit=True, reference=False,
                        submission=submission, build_dir=None, work_root=tmp_path / "work",
                        seed_base=5, jobs=1, lab_selector="1", pristine=pristine, **kw)


# ---- two gradings at once ----------------------------------------------------------------------

_DRIVER = """
import sys
from pathlib import Path
sys.path.insert(0, {grader!r})
from etcdlab_grader import cli
cli.PRISTINE_ROOT = Path({pristine!r})
sys.exit(cli.main(sys.argv[1:]))
"""


def test_two_gradings_in_one_checkout_at_once_get_their_own_scores(tmp_path, monkeypatch):
    # Each build sleeps a second, so the two runs are configuring and building at the same
    # time; with a shared work folder one would grade the other's code, or fail to build.
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls",
                        targets=["lab01-tests"], tests_from_tree=True, sleep=1.0)
    pristine = _pristine(tmp_path)
    alice = _submission(tmp_path / "alice", ALL_PASS)
    bob = _submission(tmp_path / "bob", HALF_B)
    rubric = fakes.write_rubric(tmp_path / "r.toml")
    driver = _DRIVER.format(grader=str(GRADER_DIR), pristine=str(pristine))
    procs = {}
    for who, sub in (("alice", alice), ("bob", bob)):
        procs[who] = subprocess.Popen(
            [sys.executable, "-c", driver, "--lab", "1", "--rubric", str(rubric),
             "--submission", str(sub), "--json", str(tmp_path / f"{who}.json"), "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outputs = {who: p.communicate(timeout=120)[0] for who, p in procs.items()}
    for who, p in procs.items():
        assert p.returncode == 0, outputs[who]
    scores = {who: json.loads((tmp_path / f"{who}.json").read_text())["score"]
              for who in procs}
    assert scores == {"alice": 100, "bob": 65}, outputs
    # Each run had its own folder under the default work root, .grade/ of the checkout.
    logs = {who: json.loads((tmp_path / f"{who}.json").read_text())["build_log"]
            for who in procs}
    assert logs["alice"] != logs["bob"]
    assert all(Path(p).parent.parent == pristine / ".grade" for p in logs.values())


def test_finished_run_folders_are_pruned_but_running_ones_never(tmp_path):
    root = tmp_path / "work"
    made = [runs.new_run_dir(root, "lab1") for _ in range(3)]
    for d in made[:2]:
        runs.finish(d, None, keep_tree=False)
    # made[2] is still running (this process holds it).
    runs.prune(root, keep=0)
    assert [d.exists() for d in made] == [False, False, True]


# ---- archives ----------------------------------------------------------------------------------

def _archive(kind: str, src: Path, dest: Path, wrap: str = "etcdlab-main") -> Path:
    files = [p for p in src.rglob("*") if p.is_file()]
    if kind == "zip":
        with zipfile.ZipFile(dest, "w") as z:
            for p in files:
                z.write(p, f"{wrap}/{p.relative_to(src)}")
    else:
        with tarfile.open(dest, "w:gz") as t:
            for p in files:
                t.add(p, f"{wrap}/{p.relative_to(src)}")
    return dest


@pytest.mark.parametrize("kind, name", [("zip", "e.zip"), ("tar", "e.tar.gz")])
def test_zip_and_tar_gz_submissions_are_graded_from_the_folder_they_wrap(tmp_path, monkeypatch,
                                                                          kind, name):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls",
                        targets=["lab01-tests"], tests_from_tree=True)
    pristine = _pristine(tmp_path)
    archive = _archive(kind, _submission(tmp_path / "bob", HALF_B), tmp_path / name)
    run = grade(_request(tmp_path, pristine, archive), Progress(quiet=True))
    assert run.labs[0].score == 65
    assert any(f"the archive {name}" in n for n in run.notes)
    assert any("inside etcdlab-main/" in n for n in run.notes)
    assert run.source == str(archive)  # so "Same seeds again" grades the archive again


def test_a_folder_holding_one_uploaded_archive_is_unpacked(tmp_path, monkeypatch):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls",
                        targets=["lab01-tests"], tests_from_tree=True)
    upload = tmp_path / "autograder-submission"
    upload.mkdir()
    _archive("zip", _submission(tmp_path / "alice", ALL_PASS), upload / "mine.zip")
    run = grade(_request(tmp_path, _pristine(tmp_path), upload), Progress(quiet=True))
    assert run.labs[0].score == 100


def test_an_archive_that_reaches_outside_its_folder_is_refused(tmp_path, monkeypatch):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls",
                        targets=["lab01-tests"], tests_from_tree=True)
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        data = b"pwned"
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    run = grade(_request(tmp_path, _pristine(tmp_path), archive), Progress(quiet=True))
    assert run.labs[0].status == BUILD_FAILED and run.labs[0].score == 0
    assert "a path outside the folder it unpacks into; refused" in run.labs[0].message
    assert not list(tmp_path.rglob("escaped.txt"))


def test_a_submission_that_is_neither_folder_nor_archive_is_a_grader_error(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hi")
    rubric = fakes.write_rubric(tmp_path / "r.toml")
    assert cli.main(["--lab", "1", "--rubric", str(rubric), "--submission", str(text),
                     "--work-dir", str(tmp_path / "w"), "--quiet"]) == 1
    assert "neither a folder nor an archive (.zip, .tar.gz" in capsys.readouterr().err


# ---- build logs and what the reports say about a build failure ---------------------------------

def test_each_run_keeps_its_build_log_and_reports_its_errors_once(tmp_path, monkeypatch, capsys):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls", fail="build",
                        targets=["lab01-tests"])
    pristine = _pristine(tmp_path)
    monkeypatch.setattr(cli, "PRISTINE_ROOT", pristine)
    rubric = fakes.write_rubric(tmp_path / "r.toml")
    logs = []
    for who in ("alice", "bob"):
        sub = _submission(tmp_path / who, ALL_PASS)
        gs, md, js = (tmp_path / f"{who}.{ext}" for ext in ("gs.json", "md", "json"))
        assert cli.main(["--lab", "1", "--rubric", str(rubric), "--submission", str(sub),
                         "--work-dir", str(tmp_path / "w"), "--gradescope", str(gs),
                         "--report", str(md), "--json", str(js), "--quiet"]) == 0
        out = capsys.readouterr().out
        error = "error: 'fsync_all' was not declared in this scope"
        assert out.count(error) == 1, out
        assert gs.read_text().count(error) == 1  # not once per part
        assert md.read_text().count(error) == 1
        assert js.read_text().count(error) == 1
        data = json.loads(gs.read_text())
        assert str(tmp_path / "w") not in data["output"]  # a student cannot open the grader's
        assert all("errors are in the output above" in t["output"] for t in data["tests"])
        # Nothing ran: no seeds to replay.
        assert "Same seeds again" not in out and "Replaying" not in md.read_text()
        assert "no test ran" in out
        log = json.loads(js.read_text())["build_log"]
        assert f"Full build log: {log}" in out
        logs.append(Path(log))
    assert logs[0] != logs[1] and all(error in p.read_text() for p in logs)


# ---- edits outside the owned paths -------------------------------------------------------------

def test_edits_outside_the_owned_paths_are_a_warning_naming_them(tmp_path, monkeypatch, capsys):
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls",
                        targets=["lab01-tests"], tests_from_tree=True)
    pristine = _pristine(tmp_path)
    sub = _submission(tmp_path / "mallory", ALL_PASS,
                      {"labs/01-log/tests/t.cc": "weakened", "labs/01-log/include/etcdlab/wal.h":
                       "api", "notes.md": "mine", "build/ignored.o": "x"})
    run = grade(_request(tmp_path, pristine, sub), Progress(quiet=True))
    [warning] = run.warnings
    assert "edits 2 file(s) outside what is graded (labs/01-log/src)" in warning
    assert "labs/01-log/tests/t.cc (changed)" in warning and "notes.md (added)" in warning
    assert "wal.h" not in warning and "build/" not in warning
    assert f"warning: {warning}" in reports.terminal(run)
    assert run.labs[0].score == 100  # the grader's own t.cc was used, the score is untouched


# ---- the self-check on a fresh clone -----------------------------------------------------------

def test_self_check_configures_the_build_of_a_fresh_clone(tmp_path, monkeypatch, capsys):
    binaries = {"lab01-tests": fakes.write_gtest(tmp_path / "s" / "t",
                                                 dict.fromkeys(ALL_PASS, "fail")),
                "lab01-tests-reference": fakes.write_gtest(tmp_path / "r" / "t", ALL_PASS)}
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls",
                        targets=list(binaries), binaries=binaries)
    clone = tmp_path / "clone"
    clone.mkdir()
    monkeypatch.setattr(cli, "PRISTINE_ROOT", clone)
    monkeypatch.setattr("etcdlab_grader.selfcheck.PRISTINE_ROOT", clone)
    rubric = fakes.write_rubric(tmp_path / "r.toml")
    rc = cli.main(["--self-check", "--rubric", str(rubric), "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0, out
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0] == "--preset default -DETCDLAB_OWN_LABS="  # build/ as `make` makes it
    assert (clone / "build" / "CMakeCache.txt").exists()
    assert "self-check passed" in out
    # Another directory gets the grader's own options.
    rc = cli.main(["--self-check", "--rubric", str(rubric), "--quiet",
                   "--build-dir", str(tmp_path / "elsewhere")])
    assert rc == 0
    configure = next(c for c in (tmp_path / "calls").read_text().splitlines() if "-B " in c)
    assert f"-B {tmp_path / 'elsewhere'}" in configure and "-DETCDLAB_TESTS_ONLY=ON" in configure


# ---- what a test's failure says ----------------------------------------------------------------

@pytest.mark.parametrize("kw, status, says", [
    (dict(returncode=-11, timed_out=False), gtest.CRASHED, "the process was killed by SIGSEGV"),
    (dict(returncode=0, timed_out=True), gtest.TIMED_OUT, "still running after 3 s"),
    (dict(returncode=0, timed_out=False), gtest.CRASHED, "the process exited with status 0"),
])
def test_a_failure_never_repeats_its_status_nor_shows_an_empty_last_output(kw, status, says):
    quiet = gtest.classify("S.T", report=None, output="", seconds=1, time_limit=3, **kw)
    assert quiet.status == status and quiet.output.startswith(says)
    assert "It printed nothing." in quiet.output and "Last output" not in quiet.output
    loud = gtest.classify("S.T", report=None, output="boom\n", seconds=1, time_limit=3, **kw)
    assert loud.output.endswith("Last output:\nboom")
    assert not reports.headline(loud).startswith(status)


def test_the_terminal_table_says_crashed_and_timed_out_once(tmp_path, monkeypatch, capsys):
    binary = fakes.write_gtest(tmp_path / "src" / "lab01-tests",
                               dict(ALL_PASS, **{"Beta.One": "crash", "Beta.Two": "hang"}))
    build_dir = fakes.fake_build_dir(tmp_path / "build", {"lab01-tests": binary})
    fakes.install_cmake(tmp_path / "fakebin", monkeypatch, tmp_path / "calls")
    rubric = fakes.write_rubric(tmp_path / "r.toml")
    assert cli.main(["--lab", "1", "--rubric", str(rubric), "--build-dir", str(build_dir),
                     "--work-dir", str(tmp_path / "w"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "crashed: the process was killed by SIGSEGV" in out
    assert "timed out: still running after 0.5 s" in out
    assert not re.search(r"(crashed|timed out): \1", out)


# ---- the instructor guide ----------------------------------------------------------------------

def test_the_guide_lists_every_option_of_the_grader():
    guide = (REPO / "docs" / "instructor-guide.md").read_text()
    table = "\n".join(ln for ln in guide.splitlines() if ln.startswith("| `--"))
    parser = cli.build_parser()
    options = [opt for action in parser._actions if action.help != "==SUPPRESS=="
               for opt in action.option_strings if opt.startswith("--") and opt != "--help"]
    missing = [opt for opt in options if f"`{opt}" not in table]
    assert not missing, f"docs/instructor-guide.md's option table lacks {missing}"


def test_the_rubric_option_stays_internal():
    # --rubric is for the grader's own tests; the guide need not list it.
    assert "--rubric" not in [o for a in cli.build_parser()._actions if a.help != "==SUPPRESS=="
                              for o in a.option_strings]


@pytest.fixture(autouse=True)
def _no_inherited_fake_settings(monkeypatch):
    for name in list(os.environ):
        if name.startswith("FAKE_CMAKE_"):
            monkeypatch.delenv(name)
