"""A student release and a Gradescope bundle, end to end, short enough for make check.

One release of lab 1 is exported (the reference libraries taken from build/, which make check
has built: no Release build here), cloned with git, and lab 1 is built in the clone as a student
would (`make lab1`): the skeleton fails, the prebuilt reference passes lab 1's tests, and the
reference's sources copied into labs/01-log/src pass them too. Then the Gradescope bundle of
lab 1 is unpacked into a Gradescope-like /autograder (under a temporary root), set up
(packages and the compile step skipped: the release's prebuilt/ is copied in) and run on two
uploads: a student's clone with the skeleton (score 0) and the reference's files loose (full
marks). grader/tests/test_release_long.py (ETCDLAB_LONG=1) does the whole course, Release
libraries, `make`, `make cluster` and the notebooks.

Everything happens under build-release-test/ in this checkout, a fixed place: the compiler cache
(base_dir /work) then hits across runs, and a failed run leaves it there to look at.

Run: /usr/bin/python3 -m pytest -q grader/tests/test_release.py
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

GRADER_DIR = Path(__file__).resolve().parents[1]
REPO = GRADER_DIR.parent
sys.path.insert(0, str(GRADER_DIR))

from etcdlab_release import leaks  # noqa: E402

PY = "/usr/bin/python3"
WORK = REPO / "build-release-test"
SKELETON_FAILS = "is not implemented; see labs/01-log/README.md#part-"


def run(cmd, cwd=None, env=None, timeout=900):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    proc.output = proc.stdout + proc.stderr
    return proc


def build_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETCDLAB_", "GTEST_"))}
    if shutil.which("ccache"):
        env["CMAKE_CXX_COMPILER_LAUNCHER"] = env["CMAKE_C_COMPILER_LAUNCHER"] = "ccache"
    return env


@pytest.fixture(scope="module")
def release():
    if not (REPO / "build" / "CMakeCache.txt").exists():
        pytest.skip("needs build/ configured and built (make check does it first)")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    out = WORK / "release"
    proc = run([PY, REPO / "grader" / "release", out, "--labs", "1",
                "--lib-build-dir", REPO / "build"], cwd=REPO)
    assert proc.returncode == 0, proc.output
    assert "function bodies of solution/" in proc.stdout and "nothing found" in proc.stdout
    return out


@pytest.fixture(scope="module")
def clone(release):
    path = WORK / "clone"
    proc = run(["git", "clone", "-q", release, path])
    assert proc.returncode == 0, proc.output
    # Warnings as errors, as make check's build/: the release must build cleanly, and its
    # objects are then build/'s in the compiler cache (`make lab1` keeps the cached option).
    proc = run(["cmake", "--preset", "default", "-DETCDLAB_WERROR=ON"], cwd=path,
               env=build_env())
    assert proc.returncode == 0, proc.output[-3000:]
    return path


def test_release_is_one_commit_without_solution_and_with_every_layers_library(release, clone):
    log = run(["git", "-C", clone, "log", "--format=%s"]).stdout.split("\n")
    assert log[0] == "etcdlab: labs 1" and len([x for x in log if x]) == 1
    assert not (clone / "solution").exists()
    manifest = json.loads((clone / "prebuilt" / "manifest.json").read_text())
    assert sorted(manifest["libraries"]) == [
        f"libetcdlab_{lib}_reference.a" for lib in
        ("lab01", "lab02", "lab03", "lab04_lease", "lab04_watch", "lab05")]
    assert manifest["toolchain"]["compiler_id"] == "GNU"
    assert not (clone / "labs" / "02-raft" / "tests").exists()
    # The clone is checked again here, independently of the export's own check.
    headers = [p for p in REPO.glob("labs/*/include/**/*") if p.is_file()]
    report = leaks.check_tree(clone, leaks.fingerprint(REPO / "solution", headers))
    assert report.clean, "\n".join(map(str, report.leaks))
    assert report.bodies > 200


def test_release_a_fresh_clone_builds_lab1_and_the_skeleton_fails_it(clone):
    proc = run(["make", "lab1"], cwd=clone, env=build_env())
    assert proc.returncode != 0
    assert SKELETON_FAILS in proc.output, proc.output[-3000:]


def test_release_the_prebuilt_reference_passes_lab1s_tests(clone):
    proc = run(["cmake", "--build", clone / "build", "--target", "lab01-tests-reference"],
               env=build_env())
    assert proc.returncode == 0, proc.output[-3000:]
    proc = run([clone / "build" / "bin" / "lab01-tests-reference", "--gtest_brief=1"])
    assert proc.returncode == 0, proc.output[-3000:]


def test_release_the_references_sources_in_src_pass_lab1(clone):
    src = clone / "labs" / "01-log" / "src"
    for f in (REPO / "solution" / "01-log").iterdir():
        shutil.copy(f, src / f.name)
    proc = run(["make", "lab1"], cwd=clone, env=build_env())
    assert proc.returncode == 0, proc.output[-3000:]
    assert "PASSED" in proc.output


def test_release_the_build_refuses_another_toolchain_or_a_changed_header(clone):
    def configure(*options):
        shutil.rmtree(clone / "build-pin", ignore_errors=True)
        return run(["cmake", "-S", clone, "-B", clone / "build-pin", "-G", "Ninja",
                    "-DETCDLAB_TESTS_ONLY=ON", "-DETCDLAB_BUILD_PYTHON=OFF", *options])
    manifest = clone / "prebuilt" / "manifest.json"
    header = clone / "labs" / "01-log" / "include" / "etcdlab" / "log" / "wal.h"
    try:
        data = json.loads(manifest.read_text())
        data["toolchain"].update(os_version_id="11", description="g++ 10.2.1 on Debian 11")
        manifest.write_text(json.dumps(data))
        proc = configure()
        assert proc.returncode != 0
        assert "built for g++ 10.2.1 on Debian 11" in proc.output, proc.output
        assert "Build on Debian 12 with its g++ 12" in " ".join(proc.output.split())
        proc = configure("-DETCDLAB_PREBUILT_ANY_TOOLCHAIN=ON")
        assert proc.returncode == 0 and "Linking it anyway" in proc.output, proc.output
        run(["git", "-C", clone, "checkout", "--", "prebuilt"])
        header.write_text(header.read_text() + "// mine\n")
        proc = configure()
        assert proc.returncode != 0
        assert "labs/01-log/include/etcdlab/log/wal.h" in proc.output, proc.output
    finally:
        run(["git", "-C", clone, "checkout", "--", "prebuilt", "labs"])
        shutil.rmtree(clone / "build-pin", ignore_errors=True)


def test_release_an_update_is_one_more_commit_a_students_clone_pulls(release):
    student = WORK / "student"
    git = ["git", "-c", "user.name=student", "-c", "user.email=s@example.invalid", "-C", student]
    assert run(["git", "clone", "-q", release, student]).returncode == 0
    mine = student / "labs" / "01-log" / "src" / "wal.cc"
    mine.write_text(mine.read_text() + "// my work\n")
    assert run([*git, "commit", "-qam", "my lab 1"]).returncode == 0

    proc = run([PY, REPO / "grader" / "release", release, "--labs", "1,2", "--update",
                "--lib-build-dir", REPO / "build"], cwd=REPO)
    assert proc.returncode == 0, proc.output
    log = run(["git", "-C", release, "log", "--format=%s"]).stdout.split()
    assert log.count("etcdlab:") == 2 and (release / "labs" / "02-raft" / "tests").is_dir()

    proc = run([*git, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main"])
    assert proc.returncode == 0, proc.output
    assert mine.read_text().endswith("// my work\n")
    assert (student / "labs" / "02-raft" / "tests").is_dir()
    assert "Not released yet" not in (student / "labs" / "02-raft" / "README.md").read_text()


# ---- the Gradescope bundle in a Gradescope-like layout -----------------------------------------

@pytest.fixture(scope="module")
def autograder(release):
    bundle = WORK / "lab1.zip"
    proc = run([PY, REPO / "grader" / "release", "--gradescope", bundle, "--lab", "1"], cwd=REPO)
    assert proc.returncode == 0, proc.output
    root = WORK / "gs" / "autograder"
    with zipfile.ZipFile(bundle) as z:
        for info in z.infolist():
            z.extract(info, root / "source")
            mode = info.external_attr >> 16 & 0o777
            if mode:
                os.chmod(root / "source" / info.filename, mode)
    assert (root / "source" / "etcdlab" / "solution").is_dir()  # the instructors' copy
    env = dict(build_env(), AUTOGRADER_ROOT=str(root), ETCDLAB_SETUP_PACKAGES="skip",
               ETCDLAB_SETUP_VERIFY="skip", ETCDLAB_SETUP_PREBUILT=str(release / "prebuilt"))
    cache = run(["ccache", "-k", "cache_dir"]).stdout.strip() if shutil.which("ccache") else ""
    if cache:
        env["CCACHE_DIR"] = cache  # this machine's cache, not a fresh one under the root
    proc = run(["bash", root / "source" / "setup.sh"], env=env)
    assert proc.returncode == 0, proc.output
    assert not (root / "source" / "etcdlab" / "solution").exists()  # gone before any submission
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope does
    return root, env


def _run_autograder(root: Path, env: dict, files: dict[Path, str]) -> dict:
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    for src, rel in files.items():
        dst = submission / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    results = root / "results" / "results.json"
    results.unlink(missing_ok=True)
    proc = run([root / "run_autograder"], cwd=root, env=env)
    assert proc.returncode == 0, proc.output
    return json.loads(results.read_text())


def test_release_gradescope_grades_a_clone_with_the_skeleton_0(autograder, release):
    root, env = autograder
    tree = {release / p.name: p.name for p in release.iterdir() if p.name != ".git"}
    data = _run_autograder(root, env, tree)
    assert data["score"] == 0
    assert len(data["tests"]) > 100 and all(t["status"] == "failed" for t in data["tests"])
    assert data["visibility"] == "visible" and data["stdout_visibility"] == "hidden"
    parts = data["extra_data"]["labs"]["1"]["parts"]
    assert sorted(parts) == ["A", "B", "C", "D", "E"]
    assert all(p["score"] == 0 for p in parts.values())
    assert "not implemented" in data["tests"][0]["output"]


def test_release_gradescope_grades_the_references_files_loose_full_marks(autograder):
    root, env = autograder
    files = {f: f.name for f in (REPO / "solution" / "01-log").iterdir()}
    data = _run_autograder(root, env, files)
    assert data["score"] == 100, data["output"]
    assert data["output"].startswith("Note: the upload holds the lab's files")
    assert all(t["status"] == "passed" for t in data["tests"])
    assert data["extra_data"]["labs"]["1"]["score"] == 100
    shutil.rmtree(WORK)  # all passed: nothing to look at
