"""Running one test process: in its own process group, with a time limit, output to a file.

Shared by the gtest and pytest runners. A process that runs past its limit is killed with its
whole group (anything it forked goes too), and so is anything it leaves running when it exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_MAX_LOG_BYTES = 256 * 1024  # read at most this much of a process's output (its end)
CANNOT_START = 127  # the shell's status for a command that could not be run


class _LiveProcesses:
    """Process groups still running, so an interrupted grader leaves none behind."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pgids: set[int] = set()

    def add(self, pgid: int) -> None:
        with self._lock:
            self._pgids.add(pgid)

    def discard(self, pgid: int) -> None:
        with self._lock:
            self._pgids.discard(pgid)

    def kill_all(self) -> None:
        with self._lock:
            for pgid in list(self._pgids):
                kill_group(pgid)


live = _LiveProcesses()


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Finished:
    returncode: int  # negative: killed by that signal
    timed_out: bool
    seconds: float
    output: str  # the end of what the process printed (stdout and stderr)


def run_limited(cmd: list[str], *, cwd: Path, env: dict[str, str], time_limit: float,
                log_path: Path) -> Finished:
    """Runs `cmd` in a new session, its output to `log_path`, killed at `time_limit` seconds.

    A command that cannot be started (missing, not executable: a binary being relinked by a
    build running at the same time, say) ends with status CANNOT_START and says why.
    """
    timed_out = False
    start = time.monotonic()
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                                    start_new_session=True)
        except OSError as e:
            return Finished(CANNOT_START, False, time.monotonic() - start,
                            f"could not start {cmd[0]}: {e.strerror or e}")
        live.add(proc.pid)
        try:
            returncode = proc.wait(timeout=time_limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc.pid)
            returncode = proc.wait()
        except BaseException:
            # Ctrl-C: the process runs in its own session and would not see it.
            kill_group(proc.pid)
            proc.wait()
            raise
        finally:
            # Also reaps anything the process forked and left running.
            kill_group(proc.pid)
            live.discard(proc.pid)
    seconds = time.monotonic() - start
    return Finished(returncode, timed_out, seconds, read_tail(log_path))


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
            return f"was killed by {sig.name} ({signal.strsignal(sig)})"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


def read_tail(path: Path) -> str:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - _MAX_LOG_BYTES))
        data = f.read()
    return data.decode("utf-8", "replace")
