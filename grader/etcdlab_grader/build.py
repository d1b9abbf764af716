"""Building what is graded.

A submission is never built in place: the grader copies its own pristine tree into a work
directory, replaces only the paths the student owns (rubric `owned`) with the submission's copy,
configures a tests-only build and builds the lab's test target. So the tests, the API headers and
the CMake files are always the grader's. A lab with Python tests also needs the Python package
(the extension links the student's code of that lab): its build drops the tests-only option.

Failures here are the submission's (it does not compile) or the environment's: they are raised
as BuildFailure with a short excerpt of the log a student can act on, never as a traceback.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import GraderError

# Configure and build of one work tree; generous, but a compiler stuck in template recursion must
# not hang the grader forever.
BUILD_TIMEOUT_SECONDS = 45 * 60

# Never copied from the pristine tree: build outputs, VCS data, the grader's own work area and
# caches. `build*` and the data folders only at the top; caches anywhere.
EXCLUDE_AT_TOP = re.compile(r"^(build.*|\.git|\.grade|cluster-data)$")
EXCLUDE_ANYWHERE = {"__pycache__", ".hypothesis", ".pytest_cache", ".ipynb_checkpoints"}

# The interpreter the Python package is built for, and that runs the Python tests.
PYTHON = "/usr/bin/python3"

# The Python package: build/python/etcdlab, whose extension links the Raft that ETCDLAB_OWN_LABS
# selects; and, per lab, a copy whose extension links that lab's student code whatever
# ETCDLAB_OWN_LABS says (python/CMakeLists.txt; lab 2 has one).
PYTHON_TARGET = "etcdlab_python"


def student_python_target(lab: int) -> str:
    return f"etcdlab_python_core_lab{lab:02d}_student_package"


def student_python_dir(build_dir: Path, lab: int) -> Path:
    return build_dir / f"python-lab{lab:02d}-student"


def configure_options(python: bool = False, own_labs: str = "") -> list[str]:
    """CMake options of a work tree's build.

    Tests only, unless `python`: then the Python package too (the tests-only option skips
    python/). `own_labs` lists the labs whose student code is linked everywhere, the Python
    package included; every other lab links the reference, so each lab is graded on its own.
    """
    return [
        "-G", "Ninja",
        "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
        f"-DPython3_EXECUTABLE={PYTHON}",
        f"-DETCDLAB_TESTS_ONLY={'OFF' if python else 'ON'}",
        f"-DETCDLAB_BUILD_PYTHON={'ON' if python else 'OFF'}",
        f"-DETCDLAB_OWN_LABS={own_labs}",
        # A warning is not a wrong answer.
        "-DETCDLAB_WERROR=OFF",
    ]


@dataclass
class BuildFailure(Exception):
    stage: str  # "submission", "configure" or "build"
    summary: str  # one sentence
    excerpt: str = ""  # the useful lines of the log
    log_path: Path | None = None

    def __str__(self) -> str:
        return self.summary + (f"\n{self.excerpt}" if self.excerpt else "")


# ---- the work tree -----------------------------------------------------------------------------

def _ignore_for(root: Path):
    root = root.resolve()

    def ignore(directory: str, names: list[str]) -> set[str]:
        at_top = Path(directory).resolve() == root
        return {n for n in names
                if n in EXCLUDE_ANYWHERE or (at_top and EXCLUDE_AT_TOP.match(n))}
    return ignore


def copy_pristine(pristine: Path, work: Path) -> None:
    """Makes `work` a fresh copy of the pristine tree (without builds, .git and caches)."""
    if work.exists():
        shutil.rmtree(work)
    work.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(pristine, work, symlinks=True, ignore=_ignore_for(pristine))


def find_submission_root(submission: Path, owned: list[str]) -> tuple[Path, str | None]:
    """The folder of `submission` that holds the owned paths, and a note when it is not the top.

    Uploaded archives often wrap the clone in one folder (etcdlab-main/labs/...): accept that
    rather than fail a student over packaging.
    """
    if any((submission / p).exists() for p in owned):
        return submission, None
    children = [c for c in submission.iterdir()
                if c.is_dir() and not c.name.startswith(".") and c.name != "__MACOSX"]
    if len(children) == 1 and any((children[0] / p).exists() for p in owned):
        return children[0], f"the submission is inside {children[0].name}/; graded from there"
    return submission, None


def overlay_owned(submission: Path, work: Path, owned: list[str]) -> None:
    """Replaces each owned path of `work` by the submission's copy.

    Raises BuildFailure(stage="submission") naming the first owned path the submission lacks;
    the pristine copy of that path is left in place.
    """
    missing = [p for p in owned if not (submission / p).exists()]
    if missing:
        raise BuildFailure("submission",
                           f"the submission has no {missing[0]} (looked for "
                           f"{submission / missing[0]}); this is the folder you write your code in")
    for rel in owned:
        src, dst = submission / rel, work / rel
        if dst.is_dir() and not dst.is_symlink():
            shutil.rmtree(dst)
        elif dst.exists() or dst.is_symlink():
            dst.unlink()
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, symlinks=True,
                            ignore=shutil.ignore_patterns(*EXCLUDE_ANYWHERE))
        else:
            shutil.copy2(src, dst, follow_symlinks=False)


# ---- configure and build -----------------------------------------------------------------------

def configure(source: Path, build_dir: Path, log_path: Path, python: bool = False,
              own_labs: str = "") -> None:
    cmd = ["cmake", "-S", str(source), "-B", str(build_dir),
           *configure_options(python=python, own_labs=own_labs)]
    _run_logged(cmd, log_path, "configure", "CMake could not configure the work tree")


def configure_for_self_check(root: Path, build_dir: Path, log_path: Path, python: bool) -> None:
    """Configures a build directory the self-check can use, on a fresh clone.

    The checkout's own build/ is configured as `make` would (the default preset) with every
    lab's reference linked (ETCDLAB_OWN_LABS empty), so it stays an ordinary build afterwards.
    Any other directory gets the grader's own options (with the Python package when a lab has
    Python tests, whose reference is build/python).
    """
    if build_dir.resolve() == (root / "build").resolve():
        cmd = ["cmake", "--preset", "default", "-DETCDLAB_OWN_LABS="]
    else:
        cmd = ["cmake", "-S", str(root), "-B", str(build_dir),
               *configure_options(python=python, own_labs="")]
    _run_logged(cmd, log_path, "configure", f"CMake could not configure {build_dir}", cwd=root)


def build_targets(build_dir: Path, targets: list[str], jobs: int, log_path: Path) -> None:
    cmd = ["cmake", "--build", str(build_dir), "--parallel", str(jobs), "--target", *targets]
    _run_logged(cmd, log_path, "build", f"building {' '.join(targets)} failed")


def _run_logged(cmd: list[str], log_path: Path, stage: str, summary: str,
                cwd: Path | None = None) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8", errors="replace") as log:
        log.write(f"$ {' '.join(cmd)}\n")
        log.flush()
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=BUILD_TIMEOUT_SECONDS,
                                  cwd=cwd)
        except FileNotFoundError:
            raise BuildFailure(stage, f"{cmd[0]} is not installed (run `make deps`)",
                               log_path=log_path) from None
        except subprocess.TimeoutExpired as e:
            text = (e.stdout or b"").decode("utf-8", "replace")
            log.write(text)
            raise BuildFailure(stage, f"{summary}: still running after "
                               f"{BUILD_TIMEOUT_SECONDS // 60} minutes",
                               error_excerpt(text), log_path) from None
        text = proc.stdout.decode("utf-8", "replace")
        log.write(text)
    if proc.returncode != 0:
        raise BuildFailure(stage, f"{summary} (exit status {proc.returncode})",
                           error_excerpt(text), log_path)


# ---- what a build directory has ----------------------------------------------------------------

def target_exists(build_dir: Path, target: str) -> bool:
    """Whether the configured build directory defines `target` (a lab without tests has none)."""
    ninja = build_dir / "build.ninja"
    if ninja.exists():
        return re.search(rf"^build {re.escape(target)}: phony ", ninja.read_text(errors="replace"),
                         re.MULTILINE) is not None
    makefile = build_dir / "Makefile"  # other generators: ask the build tool
    if makefile.exists():
        proc = subprocess.run(["cmake", "--build", str(build_dir), "--target", "help"],
                              capture_output=True, text=True)
        return re.search(rf"\b{re.escape(target)}\b", proc.stdout) is not None
    return False


def cache_value(build_dir: Path, key: str) -> str | None:
    """A value from the build directory's CMakeCache.txt, or None."""
    cache = build_dir / "CMakeCache.txt"
    if not cache.exists():
        return None
    for line in cache.read_text(errors="replace").splitlines():
        if line.startswith(key + ":"):
            return line.split("=", 1)[1] if "=" in line else ""
    return None


def binary_path(build_dir: Path, target: str) -> Path:
    return build_dir / "bin" / target  # CMAKE_RUNTIME_OUTPUT_DIRECTORY in the top CMakeLists.txt


def own_labs(build_dir: Path) -> list[str]:
    """The labs ETCDLAB_OWN_LABS lists in the build directory's cache (`1,2` or `1;2`)."""
    value = cache_value(build_dir, "ETCDLAB_OWN_LABS") or ""
    return [x.strip() for x in re.split(r"[,;]", value) if x.strip()]


@dataclass(frozen=True)
class PythonPackage:
    target: str  # what to build
    path: Path  # PYTHONPATH: the folder that holds etcdlab/
    what: str  # for people: which Raft the extension links


def python_package(build_dir: Path, lab: int, *, reference: bool) -> PythonPackage:
    """The package of `build_dir` whose extension links lab `lab`'s reference or student code.

    Raises GraderError when the build has none: it was configured without the Python package,
    or, for the reference, it links some student code (ETCDLAB_OWN_LABS is not empty).
    """
    if not target_exists(build_dir, PYTHON_TARGET):
        raise GraderError(f"{build_dir} has no target {PYTHON_TARGET}: lab {lab}'s Python tests "
                          f"need a build configured with -DETCDLAB_BUILD_PYTHON=ON and without "
                          f"-DETCDLAB_TESTS_ONLY=ON")
    own = own_labs(build_dir)
    if reference:
        if own:
            raise GraderError(f"{build_dir}/python links the student's code of lab(s) "
                              f"{', '.join(own)} (ETCDLAB_OWN_LABS={','.join(own)} in "
                              f"{build_dir}/CMakeCache.txt), not only the reference; "
                              f"reconfigure with -DETCDLAB_OWN_LABS= "
                              f"(e.g. `cmake --preset default -DETCDLAB_OWN_LABS=`)")
        return PythonPackage(PYTHON_TARGET, build_dir / "python", "the reference")
    if str(lab) in own:
        return PythonPackage(PYTHON_TARGET, build_dir / "python", f"the student's lab {lab}")
    target = student_python_target(lab)
    if target_exists(build_dir, target):
        return PythonPackage(target, student_python_dir(build_dir, lab), f"the student's lab {lab}")
    raise GraderError(f"{build_dir} has no Python package that links the student's lab {lab}: "
                      f"ETCDLAB_OWN_LABS does not list {lab} and there is no target {target} "
                      f"(python/CMakeLists.txt)")


# ---- the useful part of a long log -------------------------------------------------------------

_ERROR_LINE = re.compile(r"error:|CMake Error|^FAILED:|undefined reference to|"
                         r"multiple definition of|ninja: build stopped", re.IGNORECASE)
_MAX_LINE = 300  # a failing command line can run to kilobytes


def error_excerpt(log: str, max_lines: int = 30, before: int = 2, after: int = 3) -> str:
    """The lines that say what went wrong, with a little context, at most `max_lines` long.

    Lines matching an error pattern are kept with `before`/`after` lines around them; windows
    that touch are merged and separated by `...` otherwise. Without any error line the log's last
    lines are the best guess.
    """
    lines = [ln if len(ln) <= _MAX_LINE else ln[:_MAX_LINE] + " [...]"
             for ln in log.splitlines()]
    hits = [i for i, ln in enumerate(lines) if _ERROR_LINE.search(ln)]
    if not hits:
        return "\n".join(lines[-max_lines:])
    keep: list[int] = []
    for i in hits:
        for j in range(max(0, i - before), min(len(lines), i + after + 1)):
            if not keep or j > keep[-1]:
                keep.append(j)
    out: list[str] = []
    previous = None
    for j in keep:
        if previous is not None and j != previous + 1:
            out.append("...")
        out.append(lines[j])
        previous = j
    if len(out) > max_lines:
        dropped = len(out) - max_lines
        out = out[:max_lines] + [f"... ({dropped} more lines; the full log is in the build log)"]
    return "\n".join(out)
