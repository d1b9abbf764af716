"""The handouts say what the tests and the grader do: every number they state is checked here.

  - every test count: a part table's `Suite.*` (N), a checkpoint's `make labN TEST='...'`
    (N tests), "all N" and "N tests;" for the whole lab, against the reference test binary;
  - every part's points, in the part table and in "What the grader checks", against the
    rubric's weights (a Python part included);
  - the broken variants the handout lists, against the rubric's.

The test binaries come from build/ (make check builds them first); a lab whose binary is not
built is skipped, with the reason.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "grader"))
from etcdlab_grader.rubric import load_rubric  # noqa: E402

RUBRIC = load_rubric(ROOT / "grader" / "rubric.toml")
LABS = [n for n in sorted(RUBRIC.labs) if (ROOT / RUBRIC.labs[n].handout).exists()]


def handout(lab: int) -> str:
    return (ROOT / RUBRIC.labs[lab].handout).read_text()


def binary(lab: int) -> Path:
    path = ROOT / "build" / "bin" / RUBRIC.labs[lab].targets.reference
    if not path.exists():
        pytest.skip(f"{path} is not built")
    return path


_COUNTS: dict[tuple[int, str], int] = {}


def count(lab: int, gtest_filter: str) -> int:
    key = (lab, gtest_filter)
    if key not in _COUNTS:
        out = subprocess.run([str(binary(lab)), "--gtest_list_tests",
                              f"--gtest_filter={gtest_filter}"], capture_output=True, text=True,
                             check=True).stdout
        _COUNTS[key] = sum(1 for line in out.splitlines() if line.startswith("  "))
    return _COUNTS[key]


def part_table_counts(text: str) -> list[tuple[str, int]]:
    """(gtest filter, N) for each `Pattern` ... (N) group in the rows of a part table."""
    out = []
    for line in text.splitlines():
        if not re.match(r"\| \[[A-Z]\]\(#[a-z-]+\)", line):
            continue
        patterns: list[str] = []
        for m in re.finditer(r"`([A-Za-z/]+\.\*)`|\((\d+)\)", line):
            if m.group(1):
                patterns.append(m.group(1))
            elif patterns:
                out.append((":".join(patterns), int(m.group(2))))
                patterns = []
    return out


def checkpoint_counts(text: str) -> list[tuple[str, int]]:
    flat = " ".join(text.split())
    return [(m.group(1), int(m.group(2))) for m in
            re.finditer(r"make lab\d TEST='([^']+)'`[^()]{0,40}?\((\d+) tests\)", flat)]


def total_counts(text: str) -> list[int]:
    flat = " ".join(text.split())
    # "all 153 tests", "runs all 122." -- not "all 200 revisions"; a grading table's
    # "| total | 100 | 105 tests |"
    return ([int(m.group(1)) for m in re.finditer(r"\ball (\d+)(?= tests\b|\.)", flat)]
            + [int(m.group(1)) for m in re.finditer(r"\b(\d+) tests;", flat)]
            + [int(m.group(1)) for m in re.finditer(r"\| total \| \d+ \| (\d+) tests \|", flat)])


@pytest.mark.parametrize("lab", LABS)
def test_every_test_count_in_the_handout_matches_the_binary(lab):
    text = handout(lab)
    stated = part_table_counts(text) + checkpoint_counts(text)
    assert stated, f"lab {lab}: no test count found in {RUBRIC.labs[lab].handout}"
    wrong = [f"{f} ({n}): the binary has {count(lab, f)}" for f, n in stated if count(lab, f) != n]
    total = count(lab, "*")
    wrong += [f"all {n}: the binary has {total}" for n in total_counts(text) if n != total]
    assert not wrong, f"{RUBRIC.labs[lab].handout} states counts the tests do not have:\n  " + \
        "\n  ".join(wrong)


def stated_points(text: str) -> list[tuple[str, int, str]]:
    """(part, points, where) from the part table and from the grader's table."""
    out = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if m := re.match(r"\[([A-Z])\]\(#[a-z-]+\)", cells[0]):
            if cells[-1].isdigit():
                out.append((m.group(1), int(cells[-1]), "the part table"))
        elif (m := re.match(r"([A-Z]): ", cells[0])) and len(cells) > 1 and cells[1].isdigit():
            out.append((m.group(1), int(cells[1]), "what the grader checks"))
    return out


@pytest.mark.parametrize("lab", LABS)
def test_the_handouts_points_are_the_rubrics(lab):
    weights = {p.id: p.weight for p in RUBRIC.labs[lab].parts}
    stated = stated_points(handout(lab))
    assert stated, f"lab {lab}: no points found in {RUBRIC.labs[lab].handout}"
    wrong = [f"part {p}: {n} in {where}, {weights.get(p)} in the rubric"
             for p, n, where in stated if weights.get(p) != n]
    for where in {w for _, _, w in stated}:
        listed = {p for p, _, w in stated if w == where}
        wrong += [f"part {p} ({weights[p]} points) is missing from {where}"
                  for p in sorted(set(weights) - listed)]
    assert not wrong, f"{RUBRIC.labs[lab].handout} and grader/rubric.toml disagree:\n  " + \
        "\n  ".join(wrong)


@pytest.mark.parametrize("lab", [n for n in LABS if RUBRIC.labs[n].broken])
def test_the_handout_lists_the_rubrics_broken_variants(lab):
    text = handout(lab)
    # Two table shapes: `| `variant` | the bug | part |` (labs 1-3) and
    # `| the mistake | `variant` | `Suite.Test` |` (lab 4).
    listed = set(re.findall(r"^ *\| `([a-z0-9-]+)` \| [^|]+ \| [A-Z] \|$", text, re.MULTILINE))
    listed |= set(re.findall(r"^ *\| [^|]+ \| `([a-z0-9-]+)` \| `[A-Za-z]+\.[A-Za-z]+`[^|]* \|$",
                             text, re.MULTILINE))
    rubric = {v.name for v in RUBRIC.labs[lab].broken}
    assert listed == rubric, (
        f"{RUBRIC.labs[lab].handout}'s table of broken variants and grader/rubric.toml differ: "
        f"only in the handout {sorted(listed - rubric) or 'none'}, "
        f"only in the rubric {sorted(rubric - listed) or 'none'}")
