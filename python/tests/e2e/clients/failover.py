"""Failover drivers for etcdctl and python3-etcd3 (node/failover.js is the npm client's): puts and
reads f/<i> = v<i> in a loop until stdin closes, printing one JSON line per operation:

    {"put": i}                     the put of f/i was acknowledged
    {"get": i, "value": "v<i>"}     the read right after it (value null: not found)
    {"error": "...", "op": "put", "i": i}   an operation failed (the loop goes on)
    {"done": true, "puts": n, "errors": m}  stdin closed: the last line

The test kills the members in turn meanwhile, then checks every acknowledged put is still there.

    python3 failover.py etcdctl|python-etcd3 127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379
"""

import base64
import json
import os
import subprocess
import sys
import threading
import time

stopped = threading.Event()
PAUSE_S = 0.05  # after a failed operation


def emit(**line) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


class Etcdctl:
    """One etcdctl process per operation, given every endpoint (its balancer picks one and
    moves on when that one fails)."""

    def __init__(self, endpoints):
        self.base = ["/usr/bin/etcdctl", f"--endpoints={','.join(endpoints)}",
                     "--dial-timeout=2s", "--command-timeout=5s"]
        self.env = dict(os.environ, ETCDCTL_API="3")

    def _run(self, *args) -> str:
        p = subprocess.run(self.base + list(args), capture_output=True, text=True,
                           env=self.env, timeout=30)
        if p.returncode != 0:
            errors = [l for l in p.stderr.splitlines() if l.startswith("Error")]
            raise RuntimeError(errors[-1] if errors else f"exit {p.returncode}")
        return p.stdout

    def put(self, key, value):
        self._run("put", key, value)

    def get(self, key):
        doc = json.loads(self._run("get", key, "-w", "json"))
        kvs = doc.get("kvs") or []
        return base64.b64decode(kvs[0]["value"]).decode() if kvs else None


class PythonEtcd3:
    """python3-etcd3 0.12 talks to one host: this holds a client per endpoint and moves to the
    next when the library says the connection failed or timed out (what a user of 0.12 has to
    write; the library's own error classes are what tell it to)."""

    def __init__(self, endpoints):
        import etcd3
        self.etcd3 = etcd3
        from python_etcd3_session import tls_files
        self.clients = [etcd3.client(host=e.rsplit(":", 1)[0], port=int(e.rsplit(":", 1)[1]),
                                     timeout=3, **tls_files()) for e in endpoints]
        self.current = 0

    def _call(self, fn):
        errors = (self.etcd3.exceptions.ConnectionFailedError,
                  self.etcd3.exceptions.ConnectionTimeoutError)
        try:
            return fn(self.clients[self.current])
        except errors:
            self.current = (self.current + 1) % len(self.clients)
            raise

    def put(self, key, value):
        self._call(lambda c: c.put(key, value))

    def get(self, key):
        value, _ = self._call(lambda c: c.get(key))
        return value.decode() if value is not None else None


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("etcdctl", "python-etcd3"):
        print(__doc__, file=sys.stderr)
        return 2
    endpoints = sys.argv[2].split(",")
    client = (Etcdctl if sys.argv[1] == "etcdctl" else PythonEtcd3)(endpoints)
    threading.Thread(target=lambda: (sys.stdin.read(), stopped.set()), daemon=True).start()
    puts = errors = i = 0
    while not stopped.is_set():
        key, value, op = f"f/{i}", f"v{i}", "put"
        try:
            client.put(key, value)
            puts += 1
            emit(put=i)
            op = "get"
            emit(get=i, value=client.get(key))
        except Exception as e:  # recorded; the loop is what must keep going
            errors += 1
            emit(error=f"{type(e).__name__}: {e}", op=op, i=i)
            time.sleep(PAUSE_S)  # as an application would (node/failover.js says why)
        i += 1
    emit(done=True, puts=puts, errors=errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
