"""Each grading run's own folder under the work root (`--work-dir`, default `.grade/`).

Two gradings in one checkout never share a folder: each makes its own
(`.grade/lab1-20261214-101500-k3j9x2/`), holding the unpacked submission, the work tree with its
build, and `build.log`, the log of every configure and build of that run. The log stays; the work
tree is removed when the run ends unless a build failed (to rebuild it by hand) or `--keep-work`
says to keep it. Only the newest KEEP_RUNS finished folders are kept: older ones are removed when
a new run starts. A folder whose run is still going holds RUNNING (its process id) and is never
removed by another run.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

KEEP_RUNS = 20
_RUNNING = "RUNNING"
_NAME = re.compile(r"^(lab[0-9a-z]+|reference-[0-9a-z]+|self-check)-\d{8}-\d{6}-")


def new_run_dir(work_root: Path, label: str) -> Path:
    """A fresh folder for one run, marked as running; older finished runs are pruned first."""
    work_root.mkdir(parents=True, exist_ok=True)
    prune(work_root, keep=KEEP_RUNS - 1)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    run_dir = Path(tempfile.mkdtemp(prefix=f"{label}-{stamp}-", dir=work_root))
    (run_dir / _RUNNING).write_text(f"{os.getpid()}\n")
    return run_dir


def finish(run_dir: Path, work_tree: Path | None, keep_tree: bool) -> None:
    """The run is over: its work tree goes unless `keep_tree`; the folder is no longer running."""
    if work_tree is not None and work_tree.exists() and not keep_tree:
        shutil.rmtree(work_tree, ignore_errors=True)
    (run_dir / _RUNNING).unlink(missing_ok=True)


def _running(run_dir: Path) -> bool:
    try:
        pid = int((run_dir / _RUNNING).read_text().strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False  # a run that was killed: its folder is finished
    except PermissionError:
        pass
    return True


def prune(work_root: Path, keep: int) -> None:
    """Removes the finished run folders of `work_root` but the newest `keep`."""
    runs = sorted((d for d in work_root.iterdir() if d.is_dir() and _NAME.match(d.name)),
                  key=lambda d: d.stat().st_mtime, reverse=True)
    finished = [d for d in runs if not _running(d)]
    for old in finished[max(0, keep):]:
        shutil.rmtree(old, ignore_errors=True)
