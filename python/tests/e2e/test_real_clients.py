"""Real etcd clients against etcdlab's gRPC API (issue 17): etcdctl 3.4, Debian's python3-etcd3
and the npm etcd3 client (pinned in clients/node) each run a scripted session (clients/) against
a fresh 3-member etcd 3.4 and a fresh 3-member etcdlab; the normalized outputs must be equal
(clients/normalize.py says what is mapped and why). Then each client, given all three endpoints,
keeps putting and reading while the members are killed in turn, and every acknowledged put must
still be there.

A client that is not installed is skipped, except under ETCDLAB_E2E_REQUIRED=1 (make check),
where it is an error. An etcdlab that does not answer gRPC on its client port fails (never
skips): serving real clients is what issue 17 asks.

ETCDLAB_LONG=1 adds the sessions' own check (two etcd 3.4 clusters give equal outputs) and the
failover against etcd 3.4. By hand:
    python3 python/tests/e2e/clients/run.py etcdctl 127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379
"""

import collections
import json
import os
import queue
import subprocess
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients"))
import run as real_clients  # noqa: E402

from etcdlab.local import LocalCluster  # noqa: E402

ETCD = "/usr/bin/etcd"
CLIENTS = ["etcdctl", "python-etcd3", "node-etcd3"]


def need(client: str) -> None:
    reason = real_clients.missing(client)
    if reason is None and not os.path.exists(ETCD):
        reason = f"{ETCD} is not installed (Debian package etcd-server; make deps)"
    if reason:
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            pytest.fail(f"{client}: {reason}")
        pytest.skip(f"{client}: {reason}")


def require_grpc(cluster: LocalCluster) -> None:
    """Fails, with what etcdctl said, when etcdlab does not serve etcd's gRPC API on the client
    port (the API real clients use)."""
    p = subprocess.run([real_clients.ETCDCTL, f"--endpoints={cluster.endpoint(0)}",
                        "--dial-timeout=2s", "--command-timeout=3s", "endpoint", "status"],
                       capture_output=True, text=True, env=dict(os.environ, ETCDCTL_API="3"),
                       timeout=30)
    if p.returncode != 0:
        said = [l for l in p.stderr.splitlines() if l.strip() and not l.startswith("{")] or \
            [p.stderr[-300:]]
        pytest.fail(f"etcdlab does not answer etcd's gRPC API on its client port "
                    f"{cluster.endpoint(0)} (etcdctl endpoint status: {said[-1]}); real clients "
                    f"need issue 17's gRPC server")


def session_on(binary, client: str) -> list:
    with LocalCluster(n=3, binary=binary) as cluster:
        cluster.wait_leader()
        if binary is None:
            require_grpc(cluster)
        return real_clients.run_session(client, cluster.endpoints)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_real_clients_session_answers_as_on_etcd(client):
    """The same script, the same answers: keys, values, revisions, counts, events, errors
    (gRPC status and message) as the client shows them."""
    need(client)
    stopped = None
    try:
        ours = session_on(None, client)  # first: an etcdlab without gRPC fails at once
    except real_clients.SessionFailed as e:  # still compared: where did it part from etcd?
        stopped, ours = e, e.lines
    etcd = session_on(ETCD, client)
    assert stopped is None and ours == etcd, \
        (f"{stopped}\n" if stopped else "") + real_clients.diff(client, etcd, ours)


@pytest.mark.skipif(os.environ.get("ETCDLAB_LONG") != "1", reason="ETCDLAB_LONG=1 runs it")
@pytest.mark.parametrize("client", CLIENTS)
def test_a_session_is_deterministic_on_etcd(client):
    """The check on the sessions themselves: two fresh etcd 3.4 clusters, equal outputs (else
    the comparison above would flag noise as a difference)."""
    need(client)
    first, second = session_on(ETCD, client), session_on(ETCD, client)
    assert first == second, real_clients.diff(client, first, second, ("etcd run 1", "etcd run 2"))


class Driver:
    """A client's failover driver (clients/failover.py, clients/node/failover.js): its lines
    read with deadlines."""

    def __init__(self, client: str, endpoints: list[str]):
        self.proc = subprocess.Popen(real_clients.FAILOVER[client] + [",".join(endpoints)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     cwd=real_clients.HERE)
        self.lines: "queue.Queue" = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:  # kept, and shown if the test fails
                self.lines.put({"unreadable": line[:200]})
        self.lines.put(None)

    def _take(self, timeout: float):
        line = self.lines.get(timeout=timeout)
        if line is not None:
            self.seen.append(line)
        return line

    def puts(self) -> int:
        return sum(1 for l in self.seen if "put" in l)

    def wait_puts(self, n: int, timeout: float, what: str) -> None:
        """Until n more puts are acknowledged, else a failure naming `what` and the last lines."""
        goal = self.puts() + n
        deadline = time.monotonic() + timeout
        while self.puts() < goal:
            left = deadline - time.monotonic()
            try:
                if left <= 0 or self._take(left) is None:
                    raise queue.Empty
            except queue.Empty:
                tail = "\n".join(json.dumps(l) for l in self.seen[-8:])
                pytest.fail(f"{what}: {self.puts() - goal + n} of {n} puts acknowledged within "
                            f"{timeout} s; the driver's last lines:\n{tail}\n"
                            f"stderr: {self.proc.stderr.read()[-1000:] if self.proc.poll() is not None else ''}")

    def stop(self) -> dict:
        self.proc.stdin.close()
        while True:
            line = self._take(30)
            if line is None or line.get("done"):
                break
        self.proc.wait(30)
        return line or {}


ON_ETCD = pytest.mark.skipif(os.environ.get("ETCDLAB_LONG") != "1",
                             reason="against etcd 3.4 with ETCDLAB_LONG=1 (the driver's check)")


@pytest.mark.parametrize("server", ["etcdlab", pytest.param("etcd", marks=ON_ETCD)])
@pytest.mark.parametrize("client", CLIENTS)
def test_a_real_client_rides_out_members_killed_in_turn(client, server):
    """Failover as etcd clients expect it: killed members are left for the others (right status
    codes, no hang), reads see the client's own writes, and no acknowledged put is lost."""
    need(client)
    with LocalCluster(n=3, binary=ETCD if server == "etcd" else None) as cluster:
        cluster.wait_leader()
        if server == "etcdlab":
            require_grpc(cluster)
        driver = Driver(client, cluster.endpoints)
        try:
            driver.wait_puts(5, 20, "before any kill")
            for i in cluster.members:
                cluster.kill(i)
                driver.wait_puts(5, 20, f"after member {i} was killed (SIGKILL)")
                cluster.start_member(i)
                cluster.wait_healthy(i)
            done = driver.stop()
        finally:
            if driver.proc.poll() is None:
                driver.proc.kill()
        kinds = collections.Counter(l["error"][:120] for l in driver.seen if "error" in l)
        print(f"{client} on {server}: {done}; errors: {kinds.most_common(3)}")  # (-s shows it)
        assert done.get("done"), f"the driver did not finish: {driver.seen[-5:]}"
        acked = {l["put"] for l in driver.seen if "put" in l}
        stale = [l for l in driver.seen if "get" in l and l["value"] != f"v{l['get']}"]
        assert not stale, f"a read right after an acknowledged put did not see it: {stale[:5]}"
        c = cluster.client(timeout=10)
        try:
            stored = {kv["key"]: kv["value"] for kv in c.get("f/", prefix=True)["kvs"]}
        finally:
            c.close()
        lost = sorted(i for i in acked if stored.get(f"f/{i}".encode()) != f"v{i}".encode())
        assert not lost, (f"{len(lost)} of {len(acked)} acknowledged puts are not in the store: "
                          f"f/{lost[:10]} (driver errors: "
                          f"{[l for l in driver.seen if 'error' in l][:5]})")


def test_normalize_names_ids_in_every_spelling_and_keeps_what_users_rely_on():
    """The comparison's lens: a lease id in decimal (a field), in %016x and %x (etcdctl's
    text), member ids by name, endpoints by position; revisions, counts and errors untouched."""
    from normalize import normalize
    lease, member, cluster = 0x0fd2a24dc6951e0d, 0x7e5cf79ca8145315, 0x5ef69d07128a6ccf
    raw = [
        {"step": "endpoints", "_ids": {"endpoint": ["127.0.0.1:4001", "127.0.0.1:4002"]}},
        {"step": "grant", "_ids": {"lease": [lease], "cluster": [cluster]}, "ID": lease,
         "out": [f"lease {lease:016x} granted with TTL(60s)"], "revision": 7, "count": 1},
        {"step": "lock", "out": [f"s/lock/{lease:x}", "s/lock/694d7b5e4f0a3c0b"]},
        {"step": "members", "_ids": {"member": {"m1": member}}, "_sort": ["out"],
         "out": [f"{member:x}, started, m1", "127.0.0.1:4002 is healthy: took = 2.41ms"],
         "header": {"revision": 9, "member_id": member, "raft_term": 4}},
        {"step": "small ids stay", "ID": 5, "out": ["lease 5 granted"]},
    ]
    assert normalize(raw) == [
        {"step": "endpoints"},
        {"step": "grant", "ID": "L1", "out": ["lease L1 granted with TTL(60s)"], "revision": 7,
         "count": 1},
        {"step": "lock", "out": ["s/lock/L1", "s/lock/<id>"]},
        {"step": "members", "out": ["EP1 is healthy: took = <t>", "M(m1), started, m1"],
         "header": {"revision": 9}},
        {"step": "small ids stay", "ID": 5, "out": ["lease 5 granted"]},
    ]


def test_normalize_takes_the_padding_of_a_short_id_with_it():
    """etcdctl prints "Member %16x added to cluster %16x": an id with a leading zero nibble
    comes with one more space, which must not make two clusters differ."""
    from normalize import normalize
    long_id, short_id = 0xa9683df0d8918a2f, 0x0fd2a24dc6951e0d
    lines = [{"step": "add", "_ids": {"cluster": [c], "member": {"new": m}},
              "out": [f"Member {m:16x} added to cluster {c:16x}", f"key s/{u:x}"]}
             for c, m, u in ((long_id, short_id, 0x694d7b5e4f0a3c0b),
                             (short_id, long_id, 0x0694d7b5e4f0a3c0))]
    first, second = (normalize([line]) for line in lines)
    assert first == second == [{"step": "add", "out": ["Member M(new) added to cluster C",
                                                       "key s/<id>"]}]
