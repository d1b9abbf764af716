"""The command line: grader/grade.

Exit status: 0 when grading completed, whatever the score (a submission that does not build
scores 0, it is not an error of the grader); 1 for a grader error or a failed self-check;
2 for a usage error.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

from . import DEFAULT_RUBRIC, PRISTINE_ROOT, GraderError
from . import reports, runs
from .build import BuildFailure, configure_for_self_check
from .grading import GradeRequest, Progress, existing_build_dir, grade
from .rubric import load_rubric
from .selfcheck import self_check, summary

USAGE_EXAMPLES = """\
examples:
  grader/grade --lab 1 --submission ~/subs/alice --report alice.md
  grader/grade --lab all --submission /autograder/submission \
               --gradescope /autograder/results/results.json
  grader/grade --lab 1 --reference --seed-base 42
  grader/grade --self-check            (reference full marks, skeleton 0, every test in a part)
  grader/grade --self-check --audit    (which tests catch each broken variant)
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grader/grade", description="Grade etcdlab labs: builds the submission against the "
        "grader's own copy of the tests, runs each test alone with a time limit and hidden seeds, "
        "and scores it by grader/rubric.toml.", epilog=USAGE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lab", metavar="N|all", help="the lab to grade, or all labs that have tests")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--submission", metavar="DIR", type=Path,
                     help="root of the student's clone (default: this checkout)")
    who.add_argument("--reference", action="store_true", help="grade the reference implementation")
    p.add_argument("--json", metavar="OUT", type=Path, help="write machine-readable results")
    p.add_argument("--gradescope", metavar="OUT", type=Path, help="write Gradescope's results.json")
    p.add_argument("--report", metavar="OUT.md", type=Path, help="write a Markdown report")
    p.add_argument("--build-dir", metavar="DIR", type=Path,
                   help="use this configured build directory (its targets are rebuilt) instead of "
                   "a fresh build; it grades the tree DIR was configured from")
    p.add_argument("--seed-base", metavar="B", type=_seed_base,
                   help="seed base for randomized tests (default: fresh and random; "
                   "the self-check uses seeds 1..n)")
    p.add_argument("--jobs", metavar="N", type=_positive_int, default=2,
                   help="tests run at once, and build parallelism (default 2)")
    p.add_argument("--self-check", action="store_true",
                   help="check the rubric and tests: reference full marks, skeleton 0, broken "
                   "variants caught")
    p.add_argument("--audit", action="store_true",
                   help="with --self-check: run every test against every broken variant")
    p.add_argument("--quiet", action="store_true", help="no progress lines, only the results")
    p.add_argument("--rubric", metavar="FILE", type=Path, default=DEFAULT_RUBRIC,
                   help=argparse.SUPPRESS)  # the grader's own tests use their own rubrics
    p.add_argument("--work-dir", metavar="DIR", type=Path, default=PRISTINE_ROOT / ".grade",
                   help="where each run makes its own folder (work tree, build, build.log); "
                   "default .grade/ in this checkout")
    p.add_argument("--keep-work", action="store_true",
                   help="keep the run's work tree and build even when everything built (by "
                   "default only a failed build's tree is kept)")
    return p


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = build_parser()
    args = p.parse_args(argv)
    if args.audit:
        args.self_check = True
    if not args.self_check and args.lab is None:
        p.error("--lab N|all is required (or --self-check)")
    if args.lab is not None and args.lab != "all" and not args.lab.isdigit():
        p.error(f"--lab takes a lab number or `all`, not {args.lab!r}")
    if args.build_dir is not None and args.submission is not None:
        p.error("--build-dir grades the tree that DIR was configured from; drop --submission, or "
                "drop --build-dir to build the submission fresh against the pristine tests")
    if args.self_check and (args.submission is not None or args.reference):
        p.error("--self-check checks the reference and the skeleton of this checkout; "
                "it takes no --submission or --reference")
    return args


def _seed_base(text: str) -> int:
    # Decimal only: the tests read it with strtoull(..., 0), where a leading 0 means octal.
    if not text.isdigit():
        raise argparse.ArgumentTypeError(
            f"a seed base is a non-negative decimal number, not {text!r}")
    return int(text, 10)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, not {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    progress = Progress(quiet=args.quiet)
    try:
        rubric = load_rubric(args.rubric)
        if args.self_check:
            return _self_check(args, rubric, progress)
        return _grade(args, rubric, progress)
    except GraderError as e:
        print(f"grader error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _labs(args, rubric):
    if args.lab is None or args.lab == "all":
        return list(rubric.labs.values()), False
    return [rubric.lab(int(args.lab))], True


def _grade(args, rubric, progress: Progress) -> int:
    labs, explicit = _labs(args, rubric)
    seed_base = args.seed_base if args.seed_base is not None else secrets.randbelow(10**9) + 1
    request = GradeRequest(labs=labs, explicit=explicit, reference=args.reference,
                           submission=args.submission or PRISTINE_ROOT,
                           build_dir=args.build_dir, work_root=args.work_dir.resolve(),
                           seed_base=seed_base, jobs=args.jobs, lab_selector=args.lab,
                           pristine=PRISTINE_ROOT, keep_work=args.keep_work)
    run = grade(request, progress)
    print(reports.terminal(run))
    if args.json:
        reports.write_json(args.json, reports.machine_json(run))
    if args.gradescope:
        reports.write_json(args.gradescope, reports.gradescope(run))
    if args.report:
        reports.write_text(args.report, reports.markdown(run))
    return 0


def _self_check(args, rubric, progress: Progress) -> int:
    labs, _ = _labs(args, rubric)
    run_dir = runs.new_run_dir(args.work_dir.resolve(), "self-check")
    log_path = run_dir / "build.log"
    try:
        build_dir = (args.build_dir or PRISTINE_ROOT / "build").resolve()
        if not (build_dir / "CMakeCache.txt").exists():
            # A fresh clone: configure what the checks need rather than refuse.
            python = any(lab.python_tests for lab in labs)
            progress.say(f"{build_dir} is not configured yet: configuring it")
            try:
                configure_for_self_check(PRISTINE_ROOT, build_dir, log_path, python=python)
            except BuildFailure as f:
                raise GraderError(f"could not configure {build_dir} for the self-check: {f}\n"
                                  f"(full log: {log_path})") from None
        build_dir = existing_build_dir(build_dir)
        report = self_check(rubric, labs, build_dir, jobs=args.jobs, audit=args.audit,
                            seed_base=args.seed_base, log_path=log_path, progress=progress)
    finally:
        runs.finish(run_dir, None, keep_tree=False)
    print(summary(report, rubric))
    return 0 if report.passed else 1
