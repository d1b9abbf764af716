"""The command line: grader/release.

Exit status: 0 done; 1 the release or bundle was not made (the message says why); 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import INSTRUCTOR_ROOT, bundle, export, layout

EXAMPLES = """\
examples:
  grader/release ~/etcdlab-student                  every lab, a new repository
  grader/release ~/etcdlab-student --labs 1         lab 1 only (the others' headers and skeletons)
  grader/release ~/etcdlab-student --labs 1,2 --update     one more commit: lab 2 is out
  grader/release --gradescope lab1.zip --lab 1      the autograder of one Gradescope assignment
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grader/release", epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Export the student release of the course (no solution/: the reference "
        "as prebuilt libraries) into a git repository, or make a Gradescope autograder bundle.")
    p.add_argument("out", nargs="?", type=Path, help="the release's folder (new, or with "
                   "--update an earlier release's repository)")
    p.add_argument("--labs", metavar="1,2,...", help="the labs released (default: all)")
    p.add_argument("--update", action="store_true",
                   help="add a commit to the earlier release in OUT instead of a new repository")
    p.add_argument("--lib-build-dir", metavar="DIR", type=Path,
                   default=INSTRUCTOR_ROOT / "build-release-libs",
                   help="where the reference libraries are built (default build-release-libs/, "
                   "a Release build; an existing configured build directory is used as it is)")
    p.add_argument("--jobs", metavar="N", type=int, default=2, help="build parallelism")
    p.add_argument("--gradescope", metavar="OUT.zip", type=Path,
                   help="write the Gradescope autograder bundle of --lab")
    p.add_argument("--lab", metavar="N|all", default="all",
                   help="with --gradescope: the lab the assignment grades (default all)")
    p.add_argument("--visibility", default="visible",
                   choices=["visible", "hidden", "after_due_date", "after_published"],
                   help="with --gradescope: when students see the tests' results")
    p.add_argument("--prebuild-in-place", metavar="TREE", type=Path, help=argparse.SUPPRESS)
    return p


def parse_labs(parser: argparse.ArgumentParser, text: str | None, known: list[int]) -> list[int]:
    if not text or text == "all":
        return known
    try:
        labs = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        parser.error(f"--labs takes lab numbers such as 1,2, not {text!r}")
    unknown = [n for n in labs if n not in known]
    if unknown or not labs:
        parser.error(f"no lab {', '.join(map(str, unknown)) or text} in the rubric (labs: "
                     f"{', '.join(map(str, known))})")
    return labs


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    root = INSTRUCTOR_ROOT
    try:
        if args.prebuild_in_place:
            # setup.sh of a Gradescope bundle: the reference compiled for this image, its
            # sources removed before any submission runs here.
            export.prebuild_in_place(args.prebuild_in_place.resolve(), args.lib_build_dir,
                                     args.jobs)
            return 0
        if args.gradescope:
            lab = args.lab
            if lab != "all" and (not lab.isdigit() or int(lab) not in layout.labs_of(root)):
                parser.error(f"--lab takes a lab of the rubric or `all`, not {lab!r}")
            path = bundle.make_bundle(root, args.gradescope.resolve(), lab, args.visibility)
            export.say(f"Gradescope bundle for lab {lab}: {path}")
        if args.out is None:
            if not args.gradescope:
                parser.error("give OUT (the release's folder) or --gradescope OUT.zip")
            return 0
        labs = parse_labs(parser, args.labs, list(layout.labs_of(root)))
        release = export.make_release(root, args.out, labs, args.lib_build_dir, args.jobs,
                                      update=args.update)
    except (export.ReleaseError, bundle.BundleError) as e:
        print(f"grader/release: {e}", file=sys.stderr)
        return 1
    tc = release.manifest["toolchain"]["description"]
    export.say(f"{release.out}: labs {', '.join(map(str, release.labs))}, {release.files} "
               f"files, {len(release.manifest['libraries'])} prebuilt libraries for {tc}; "
               f"commit {release.commit[:12]}")
    return 0
