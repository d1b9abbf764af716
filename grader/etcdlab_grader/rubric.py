"""Loading grader/rubric.toml, and which tests each part of a lab selects.

The rubric is checked as it is loaded, and every complaint names the file, the lab and the key,
so an instructor who mistypes `weigth` learns it at once rather than from a wrong grade.
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


@dataclass(frozen=True)
class Part:
    id: str
    title: str
    weight: float
    patterns: tuple[str, ...]
    time_limit: float  # seconds per test: the part's own, else the lab's

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


def select_tests(lab: Lab, test_names: list[str]) -> Selection:
    selection = Selection(by_part={p.id: [] for p in lab.parts})
    for name in test_names:
        pids = [p.id for p in lab.parts if p.selects(name)]
        if not pids:
            selection.unselected.append(name)
        if len(pids) > 1:
            selection.overlaps[name] = pids
        for pid in pids:
            selection.by_part[pid].append(name)
    selection.empty_parts = [pid for pid, names in selection.by_part.items() if not names]
    return selection


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
_PART_KEYS = {"id", "title", "weight", "tests", "time_limit"}


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

    return Lab(number=number,
               name=_string(t, "name", where),
               handout=_relative_path(_string(t, "handout", where), where, "handout"),
               targets=targets,
               owned=tuple(_relative_path(p, where, "owned") for p in _strings(t, "owned", where)),
               time_limit=time_limit,
               parts=parsed_parts,
               broken=broken,
               python_tests=tuple(_strings(t, "python_tests", where, required=False)))


def _parse_part(t: dict, lab_time_limit: float, where: str) -> Part:
    if not isinstance(t, dict):
        raise GraderError(f"{where}: must be a table")
    _only_keys(t, _PART_KEYS, where)
    pid = _string(t, "id", where)
    where = f"{where} ({pid})"
    return Part(id=pid,
                title=_string(t, "title", where),
                weight=_positive(t, "weight", where),
                patterns=tuple(_strings(t, "tests", where)),
                time_limit=(_positive(t, "time_limit", where) if "time_limit" in t
                            else lab_time_limit))


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
