"""The release tooling's parts, on small inputs: the solution-leak check finds what it must (and
not the skeletons), the rubric and Makefile lose exactly the unreleased labs and the instructor's
targets, the file plan of a lab-by-lab release, and the Gradescope autograder's staging of an
upload and its results.json.

Run: /usr/bin/python3 -m pytest -q grader/tests/test_release_units.py
"""

import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

GRADER_DIR = Path(__file__).resolve().parents[1]
REPO = GRADER_DIR.parent
sys.path.insert(0, str(GRADER_DIR))

from etcdlab_release import layout, leaks  # noqa: E402


def _autograder():
    spec = importlib.util.spec_from_file_location("autograder",
                                                  GRADER_DIR / "gradescope" / "autograder.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fingerprint():
    headers = [p for p in REPO.glob("labs/*/include/**/*") if p.is_file()]
    return leaks.fingerprint(REPO / "solution", headers)


def _tree(tmp_path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


# ---- leaks: what the export refuses ------------------------------------------------------------

def test_leaks_rule_the_skeletons_headers_and_tests_hold_nothing_of_solution(tmp_path,
                                                                              fingerprint):
    shutil.copytree(REPO / "labs", tmp_path / "labs")
    report = leaks.check_tree(tmp_path, fingerprint)
    assert report.clean, "\n".join(map(str, report.leaks))
    assert report.bodies > 200 and report.lines > 500  # the fingerprint is not empty


def test_leaks_rule_a_copied_solution_file_is_found_under_any_name(tmp_path, fingerprint):
    tree = tmp_path / "t"
    (tree / "notes").mkdir(parents=True)
    shutil.copy(REPO / "solution/01-log/wal.cc", tree / "notes" / "old.txt")
    kinds = {leak.kind for leak in leaks.check_tree(tree, fingerprint).leaks}
    assert kinds == {"file", "line", "body"}


def test_leaks_rule_a_long_comment_line_is_found_reindented(tmp_path, fingerprint):
    line = next(s for s in fingerprint.lines if s.startswith("//"))
    tree = _tree(tmp_path, {"docs/notes.md": f"Some text\n        {line}\n"})
    found = leaks.check_tree(tree, fingerprint).leaks
    assert [leak.kind for leak in found] == ["line"]
    assert found[0].path == "docs/notes.md:2"


def test_leaks_rule_a_function_body_is_found_whatever_its_layout(tmp_path, fingerprint):
    text = (REPO / "solution/02-raft/raft_leader.cc").read_text()
    n, body = max(leaks.function_bodies(text), key=lambda b: len(b[1]))
    # Re-wrapped: every token on its own line, so no long line survives to match.
    rewrapped = "\n".join(" ".join(body).split())
    tree = _tree(tmp_path, {"labs/02-raft/src/mine.cc": "void f() {\n" + rewrapped + "\n}\n"})
    found = leaks.check_tree(tree, fingerprint).leaks
    assert [leak.kind for leak in found] == ["body"]
    assert found[0].source == f"solution/02-raft/raft_leader.cc:{n}"


def test_leaks_rule_a_folder_named_solution_is_refused(tmp_path, fingerprint):
    tree = _tree(tmp_path, {"solution/README.md": "empty"})
    assert [leak.kind for leak in leaks.check_tree(tree, fingerprint).leaks] == ["file"]


def test_leaks_rule_definition_heads_and_header_declarations_are_given():
    assert leaks.is_given("std::unique_ptr<SnapshotReader> MemoryStorage::open_snapshot() const {",
                          set())
    assert leaks.is_given("Wal::Wal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}", set())
    assert not leaks.is_given("if (entries.empty() && snapshot.index() > last_index_of_log) {",
                              set())
    assert not leaks.is_given("// a follower must reject an append whose previous entry differs",
                              set())
    assert not leaks.is_given("auto it = std::find_if(entries.begin(), entries.end(), "
                              "[&](const Entry& e) {", set())
    assert leaks.is_given("LockRecipe& LockRecipe::operator=(LockRecipe&&) noexcept = default;",
                          set())


# ---- layout: what a lab-by-lab release holds ---------------------------------------------------

def test_layout_rule_the_rubric_keeps_exactly_the_released_labs():
    text = (REPO / "grader/rubric.toml").read_text()
    trimmed = layout.trim_rubric(text, [1, 3])
    assert sorted(int(k) for k in tomllib.loads(trimmed)["lab"]) == [1, 3]
    assert "# Weights: A 20, B 20, C 15" not in trimmed  # lab 2's comment went with it
    assert trimmed.startswith("# The grading rubric")  # the preamble stays
    assert layout.trim_rubric(text, list(range(1, 6))) == text


def test_layout_rule_the_makefile_loses_the_instructors_targets_only(tmp_path):
    out = layout.strip_make_targets((REPO / "Makefile").read_text(), layout.INSTRUCTOR_TARGETS)
    assert not re.search(r"^(mutants|release):", out, re.M)
    assert "make mutants" not in out and "mutants" not in out.split(".PHONY:")[1].split("\n")[0]
    (tmp_path / "Makefile").write_text(out)
    for target in ("lab1", "grade LAB=1", "cluster", "check"):
        proc = subprocess.run(["make", "-n", "-C", str(tmp_path), *target.split()],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_layout_rule_an_unreleased_lab_keeps_its_api_and_skeleton_but_not_its_tests():
    copied, written = layout.plan(REPO, [1])
    files = set(copied) | set(written)
    assert not [f for f in files if f.startswith("solution/")]
    assert not [f for f in files if layout.excluded(f)]
    assert any(f.startswith("labs/01-log/tests/") for f in files)
    assert not any(f.startswith("labs/02-raft/tests/") for f in files)
    assert "labs/02-raft/include/etcdlab/raft/raft.h" in files
    assert "labs/02-raft/src/raft.cc" in files
    assert "python/tests/test_raft_properties.py" not in files  # lab 2's Python part
    assert "Not released yet" in written["labs/02-raft/README.md"]
    readme = written["README.md"]
    assert "[labs/01-log/README.md](labs/01-log/README.md)" in readme
    assert "| 2: Raft" in readme and "not released yet" in readme
    assert layout.LABS_MARKER not in readme
    assert written["tools/check.sh"] != (REPO / "tools/check.sh").read_text()


# ---- the Gradescope autograder: staging an upload, and results.json ---------------------------

OWNED = ["labs/01-log/src"]


def test_autograder_rule_a_clone_is_graded_as_it_is(tmp_path):
    ag = _autograder()
    sub = _tree(tmp_path / "sub", {"etcdlab-main/labs/01-log/src/wal.cc": "x"})
    assert ag.stage(sub, OWNED, tmp_path / "staged") == (sub, None)


def test_autograder_rule_loose_files_of_src_become_the_owned_folder(tmp_path):
    ag = _autograder()
    sub = _tree(tmp_path / "sub", {"wal.cc": "w", "record.cc": "r", "__MACOSX/x": "junk"})
    staged, note = ag.stage(sub, OWNED, tmp_path / "staged")
    assert sorted(p.name for p in (staged / "labs/01-log/src").iterdir()) == ["record.cc",
                                                                              "wal.cc"]
    assert "not a clone" in note


def test_autograder_rule_an_uploaded_src_folder_becomes_the_owned_folder(tmp_path):
    ag = _autograder()
    sub = _tree(tmp_path / "sub", {"01-log/src/wal.cc": "w", "01-log/README.md": "r"})
    staged, note = ag.stage(sub, OWNED, tmp_path / "staged")
    assert [p.name for p in (staged / "labs/01-log/src").iterdir()] == ["wal.cc"]
    assert "01-log/src" in note


def test_autograder_rule_an_archive_is_left_to_the_grader(tmp_path):
    ag = _autograder()
    sub = _tree(tmp_path / "sub", {"mine.zip": "PK"})
    assert ag.stage(sub, OWNED, tmp_path / "staged") == (sub, None)


def test_autograder_rule_results_carry_visibility_and_every_parts_score():
    ag = _autograder()
    gradescope = {"score": 15.0, "tests": [{"name": "Part A / T.x", "score": 15.0,
                                            "max_score": 15.0, "status": "passed"}]}
    machine = {"seed_base": 77, "warnings": [], "labs": [
        {"lab": 1, "score": 15.0, "max_score": 100.0, "status": "graded", "parts": [
            {"id": "A", "title": "Memory", "score": 15.0, "max_score": 15.0, "passed": 1,
             "total": 1},
            {"id": "B", "title": "Records", "score": 0.0, "max_score": 85.0, "passed": 0,
             "total": 3}]}]}
    out = ag.merge(gradescope, machine, {"visibility": "after_due_date",
                                         "stdout_visibility": "hidden"})
    assert out["visibility"] == "after_due_date" and out["stdout_visibility"] == "hidden"
    assert out["tests"][0]["visibility"] == "after_due_date"
    assert out["extra_data"]["seed_base"] == 77
    assert out["extra_data"]["labs"]["1"]["parts"]["B"] == {
        "title": "Records", "score": 0.0, "max_score": 85.0, "passed": 0, "total": 3}
