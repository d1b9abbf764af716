"""One grading run, end to end: get a build, then for each lab list, select, run and score.

A lab's gtest parts and its python parts are graded side by side: each kind has its own build
target (the test binary; the Python package), and a kind that does not build scores 0 in its
own parts only.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import PRISTINE_ROOT, GraderError
from . import build as builds
from . import pytests, runs
from .gtest import ListFailure, TestResult, list_tests, run_tests, test_environment
from .rubric import GTEST, PYTHON, Lab, Selection, merge_selections, select_tests, time_limits
from .scoring import BUILD_FAILED, NOT_RUN, LabResult, NotGraded, score_lab, ungraded_lab
from .submission import changed_outside, outside_warning, unpack_if_archive


class Progress:
    """Lines for the person waiting (stderr), silenced by --quiet."""

    def __init__(self, quiet: bool = False, stream=sys.stderr):
        self.quiet = quiet
        self.stream = stream
        self._counting = False

    def say(self, message: str) -> None:
        if not self.quiet:
            self._end_count()
            print(message, file=self.stream, flush=True)

    def count(self, done: int, total: int, failing: int) -> None:
        # A single self-rewriting line, only on a terminal (logs get the summary instead).
        if self.quiet or not self.stream.isatty():
            return
        self._counting = True
        print(f"\r  {done}/{total} tests run, {failing} not passing", end="", file=self.stream,
              flush=True)

    def _end_count(self) -> None:
        if self._counting:
            print(file=self.stream)
            self._counting = False

    def done(self) -> None:
        if not self.quiet:
            self._end_count()


@dataclass
class GradeRun:
    mode: str  # "submission" or "reference"
    source: str  # what was graded: the submission folder or the build directory
    seed_base: int | None
    labs: list[LabResult]
    started: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    lab_selector: str = ""  # "1" or "all", for replay commands
    build_dir: str | None = None  # set when an existing build was graded (--build-dir)
    warnings: list[str] = field(default_factory=list)  # for the instructor (edits outside owned)
    run_dir: str = ""  # this run's own folder (runs.py)
    build_log: str = ""  # every configure and build of this run, kept after it ends
    work_tree: str | None = None  # the work tree, when it was kept (a build failed, --keep-work)

    @property
    def score(self) -> float:
        return sum(lab.score for lab in self.labs)

    @property
    def max_score(self) -> float:
        return sum(lab.max_score for lab in self.labs)


# ---- shared with the self-check ----------------------------------------------------------------

def run_selected(lab: Lab, binary: Path, selection: Selection, env: dict[str, str], jobs: int,
                 progress: Progress, stop_at_first_failure: bool = False) -> dict[str, TestResult]:
    names = selection.all_tests()
    failing = 0

    def on_result(result: TestResult) -> None:
        nonlocal failing
        failing += not result.passed
        progress.count(len(seen) + 1, len(names), failing)
        seen.append(result.name)

    seen: list[str] = []
    results = run_tests(binary, names, time_limits=time_limits(lab, selection), env=env,
                        jobs=jobs, stop_at_first_failure=stop_at_first_failure,
                        on_result=on_result)
    progress.done()
    return results


def existing_build_dir(build_dir: Path) -> Path:
    build_dir = build_dir.resolve()
    if not (build_dir / "CMakeCache.txt").exists():
        raise GraderError(f"{build_dir} is not a configured build directory (no CMakeCache.txt); "
                          f"configure it first, e.g. `cmake --preset default`")
    return build_dir


# ---- grading -----------------------------------------------------------------------------------

@dataclass
class GradeRequest:
    labs: list[Lab]
    explicit: bool  # the labs were named (--lab N): a lab without tests is an error, not a skip
    reference: bool
    submission: Path
    build_dir: Path | None
    work_root: Path
    seed_base: int | None
    jobs: int
    lab_selector: str
    pristine: Path = PRISTINE_ROOT  # the tree tests, headers and build files come from
    keep_work: bool = False  # keep the work tree even when every build succeeded


def grade(request: GradeRequest, progress: Progress) -> GradeRun:
    start = time.monotonic()
    mode = "reference" if request.reference else "submission"
    run = GradeRun(mode=mode, source="", seed_base=request.seed_base, labs=[],
                   lab_selector=request.lab_selector)
    label = f"{'reference-' if request.reference else 'lab'}{request.lab_selector}"
    run_dir = runs.new_run_dir(request.work_root, label)
    run.run_dir = str(run_dir)
    run.build_log = str(run_dir / "build.log")
    work_tree = None
    try:
        build_dir, work_tree, lab_failures = _prepare_build(request, run, run_dir, progress)
        if build_dir is not None:
            _grade_labs(request, run, build_dir, lab_failures, progress)
    finally:
        failed = any(p.status == BUILD_FAILED for lab in run.labs for p in lab.parts)
        runs.finish(run_dir, work_tree, keep_tree=request.keep_work or failed)
        if work_tree is not None and work_tree.exists():
            run.work_tree = str(work_tree)
    run.seconds = time.monotonic() - start
    return run


def _grade_labs(request: GradeRequest, run: GradeRun, build_dir: Path,
                lab_failures: dict[int, builds.BuildFailure], progress: Progress) -> None:
    env = test_environment(request.seed_base)
    log_path = Path(run.build_log)
    for lab in request.labs:
        lab_start = time.monotonic()
        target = lab.targets.reference if request.reference else lab.targets.student
        if target is None:
            raise GraderError(f"lab {lab.number} has no reference target in the rubric")
        if not builds.target_exists(build_dir, target):
            if request.explicit:
                raise GraderError(f"lab {lab.number} has no tests in {build_dir} (no target "
                                  f"{target}); its tests may not be written yet")
            run.notes.append(f"lab {lab.number} skipped: no tests yet (no target {target})")
            continue
        if lab.number in lab_failures:
            run.labs.append(build_failed(lab, lab_failures[lab.number]))
            continue
        result = _grade_lab(lab, target, build_dir, log_path, env, request, progress)
        result.seconds = time.monotonic() - lab_start
        run.labs.append(result)
    if not run.labs:
        raise GraderError("no lab in the rubric has tests in this build; nothing to grade")


def build_failed(lab: Lab, failure: builds.BuildFailure) -> LabResult:
    why = not_built(failure)
    return ungraded_lab(lab, why.status, why.message, why.excerpt)


def not_built(failure: builds.BuildFailure) -> NotGraded:
    # The log's path is the run's (GradeRun.build_log), which the reports print once.
    return NotGraded(BUILD_FAILED, failure.summary, failure.excerpt)


def _prepare_build(request: GradeRequest, run: GradeRun, run_dir: Path, progress: Progress
                   ) -> tuple[Path | None, Path | None, dict[int, builds.BuildFailure]]:
    """The build directory to take binaries from, the work tree made for it (None when an
    existing build is used), and the labs whose submission could not be used.

    Returns build_dir None when there is nothing to build (the submission's archive is unusable,
    or configuring failed): then every lab is already recorded as a build failure in `run`.
    """
    log_path = run_dir / "build.log"
    if request.build_dir is not None:
        build_dir = existing_build_dir(request.build_dir)
        run.source = f"build directory {build_dir}"
        run.build_dir = str(build_dir)
        own = builds.cache_value(build_dir, "ETCDLAB_OWN_LABS")
        if own:
            run.notes.append(f"{build_dir} links the student code of labs {own} under every lab "
                             f"(ETCDLAB_OWN_LABS); a fresh grade would use the reference there")
        return build_dir, None, {}

    main_build = request.pristine / "build"
    if request.reference and (main_build / "CMakeCache.txt").exists():
        # The reference is the pristine tree itself: its own build has everything needed.
        run.source = f"reference, built in {main_build}"
        return main_build, None, {}

    work = run_dir / "tree"
    failures: dict[int, builds.BuildFailure] = {}
    if request.reference:
        run.source = "reference (fresh build)"
        progress.say(f"copying the pristine tree into {work}")
        builds.copy_pristine(request.pristine, work)
    else:
        owned = [p for lab in request.labs for p in lab.owned]
        run.source = str(request.submission.resolve())
        try:
            submission, note = unpack_if_archive(request.submission.resolve(),
                                                 run_dir / "submission")
        except builds.BuildFailure as f:
            run.labs += [build_failed(lab, f) for lab in request.labs]
            return None, None, {}
        if note:
            run.notes.append(note)
        submission, note = builds.find_submission_root(submission, owned)
        if note:
            run.notes.append(note)
        warning = outside_warning(changed_outside(submission, request.pristine, owned), owned)
        if warning:
            run.warnings.append(warning)
        progress.say(f"copying the pristine tree and the submission's "
                     f"{', '.join(owned)} into {work}")
        builds.copy_pristine(request.pristine, work)
        for lab in request.labs:
            try:
                builds.overlay_owned(submission, work, list(lab.owned))
            except builds.BuildFailure as f:
                failures[lab.number] = f
    # The Python package is built only when a lab has Python tests. Grading one lab, its student
    # code is linked everywhere (ETCDLAB_OWN_LABS=N), so build/python is the student's; grading
    # several, every lab links the reference and each lab's student package is used instead.
    python_labs = [lab.number for lab in request.labs if lab.python_tests]
    own = (str(python_labs[0]) if len(request.labs) == 1 and python_labs
           and not request.reference else "")
    try:
        progress.say("configuring (cmake)")
        builds.configure(work, work / "build", log_path, python=bool(python_labs), own_labs=own)
    except builds.BuildFailure as f:
        for lab in request.labs:
            run.labs.append(build_failed(lab, f))
        return None, work, failures
    return work / "build", work, failures


@dataclass
class _Graded:
    """The tests of one kind of part that ran: their selection and results."""
    selection: Selection
    results: dict[str, TestResult]
    notes: list[str] = field(default_factory=list)


def _grade_lab(lab: Lab, target: str, build_dir: Path, log_path: Path, env: dict[str, str],
               request: GradeRequest, progress: Progress) -> LabResult:
    graded: list[_Graded] = []
    not_graded: dict[str, NotGraded] = {}
    lab_status: NotGraded | None = None  # the test binary's, which heads the lab's report
    if lab.parts_of(GTEST):
        side = _gtest_parts(lab, target, build_dir, log_path, env, request, progress)
        if isinstance(side, NotGraded):
            lab_status = side
            not_graded.update(dict.fromkeys((p.id for p in lab.parts_of(GTEST)), side))
        else:
            graded.append(side)
    if lab.parts_of(PYTHON):
        side = _python_parts(lab, build_dir, log_path, request, progress)
        if isinstance(side, NotGraded):
            not_graded.update(dict.fromkeys((p.id for p in lab.parts_of(PYTHON)), side))
        else:
            graded.append(side)
    selection = merge_selections(*(g.selection for g in graded))
    result = score_lab(lab, selection, {n: r for g in graded for n, r in g.results.items()},
                       warnings=selection.problems(), not_graded=not_graded)
    result.notes += [n for g in graded for n in g.notes]
    if lab_status is not None:
        result.status, result.message = lab_status.status, lab_status.message
        result.log_excerpt = lab_status.excerpt
    return result


def _gtest_parts(lab: Lab, target: str, build_dir: Path, log_path: Path, env: dict[str, str],
                 request: GradeRequest, progress: Progress) -> _Graded | NotGraded:
    progress.say(f"lab {lab.number}: building {target}")
    try:
        builds.build_targets(build_dir, [target], request.jobs, log_path)
    except builds.BuildFailure as f:
        if request.reference:
            raise GraderError(f"the reference does not build: {f}") from None
        return not_built(f)

    binary = builds.binary_path(build_dir, target)
    try:
        names = list_tests(binary, env)
    except ListFailure as f:
        return NotGraded(NOT_RUN, f"the test binary could not list its tests: {f.summary}",
                         f.output)
    selection = select_tests(lab, names)
    seeds = (f"seed base {request.seed_base}" if request.seed_base is not None
             else "default seeds")
    progress.say(f"lab {lab.number}: running {len(selection.all_tests())} tests, "
                 f"{request.jobs} at a time, {lab.time_limit:g} s limit each, {seeds}")
    return _Graded(selection, run_selected(lab, binary, selection, env, request.jobs, progress))


def _python_parts(lab: Lab, build_dir: Path, log_path: Path, request: GradeRequest,
                  progress: Progress) -> _Graded | NotGraded:
    package = builds.python_package(build_dir, lab.number, reference=request.reference)
    progress.say(f"lab {lab.number}: building {package.target} (the Python package, linking "
                 f"{package.what})")
    try:
        builds.build_targets(build_dir, [package.target], request.jobs, log_path)
    except builds.BuildFailure as f:
        if request.reference:
            raise GraderError(f"the reference's Python package does not build: {f}") from None
        return not_built(f)
    seeds = (f"seed base {request.seed_base}" if request.seed_base is not None
             else "default seeds")
    progress.say(f"lab {lab.number}: running the Python tests of {', '.join(lab.python_tests)} "
                 f"(PYTHONPATH={package.path}, {seeds})")
    run = python_tests(lab, request.pristine, request.seed_base, package.path)
    return _Graded(run.selection, run.results, run.notes)


def python_tests(lab: Lab, pristine: Path, seed_base: int | None,
                 pythonpath: Path) -> pytests.PythonRun:
    """The lab's Python tests, from the pristine tree, against the package at `pythonpath`."""
    return pytests.run_python_parts(lab, pristine,
                                    pytests.python_environment(seed_base, pythonpath))
