"""etcdlabctl lock and elect against etcdctl 3.4's, which run etcd's lock and election recipes on
the client side (clientv3/concurrency): a session lease, a key <name>/<lease id in hex> created
by a txn, a wait for the delete of the key created last before it.

1. A scripted set: the same command lines and steps (writes, signals, revoking the session's
   lease) run in order on two fresh etcd 3.4 members given the same history, one with etcdctl,
   one with etcdlabctl; exit codes, stdout and stderr must match once the lease ids (in keys
   and fields) and the member and cluster ids are masked.
   The same set also runs with etcdlabctl on etcdlab (once it serves /v3/kv/txn).
2. Interoperation on one server: two etcdlabctl locks on one name take turns, an etcdctl lock
   and an etcdlabctl lock wait for each other (both orders), a command run under the lock
   holds it while it runs, and an election's second candidate waits while both tools' observers
   print the leader's proposal. On etcd 3.4, and on etcdlab with etcdlabctl in both roles
   (etcdctl needs gRPC, which etcdlab does not serve yet).

Processes are polled with deadlines: a step waits for what it needs to see (output, a key
queued in etcd, an exit), never for a fixed time."""

import base64
import concurrent.futures
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

import pytest

from etcdlab.client import Client, EtcdError
from etcdlab.local import LocalCluster, find_binary
from suite_tls import ctl_environment, http_connection

ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
DEADLINE = 15.0  # no step waits longer


class Proc:
    """A running command line: its output collected as it comes."""

    def __init__(self, ctl, endpoint, cmd, env=None):
        full = ctl_environment()
        full.update(env or {})
        full["ETCDCTL_API"] = "3"
        self.p = subprocess.Popen([ctl, f"--endpoints={endpoint}", *shlex.split(cmd)],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=full)
        self.out, self.err = bytearray(), bytearray()
        self.readers = [threading.Thread(target=self._read, args=(s, b), daemon=True)
                        for s, b in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for r in self.readers:
            r.start()

    def _read(self, stream, buf):
        while data := stream.read1(65536):
            buf.extend(data)

    def until(self, what, condition):
        deadline = time.monotonic() + DEADLINE
        while not condition():
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{what}: not within {DEADLINE} s (stdout {bytes(self.out)!r}, "
                                     f"stderr {bytes(self.err)!r})")
            time.sleep(0.02)

    def wait_output(self, lines=1):
        self.until(f"{lines} line(s) of output", lambda: self.out.count(b"\n") >= lines
                   or self.p.poll() is not None)

    def finish(self):
        self.until("exit", lambda: self.p.poll() is not None)
        for r in self.readers:
            r.join(5)
        return self.p.returncode

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(5)


def keys(client: Client, prefix: str) -> list:
    return client.get(prefix, prefix=True).get("kvs", [])


def wait_keys(client: Client, prefix: str, n: int):
    deadline = time.monotonic() + DEADLINE
    while len(keys(client, prefix)) < n:
        assert time.monotonic() < deadline, f"{n} keys under {prefix} not within {DEADLINE} s"
        time.sleep(0.02)


# ---- 1. the scripted set


@dataclass
class Case:
    """`cmd`: the words after the program; `steps` after it starts: ("out", n) waits for n lines
    of output, ("queued", prefix, n) for n keys under prefix, ("put"|"del", key[, value]) writes,
    ("sig", signal) signals it, ("revoke", prefix) revokes the lease of the key under prefix,
    ("watching",) waits until the server has a watcher (its key is queued and it waits on a
    watch: a signal then finds it there, not in the middle of its txn, where etcdctl 3.4 gives
    up without taking its key out of the line); then it must exit. `count` (a prefix): the keys
    left under it are part of the result."""
    cmd: str
    steps: list = field(default_factory=list)
    count: str = ""
    help: bool = False  # a flag error prints the help on stdout: rc and stderr only


INT, TERM = ("sig", signal.SIGINT), ("sig", signal.SIGTERM)
HOLD = [("out", 2), INT]  # until it holds (prints the key and its empty value), then Ctrl-C
LOCK_ENV = "sh -c 'echo \"$ETCD_LOCK_KEY\" \"$ETCD_LOCK_REV\"; exit 3'"

CASES = [
    # lock: hold, print as `get` prints, release on a signal
    Case("lock L", HOLD, count="L/"), Case("lock L -w json", [("out", 1), TERM], count="L/"),
    Case("lock L -w fields", [("out", 12), TERM]), Case("lock L -w protobuf", [("out", 1), INT]),
    Case("lock L --ttl 5", HOLD), Case("lock --ttl=0 L", HOLD), Case("--hex lock L", HOLD),
    Case("lock ''", HOLD),
    # with a command: run under the lock, released after
    Case("lock L -- " + LOCK_ENV, count="L/"), Case("lock L -- true", count="L/"),
    Case("lock L -- false"), Case("lock L -- /nonexistent/x"), Case("lock L no-such-command-here"),
    Case("lock L -- sh -c 'kill -9 $$'", count="L/"), Case("lock L -- sh -c 'echo out; echo err >&2'"),
    Case("lock L sh -c 'exit 0'", help=True),  # -c is a flag to etcdctl: "--" is needed
    # the arguments
    Case("lock"), Case("lock --ttl x L", help=True), Case("-w bogus lock L"),
    # waiting for a key created before ours (the test's own W/held, no lease), then holding
    Case("lock W", [("queued", "W/", 2), ("del", "W/held"), ("out", 2), INT], count="W/"),
    # a signal while waiting: the wait is given up, our key taken out of the line
    Case("lock W2", [("queued", "W2/", 2), ("watching",), INT], count="W2/"),
    # the session's lease revoked while holding: the session ends at the next keep-alive (a
    # third of the TTL later; elect's sessions have 60 s, too long to wait for here)
    Case("lock --ttl 2 X", [("out", 2), ("revoke", "X/")], count="X/"),
    # elect: arguments
    Case("elect"), Case("elect x"), Case("elect -l x y"), Case("elect a b c"),
    Case("-w bogus elect x"), Case("elect --bogus x y", help=True),
    # campaign, lead, resign on a signal
    Case("elect E p1", HOLD, count="E/"), Case("elect E p1 -w json", [("out", 1), INT]),
    Case("elect E 'a proposal' -w fields", [("out", 12), TERM]),
    Case("elect E p1 -w protobuf", [("out", 1), INT]),
    # a second candidate waits for the first (the test's E2/first) to go
    Case("elect E2 p2", [("queued", "E2/", 2), ("del", "E2/first"), ("out", 2), INT], count="E2/"),
    Case("elect E3 p3", [("queued", "E3/", 2), ("watching",), TERM], count="E3/"),
    # observe: the leader (the test's O/lead1), its new value, the next leader after a delete
    Case("elect -l O", [("out", 2), ("put", "O/lead1", "v2"), ("out", 4), ("del", "O/lead1"),
                        ("put", "O/lead2", "w"), ("out", 6), TERM]),
    Case("elect -l O -w json", [("out", 1), ("put", "O/lead2", "w2"), ("out", 2), INT]),
    Case("elect -l O -w fields", [("out", 12), TERM]),
    # last: exit 4 after taking the lock (the key stays until its lease expires)
    Case("lock T -w table", count="T/"), Case("elect T2 p -w table", count="T2/"),
]


def history(c: Client):
    c.put("W/held", "")
    c.put("W2/held", "")
    c.put("E2/first", "x")
    c.put("E3/first", "x")
    c.put("O/lead1", "v1")


def watchers(endpoint: str):
    """etcd's gauge of the watchers it serves (None where /metrics has none: etcdlab's)."""
    host, port = endpoint.rsplit(":", 1)
    conn = http_connection(host, int(port), timeout=5)  # (over TLS as the suite's clients)
    try:
        conn.request("GET", "/metrics")
        m = re.search(rb"^etcd_debugging_mvcc_watcher_total (\d+)", conn.getresponse().read(),
                      re.M)
    finally:
        conn.close()
    return int(m[1]) if m else None


def wait_watchers(endpoint: str, done):
    deadline = time.monotonic() + DEADLINE
    while (n := watchers(endpoint)) is not None and not done(n):
        assert time.monotonic() < deadline, f"watchers: {n} after {DEADLINE} s"
        time.sleep(0.02)


def step(proc: Proc, client: Client, s, endpoint: str):
    kind = s[0]
    if kind == "out":
        proc.wait_output(s[1])
    elif kind == "queued":
        wait_keys(client, s[1], s[2])
    elif kind == "put":
        client.put(s[1], s[2])
    elif kind == "del":
        client.delete(s[1])
    elif kind == "sig":
        proc.p.send_signal(s[1])
    elif kind == "watching":
        wait_watchers(endpoint, lambda n: n >= 1)
    elif kind == "revoke":
        (kv,) = keys(client, s[1])
        client.lease_revoke(int(kv["lease"]))


LEASE_HEX = re.compile(r"(?<=/)[0-9a-f]{1,16}\b")


def mask_key(key: bytes) -> bytes:
    return LEASE_HEX.sub("<id>", key.decode("utf-8", "replace")).encode()


def mask_json(line: str) -> str:
    doc = json.loads(line)
    for k in ("cluster_id", "member_id"):
        doc.get("header", {}).pop(k, None)
    for kv in doc.get("kvs", []):
        kv["key"] = mask_key(base64.b64decode(kv["key"])).decode()
        kv.pop("lease", None)
    return json.dumps(doc, sort_keys=True)


def pb_fields(data: bytes) -> list:
    out, i = [], 0
    while i < len(data):
        key, i = varint(data, i)
        if key & 7 == 0:
            value, i = varint(data, i)
        else:
            n, i = varint(data, i)
            value, i = data[i:i + n], i + n
        out.append([key >> 3, value])
    return out


def varint(data: bytes, i: int):
    value, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def mask_protobuf(data: bytes) -> str:
    """A RangeResponse: header ids zeroed, each key-value's key masked and lease zeroed."""
    out = []
    for f, v in pb_fields(data):
        if f == 1:
            v = [[n, 0 if n in (1, 2) else x] for n, x in pb_fields(v)]
        elif f == 2:
            v = [[n, mask_key(x) if n == 1 else 0 if n == 6 else x] for n, x in pb_fields(v)]
        out.append([f, v])
    return repr(out)


def masked(case: Case, rc, out: bytes, err: bytes):
    err = b"".join(x for x in err.splitlines(True) if not x.startswith(b'{"level"'))
    err = re.sub(rb"\betcd(lab)?ctl\b", b"CTL", err)
    if case.help:
        return rc, "", err.decode()
    if "-w protobuf" in case.cmd and out:
        text = mask_protobuf(out)
    elif "-w json" in case.cmd:
        text = "\n".join(mask_json(x) for x in out.decode().splitlines())
    else:
        text = LEASE_HEX.sub("<id>", out.decode("utf-8", "replace"))
        text = re.sub(r'"(ClusterID|MemberID|Lease)" : \d+', r'"\1" : 0', text)
        text = re.sub(r"\\x2f((\\x[0-9a-f]{2})+)", r"\\x2f<id>", text)  # --hex keys
    return rc, text, err.decode()


def serves_txn(client: Client) -> bool:
    try:
        client.call("/v3/kv/txn", {})
        return True
    except EtcdError as e:
        if e.status == 404:
            return False
        raise


def run_side(binary, ctl):
    """Every case in order on a fresh member (None: etcdlab without /v3/kv/txn)."""
    with LocalCluster(n=1, binary=binary) as member:
        member.wait_leader()
        endpoint = member.endpoint(0)
        client = Client([endpoint], timeout=10)
        if not serves_txn(client):
            return None
        history(client)
        results = []
        for case in CASES:
            if ("watching",) in case.steps:
                wait_watchers(endpoint, lambda n: n == 0)  # those of earlier cases are gone
            proc = Proc(ctl, endpoint, case.cmd)
            try:
                for s in case.steps:
                    step(proc, client, s, endpoint)
                rc = proc.finish()
            finally:
                proc.stop()
            left = len(keys(client, case.count)) if case.count else None
            results.append((masked(case, rc, bytes(proc.out), bytes(proc.err)), left))
        client.close()
        return results


def require_etcd():
    if not (os.path.exists(ETCD) and os.path.exists(ETCDCTL)):
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            pytest.fail("etcd 3.4 is not installed (make deps installs etcd-server, etcd-client)")
        pytest.skip("etcd 3.4 is not installed")


@pytest.fixture(scope="module")
def scripted():
    """The set run by etcdctl on etcd, etcdlabctl on etcd, etcdlabctl on etcdlab, at once."""
    require_etcd()
    ours = find_binary("etcdlabctl")
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(run_side, (ETCD, ETCD, None), (ETCDCTL, ours, ours)))


def differences(theirs, ours) -> list:
    return [f"$ {c.cmd} {c.steps}\n    etcdctl:    {a!r}\n    etcdlabctl: {b!r}"
            for c, a, b in zip(CASES, theirs, ours) if a != b]


def test_etcdlabctl_lock_and_elect_on_etcd_print_what_etcdctl_prints(scripted):
    theirs, ours, _ = scripted
    diffs = differences(theirs, ours)
    assert not diffs, f"{len(diffs)} of {len(CASES)} cases differ:\n" + "\n".join(diffs)
    # What the cases say they cover, on etcdctl's side.
    errs = "".join(r[0][2] for r in theirs)
    assert "Error: context canceled" in errs and "Error: session expired" in errs
    assert "Error: exit status 3" in errs
    assert {r[0][0] for r in theirs} >= {0, 1, 4, 128}


def test_etcdlabctl_lock_and_elect_on_etcdlab_print_what_etcdctl_prints_on_etcd(scripted):
    theirs, _, ours = scripted
    if ours is None:
        pytest.skip("etcdlab does not serve /v3/kv/txn yet")
    diffs = differences(theirs, ours)
    assert not diffs, f"{len(diffs)} of {len(CASES)} cases differ:\n" + "\n".join(diffs)


# ---- 2. interoperation on one server


@pytest.fixture(params=["etcd", "etcdlab"])
def server(request):
    """One member: etcd 3.4, or etcdlab (skipped while it does not serve /v3/kv/txn). Yields
    the endpoint, a client, and the program for each tool: etcdctl speaks gRPC, which etcdlab
    does not serve yet (docs/architecture.md), so on etcdlab both are etcdlabctl."""
    if request.param == "etcd":
        require_etcd()
    with LocalCluster(n=1, binary=ETCD if request.param == "etcd" else None) as member:
        member.wait_leader()
        endpoint = member.endpoint(0)
        client = Client([endpoint], timeout=10)
        if not serves_txn(client):
            pytest.skip("etcdlab does not serve /v3/kv/txn yet")
        ours = find_binary("etcdlabctl")
        tools = {"etcdlabctl": ours, "etcdctl": ETCDCTL if request.param == "etcd" else ours}
        yield endpoint, client, tools
        client.close()


def key_line(proc: Proc) -> str:
    return bytes(proc.out).decode().split("\n")[0]


@pytest.mark.parametrize("first,second", [("etcdlabctl", "etcdlabctl"), ("etcdctl", "etcdlabctl"),
                                          ("etcdlabctl", "etcdctl")])
def test_a_second_lock_waits_for_the_first_to_be_released(server, first, second):
    endpoint, client, tools = server
    if tools[first] == tools[second] and first != second:
        pytest.skip("on etcdlab both roles are etcdlabctl: the etcdlabctl/etcdlabctl case")
    a = Proc(tools[first], endpoint, "lock shared")
    b = None
    try:
        a.wait_output(2)
        b = Proc(tools[second], endpoint, "lock shared")
        wait_keys(client, "shared/", 2)  # b is queued behind a
        holder = keys(client, "shared/")
        assert key_line(a) == min(holder, key=lambda kv: int(kv["create_revision"]))["key"].decode()
        assert b.out == b"", "the second lock printed its key while the first held the lock"
        a.p.send_signal(signal.SIGINT)
        assert a.finish() == 0
        b.wait_output(2)
        assert [kv["key"].decode() for kv in keys(client, "shared/")] == [key_line(b)]
        b.p.send_signal(signal.SIGTERM)
        assert b.finish() == 0 and keys(client, "shared/") == []
    finally:
        a.stop()
        if b:
            b.stop()


def test_a_command_run_under_the_lock_holds_it_until_it_ends(server, tmp_path):
    endpoint, client, tools = server
    go = tmp_path / "go"
    a = Proc(find_binary("etcdlabctl"), endpoint,
             f"lock cmd -- sh -c 'echo in; while [ ! -e {go} ]; do sleep 0.02; done; echo out'")
    b = None
    try:
        a.wait_output(1)
        b = Proc(tools["etcdctl"], endpoint, "lock cmd")
        wait_keys(client, "cmd/", 2)
        assert b.out == b""
        go.touch()
        assert a.finish() == 0 and bytes(a.out) == b"in\nout\n"
        b.wait_output(2)
        b.p.send_signal(signal.SIGINT)
        assert b.finish() == 0
    finally:
        a.stop()
        if b:
            b.stop()


def test_election_candidates_wait_and_observers_print_the_leader(server):
    endpoint, client, tools = server
    leader = Proc(tools["etcdlabctl"], endpoint, "elect vote p1")
    procs = [leader]
    try:
        leader.wait_output(2)
        follower = Proc(tools["etcdctl"], endpoint, "elect vote p2")
        procs.append(follower)
        wait_keys(client, "vote/", 2)
        observers = [Proc(tools[t], endpoint, "elect -l vote") for t in ("etcdlabctl", "etcdctl")]
        procs += observers
        for o in observers:
            o.wait_output(2)
        assert follower.out == b""
        first = bytes(leader.out)
        assert first.endswith(b"\np1\n") and all(bytes(o.out) == first for o in observers)
        leader.p.send_signal(signal.SIGINT)
        assert leader.finish() == 0
        follower.wait_output(2)
        assert bytes(follower.out).endswith(b"\np2\n")
        for o in observers:
            o.wait_output(4)
            assert bytes(o.out) == first + bytes(follower.out)
        for p in procs[1:]:
            p.p.send_signal(signal.SIGTERM)
            assert p.finish() == 0
        assert keys(client, "vote/") == []
    finally:
        for p in procs:
            p.stop()
