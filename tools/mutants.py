#!/usr/bin/python3
"""Mutation testing of a lab's tests: how many small bugs planted in the reference do they catch?

    tools/mutants.py --lab 2                 every mutant of solution/02-raft (resumes a run)
    tools/mutants.py --lab 2 --sample 300    a deterministic sample of 300
    tools/mutants.py --lab 2 --rerun-survivors   after adding tests
    tools/mutants.py --lab 2 --report        the figures and the survivors, running nothing
    tools/mutants.py --lab 2 --list          the mutants, running nothing

`make mutants LAB=2` runs the first. The operators are in tools/mutation/operators.py, the
reviewed equivalent mutants in tools/mutation/equivalent.toml, and how each mutant is built in
tools/mutation/build.py. Results accumulate in tools/mutation/results/labN.jsonl (kept in git).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True

from mutation import build, report  # noqa: E402
from mutation.run import (SURVIVED, Run, all_mutants, equivalents, load_results,  # noqa: E402
                          results_path, sample)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lab", type=int, required=True, choices=sorted(build.LABS))
    p.add_argument("--jobs", type=int, default=2, help="mutants built and run at once (default 2)")
    p.add_argument("--sample", type=int, help="run a deterministic sample of this many mutants")
    p.add_argument("--only", metavar="FILE[:LINE]",
                   help="only the mutants of this reference file (name), or of one line")
    p.add_argument("--rerun-survivors", action="store_true", help="run the survivors again")
    p.add_argument("--report", action="store_true", help="print the figures; run nothing")
    p.add_argument("--list", action="store_true", help="list the mutants; run nothing")
    p.add_argument("--time-limit", type=float, default=60,
                   help="seconds the tests may take against one mutant (default 60)")
    p.add_argument("--build-dir", type=Path, default=build.ROOT / "build-mutants")
    args = p.parse_args()

    mutants = all_mutants(args.lab)
    total = len(mutants)
    if args.only:
        name, _, line = args.only.partition(":")
        mutants = [m for m in mutants
                   if Path(m.path).name == name and (not line or m.line == int(line))]
    mutants = sample(mutants, args.sample)
    if args.list:
        for m in mutants:
            print(f"{m.id}  {m.path}:{m.line}  {m.describe()}")
        print(f"{len(mutants)} mutants")
        return 0
    equivalent = equivalents(args.lab)
    results = load_results(results_path(args.lab))
    if not args.report:
        todo = [m for m in mutants if m.id not in results
                or (args.rerun_survivors and results[m.id]["status"] == SURVIVED)]
        print(f"lab {args.lab}: {len(mutants)} mutants, {len(todo)} to run "
              f"(results in {results_path(args.lab)})", flush=True)
        if todo:
            print(f"building the baseline in {args.build_dir} ...", flush=True)
            build.baseline(args.build_dir, args.lab, args.jobs)
            run = Run(args.lab, args.build_dir, args.jobs, args.time_limit, results=results)
            try:
                run.execute(todo)
            except KeyboardInterrupt:
                print("interrupted: the results so far are kept; run again to resume")
                return 130
            results = run.results
    print(report.text(args.lab, mutants, results, equivalent,
                      sampled_from=total if args.sample and args.sample < total else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
