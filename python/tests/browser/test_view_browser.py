"""The cluster view (issue 20) in a real browser: Debian's chromium driven by playwright-core
(pinned in package.json, installed by tools/deps.sh). Each test starts what the page looks at
(the view server on a simulated cluster or on a recording, or real members with --enable-view),
then runs one script here, `node <script>.mjs <url> <artifact dir> [args]`, with a timeout, and
asserts on its exit code and output. The scripts poll the page with deadlines and, when a step
fails, print what the page showed (#status, #event, the members' data attributes) and save a
screenshot. Screenshots go to build/artifacts/view/ (sim-partition.png is the picture in the
README, docs/images/view-partition.png).

Without node, chromium or node_modules the tests are skipped with the reason, except under
make check (ETCDLAB_E2E_REQUIRED=1), where that is an error; likewise a missing build/bin/etcdlab
for the tests on real members.
"""

from __future__ import annotations

import json
import os
import pathlib
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Callable, Optional

import pytest

import etcdlab
from etcdlab.local import LocalCluster, find_binary

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
ARTIFACTS = ROOT / "build" / "artifacts" / "view"
CHROMIUM = "/usr/bin/chromium"
REQUIRED = os.environ.get("ETCDLAB_E2E_REQUIRED") == "1"
SCRIPT_S = 90  # a script's whole run; its own waits are shorter and say what they waited for
SEED, NODES = 3, 5


def _absent(reason: Optional[str]) -> None:
    if reason:
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)


def need_browser() -> None:
    if not shutil.which("node"):
        _absent("node is not installed (Debian package nodejs; make deps)")
    if not os.access(CHROMIUM, os.X_OK):
        _absent(f"{CHROMIUM} is not installed (Debian package chromium; make deps)")
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        _absent(f"playwright-core is not installed in {HERE} (tools/deps.sh runs npm ci there)")


def need_server() -> None:
    try:
        find_binary()
    except FileNotFoundError as e:
        _absent(f"build/bin/etcdlab is not built: {e}")


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line.rstrip("\n"))
    into.put(None)


class Process:
    """A child process whose stdout is read line by line with deadlines (its own session, so
    that a timeout ends it and whatever it started: node's chromium)."""

    def __init__(self, args: list[str], **kw):
        self.args = args
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True, **kw)
        self.out: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=_lines, args=(self.proc.stdout, self.out), daemon=True).start()

    def line(self, deadline: float) -> Optional[str]:
        """The next line (None at the end of output); fails at the deadline."""
        try:
            line = self.out.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            self.kill()
            pytest.fail(f"{' '.join(self.args[:2])} said nothing more within its deadline; "
                        f"its output:\n" + "\n".join(self.seen))
        if line is not None:
            self.seen.append(line)
            print(line)
        return line

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def run_script(script: str, url: str, *args, answers: Optional[dict[str, Callable]] = None,
               timeout: float = SCRIPT_S) -> list[str]:
    """Runs `node <script> <url> <artifacts> args...`; answers its `ASK <word> ...` lines with
    answers[word](rest of the line); fails with its output unless it exits 0 after PASS."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    p = Process(["node", str(HERE / script), url, str(ARTIFACTS), *map(str, args)],
                cwd=HERE, stdin=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while (line := p.line(deadline)) is not None:
            if line.startswith("ASK "):
                word, _, rest = line[4:].partition(" ")
                (answers or {})[word](rest)
                p.proc.stdin.write("ok\n")
                p.proc.stdin.flush()
        rc = p.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        p.kill()
    said = "\n".join(p.seen)
    assert rc == 0 and "PASS" in p.seen, f"{script} failed (exit {rc}); it said:\n{said}"
    return p.seen


def package_path() -> str:
    """PYTHONPATH under which a child imports the etcdlab this test imported (the build's)."""
    return str(pathlib.Path(etcdlab.__file__).resolve().parents[1])


class ViewServer:
    """`python -m etcdlab.view ARGS --port 0`; its first line names the URL."""

    def __init__(self, *args: str):
        env = dict(os.environ, PYTHONPATH=package_path())
        self.p = Process([sys.executable, "-m", "etcdlab.view", *args, "--port", "0"], env=env)
        line = self.p.line(time.monotonic() + 30) or ""
        prefix = "etcdlab view: "
        assert line.startswith(prefix + "http://"), \
            f"etcdlab.view's first line is not '{prefix}<url>': {line!r}"
        self.url = line[len(prefix):].strip()

    def __enter__(self) -> "ViewServer":
        return self

    def __exit__(self, *exc) -> None:
        self.p.kill()


# ---- (1) a simulated cluster, driven from the page -----------------------------------------

def test_sim_page_crashing_the_leader_elects_another_at_a_higher_term():
    """Rule (Raft §5.2): a crashed leader is replaced by another member at a higher term. The
    page's own buttons drive the simulation: play, step, crash, restart, partition, propose.
    The partition's screenshot (5 members, the majority's new leader and its committed
    proposals, the cut links) is the README's picture."""
    need_browser()
    (ARTIFACTS / "sim-partition.png").unlink(missing_ok=True)
    with ViewServer("--seed", str(SEED), "--nodes", str(NODES)) as view:
        run_script("sim.mjs", view.url, NODES)
    assert (ARTIFACTS / "sim-partition.png").stat().st_size > 0


# ---- (2) a recording, replayed ---------------------------------------------------------------

def record(path: pathlib.Path) -> dict:
    """A recorded run of SEED with NODES members from the first event: an election, a
    proposal, the leader isolated and replaced."""
    import etcdlab.view
    c = etcdlab.Cluster(n=NODES, seed=SEED, view_frames=100000)
    assert c.run_until(lambda: c.leader() is not None, timeout_ms=5000), "no leader in 5 s"
    c.propose(b"x")
    c.run(200)
    old = c.leader()
    c.isolate(old)
    assert c.run_until(lambda: c.leader() not in (None, old), timeout_ms=5000), \
        "no new leader 5 s after isolating the old one"
    c.run(200)
    etcdlab.view.save(c, str(path))
    return json.loads(path.read_text())


def test_trace_page_replays_a_recording_with_the_slider_and_offers_no_controls(tmp_path):
    """A recording cannot be changed: no control shows. Dragging the slider moves the frame
    index and the picture to the frame chosen (no leader in the first frame, one in the last).
    The same recording three ways: served by `etcdlab.view --trace`, in a notebook's embed saved
    as HTML (file://, no server), and given to the file:// page's "Open recording…"."""
    need_browser()
    import etcdlab.view
    from etcdlab.view.server import STATIC
    recording = record(tmp_path / "run.json")
    frames = recording["frames"]
    # What the page is asked to show, checked first, so that a failure below is the page's.
    assert len(frames) >= 3 and not any(n["role"] == "leader" for n in frames[0]["nodes"]) \
        and any(n["role"] == "leader" for n in frames[-1]["nodes"]), \
        "the recording does not start before the first election and end after one"
    notebook = tmp_path / "notebook.html"
    notebook.write_text("<!doctype html><html><body><h1>a notebook saved as HTML</h1>\n"
                        + etcdlab.view.embed(recording)._repr_html_()
                        + "\n</body></html>", encoding="utf-8")
    with ViewServer("--trace", str(tmp_path / "run.json")) as view:
        run_script("trace.mjs", view.url, len(frames), NODES, notebook, STATIC / "index.html",
                   tmp_path / "run.json")


# ---- (3) and (4) real members --------------------------------------------------------------

# Plaintext even under ETCDLAB_TLS=1: this chromium has no client certificate to present.

def view_url(cluster: LocalCluster, i: int) -> str:
    return f"{cluster.scheme}://{cluster.endpoint(i)}/etcdlab/view/"


def test_real_page_shows_the_members_and_a_killed_one_down():
    """The page served by member 0 finds all three members (up, one leader) from the member
    list; a killed member shows down within a deadline. Nothing written reaches the page."""
    need_browser()
    need_server()
    with LocalCluster(n=3, enable_view=True, tls=False) as cluster:
        cluster.wait_leader()
        key, value = "view-test-key-7f3a", "view-test-secret-91c2"
        cluster.client().put(key, value)
        victim = 2  # not member 0, whose port serves the page

        def kill(name: str) -> None:
            assert name == cluster.names[victim], name
            cluster.kill(victim)

        run_script("real.mjs", view_url(cluster, 0), 3, cluster.names[victim], key, value,
                   answers={"kill": kill})


def test_auth_page_shows_the_refusal_then_the_members_with_root_credentials():
    """Auth on: /etcdlab/state answers 401 without a root token; the page shows that reason and
    no member, then, given root's name and password, shows the three members."""
    need_browser()
    need_server()
    with LocalCluster(n=3, enable_view=True, tls=False,
                      extra_args=["--bcrypt-cost", "4"]) as cluster:
        cluster.wait_leader()
        c = cluster.client()
        c.user_add("root", "rootpw")
        c.role_add("root")
        c.user_grant_role("root", "root")
        c.auth_enable()
        state = f"{cluster.scheme}://{cluster.endpoint(0)}/etcdlab/state"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(state, timeout=10)
        assert refused.value.code == 401, f"{state} without a token: {refused.value.code}"
        reason = json.loads(refused.value.read())["error"]
        run_script("auth.mjs", view_url(cluster, 0), 3, "root", "rootpw", reason)
