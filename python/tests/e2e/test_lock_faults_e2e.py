"""The lock recipe under a paused holder and member kills, on real processes: four locker
processes (lock_worker.py, etcdlab's Client.lock) take one lock in turn on a 3-member cluster
and write their fencing tokens to a resource that refuses a token older than one it accepted.

The schedule: the first locker is paused with SIGSTOP as soon as it holds the lock (as a GC
pause would), the others queue behind it, the leader is killed and restarted; the paused
holder's lease expires, the lock passes on and the next holder writes; only then is the paused
one let go: it writes with its old token (refused), finds its lease gone, releases. A follower
is killed and restarted during the remaining rounds. The recorded holds (with the revisions
that deleted their keys, from a watch of the lock's prefix) and writes must pass
checkers.check_locks; the same writes on a resource without fencing must fail it with a
stale write (a checker verdict on this run's data, not a hoped-for timing). Waits poll with
deadlines. ETCDLAB_LONG=1: five lockers, 20 rounds each, three pauses (each with one more
locker queued behind it), and the same run against a real etcd 3.4."""

import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time

import pytest

import etcdlab
from etcdlab.checkers import Hold, Write, check_locks
from etcdlab.checkers.locks import unfenced

from txn_servers import SERVERS, start

LONG = os.environ.get("ETCDLAB_LONG") == "1"
WORKER = os.path.join(os.path.dirname(__file__), "lock_worker.py")
LOCKERS, ROUNDS, PAUSES = (5, 20, 3) if LONG else (4, 3, 1)
TTL_S = 2


def wait_for(what, predicate, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


class Resource:
    """The protected resource, fenced: a write carrying a token lower than the highest it
    accepted is refused. A TCP line server ("write <client> <token>" -> "ok" | "refused"); it
    records every write in its own order, with its time."""

    def __init__(self):
        self.writes: list[Write] = []
        self._highest = 0
        self._lock = threading.Lock()
        resource = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                _, client, token = self.rfile.readline().decode().split()
                self.wfile.write(b"ok\n" if resource.write(client, int(token)) else b"refused\n")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def write(self, client: str, token: int) -> bool:
        with self._lock:
            accepted = token >= self._highest
            self._highest = max(self._highest, token) if accepted else self._highest
            self.writes.append(Write(client, token, time.monotonic(), accepted))
            return accepted

    def accepted_above(self, token: int) -> bool:
        with self._lock:
            return any(w.accepted and w.token > token for w in self.writes)

    def close(self):
        self._server.shutdown()
        self._server.server_close()


class Locker:
    """One lock_worker.py process and the JSON lines it printed."""

    def __init__(self, cluster, name: str, client: str, resource: Resource, rounds: int,
                 gate: bool):
        package_root = os.path.dirname(os.path.dirname(etcdlab.__file__))
        env = dict(os.environ, PYTHONPATH=package_root)
        args = [sys.executable, WORKER, "--endpoints", ",".join(cluster.endpoints),
                "--name", name, "--client", client, "--resource", str(resource.port),
                "--rounds", str(rounds), "--ttl", str(TTL_S)] + (["--gate"] if gate else [])
        self.client = client
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.records: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.records.append(json.loads(line))

    def acquired(self) -> list:
        return [r for r in self.records if r["event"] == "acquired"]

    def holds(self) -> list:
        return [r for r in self.records if r["event"] == "hold"]

    def go_on(self):
        self.proc.send_signal(signal.SIGCONT)
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def finish(self, timeout_s: float) -> None:
        try:
            self.proc.wait(timeout_s)
        finally:
            self.proc.kill()
        self._reader.join(5)
        assert self.proc.returncode == 0, f"locker {self.client}: {self.proc.stderr.read()}"


def watch_deletes(client, prefix: str, deleted: dict):
    """Every delete under the prefix (by release or expiry): key -> revision, from a watch that
    resumes on another member when its own is killed."""
    watch = client.watch(prefix, prefix=True)

    def run():
        for response in watch:
            for event in response.get("events", []):
                if event.get("type") == "DELETE":
                    deleted[event["kv"]["key"].decode()] = event["kv"]["mod_revision"]

    threading.Thread(target=run, daemon=True).start()
    return watch


@pytest.fixture(params=SERVERS if LONG else ["etcdlab"])
def cluster(request):
    c = start(request.param, n=3)
    yield c
    c.close()


def test_fenced_lock_through_a_paused_holder_and_kills(cluster, request):
    began = time.monotonic()
    name = request.node.name.split("[")[0]
    resource, client = Resource(), cluster.client()
    deleted: dict[str, int] = {}
    watch = watch_deletes(client, name + "/", deleted)
    lockers, paused_tokens = [], []
    try:
        for pause in range(PAUSES):
            # a holder paused while it holds the lock, the others queued behind it
            victim = Locker(cluster, name, f"p{pause}", resource, ROUNDS, gate=True)
            lockers.append(victim)
            token = wait_for("the paused locker to hold the lock",
                             lambda: victim.acquired(), 30)[0]["token"]
            victim.proc.send_signal(signal.SIGSTOP)
            paused_tokens.append(token)
            # queued behind it: the other lockers, then one more for each later pause (the
            # others may be done by then), so the lock has somewhere to go
            lockers += [Locker(cluster, name, f"c{pause}.{i}", resource, ROUNDS, gate=False)
                        for i in range(1, LOCKERS if pause == 0 else 2)]
            leader = cluster.wait_leader()
            cluster.kill(leader)
            cluster.wait_leader()
            cluster.start_member(leader)
            # its lease expires (after the new leader's grace), the lock passes on
            wait_for("a newer holder's write", lambda: resource.accepted_above(token), 60)
            victim.go_on()
        # the remaining rounds with a member down: a follower (and, long, the leader too)
        down_writes, kills = 0, 0
        while True:
            leader = cluster.wait_leader()
            target = leader if kills % 2 else (leader + 1) % 3
            done = len(resource.writes)
            cluster.kill(target)
            kills += 1
            wait_for("writes with a member down", lambda: len(resource.writes) >= done + 6 or
                     all(lk.proc.poll() is not None for lk in lockers), 60)
            down_writes += len(resource.writes) - done
            cluster.start_member(target)
            if not LONG or all(lk.proc.poll() is not None for lk in lockers):
                break
        for lk in lockers:
            lk.finish(120 if LONG else 60)
        records = [r for lk in lockers for r in lk.holds()]
        wait_for("the deletes of every hold's key",
                 lambda: all(r["key"] in deleted for r in records), 20)
    finally:
        for lk in lockers:
            lk.proc.send_signal(signal.SIGCONT)
            lk.proc.kill()
        watch.cancel()
        resource.close()

    holds = [Hold(r["client"], r["token"], r["acquired"], r["released"], r["expired"],
                  r["acquired_revision"], deleted[r["key"]]) for r in records]
    assert len(holds) == len(lockers) * ROUNDS
    late = [r for r in records if r["token"] in paused_tokens]
    assert len(late) == PAUSES
    for r in late:  # the paused holder woke up with its lease gone and was fenced off
        assert r["expired"] is not None and r["writes"] == ["refused", "refused"], r

    result = check_locks(holds, resource.writes)
    assert result.verdict == "ok", result.explain()

    # Without fencing, the same writes: every late write lands on a newer holder's work.
    blind = check_locks(holds, unfenced(resource.writes))
    assert blind.verdict == "illegal"
    assert {v.kind for v in blind.violations} == {"stale-write"}
    stale = {resource.writes[v.ops[0]].client for v in blind.violations}
    paused = {hs.client for hs in holds if hs.token in paused_tokens}
    assert paused <= stale
    # anyone else fenced off lost its lease too (a member kill can starve its keep-alives)
    assert all(hs.expired is not None for hs in holds if hs.client in stale - paused)
    print(f"\n{len(holds)} holds, {len(resource.writes)} writes "
          f"({result.info['refused']} refused), {len(blind.violations)} stale writes without "
          f"fencing, {kills + PAUSES} kills ({down_writes} writes with a member down), "
          f"{time.monotonic() - began:.1f} s")
