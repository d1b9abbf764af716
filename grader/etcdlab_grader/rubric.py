"""Loading grader/rubric.toml, and which tests each part of a lab selects.

The rubric is checked as it is loaded, and every complaint names the file, the lab and the key,
so an instructor who mistypes `weigth` learns it at once rather than from a wrong grade.

A part is of one kind: `gtest` (the default; its patterns are globs on `Suite.Test` names of the
lab's test binary) or `python` (globs on pytest node ids `FILE::test_name` of the files the lab
lists in `python_tests`). Each kind's tests are selected by that kind's parts only.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import GraderError

# Broken variants are passed in an environment variable and appear in reports: keep them plain.
_VARIANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

GTEST, PYTHON = "gtest", "python"  # kinds of part
KINDS = (GTEST, PYTHON)


@dataclass(frozen=True)
class Part:
    id: str
    title: str
    weight: float
    patterns: tuple[str, ...]
    time_limit: float  # seconds per test: the part's own, else the lab's
    kind: str = GTEST

    def selects(self, test_name: str) -> bool:
        return any(fnmatch.fnmatchcase(test_name, p) for p in self.patterns)


@dataclass(frozen=True)
class BrokenVariant:
    name: str
    description: str


@dataclass(frozen=True)
class Targets:
    student: str
    reference: str | None = None
    broken: str | None = None


@dataclass(frozen=True)
class Lab:
    number: int
    name: str
    handout: str
    targets: Targets
    owned: tuple[str, ...]
    time_limit: float
    parts: tuple[Part, ...]
    broken: tuple[BrokenVariant, ...] = ()
    python_tests: tuple[str, ...] = ()

    @property
    def max_score(self) -> float:
        return sum(p.weight for p in self.parts)

    def parts_of(self, kind: str) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.kind == kind)

    @property
    def title(self) -> str:
        return f"Lab {self.number}: {self.name}"


@dataclass(frozen=True)
class Rubric:
    path: Path
    labs: dict[int, Lab]

    def lab(self, number: int) -> Lab:
        if number not in self.labs:
            listed = ", ".join(str(n) for n in sorted(self.labs)) or "none"
            raise GraderError(f"lab {number} is not in {self.path} (labs listed: {listed})")
        return self.labs[number]


@dataclass
class Selection:
    """Which of a binary's tests each part grades, and what the rubric left out."""

    by_part: dict[str, list[str]]  # part id -> test names, in the binary's order
    unselected: list[str] = field(default_factory=list)  # in the binary, in no part
    empty_parts: list[str] = field(default_factory=list)  # part ids that select nothing
    overlaps: dict[str, list[str]] = field(default_factory=dict)  # test -> part ids (> 1)

    def all_tests(self) -> list[str]:
        seen: dict[str, None] = {}
        for names in self.by_part.values():
            seen.update(dict.fromkeys(names))
        return list(seen)

    def problems(self) -> list[str]:
        """The rubric's coverage problems, one sentence each (warnings when grading)."""
        out = []
        for name in self.unselected:
            out.append(f"test {name} is selected by no part (it is not graded)")
        for pid in self.empty_parts:
            out.append(f"part {pid} selects no test (it scores 0)")
        for name, pids in self.overlaps.items():
            out.append(f"test {name} is selected by parts {', '.join(pids)} (it counts in each)")
        return out


def select_tests(lab: Lab, test_names: list[str], kind: str = GTEST) -> Selection:
    """Gives each test to the parts of `kind` that select it (the gtest binary's names to the
    gtest parts, pytest node ids to the python parts)."""
    parts = lab.parts_of(kind)
    selection = Selection(by_part={p.id: [] for p in parts})
    for name in test_names:
        pids = [p.id for p in parts if p.selects(name)]
        if not pids:
            selection.unselected.append(name)
        if len(pids) > 1:
            selection.overlaps[name] = pids
        for pid in pids:
            selection.by_part[pid].append(name)
    selection.empty_parts = [pid for pid, names in selection.by_part.items() if not names]
    return selection


def time_limits(lab: Lab, selection: Selection) -> dict[str, float]:
    """Per test, the limit of the part that selects it (the largest, if several do)."""
    limits: dict[str, float] = {}
    for part in lab.parts:
        for name in selection.by_part.get(part.id, []):
            limits[name] = max(limits.get(name, 0.0), part.time_limit)
    return limits


def merge_selections(*selections: Selection) -> Selection:
    """One selection of a lab's parts of every kind, from one selection per kind."""
    merged = Selection(by_part={})
    for s in selections:
        merged.by_part.update(s.by_part)
        merged.unselected += s.unselected
        merged.empty_parts += s.empty_parts
        merged.overlaps.update(s.overlaps)
    return merged


def load_rubric(path: Path) -> Rubric:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise GraderError(f"no rubric at {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise GraderError(f"{path} is not valid TOML: {e}") from None
    _only_keys(data, {"lab"}, f"{path}")
    labs_table = data.get("lab", {})
    if not isinstance(labs_table, dict) or not labs_table:
        raise GraderError(f"{path}: no [lab.N] tables")
    labs = {}
    for key, table in labs_table.items():
        if not key.isdigit() or int(key) < 1:
            raise GraderError(f"{path}: [lab.{key}]: a lab is named by its number, e.g. [lab.1]")
        lab = _parse_lab(int(key), table, f"{path}: lab {key}")
        labs[lab.number] = lab
    return Rubric(path=path, labs=dict(sorted(labs.items())))


# ---- parsing one lab ---------------------------------------------------------------------------

_LAB_KEYS = {"name", "handout", "targets", "owned", "time_limit", "part", "broken", "python_tests"}
_PART_KEYS = {"id", "title", "weight", "tests", "time_limit", "kind"}


def _parse_lab(number: int, t: dict, where: str) -> Lab:
    if not isinstance(t, dict):
        raise GraderError(f"{where}: must be a table")
    _only_keys(t, _LAB_KEYS, where)
    time_limit = _positive(t, "time_limit", where)
    parts = t.get("part")
    if not isinstance(parts, list) or not parts:
        raise GraderError(f"{where}: no [[lab.{number}.part]] entries")
    parsed_parts = tuple(_parse_part(p, time_limit, f"{where}, part {i + 1}")
                         for i, p in enumerate(parts))
    ids = [p.id for p in parsed_parts]
    if len(set(ids)) != len(ids):
        raise GraderError(f"{where}: part ids repeat: {', '.join(ids)}")

    targets_t = t.get("targets")
    if not isinstance(targets_t, dict):
        nn = f"{number:02d}"
        raise GraderError(f"{where}: `targets` must be a table such as {{ student = "
                          f'"lab{nn}-tests", reference = "lab{nn}-tests-reference" }}')
    _only_keys(targets_t, {"student", "reference", "broken"}, f"{where}, targets")
    targets = Targets(student=_string(targets_t, "student", where),
                      reference=_string(targets_t, "reference", where, required=False),
                      broken=_string(targets_t, "broken", where, required=False))

    broken = tuple(_parse_variant(v, f"{where}, broken variant {i + 1}")
                   for i, v in enumerate(t.get("broken", [])))
    names = [v.name for v in broken]
    if len(set(names)) != len(names):
        raise GraderError(f"{where}: broken variant names repeat")
    if broken and targets.broken is None:
        raise GraderError(f"{where}: broken variants are listed but `targets` has no "
                          f"`broken` binary")

    python_tests = _python_tests(t, parsed_parts, where)
    return Lab(number=number,
               name=_string(t, "name", where),
               handout=_relative_path(_string(t, "handout", where), where, "handout"),
               targets=targets,
               owned=tuple(_relative_path(p, where, "owned") for p in _strings(t, "owned", where)),
               time_limit=time_limit,
               parts=parsed_parts,
               broken=broken,
               python_tests=python_tests)


def _python_tests(t: dict, parts: tuple[Part, ...], where: str) -> tuple[str, ...]:
    """The lab's pytest files, checked against its python parts: every file is graded by some
    python part, and every python pattern names a listed file."""
    files = [_relative_path(f, where, "python_tests")
             for f in _strings(t, "python_tests", where, required=False)]
    for f in files:
        if not f.endswith(".py") or any(c in f for c in "*?[:"):
            raise GraderError(f"{where}: `python_tests` lists test files such as "
                              f"\"python/tests/test_x.py\", not {f!r}")
    if len(set(files)) != len(files):
        raise GraderError(f"{where}: `python_tests` lists a file twice")
    python_parts = [p for p in parts if p.kind == PYTHON]
    if python_parts and not files:
        raise GraderError(f"{where}: part {python_parts[0].id} has kind = \"python\" but the lab "
                          f"lists no `python_tests` files")
    if files and not python_parts:
        raise GraderError(f"{where}: `python_tests` are listed but no part has kind = "
                          f"\"python\": they would not be graded")
    for part in python_parts:
        for pattern in part.patterns:
            file_glob, sep, test_glob = pattern.partition("::")
            if not sep or not test_glob:
                raise GraderError(f"{where}, part {part.id}: python test {pattern!r} must be a "
                                  f"pytest node id or a glob over them, FILE::test_name or FILE::*")
            if not any(fnmatch.fnmatchcase(f, file_glob) for f in files):
                raise GraderError(f"{where}, part {part.id}: {pattern!r} names no file listed in "
                                  f"`python_tests` ({', '.join(files)})")
    for f in files:
        if not any(fnmatch.fnmatchcase(f, pattern.partition("::")[0])
                   for part in python_parts for pattern in part.patterns):
            raise GraderError(f"{where}: python test file {f} is selected by no python part "
                              f"(add a pattern such as \"{f}::*\")")
    return tuple(files)


def _parse_part(t: dict, lab_time_limit: float, where: str) -> Part:
    if not isinstance(t, dict):
        raise GraderError(f"{where}: must be a table")
    _only_keys(t, _PART_KEYS, where)
    pid = _string(t, "id", where)
    where = f"{where} ({pid})"
    kind = _string(t, "kind", where, required=False) or GTEST
    if kind not in KINDS:
        raise GraderError(f"{where}: `kind` is {' or '.join(repr(k) for k in KINDS)}, "
                          f"not {kind!r}")
    patterns = tuple(_strings(t, "tests", where))
    if kind == GTEST:
        stray = next((p for p in patterns if ".py::" in p), None)
        if stray is not None:
            raise GraderError(f"{where}: {stray!r} is a pytest node id: a part that grades "
                              f"Python tests needs kind = \"python\"")
    return Part(id=pid,
                title=_string(t, "title", where),
                weight=_positive(t, "weight", where),
                patterns=patterns,
                time_limit=(_positive(t, "time_limit", where) if "time_limit" in t
                            else lab_time_limit),
                kind=kind)


def _parse_variant(t: dict, where: str) -> BrokenVariant:
    if not isinstance(t, dict):
        raise GraderError(f"{where}: must be a table")
    _only_keys(t, {"name", "description"}, where)
    name = _string(t, "name", where)
    if not _VARIANT_NAME.match(name):
        raise GraderError(f"{where}: name {name!r} may hold only letters, digits, '.', '_', '-'")
    return BrokenVariant(name=name, description=_string(t, "description", where))


# ---- typed access with messages a person can act on -------------------------------------------

def _only_keys(t: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(t) - allowed)
    if unknown:
        raise GraderError(f"{where}: unknown key(s) {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(allowed))})")


def _string(t: dict, key: str, where: str, required: bool = True) -> str | None:
    v = t.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not v.strip():
        raise GraderError(f"{where}: `{key}` must be a non-empty string")
    return v


def _strings(t: dict, key: str, where: str, required: bool = True) -> list[str]:
    v = t.get(key)
    if v is None and not required:
        return []
    if not isinstance(v, list) or not v or not all(isinstance(s, str) and s for s in v):
        raise GraderError(f"{where}: `{key}` must be a non-empty list of strings")
    return v


def _positive(t: dict, key: str, where: str) -> float:
    v = t.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise GraderError(f"{where}: `{key}` must be a positive number")
    return float(v)


def _relative_path(p: str, where: str, key: str) -> str:
    # Owned paths are copied out of a submission: an absolute path or `..` would reach outside it.
    pp = PurePosixPath(p)
    if pp.is_absolute() or ".." in pp.parts:
        raise GraderError(f"{where}: `{key}` path {p!r} must be relative to the repository root")
    return str(pp)
