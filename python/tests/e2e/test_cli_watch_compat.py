"""etcdlabctl watch against etcdlab prints what etcdctl 3.4 watch prints against etcd: the same
command lines (and, for `watch -i`, the same stdin lines, with the same writes between them)
run on a fresh single-member etcd and etcdlab given the same writes, and the exit code, stdout
and stderr must match byte for byte once the cluster and member ids are masked.

A watch never ends by itself unless the server cancels it, so each case runs until its output
has been quiet for QUIET seconds (etcdlabctl's side: until it has printed as much as etcdctl did,
then briefly quiet), and is then stopped (SIGTERM, on both). Cases give --rev so that what they
print never depends on when the watch was made. Both sides run at once (each mostly waits).

Known differences are strict xfails: see KNOWN."""

import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

import pytest

from etcdlab.client import Client
from etcdlab.local import LocalCluster, find_binary
from suite_tls import ctl_environment

ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
QUIET = 0.5       # etcdctl's side: this long without output ends a step
FIRST = 1.2       # ... or without any output at all since the program started
OURS_QUIET = 0.3  # etcdlabctl's, once it printed as much as etcdctl did
LONGEST = 6.0     # no step waits longer for output
KILLED = "stopped"


@dataclass
class Case:
    """`cmd`: bash words after the program ({name} is a revision from MARKS, {ep} the member);
    `steps` (after it starts): ("line", text) writes a stdin line and waits for quiet,
    ("write", fn) calls fn(client, marks), ("wait",) waits for quiet, ("eof",) closes stdin."""
    cmd: str
    steps: list = field(default_factory=list)
    env: dict = field(default_factory=dict)
    help: bool = False  # a flag error prints the help on stdout: rc and stderr only


def line(text):
    return ("line", text)


def write(fn):
    return ("write", fn)


EOF = ("eof",)
WAIT = ("wait",)


def write_history(c: Client) -> dict:
    """The same history on both servers; the revisions cases start from."""
    m = {}
    m["a1"] = c.put("a", "1")["header"]["revision"]
    c.put("a", "2")
    c.put("b", "x")
    c.delete("a")
    m["p1"] = c.put("p/1", "1")["header"]["revision"]
    c.put("p/2", "2")
    c.put("p/3", "3")
    c.delete("p/", prefix=True)
    m["kq"] = c.put('k"q\xff', "v\x01\n\u00e9")["header"]["revision"]
    m["last"] = c.put("z", "last")["header"]["revision"]
    return m


EXEC_ENV = "sh -c 'echo \"$ETCD_WATCH_REVISION $ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY " \
           "$ETCD_WATCH_VALUE\"'"

BEFORE_COMPACTION = [
    Case("watch a --rev {a1}"), Case("watch a --rev={a1} --prev-kv"),
    Case("watch --rev {a1} a -w json"), Case("watch a --rev {a1} -w fields --prev-kv"),
    Case("watch a --rev {a1} -w protobuf --prev-kv"), Case("watch a --rev {a1} --hex --prev-kv"),
    Case("watch a --rev {a1} -w table"), Case("watch a --rev {a1} -w bogus"),
    Case("watch p/ --prefix --rev {p1} --prev-kv"), Case("watch p/1 p/3 --rev {p1}"),
    Case("watch p/1 p/3 --rev {p1} -w json"),
    Case("watch '' --prefix --rev {last}"), Case("watch '' --rev {a1}"),
    Case("watch --prefix p --rev {p1} -w fields"),
    Case("watch $'k\"q\\xff' --rev {kq}"), Case("watch $'k\"q\\xff' --rev {kq} -w json"),
    Case("watch $'k\"q\\xff' --rev {kq} -w fields --hex"),
    Case("watch a b c --rev {a1}"), Case("watch a --rev {a1} -- echo hi"),
    Case("watch a --rev {a1} -- " + EXEC_ENV), Case("watch $'k\"q\\xff' --rev {kq} -- " + EXEC_ENV),
    Case("watch a --rev {a1} -- sh -c 'exit 3'"), Case("watch a --rev {a1} -- /nonexistent/x"),
    Case("watch a --rev {a1} -- no-such-command-here"),
    Case("watch -- a --rev {a1}"),
    # live: the writes come after the watch started (from the next revision, so none is missed)
    Case("watch live --rev {next} --prev-kv", [
        write(lambda c, m: c.put("live", "1")), WAIT, write(lambda c, m: c.put("live", "2")),
        WAIT, write(lambda c, m: c.delete("live")), WAIT]),
    Case("watch live --rev {next} -w json", [
        write(lambda c, m: c.put("live", "1")), WAIT, write(lambda c, m: c.put("live", "2")),
        WAIT]),
    # a range that holds no key: etcd refuses it at once (exit 5; in -i the others go on)
    Case("watch b a"), Case("watch a a -w json"), Case("watch b a -w fields --rev {a1}"),
    Case("watch b a -w protobuf"), Case("watch b a -w table"), Case("watch b a -- echo never"),
    Case("watch -i", [line("watch b a --rev {a1}"), line("watch a --rev {a1}"), line("progress"),
                      EOF]),
    Case("watch nothing-happens-here"),
    Case("--endpoints=127.0.0.1:1 watch a"),  # nothing answers: both retry for ever
    # arguments and environment
    Case("watch"), Case("watch --prefix a b"), Case("watch a --"), Case("watch a b --"),
    Case("watch --rev x a", help=True), Case("watch --bogus a", help=True),
    Case("watch --rev {a1}", env={"ETCDCTL_WATCH_KEY": "a"}),
    Case("watch --rev {p1} --prev-kv", env={"ETCDCTL_WATCH_KEY": "p/1",
                                             "ETCDCTL_WATCH_RANGE_END": "p/3"}),
    Case("watch", env={"ETCDCTL_WATCH_RANGE_END": "x"}),
    Case("watch a", env={"ETCDCTL_WATCH_KEY": "a"}),
    Case("watch a -- echo", env={"ETCDCTL_WATCH_KEY": "a"}),
    Case("watch --rev {a1} -- echo hi", env={"ETCDCTL_WATCH_KEY": "a"}),
    # interactive
    Case("watch -i", [line("watch a --rev {a1}"), line("progress"), line("watch b --rev {a1}"),
                      line("progress"), line("bogus"), line(""), line("   "), line("watch"),
                      line("watch a b --prefix"), line("progress now"), EOF]),
    Case("watch -i -w json", [line("watch a --rev {a1} --prev-kv"), line("progress"), EOF]),
    Case("watch -i", [line("progress"), line('watch "a" --rev={a1}'),
                      line('watch "p/" --prefix --rev {p1}'),
                      line('watch "\\x6b\\"q\\xff" --rev {kq} --prev-kv'), EOF]),
    Case("watch -i", [line("watch a --rev {a1} -- echo hi"), line(
        'watch p/2 --rev {p1} -- sh -c "echo $ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY"'), EOF]),
    Case("watch -i", [line("watch live2 --rev {next}"), write(lambda c, m: c.put("live2", "v")),
                      WAIT, line("progress"), EOF]),
    Case("watch -i", [line("watch --bogus a")]), Case("watch -i", [line("watch a --")]),
    Case("watch -i", [line("watch -h")]), Case("watch -i", [line("watch --rev x a")]),
    Case("watch -i", [line('watch "a\\x" --rev 1')]),
    Case("watch -i", [line("watch --prefix")]),
    Case("watch -i", [line("watch --rev {a1}"), EOF], env={"ETCDCTL_WATCH_KEY": "a"}),
    Case("watch -i", [line("watch a --rev {a1}"), WAIT, ("raw", "watch b")]),  # no newline: EOF
    Case("watch -i a --prefix", [EOF]),
]

AFTER_COMPACTION = [
    Case("watch a --rev 1"), Case("watch a --rev 1 -w json"), Case("watch a --rev 1 -w fields"),
    Case("watch a --rev 1 -w protobuf"), Case("watch a --rev 1 -w table"),
    Case("watch a --rev -1"), Case("watch p/ --prefix --rev 2 -- echo never"),
    Case("watch -i", [line("watch a --rev 1"), line("watch a --rev {a1}"), line("progress"),
                      EOF]),
    Case("watch -i -w json", [line("watch a --rev 1"), EOF]),
]

# Differences (docs/api.md, "etcdlabctl watch"): each must keep failing.
KNOWN = {
    "watch at the compact revision": (
        "etcd 3.4 serves a start at the compact revision with what compaction kept; etcdlab "
        "cancels it (every event or none: watch_hub.h)", Case("watch b --rev {compacted}")),
    "a single-quoted word in watch -i": (
        "etcdctl 3.4's argify cuts a 'single-quoted' word by the number of words on the line "
        "(a wrong key, or a panic); etcdlabctl takes the quotes off",
        Case("watch -i", [line("watch 'b' --rev {after}"), EOF])),
}


# ---- running cases
class Running:
    """A case's process: its output collected as it comes."""

    def __init__(self, argv, env):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)
        self.out, self.err = bytearray(), bytearray()
        self.changed = time.monotonic()
        self.readers = [threading.Thread(target=self._read, args=(s, b), daemon=True)
                        for s, b in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for r in self.readers:
            r.start()

    def _read(self, stream, buf):
        while True:
            data = stream.read1(65536)
            if not data:
                return
            buf.extend(data)
            self.changed = time.monotonic()

    def size(self) -> int:
        return len(self.out) + len(self.err)

    def settle(self, target=None, first=False):
        """Until the process exits, or its output is quiet; with a target (a function giving
        etcdctl's output size at this point), once it printed that much and is briefly quiet."""
        start = time.monotonic()
        while time.monotonic() - start < LONGEST:
            if self.p.poll() is not None:
                return
            now = time.monotonic()
            quiet = now - max(self.changed, start)
            if target is None:
                if quiet >= (FIRST if first and self.size() == 0 else QUIET):
                    return
            elif quiet >= OURS_QUIET and self.size() >= target():
                return
            time.sleep(0.02)

    def finish(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(10)
            rc = KILLED
        else:
            rc = self.p.returncode
        for r in self.readers:
            r.join(5)
        return rc


def fill(text: str, marks: dict, endpoint: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: endpoint if m.group(1) == "ep" else
                  str(marks[m.group(1)]), text)


def run_case(ctl, endpoint, client, marks, case, targets=None):
    """(rc, stdout, stderr, [output size at each settle])."""
    if "{next}" in str(case.cmd) + str(case.steps):
        marks["next"] = client.get("\0", "\0", count_only=True)["header"]["revision"] + 1
    cmd = fill(case.cmd, marks, endpoint)
    if "--endpoints" not in cmd:
        cmd = f"--endpoints={endpoint} {cmd}"
    env = ctl_environment()
    env.update(case.env)
    env["ETCDCTL_API"] = "3"
    run = Running(["bash", "-c", f"exec {ctl} {cmd}"], env)
    sizes = []

    def settle(first=False):
        k = len(sizes)
        run.settle(None if targets is None else lambda: (targets() or [0] * (k + 1))[k], first)
        sizes.append(run.size())

    settle(first=True)
    for step in case.steps:
        if run.p.poll() is not None:
            break
        kind = step[0]
        try:
            if kind in ("line", "raw"):
                run.p.stdin.write(fill(step[1], marks, endpoint).encode() +
                                  (b"\n" if kind == "line" else b""))
                run.p.stdin.flush()
                if kind == "raw":
                    run.p.stdin.close()
                settle()
            elif kind == "write":
                step[1](client, marks)
            elif kind == "wait":
                settle()
            elif kind == "eof":
                run.p.stdin.close()
                run.p.wait(10)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            break
    rc = run.finish()
    return rc, bytes(run.out), bytes(run.err), sizes


IDS = re.compile(rb"\b\d{12,}\b")


def masked(case: Case, rc, out: bytes, err: bytes):
    if "-w protobuf" in case.cmd and out:
        out = mask_protobuf(out)
    err = b"\n".join(x for x in err.split(b"\n") if not x.startswith(b'{"level"'))
    if case.help:
        return rc, b"", err
    return rc, IDS.sub(b"<id>", out), err


def varint(data: bytes, i: int):
    value, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def fields(data: bytes):
    """(field, wire type, value) of a protobuf message, in order."""
    i = 0
    while i < len(data):
        key, i = varint(data, i)
        if key & 7 == 0:
            value, i = varint(data, i)
        else:
            n, i = varint(data, i)
            value, i = data[i:i + n], i + n
        yield key >> 3, key & 7, value


def mask_protobuf(data: bytes) -> bytes:
    """etcdctl writes each response's encoding with nothing between them: field 1 (the
    header) starts each. Returns them decoded, the header's ids (its fields 1 and 2) zeroed."""
    try:
        out = []
        for f, _, value in fields(data):
            if f == 1:
                out.append([[hf, 0 if hf in (1, 2) else hv] for hf, _, hv in fields(value)])
            else:
                out.append([f, value])
        return repr(out).encode()
    except IndexError:
        return data


ALL = BEFORE_COMPACTION + AFTER_COMPACTION


def writes(case: Case) -> bool:
    return any(step[0] == "write" for step in case.steps)


def run_side(binary, ctl, results, targets_of):
    """Runs every case on one server: those that write one at a time, the others (whose output
    no other case changes) several at once. The etcdlab side's cases wait, when they settle,
    for etcd's result of the same case to know how much output to expect."""
    cases = ALL + [c for _, c in KNOWN.values()]
    with LocalCluster(n=1, binary=binary) as member, \
            concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        member.wait_leader()
        endpoint = member.endpoint(0)
        client = Client([endpoint], timeout=10)
        marks = write_history(client)

        def go(i):
            targets = (lambda: targets_of(i)) if targets_of else None
            results[i] = run_case(ctl, endpoint, client, marks, cases[i], targets)
            if not targets_of:
                DONE[i].set()  # (the other side may look at it now)

        def phase(indexes):
            list(pool.map(go, [i for i in indexes if not writes(cases[i])]))
            for i in indexes:
                if writes(cases[i]):
                    go(i)

        before = len(BEFORE_COMPACTION)
        phase(range(before))
        marks["compacted"] = client.put("b", "y")["header"]["revision"]
        marks["after"] = client.put("b", "z")["header"]["revision"]
        client.compact(marks["compacted"])
        phase(range(before, len(cases)))
        client.close()


DONE: list = []


@pytest.fixture(scope="module")
def outputs():
    if not (os.path.exists(ETCD) and os.path.exists(ETCDCTL)):
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            pytest.fail("etcd 3.4 is not installed (make deps installs etcd-server, etcd-client)")
        pytest.skip("etcd 3.4 is not installed")
    count = len(ALL) + len(KNOWN)
    DONE[:] = [threading.Event() for _ in range(count)]
    theirs, ours = [None] * count, [None] * count

    def targets_of(i):
        DONE[i].wait(120)
        return theirs[i][3] if theirs[i] else None

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        a = pool.submit(run_side, ETCD, ETCDCTL, theirs, None)
        b = pool.submit(run_side, None, find_binary("etcdlabctl"), ours, targets_of)
        a.result()
        b.result()
    return theirs, ours


def describe(case, a, b) -> str:
    return (f"$ {case.cmd} {case.steps or ''} {case.env or ''}\n    etcdctl:    {a!r}\n"
            f"    etcdlabctl: {b!r}")


def test_etcdlabctl_watch_prints_what_etcdctl_watch_prints(outputs):
    theirs, ours = outputs
    diffs = []
    for i, case in enumerate(ALL):
        a, b = masked(case, *theirs[i][:3]), masked(case, *ours[i][:3])
        if a != b:
            diffs.append(describe(case, a, b))
    assert not diffs, f"{len(diffs)} of {len(ALL)} watch commands differ:\n" + "\n".join(diffs)


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(
    strict=True, reason=reason)) for name, (reason, _) in KNOWN.items()])
def test_known_difference(outputs, name):
    theirs, ours = outputs
    i = len(ALL) + list(KNOWN).index(name)
    case = KNOWN[name][1]
    a, b = masked(case, *theirs[i][:3]), masked(case, *ours[i][:3])
    assert a == b, describe(case, a, b)


def test_the_cases_cover_what_they_say(outputs):
    """On etcdctl's side: events, a cancellation with its exit, progress lines, exec output."""
    theirs, _ = outputs
    outs = b"".join(r[1] for r in theirs[:len(ALL)])
    errs = b"".join(r[2] for r in theirs[:len(ALL)])
    assert b"PUT\n" in outs and b"DELETE\n" in outs and b"progress notify: " in outs
    assert b"watch was canceled (etcdserver: mvcc: required revision has been compacted)" in errs
    assert {r[0] for r in theirs[:len(ALL)]} >= {KILLED, 1, 3, 4, 5, 128}


def watch_lines(proc: Running, count: int, timeout: float = 15.0) -> list:
    deadline = time.monotonic() + timeout
    while proc.out.count(b"\n") < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return bytes(proc.out).decode().splitlines()


def test_progress_notify_is_an_extension_that_prints_etcds_lines():
    """etcdctl 3.4 has no --progress-notify (3.5 does): etcdlabctl asks for notifications and
    prints "progress notify: <revision>" for each, against etcd 3.4 and etcdlab alike."""
    if not os.path.exists(ETCD):
        pytest.skip("etcd 3.4 is not installed")
    for binary in (ETCD, None):
        with LocalCluster(n=1, binary=binary, extra_args=[
                "--experimental-watch-progress-notify-interval=300ms"]) as member:
            member.wait_leader()
            rev = Client([member.endpoint(0)]).put("other", "x")["header"]["revision"]
            proc = Running([find_binary("etcdlabctl"), f"--endpoints={member.endpoint(0)}",
                            "watch", "quiet", "--progress-notify"], dict(os.environ))
            lines = watch_lines(proc, 2)
            proc.finish()
            assert lines[:2] == [f"progress notify: {rev}"] * 2, (binary, lines)


def test_a_watch_moves_to_the_next_endpoint_and_misses_nothing():
    """The member etcdlabctl streams from (the first endpoint) is killed: it makes the stream
    again on the next one and creates the watch from the revision after the last it printed,
    as etcdctl's client does: every event once, in order."""
    with LocalCluster(n=3) as cluster:
        cluster.wait_leader()
        writer = cluster.client(members=[1, 2], timeout=10)
        first = writer.put("r/0", "0")["header"]["revision"]
        proc = Running([find_binary("etcdlabctl"), "--endpoints=" + ",".join(cluster.endpoints),
                        "watch", "r/", "--prefix", f"--rev={first}"], dict(os.environ))
        for i in range(1, 4):
            writer.put(f"r/{i}", str(i))
        watch_lines(proc, 12)
        cluster.kill(0)
        cluster.wait_leader()
        for i in range(4, 8):
            writer.put(f"r/{i}", str(i))
        lines = watch_lines(proc, 24)
        time.sleep(0.3)  # nothing more may come
        rc = proc.finish()
        writer.close()
    assert rc == KILLED
    assert bytes(proc.out).decode().splitlines() == [
        x for i in range(8) for x in ("PUT", f"r/{i}", str(i))], (lines, bytes(proc.err))
