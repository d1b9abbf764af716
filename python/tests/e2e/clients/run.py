"""Runs one real client's scripted session against a cluster and prints its normalized lines, so
that two clusters' runs can be compared (test_real_clients.py does it for etcd 3.4 and etcdlab).

    python3 run.py etcdctl|python-etcd3|node-etcd3 127.0.0.1:2379,127.0.0.1:22379,... [--raw]
    python3 run.py CLIENT A.jsonl B.jsonl        # diff two saved normalized runs
"""

import difflib
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from normalize import normalize  # noqa: E402

PYTHON = "/usr/bin/python3"
NODE = shutil.which("node") or "/usr/bin/node"
ETCDCTL = "/usr/bin/etcdctl"

SESSIONS = {
    "etcdctl": [PYTHON, os.path.join(HERE, "etcdctl_session.py")],
    "python-etcd3": [PYTHON, os.path.join(HERE, "python_etcd3_session.py")],
    "node-etcd3": [NODE, os.path.join(HERE, "node", "session.js")],
}
FAILOVER = {
    "etcdctl": [PYTHON, os.path.join(HERE, "failover.py"), "etcdctl"],
    "python-etcd3": [PYTHON, os.path.join(HERE, "failover.py"), "python-etcd3"],
    "node-etcd3": [NODE, os.path.join(HERE, "node", "failover.js")],
}
INSTALL = {
    "etcdctl": "Debian package etcd-client (make deps)",
    "python-etcd3": "Debian package python3-etcd3 (make deps)",
    "node-etcd3": "node (Debian nodejs) and `npm ci --ignore-scripts` in "
                  "python/tests/e2e/clients/node (make deps)",
}


def missing(client: str):
    """Why this client cannot run here (None: it can). Every session also needs etcdctl, which
    reads the snapshots."""
    if not os.path.exists(ETCDCTL):
        return f"{ETCDCTL} is not installed ({INSTALL['etcdctl']})"
    if client == "python-etcd3":
        found = subprocess.run([PYTHON, "-c", "import etcd3"], capture_output=True)
        if found.returncode != 0:
            return f"python3-etcd3 is not installed ({INSTALL[client]})"
    if client == "node-etcd3":
        if not os.path.exists(NODE):
            return f"node is not installed ({INSTALL[client]})"
        if not os.path.isdir(os.path.join(HERE, "node", "node_modules", "etcd3")):
            return f"the npm etcd3 client is not installed ({INSTALL[client]})"
    return None


class SessionFailed(AssertionError):
    """A session that crashed, hung or stopped early; `lines` holds what it printed before
    (normalized), so that a comparison can still show where it parted from the other run."""

    def __init__(self, message: str, lines: list[dict]):
        super().__init__(message)
        self.lines = lines


def run_session(client: str, endpoints: list[str], timeout: float = 60) -> list[dict]:
    """The session's normalized lines; SessionFailed (with its stderr and the lines it printed)
    when it does not reach its last step within `timeout` seconds."""
    try:
        p = subprocess.run(SESSIONS[client] + [",".join(endpoints)], capture_output=True,
                           text=True, timeout=timeout, cwd=HERE)
        out, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        text = lambda b: (b.decode(errors="replace") if isinstance(b, bytes) else b) or ""
        out, err, rc = text(e.stdout), text(e.stderr), f"killed after {timeout} s"
    raw = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    if rc != 0 or not raw or raw[-1].get("step") != "end":
        last = raw[-1]["step"] if raw else "(none)"
        raise SessionFailed(
            f"{client} session did not finish (exit {rc}; last step printed: {last!r})\n"
            f"--- stderr (tail)\n{err[-4000:]}", normalize(raw))
    return normalize(raw)


def diff(client: str, reference: list[dict], ours: list[dict],
         names=("etcd 3.4", "etcdlab")) -> str:
    """A readable diff: each differing step with both answers, then a unified diff."""
    out = []
    for i, (a, b) in enumerate(zip(reference, ours)):
        if a != b:
            out.append(f"step {i} {a.get('step')!r}:\n  {names[0]}: {json.dumps(a)}\n"
                       f"  {names[1]}: {json.dumps(b)}")
    if len(reference) != len(ours):
        out.append(f"{names[0]} printed {len(reference)} steps, {names[1]} {len(ours)}")
    unified = difflib.unified_diff([json.dumps(l, sort_keys=True) for l in reference],
                                   [json.dumps(l, sort_keys=True) for l in ours],
                                   names[0], names[1], lineterm="", n=1)
    return f"{client}: {len(out)} difference(s)\n" + "\n".join(out) + \
        "\n--- unified diff\n" + "\n".join(unified)


def main() -> int:
    if len(sys.argv) < 3 or sys.argv[1] not in SESSIONS:
        print(__doc__, file=sys.stderr)
        return 2
    client = sys.argv[1]
    if len(sys.argv) == 4 and sys.argv[3] != "--raw":
        a, b = ([json.loads(l) for l in open(f) if l.strip()] for f in sys.argv[2:4])
        if a == b:
            return 0
        print(diff(client, a, b, names=(sys.argv[2], sys.argv[3])))
        return 1
    reason = missing(client)
    if reason:
        print(reason, file=sys.stderr)
        return 2
    if "--raw" in sys.argv:
        return subprocess.run(SESSIONS[client] + [sys.argv[2]], cwd=HERE).returncode
    for line in run_session(client, sys.argv[2].split(",")):
        print(json.dumps(line, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
