"""grader/release: the course as students get it, and the autograder Gradescope runs.

Modules, one job each:
  layout    which files of the instructor's repository a release holds, and what replaces them
  prebuilt  the reference compiled into static libraries, stripped, with their manifest
  leaks     the check that nothing of solution/ is in a tree (files, long lines, function bodies)
  export    a release end to end: staging tree, libraries, check, git commit
  bundle    the Gradescope autograder zip (grader/gradescope/ holds its scripts)
  cli       the command line (grader/release)
"""

from pathlib import Path

# The instructors' repository: the one that holds grader/ and solution/.
INSTRUCTOR_ROOT = Path(__file__).resolve().parents[2]
