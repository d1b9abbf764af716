"""Points: each part earns weight × passed / selected; a lab earns the sum of its parts.

A part that selects no test earns nothing (rather than dividing by zero or giving its weight
away): a binary that lists fewer tests than the rubric expects can only lose points. A part that
could not be graded at all (its binary or its Python package did not build) earns nothing and
says why; the lab's other parts are graded as usual.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .gtest import FAILED, TestResult
from .rubric import Lab, Part, Selection

# Lab and part statuses.
GRADED, BUILD_FAILED, NOT_RUN = "graded", "build failed", "not run"


@dataclass(frozen=True)
class NotGraded:
    """Why some parts ran no test: a status, one sentence, and the log's useful lines."""
    status: str
    message: str
    excerpt: str = ""


@dataclass
class PartResult:
    part: Part
    results: list[TestResult]
    status: str = GRADED
    message: str = ""  # why the part was not graded
    log_excerpt: str = ""

    @property
    def graded(self) -> bool:
        return self.status == GRADED

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def points_per_test(self) -> float:
        return self.part.weight / self.total if self.total else 0.0

    @property
    def score(self) -> float:
        return self.part.weight * self.passed / self.total if self.total else 0.0

    @property
    def max_score(self) -> float:
        return self.part.weight


@dataclass
class LabResult:
    lab: Lab
    status: str
    parts: list[PartResult]
    seconds: float = 0.0
    message: str = ""  # why the lab was not graded (build failure summary)
    log_excerpt: str = ""  # the build log's useful lines, or the crash output
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(p.score for p in self.parts)

    @property
    def max_score(self) -> float:
        return self.lab.max_score

    @property
    def passed(self) -> int:
        return sum(p.passed for p in self.parts)

    @property
    def total(self) -> int:
        return sum(p.total for p in self.parts)

    def failing(self) -> list[tuple[PartResult, TestResult]]:
        return [(p, r) for p in self.parts for r in p.results if not r.passed]


def score_lab(lab: Lab, selection: Selection, results: dict[str, TestResult],
              seconds: float = 0.0, warnings: list[str] | None = None,
              not_graded: dict[str, NotGraded] | None = None) -> LabResult:
    """The lab's score from its tests' results; `not_graded` names the parts that ran nothing
    and why (they score 0)."""
    not_graded = not_graded or {}
    parts = []
    for part in lab.parts:
        why = not_graded.get(part.id)
        if why is not None:
            parts.append(PartResult(part, [], why.status, why.message, why.excerpt))
            continue
        # A selected test with no result was not run: count it as failed, never as passed.
        part_results = [results.get(n) or TestResult(n, FAILED, 0.0, "the test did not run")
                        for n in selection.by_part.get(part.id, [])]
        parts.append(PartResult(part, part_results))
    return LabResult(lab, GRADED, parts, seconds=seconds, warnings=list(warnings or []))


def ungraded_lab(lab: Lab, status: str, message: str, excerpt: str = "",
                 seconds: float = 0.0) -> LabResult:
    """A lab that scored 0 without running tests (it did not build, its binary would not start)."""
    return LabResult(lab, status, [PartResult(p, [], status, message, excerpt) for p in lab.parts],
                     seconds=seconds, message=message, log_excerpt=excerpt)
