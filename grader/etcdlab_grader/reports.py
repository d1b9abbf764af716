"""What a grading run says: a terminal table, a Markdown report, machine JSON, and Gradescope's
results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/).

Every report records the seed base: with it, the same hidden seeds can be run again.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tempfile
from pathlib import Path

from . import build as builds
from .gtest import TestResult
from .grading import GradeRun
from .pytests import PROPERTY_EXAMPLES
from .rubric import PYTHON
from .scoring import BUILD_FAILED, GRADED, LabResult, PartResult

_MAX_LISTED = 15  # failing tests named in the terminal table; the reports have all of them
_GTEST_NOISE = re.compile(r"^(.*: Failure|Failure|Failed|Google Test trace:|\s*)$")
_EXCEPTION = re.compile(r'^C\+\+ exception with description "(.*)" thrown in the test body\.?$')
_PYTEST_E = re.compile(r"^E\s+(\S.*)$")  # pytest's lines that say what went wrong


def points(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def headline(result: TestResult) -> str:
    """The first line of a failure that says something (not gtest's `file:line: Failure`; for
    pytest, its first `E   ...` line rather than the traceback's)."""
    for line in result.output.splitlines():
        error = _PYTEST_E.match(line)
        if error:
            line = error.group(1)
            return line if len(line) <= 100 else line[:97] + "..."
    for line in result.output.splitlines():
        if not _GTEST_NOISE.match(line):
            line = line.strip()
            exception = _EXCEPTION.match(line)
            if exception:
                line = f"exception: {exception.group(1)}"
            return line if len(line) <= 100 else line[:97] + "..."
    return result.status


def seeds_phrase(run: GradeRun) -> str:
    if run.seed_base is None:
        return "default seeds (1..n, as students run them)"
    return f"seed base {run.seed_base} (hidden seeds)"


def rerun_command(run: GradeRun) -> str:
    args = ["grader/grade", "--lab", run.lab_selector or "all"]
    if run.mode == "reference":
        args.append("--reference")
    if run.build_dir is not None:
        args += ["--build-dir", run.build_dir]
    elif run.mode == "submission":
        args += ["--submission", run.source]
    if run.seed_base is not None:
        args += ["--seed-base", str(run.seed_base)]
    return shlex.join(args)


def replay_test_command(run: GradeRun, lab: LabResult, part: PartResult, test: str) -> str:
    """How a student reruns one test with the grader's seeds, from their own checkout."""
    env = f"ETCDLAB_SEED_BASE={run.seed_base} " if run.seed_base is not None else ""
    if part.part.kind == PYTHON:
        return python_replay_command(run, lab, env, shlex.quote(test))
    if run.mode == "reference":
        return f"{env}build/bin/{lab.lab.targets.reference} --gtest_filter={shlex.quote(test)}"
    return f"{env}make lab{lab.lab.number} TEST={shlex.quote(test)}"


def python_replay_command(run: GradeRun, lab: LabResult, env: str, tests: str) -> str:
    # The grader's package is the student's build; in a checkout, build/python links the
    # reference unless ETCDLAB_OWN_LABS lists the lab: the student package always links theirs.
    env += f"ETCDLAB_PROPERTY_EXAMPLES={PROPERTY_EXAMPLES} "
    pytest = f"{builds.PYTHON} -m pytest {tests}"
    if run.mode == "reference":
        return f"{env}PYTHONPATH=build/python {pytest}"
    n = lab.lab.number
    package = builds.student_python_dir(Path("build"), n)
    return (f"cmake --build build --target {builds.student_python_target(n)} && "
            f"{env}PYTHONPATH={package} {pytest}")


def test_label(run: GradeRun, lab: LabResult, part: PartResult, test: str) -> str:
    label = f"Part {part.part.id} / {test}"
    return f"Lab {lab.lab.number} / {label}" if len(run.labs) > 1 else label


# ---- terminal ----------------------------------------------------------------------------------

def tests_ran(run: GradeRun) -> bool:
    """Whether any test ran: without one (every lab failed to build), seeds and replay
    commands have nothing to replay."""
    return any(p.results for lab in run.labs for p in lab.parts)


def build_failed(run: GradeRun) -> bool:
    return any(p.status == BUILD_FAILED for lab in run.labs for p in lab.parts)


def terminal(run: GradeRun, paths: bool = True) -> str:
    """The table for people. `paths`: name the build log and the kept work tree (not for
    Gradescope, whose students cannot open the grader's files)."""
    out: list[str] = []
    for lab in run.labs:
        out += _terminal_lab(lab)
        out.append("")
    if len(run.labs) > 1:
        out.append(f"Total: {points(run.score)}/{points(run.max_score)}")
    out += [f"warning: {w}" for w in run.warnings]
    for note in run.notes:
        out.append(f"note: {note}")
    if paths and run.build_log and build_failed(run):
        out.append(f"Full build log: {run.build_log}")
        if run.work_tree:
            out.append(f"The work tree is kept for rebuilding by hand: {run.work_tree}")
    if tests_ran(run):
        out.append(f"Graded {run.source} with {seeds_phrase(run)} in {run.seconds:.0f} s.")
        if run.seed_base is not None:
            out.append(f"Same seeds again: {rerun_command(run)}")
    else:
        out.append(f"Graded {run.source} in {run.seconds:.0f} s: no test ran.")
    return "\n".join(out)


def _terminal_lab(lab: LabResult) -> list[str]:
    status = "" if lab.status == GRADED else f"  [{lab.status.upper()}]"
    out = [f"{lab.lab.title}: {points(lab.score)}/{points(lab.max_score)}{status}"]
    if lab.status != GRADED:
        out.append(f"  {lab.message}")
        out += ["    " + ln for ln in lab.log_excerpt.splitlines()]
    title_width = max(len("title"), *(len(p.part.title) for p in lab.parts))
    row = f"  {{:<5}} {{:<{title_width}}}  {{:>7}}  {{:>13}}"
    out.append(row.format("part", "title", "passed", "points"))
    # A part that ran no test shows "-": "0/0 passed" would mislead.
    for p in lab.parts:
        out.append(row.format(p.part.id, p.part.title, f"{p.passed}/{p.total}" if p.graded else "-",
                              f"{points(p.score)}/{points(p.max_score)}"))
    graded = any(p.graded for p in lab.parts)
    out.append(row.format("total", "", f"{lab.passed}/{lab.total}" if graded else "-",
                          f"{points(lab.score)}/{points(lab.max_score)}"))
    for p in _ungraded_on_their_own(lab):
        out.append(f"  part {p.part.id} [{p.status.upper()}]: {p.message}")
        out += ["    " + ln for ln in p.log_excerpt.splitlines()]
    failing = lab.failing()
    if failing:
        out.append(f"  not passing ({len(failing)}):")
        for part, result in failing[:_MAX_LISTED]:
            out.append(f"    {part.part.id}  {result.name}  {result.status}: {headline(result)}")
        if len(failing) > _MAX_LISTED:
            out.append(f"    ... and {len(failing) - _MAX_LISTED} more (--report has them all)")
    out += [f"  warning: {w}" for w in lab.warnings]
    out += [f"  note: {n}" for n in lab.notes]
    return out


def _ungraded_on_their_own(lab: LabResult) -> list[PartResult]:
    """Parts not graded for a reason of their own (not the lab's, which heads the report)."""
    return [p for p in lab.parts if not p.graded
            and (p.message, p.log_excerpt) != (lab.message, lab.log_excerpt)]


# ---- Markdown ----------------------------------------------------------------------------------

def _fence(text: str) -> str:
    # A fence longer than any run of backticks in the text, so output cannot break out of it.
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def markdown(run: GradeRun) -> str:
    out = ["# etcdlab grade report", ""]
    out.append(f"- Graded: {run.source} ({run.mode})")
    out.append(f"- When: {run.started}, {run.seconds:.0f} s")
    out.append(f"- Seeds: {seeds_phrase(run)}")
    out.append(f"- Score: **{points(run.score)} / {points(run.max_score)}**")
    out += [f"- Warning: {w}" for w in run.warnings]
    out += [f"- Note: {n}" for n in run.notes]
    if run.build_log and build_failed(run):
        out.append(f"- Full build log: `{run.build_log}`")
    out.append("")
    for lab in run.labs:
        out += _markdown_lab(run, lab)
    if not tests_ran(run):
        return "\n".join(out)  # nothing ran: nothing to replay
    out += ["## Replaying", ""]
    out.append("A failing randomized test prints the seed that failed and a one-line replay "
               "command (`seed 17; replay: ETCDLAB_SEED=17 make lab1 TEST=Suite.Name`): run that "
               "line in your checkout to rerun exactly that case.")
    if run.seed_base is not None:
        out.append("")
        out.append(f"To run a test with all of this run's seeds, set the seed base: "
                   f"`ETCDLAB_SEED_BASE={run.seed_base} make labN TEST=Suite.Name`. "
                   f"The whole grade again, same seeds: `{rerun_command(run)}`.")
    for lab in run.labs:
        python = [p for p in lab.parts if p.part.kind == PYTHON]
        if python:
            env = f"ETCDLAB_SEED_BASE={run.seed_base} " if run.seed_base is not None else ""
            files = " ".join(shlex.quote(f) for f in lab.lab.python_tests)
            out.append("")
            out.append(f"Lab {lab.lab.number}'s Python part{'s' if len(python) > 1 else ''} "
                       f"({', '.join(p.part.id for p in python)}), with this run's seeds: "
                       f"`{python_replay_command(run, lab, env, files)}`. A failing property "
                       f"also prints Hypothesis's falsifying example and its own replay line.")
    out.append("")
    return "\n".join(out)


def _markdown_lab(run: GradeRun, lab: LabResult) -> list[str]:
    out = [f"## {lab.lab.title}: {points(lab.score)} / {points(lab.max_score)}", ""]
    if lab.status != GRADED:
        out += [f"**{lab.status}**: {lab.message}", ""]
        if lab.log_excerpt:
            out += [_fence(lab.log_excerpt), ""]
    out += ["| Part | Title | Passed | Points |", "|---|---|---:|---:|"]
    for p in lab.parts:
        out.append(f"| {p.part.id} | {p.part.title} | "
                   f"{f'{p.passed}/{p.total}' if p.graded else '-'} | "
                   f"{points(p.score)} / {points(p.max_score)} |")
    graded = any(p.graded for p in lab.parts)
    out.append(f"| | **Total** | {f'{lab.passed}/{lab.total}' if graded else '-'} | "
               f"**{points(lab.score)} / {points(lab.max_score)}** |")
    out.append("")
    for p in _ungraded_on_their_own(lab):
        out += [f"**Part {p.part.id}: {p.status}**: {p.message}", ""]
        if p.log_excerpt:
            out += [_fence(p.log_excerpt), ""]
    out += [f"> warning: {w}" for w in lab.warnings] + [f"> note: {n}" for n in lab.notes]
    if lab.warnings or lab.notes:
        out.append("")
    failing = lab.failing()
    if failing:
        out += [f"### Not passing ({len(failing)})", ""]
        for part, result in failing:
            out.append(f"#### Part {part.part.id} / `{result.name}`: {result.status} "
                       f"({result.seconds:.2f} s)")
            out.append("")
            out.append(_fence(result.output or result.status))
            out.append("")
            rerun = replay_test_command(run, lab, part, result.name)
            out.append(f"Rerun with this run's seeds: `{rerun}`")
            out.append("")
    return out


# ---- machine JSON ------------------------------------------------------------------------------

def machine_json(run: GradeRun) -> dict:
    return {
        "grader": "etcdlab",
        "mode": run.mode,
        "source": run.source,
        "lab": int(run.lab_selector) if run.lab_selector.isdigit() else run.lab_selector,
        "started": run.started,
        "execution_time": round(run.seconds, 3),
        "seed_base": run.seed_base,
        "score": round(run.score, 4),
        "max_score": round(run.max_score, 4),
        "warnings": run.warnings,
        "notes": run.notes,
        "build_log": run.build_log or None,
        "work_tree": run.work_tree,
        "labs": [_lab_json(lab) for lab in run.labs],
    }


def _lab_json(lab: LabResult) -> dict:
    return {
        "lab": lab.lab.number,
        "name": lab.lab.name,
        "status": lab.status,
        "message": lab.message,
        "log_excerpt": lab.log_excerpt,
        "score": round(lab.score, 4),
        "max_score": round(lab.max_score, 4),
        "execution_time": round(lab.seconds, 3),
        "warnings": lab.warnings,
        "notes": lab.notes,
        # A part that failed with its lab (the test binary did not build) has the lab's excerpt:
        # it is given once, at the lab.
        "parts": [{"id": p.part.id, "title": p.part.title, "kind": p.part.kind,
                   "status": p.status, "message": p.message,
                   "log_excerpt": "" if p.log_excerpt == lab.log_excerpt else p.log_excerpt,
                   "passed": p.passed, "total": p.total,
                   "score": round(p.score, 4), "max_score": round(p.max_score, 4),
                   "patterns": list(p.part.patterns)} for p in lab.parts],
        "tests": [{"name": r.name, "part": p.part.id, "status": r.status,
                   "time": round(r.seconds, 3), "output": r.output,
                   "score": round(p.points_per_test if r.passed else 0.0, 6),
                   "max_score": round(p.points_per_test, 6)}
                  for p in lab.parts for r in p.results],
    }


# ---- Gradescope --------------------------------------------------------------------------------

def gradescope(run: GradeRun) -> dict:
    """results.json: one entry per graded test (per part when a lab did not build)."""
    tests = []
    for lab in run.labs:
        for p in lab.parts:
            if not p.results:
                # Nothing ran (build failure, or a part that selected no test): one entry says
                # why. The build's errors are in `output` (the table above the tests), once.
                why = (f"{p.status}: {p.message}" if not p.graded
                       else "this part selected no test")
                if p.log_excerpt:
                    why += "\n(the errors are in the output above the tests)"
                name = f"Part {p.part.id}: {p.part.title}"
                if len(run.labs) > 1:
                    name = f"Lab {lab.lab.number} / {name}"
                tests.append({"name": name, "score": 0, "max_score": round(p.max_score, 4),
                              "status": "failed", "output": why})
                continue
            for r in p.results:
                output = r.output
                if not r.passed:
                    output = (f"{r.status}\n{output}\n\nRerun with this run's seeds: "
                              f"{replay_test_command(run, lab, p, r.name)}")
                tests.append({"name": test_label(run, lab, p, r.name),
                              "score": round(p.points_per_test if r.passed else 0.0, 6),
                              "max_score": round(p.points_per_test, 6),
                              "status": "passed" if r.passed else "failed",
                              "output": output})
    return {
        "score": round(run.score, 2),
        "execution_time": int(round(run.seconds)),
        "output": terminal(run, paths=False),
        "tests": tests,
    }


# ---- files -------------------------------------------------------------------------------------

def write_json(path: Path, data: dict) -> None:
    write_text(path, json.dumps(data, indent=2) + "\n")


def write_text(path: Path, text: str) -> None:
    """Writes whole or not at all: an autograder must never read a half-written results.json."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for others to read
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
