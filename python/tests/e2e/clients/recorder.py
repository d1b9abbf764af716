"""What the Python client sessions share: a recorder that prints one JSON line per step, and a
line reader for client processes that stream (etcdctl watch, lock, elect).

A session prints what the client showed, raw; normalize.py then maps what differs between any
two clusters. A step may carry "_ids": the ids it learned (leases, members, the cluster, peer
URLs), so that normalize.py can name them wherever they appear later, in any spelling."""

import json
import queue
import subprocess
import sys
import threading
import time


class Recorder:
    def __init__(self, out=sys.stdout):
        self.out = out
        self.count = 0

    def step(self, name: str, /, _ids=None, _sort=None, **fields) -> dict:
        """One step's line. _ids: ids learned here (see normalize.py); _sort: fields whose
        order is not the client's (sorted after normalization)."""
        line = {"step": name, **fields}
        if _ids:
            line["_ids"] = _ids
        if _sort:
            line["_sort"] = list(_sort)
        self.out.write(json.dumps(line, sort_keys=True) + "\n")
        self.out.flush()
        self.count += 1
        return line


def poll(what: str, check, timeout: float = 10.0, every: float = 0.02):
    """check() until it returns something true, else TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(every)


class Streaming:
    """A client process whose stdout is read line by line, with deadlines (never a fixed wait).
    stderr is kept apart (etcdctl logs its retries there)."""

    def __init__(self, args, env=None):
        self.args = args
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, text=True)
        self.lines: "queue.Queue[str | None]" = queue.Queue()
        self.err: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err.append),
                         daemon=True).start()

    @staticmethod
    def _pump(stream, sink):
        for line in stream:
            sink(line.rstrip("\n"))
        sink(None)

    def read(self, n: int, timeout: float = 10.0) -> list[str]:
        """The next n lines of stdout (fewer if the process ends or the deadline passes: the
        caller records what it got, so a short answer shows as a difference, not a hang)."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self.lines.put(None)  # stays ended for later reads
                break
            got.append(line)
        return got

    def interrupt(self, timeout: float = 10.0) -> int:
        """SIGINT (what Ctrl-C sends: etcdctl lock and elect then release and resign) and wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(2)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def finish(self, timeout: float = 10.0) -> tuple[int, list[str]]:
        """Wait for the process to end on its own; its exit code and the rest of stdout."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        rest = []
        while True:
            try:
                line = self.lines.get(timeout=2)
            except queue.Empty:
                break
            if line is None:
                break
            rest.append(line)
        return rc, rest
