"""What a student release holds, file by file.

The instructor's repository (the files git tracks) without:
solution/, the tools that work on it, the grader's own tests and the release tooling
(EXCLUDED, each with its reason). A lab that is not released yet keeps what the rest of the
code compiles against (its API headers and its skeleton) and loses its tests; its handout
becomes a placeholder, and the rubric loses its table. grader/release_template/ adds or replaces
the student-facing files (README.md, tools/check.sh, prebuilt/README.md); the Makefile loses the
instructor's targets.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

# Path prefixes of the instructor's repository that are never released, and why.
EXCLUDED = {
    "solution/": "the reference's sources: the release has them compiled, in prebuilt/",
    "tools/mutants.py": "mutation testing plants bugs in solution/",
    "tools/mutation/": "mutation testing plants bugs in solution/",
    "tools/tests/": "checks of the handouts against the broken variants and mutation operators",
    "grader/tests/": "the grader's own tests: its self-check runs against solution/",
    "grader/release": "the release tooling (this exporter)",
    "grader/etcdlab_release/": "the release tooling (this exporter)",
    "grader/release_template/": "the release tooling (its files are copied where they belong)",
    "grader/gradescope/": "the autograder bundle, which carries the instructor's repository",
    ".ci/": "the instructor repository's CI: make check with the self-check",
}
# Makefile targets that need something EXCLUDED.
INSTRUCTOR_TARGETS = ("mutants", "release")

TEMPLATE_DIR = "grader/release_template"
LABS_MARKER = "<!-- labs -->"


@dataclass(frozen=True)
class LabInfo:
    number: int
    name: str
    folder: str  # labs/01-log
    python_tests: tuple[str, ...]


def labs_of(root: Path) -> dict[int, LabInfo]:
    """The labs of the rubric, with their folders (the folder of the handout)."""
    with open(root / "grader" / "rubric.toml", "rb") as f:
        data = tomllib.load(f)
    out = {}
    for key, t in data["lab"].items():
        folder = str(Path(t["handout"]).parent)
        out[int(key)] = LabInfo(int(key), t["name"], folder, tuple(t.get("python_tests", ())))
    return dict(sorted(out.items()))


def repository_files(root: Path) -> list[str]:
    """The instructor's files: those git tracks (a new file is released once it is added), as
    they are on disk; the manifest and the commit message say when that differs from HEAD."""
    out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached"],
                         capture_output=True, check=True).stdout
    names = sorted({n for n in out.decode().split("\0") if n})
    return [n for n in names if (root / n).is_file() or (root / n).is_symlink()]


def excluded(rel: str) -> bool:
    return any(rel == p.rstrip("/") or (p.endswith("/") and rel.startswith(p)) for p in EXCLUDED)


def plan(root: Path, released: list[int]) -> tuple[list[str], dict[str, str]]:
    """(files copied as they are, files written with new text) of a release of `released`."""
    labs = labs_of(root)
    held_back = [lab for n, lab in labs.items() if n not in released]
    copied = []
    for rel in repository_files(root):
        if excluded(rel) or rel.startswith(f"{TEMPLATE_DIR}/"):
            continue
        if any(rel.startswith(f"{lab.folder}/tests/") or rel == f"{lab.folder}/README.md"
               or rel in lab.python_tests for lab in held_back):
            continue
        copied.append(rel)
    written = {}
    for lab in held_back:
        written[f"{lab.folder}/README.md"] = placeholder_handout(lab)
    written["grader/rubric.toml"] = trim_rubric((root / "grader/rubric.toml").read_text(),
                                                released)
    written["Makefile"] = strip_make_targets((root / "Makefile").read_text(),
                                             INSTRUCTOR_TARGETS)
    template = root / TEMPLATE_DIR
    for path in sorted(template.rglob("*")):
        if path.is_file():
            rel = path.relative_to(template).as_posix()
            written[rel] = path.read_text()
    written["README.md"] = written["README.md"].replace(LABS_MARKER,
                                                        labs_table(labs, released))
    copied = [c for c in copied if c not in written]
    return copied, written


def placeholder_handout(lab: LabInfo) -> str:
    return (f"# Lab {lab.number}: {lab.name}\n\nNot released yet. Its API headers (`include/`) "
            f"and skeleton (`src/`) are here because the rest of the code is built against "
            f"them; the handout and the tests come with the release of this lab (`git pull` "
            f"the course repository then). Until then the reference implementation of this "
            f"layer (prebuilt/) runs wherever the store needs it.\n")


def labs_table(labs: dict[int, LabInfo], released: list[int]) -> str:
    rows = ["| lab | handout |", "|---|---|"]
    for n, lab in labs.items():
        if n in released:
            rows.append(f"| {n}: {lab.name} | [{lab.folder}/README.md]({lab.folder}/README.md) |")
        else:
            rows.append(f"| {n}: {lab.name} | not released yet |")
    return "\n".join(rows)


_LAB_HEADER = re.compile(r"^\[lab\.(\d+)\]\s*$")


def trim_rubric(text: str, released: list[int]) -> str:
    """rubric.toml with only the `released` labs' tables. A lab's block runs from its `[lab.N]`
    header to the next lab's, and the comments just above a header belong to that header."""
    lines = text.splitlines(keepends=True)
    owner = [0] * len(lines)  # 0: the preamble
    current = 0
    for i, line in enumerate(lines):
        m = _LAB_HEADER.match(line)
        if m:
            current = int(m.group(1))
            j = i - 1  # the comment block (and blank lines) just above belong to this lab
            while j >= 0 and owner[j] != 0 and (lines[j].startswith("#") or not lines[j].strip()):
                owner[j] = current
                j -= 1
        owner[i] = current
    out = "".join(line for line, o in zip(lines, owner) if o == 0 or o in released)
    kept = sorted(int(k) for k in tomllib.loads(out).get("lab", {}))
    if kept != sorted(released):
        raise ValueError(f"trimming the rubric kept labs {kept}, not {sorted(released)}")
    return out


def strip_make_targets(text: str, targets: tuple[str, ...]) -> str:
    """The Makefile without `targets`: their rules, their lines in the help comment, their names
    in .PHONY."""
    out = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if skipping and line.startswith("\t"):
            continue
        skipping = False
        name = line.split(":", 1)[0].strip()
        if name in targets and ":" in line and not line.startswith("#"):
            skipping = True
            continue
        if line.startswith("#") and any(re.match(rf"#\s+make {t}\b", line) for t in targets):
            continue
        if line.startswith(".PHONY:"):
            words = [w for w in line.split() if w not in targets]
            line = " ".join(words) + "\n"
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "".join(out))
