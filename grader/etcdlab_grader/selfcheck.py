"""The grader checked against itself: are the rubric and the tests fit to grade with?

For every lab whose tests exist in the build directory:
  - every test in the binary belongs to exactly one part, and every part selects a test;
  - the reference scores full marks (within the time limits);
  - the untouched skeleton scores 0: a test that passes without any student code tests nothing;
  - every deliberately broken variant of the reference fails at least one test, on the run's
    seed base and on two more fixed ones (VARIANT_SEED_BASES): a variant caught only by some
    seeds would let some students through (with --audit, every test runs against every variant
    and the report says which tests catch which variant).

A lab's Python parts are checked alongside: the reference is build/python (so ETCDLAB_OWN_LABS
must be empty in the build), the skeleton the student package (build/python-labNN-student).
Broken variants are compiled into the C++ broken binary only: they are not run in Python.

It reuses an existing build (by default the main one) and the default seeds 1..n, so it is quick
and deterministic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import PRISTINE_ROOT, GraderError
from . import build as builds
from .grading import Progress, python_tests, run_selected
from .gtest import ListFailure, TestResult, list_tests, run_tests, test_environment
from .pytests import PythonRun
from .reports import points
from .rubric import PYTHON, Lab, Rubric, Selection, merge_selections, select_tests, time_limits
from .scoring import score_lab

OK, PROBLEM, SKIP = "ok", "PROBLEM", "-"

# Seed bases each broken variant must also be caught on, beside the run's own seeds: catching a
# variant must not depend on the seeds a student happens to get.
VARIANT_SEED_BASES = (104729, 7919)


@dataclass
class Check:
    lab: int
    what: str
    result: str  # OK, PROBLEM or SKIP
    detail: str
    problems: list[str] = field(default_factory=list)


@dataclass
class SelfCheck:
    build_dir: Path
    seed_base: int | None
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    audit_lines: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.result != PROBLEM for c in self.checks)

    def add(self, lab: int, what: str, problems: list[str], detail: str) -> None:
        self.checks.append(Check(lab, what, PROBLEM if problems else OK, detail, problems))


def self_check(rubric: Rubric, labs: list[Lab], build_dir: Path, *, jobs: int, audit: bool,
               seed_base: int | None, log_path: Path, progress: Progress) -> SelfCheck:
    start = time.monotonic()
    report = SelfCheck(build_dir=build_dir, seed_base=seed_base)
    for lab in labs:
        if not builds.target_exists(build_dir, lab.targets.student):
            report.checks.append(Check(lab.number, "tests", SKIP,
                                       f"no target {lab.targets.student} yet: skipped"))
            continue
        _check_lab(report, lab, build_dir, log_path, jobs=jobs, audit=audit, progress=progress)
    if not any(c.result != SKIP for c in report.checks):
        report.checks.append(Check(0, "tests", PROBLEM, "no lab in the rubric has tests in "
                                   f"{build_dir}", ["nothing was checked"]))
    report.seconds = time.monotonic() - start
    return report


def _check_lab(report: SelfCheck, lab: Lab, build_dir: Path, log_path: Path, *, jobs: int,
               audit: bool, progress: Progress) -> None:
    n = lab.number
    if not (PRISTINE_ROOT / lab.handout).exists():
        report.warnings.append(f"lab {n}: the handout {lab.handout} does not exist yet "
                               f"(failure messages point students to it)")
    if lab.targets.reference is None:
        report.add(n, "reference", ["the rubric names no reference target"], "cannot check")
        return
    targets = [lab.targets.student, lab.targets.reference]
    if lab.broken:
        if not builds.target_exists(build_dir, lab.targets.broken):
            report.add(n, "broken variants", [f"no target {lab.targets.broken} in {build_dir}"],
                       f"{len(lab.broken)} listed, binary missing")
            lab_broken = False
        else:
            targets.append(lab.targets.broken)
            lab_broken = True
    else:
        lab_broken = False

    progress.say(f"lab {n}: building {' '.join(targets)} in {build_dir}")
    try:
        builds.build_targets(build_dir, targets, jobs, log_path)
    except builds.BuildFailure as f:
        report.add(n, "build", [str(f)], f.summary)
        return

    env = test_environment(report.seed_base)
    binary = {t: builds.binary_path(build_dir, t) for t in targets}
    try:
        names = list_tests(binary[lab.targets.reference], env)
        student_names = list_tests(binary[lab.targets.student], env)
    except ListFailure as f:
        report.add(n, "tests", [f"{f.summary}\n{f.output}"], "a binary cannot list its tests")
        return

    python = _python_runs(report, lab, build_dir, log_path, jobs=jobs, progress=progress)

    cpp = select_tests(lab, names)  # what the binaries run; `selection` adds the Python tests
    selection = cpp
    listings = [("C++", names, student_names)]
    if python is not None:
        py_reference, py_skeleton = python
        listings.append(("Python", py_reference.selection.all_tests(),
                         py_skeleton.selection.all_tests()))
        selection = merge_selections(cpp, py_reference.selection)
    _check_coverage(report, lab, listings, selection)

    progress.say(f"lab {n}: the reference, {len(cpp.all_tests())} C++ tests")
    reference = run_selected(lab, binary[lab.targets.reference], cpp, env, jobs, progress)
    if python is not None:
        reference.update(py_reference.results)
        report.warnings += [f"lab {n}, the reference: {note}" for note in py_reference.notes]
    _check_reference(report, lab, selection, reference)

    progress.say(f"lab {n}: the skeleton")
    skeleton = run_selected(lab, binary[lab.targets.student], cpp, env, jobs, progress)
    if python is not None:
        skeleton.update(py_skeleton.results)
    _check_skeleton(report, lab, selection, skeleton)

    if lab_broken:
        _check_broken(report, lab, binary[lab.targets.broken], cpp, jobs=jobs, audit=audit,
                      progress=progress)
    elif not lab.broken:
        report.checks.append(Check(n, "broken variants", SKIP, "none listed"))
    if lab.parts_of(PYTHON) and lab.broken:
        ids = ", ".join(p.id for p in lab.parts_of(PYTHON))
        report.checks.append(Check(n, "broken variants", SKIP,
                                   f"C++ tests only: Python part(s) {ids} are not run against "
                                   f"the variants (they live in {lab.targets.broken})"))


def _python_runs(report: SelfCheck, lab: Lab, build_dir: Path, log_path: Path, *, jobs: int,
                 progress: Progress) -> tuple[PythonRun, PythonRun] | None:
    """The lab's Python tests against the reference package and the skeleton's, or None (and a
    problem recorded) when there are none or they cannot run."""
    n = lab.number
    if not lab.parts_of(PYTHON):
        return None
    try:
        reference = builds.python_package(build_dir, n, reference=True)
        skeleton = builds.python_package(build_dir, n, reference=False)
    except GraderError as e:
        report.add(n, "python packages", [str(e)], "cannot run the Python parts")
        return None
    targets = list(dict.fromkeys([reference.target, skeleton.target]))
    progress.say(f"lab {n}: building {' '.join(targets)} in {build_dir}")
    try:
        builds.build_targets(build_dir, targets, jobs, log_path)
    except builds.BuildFailure as f:
        report.add(n, "python packages", [str(f)], f.summary)
        return None
    report.add(n, "python packages", [],
               f"reference {build_dir.name}/{reference.path.name} (ETCDLAB_OWN_LABS is empty), "
               f"skeleton {build_dir.name}/{skeleton.path.name}")
    progress.say(f"lab {n}: the Python tests, reference and skeleton")
    try:
        return (python_tests(lab, PRISTINE_ROOT, report.seed_base, reference.path),
                python_tests(lab, PRISTINE_ROOT, report.seed_base, skeleton.path))
    except GraderError as e:
        report.add(n, "python tests", [str(e)], "cannot run the Python tests")
        return None


def _check_coverage(report: SelfCheck, lab: Lab, listings: list[tuple[str, list[str], list[str]]],
                    selection: Selection) -> None:
    """`listings`: per kind of test, the names the reference and the student's code list."""
    problems = selection.problems()
    for kind, names, student_names in listings:
        if sorted(names) != sorted(student_names):
            only_ref = sorted(set(names) - set(student_names))
            only_student = sorted(set(student_names) - set(names))
            problems.append(f"the student's and the reference's {kind} tests differ "
                            f"(only in the reference: {only_ref or 'none'}; "
                            f"only in the student's: {only_student or 'none'})")
        if not names:
            problems.append(f"no {kind} test is listed")
    total = sum(len(names) for _, names, _ in listings)
    kinds = (f" ({', '.join(f'{len(names)} {kind}' for kind, names, _ in listings)})"
             if len(listings) > 1 else "")
    detail = (f"{total} tests{kinds}, each in one of {len(lab.parts)} parts" if not problems
              else f"{len(problems)} problem(s) in {total} tests")
    report.add(lab.number, "tests and parts", problems, detail)


def _check_reference(report: SelfCheck, lab: Lab, selection: Selection,
                     results: dict[str, TestResult]) -> None:
    scored = score_lab(lab, selection, results)
    problems = [f"{r.name} {r.status} on the reference:\n{r.output}"
                for _, r in scored.failing()]
    if not problems and scored.score < scored.max_score:
        empty = [p.part.id for p in scored.parts if not p.results]
        problems.append(f"the reference scores {points(scored.score)} of "
                        f"{points(scored.max_score)}: part(s) {', '.join(empty)} ran no test")
    slowest = max(results.values(), key=lambda r: r.seconds, default=None)
    detail = (f"{points(scored.score)}/{points(scored.max_score)} "
              f"({scored.passed}/{scored.total} pass")
    if slowest is not None:
        limit = max(p.time_limit for p in lab.parts
                    if slowest.name in selection.by_part.get(p.id, []))
        detail += f"; slowest {slowest.seconds:.2f} s of a {limit:g} s limit"
        if slowest.seconds > limit / 2:
            report.warnings.append(
                f"lab {lab.number}: {slowest.name} takes {slowest.seconds:.1f} s on the "
                f"reference, over half its {limit:g} s limit: a correct but slower student "
                f"solution may time out")
    report.add(lab.number, "reference", problems, detail + ")")


def _check_skeleton(report: SelfCheck, lab: Lab, selection: Selection,
                    results: dict[str, TestResult]) -> None:
    scored = score_lab(lab, selection, results)
    problems = [f"{r.name} passes on the untouched skeleton: it does not test the student's code"
                for p in scored.parts for r in p.results if r.passed]
    report.add(lab.number, "skeleton", problems,
               f"{points(scored.score)}/{points(scored.max_score)} "
               f"({scored.passed}/{scored.total} pass)")


def _check_broken(report: SelfCheck, lab: Lab, binary: Path, selection: Selection, *, jobs: int,
                  audit: bool, progress: Progress) -> None:
    # The broken binary with no variant switched on must be the reference: otherwise every
    # variant would look caught by a test that fails anyway.
    progress.say(f"lab {lab.number}: the broken binary with no variant")
    plain = run_selected(lab, binary, selection, test_environment(report.seed_base), jobs,
                         progress, stop_at_first_failure=not audit)
    failing = [r for r in plain.values() if not r.passed]
    report.add(lab.number, "broken binary, no variant",
               [f"{r.name} {r.status} with ETCDLAB_BROKEN unset:\n{r.output}" for r in failing],
               "behaves as the reference" if not failing else f"{len(failing)} test(s) fail")

    caught_by: dict[str, list[TestResult]] = {}
    for variant in lab.broken:
        progress.say(f"lab {lab.number}: broken variant {variant.name}")
        env = test_environment(report.seed_base, broken=variant.name)
        results = run_selected(lab, binary, selection, env, jobs, progress,
                               stop_at_first_failure=not audit)
        caught = [r for r in results.values() if not r.passed]
        caught_by[variant.name] = caught
        if caught:
            first = caught[0]
            missed = _bases_missed(lab, binary, selection, variant.name, [r.name for r in caught],
                                   jobs)
            bases = f"on {1 + len(VARIANT_SEED_BASES)} seed bases"
            detail = (f"{variant.name}: caught by {len(caught)} test(s) {bases}" if audit
                      else f"{variant.name}: caught by {first.name} ({first.status}) {bases}")
            problems = [f"broken variant {variant.name} ({variant.description}) is caught with "
                        f"the default seeds but by no test with ETCDLAB_SEED_BASE={b}: a student "
                        f"with this bug passes on some seeds; add a rule test that catches it "
                        f"whatever the seeds" for b in missed]
            report.add(lab.number, "broken variant", problems,
                       detail if not missed else f"{variant.name}: caught on some seeds only")
        else:
            report.add(lab.number, "broken variant",
                       [f"broken variant {variant.name} ({variant.description}) passes every test: "
                        f"no test catches it"], f"{variant.name}: NOT caught")
    if audit:
        report.audit_lines += _audit_lines(lab, selection, caught_by)


def _bases_missed(lab: Lab, binary: Path, selection: Selection, variant: str,
                  caught: list[str], jobs: int) -> list[int]:
    """The seed bases of VARIANT_SEED_BASES on which no test catches `variant` (the tests that
    caught it on the run's seeds are tried first, so this usually runs one test per base)."""
    names = caught + [n for n in selection.all_tests() if n not in caught]
    limits = time_limits(lab, selection)
    missed = []
    for base in VARIANT_SEED_BASES:
        results = run_tests(binary, names, time_limits=limits,
                            env=test_environment(base, broken=variant), jobs=jobs,
                            stop_at_first_failure=True)
        if all(r.passed for r in results.values()):
            missed.append(base)
    return missed


def _audit_lines(lab: Lab, selection: Selection,
                 caught_by: dict[str, list[TestResult]]) -> list[str]:
    part_of = {name: pid for pid, names in selection.by_part.items() for name in names}
    out = [f"Lab {lab.number}: which tests catch each broken variant"]
    for variant in lab.broken:
        caught = caught_by.get(variant.name, [])
        out.append(f"  {variant.name} — {variant.description}: "
                   f"{len(caught)} of {len(part_of)} tests")
        for r in caught:
            out.append(f"    {part_of.get(r.name, '?')}  {r.name}  ({r.status})")
    catching = {r.name for rs in caught_by.values() for r in rs}
    idle = [name for name in selection.all_tests() if name not in catching]
    out.append(f"  tests that catch no variant: {len(idle)} of {len(part_of)}")
    out += [f"    {part_of[name]}  {name}" for name in idle]
    return out


def summary(report: SelfCheck, rubric: Rubric) -> str:
    seeds = (f"seed base {report.seed_base}" if report.seed_base is not None
             else "default seeds 1..n")
    out = [f"Self-check of {rubric.path} against {report.build_dir} ({seeds})"]
    what_w = max(len("check"), *(len(c.what) for c in report.checks))
    row = f"  {{:<4}} {{:<{what_w}}}  {{:<7}}  {{}}"
    out.append(row.format("lab", "check", "result", "detail"))
    for c in report.checks:
        out.append(row.format(c.lab or "", c.what, c.result, c.detail))
    problems = [(c, p) for c in report.checks for p in c.problems]
    if problems:
        out.append("")
        out.append(f"Problems ({len(problems)}):")
        for c, p in problems:
            lines = p.splitlines() or [""]
            out.append(f"  lab {c.lab}, {c.what}: {lines[0]}")
            out += ["      " + ln for ln in lines[1:]]
    if report.warnings:
        out.append("")
        out += [f"warning: {w}" for w in report.warnings]
    if report.audit_lines:
        out.append("")
        out += report.audit_lines
    out.append("")
    out.append(f"self-check {'passed' if report.passed else 'FAILED'} in {report.seconds:.0f} s")
    return "\n".join(out)
