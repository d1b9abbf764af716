"""The grader checked against itself: are the rubric and the tests fit to grade with?

For every lab whose tests exist in the build directory:
  - every test in the binary belongs to exactly one part, and every part selects a test;
  - the reference scores full marks (within the time limits);
  - the untouched skeleton scores 0: a test that passes without any student code tests nothing;
  - every deliberately broken variant of the reference fails at least one test (with --audit,
    every test runs against every variant and the report says which tests catch which variant).

It reuses an existing build (by default the main one) and the default seeds 1..n, so it is quick
and deterministic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import PRISTINE_ROOT
from . import build as builds
from .grading import Progress, run_selected
from .gtest import ListFailure, TestResult, list_tests, test_environment
from .reports import points
from .rubric import Lab, Rubric, Selection, select_tests
from .scoring import score_lab

OK, PROBLEM, SKIP = "ok", "PROBLEM", "-"


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

    selection = select_tests(lab, names)
    _check_coverage(report, lab, names, student_names, selection)

    progress.say(f"lab {n}: the reference, {len(selection.all_tests())} tests")
    reference = run_selected(lab, binary[lab.targets.reference], selection, env, jobs, progress)
    _check_reference(report, lab, selection, reference)

    progress.say(f"lab {n}: the skeleton")
    skeleton = run_selected(lab, binary[lab.targets.student], selection, env, jobs, progress)
    _check_skeleton(report, lab, selection, skeleton)

    if lab_broken:
        _check_broken(report, lab, binary[lab.targets.broken], selection, jobs=jobs, audit=audit,
                      progress=progress)
    elif not lab.broken:
        report.checks.append(Check(n, "broken variants", SKIP, "none listed"))


def _check_coverage(report: SelfCheck, lab: Lab, names: list[str], student_names: list[str],
                    selection: Selection) -> None:
    problems = selection.problems()
    if sorted(names) != sorted(student_names):
        only_ref = sorted(set(names) - set(student_names))
        only_student = sorted(set(student_names) - set(names))
        problems.append(f"the student and reference binaries list different tests "
                        f"(only in the reference: {only_ref or 'none'}; "
                        f"only in the student's: {only_student or 'none'})")
    if not names:
        problems.append("the binary lists no test")
    detail = (f"{len(names)} tests, each in one of {len(lab.parts)} parts" if not problems
              else f"{len(problems)} problem(s) in {len(names)} tests")
    report.add(lab.number, "tests and parts", problems, detail)


def _check_reference(report: SelfCheck, lab: Lab, selection: Selection,
                     results: dict[str, TestResult]) -> None:
    scored = score_lab(lab, selection, results)
    problems = [f"{r.name} {r.status} on the reference:\n{r.output}"
                for _, r in scored.failing()]
    slowest = max(results.values(), key=lambda r: r.seconds, default=None)
    detail = (f"{points(scored.score)}/{points(scored.max_score)} "
              f"({scored.passed}/{scored.total} pass")
    if slowest is not None:
        limit = max(p.time_limit for p in lab.parts if slowest.name in selection.by_part[p.id])
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
            detail = (f"{variant.name}: caught by {len(caught)} test(s)" if audit
                      else f"{variant.name}: caught by {first.name} ({first.status})")
            report.add(lab.number, "broken variant", [], detail)
        else:
            report.add(lab.number, "broken variant",
                       [f"broken variant {variant.name} ({variant.description}) passes every test: "
                        f"no test catches it"], f"{variant.name}: NOT caught")
    if audit:
        report.audit_lines += _audit_lines(lab, selection, caught_by)


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
