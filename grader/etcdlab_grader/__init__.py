"""The etcdlab grader: builds a submission out of tree against the grader's pristine copy of the
tests, runs every test in its own process with a time limit and hidden seeds (Python tests: one
pytest process per file), and scores it by grader/rubric.toml.

Modules, one job each:
  rubric     loading and checking rubric.toml; which tests each part selects
  build      the work tree (pristine copy + the submission's owned files), configure, build
  process    running one test process: its own process group, a time limit, its output
  gtest      listing and running gtest tests, one process each, and classifying the outcome
  junit      reading pytest's JUnit XML report into one result per test
  pytests    listing and running a lab's pytest files (python parts), one process per file
  scoring    points per part and per lab
  grading    one grading run end to end (build, list, run, score)
  reports    terminal table, Markdown, JSON and Gradescope results.json
  selfcheck  the rubric and the tests checked against the reference, skeleton and broken variants
  cli        the command line (grader/grade)
"""

from pathlib import Path

# The grader's pristine copy of the repository: the one that holds grader/. Tests, headers and
# build files always come from here, never from a submission.
PRISTINE_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RUBRIC = PRISTINE_ROOT / "grader" / "rubric.toml"


class GraderError(Exception):
    """A problem the grader cannot grade around (bad rubric, missing binary, bad arguments).

    The command line prints the message, without a traceback, and exits non-zero. Problems in a
    submission are never GraderErrors: they are part of the grade.
    """
