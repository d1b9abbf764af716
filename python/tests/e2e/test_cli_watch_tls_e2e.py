"""etcdlabctl's watch stream over TLS (issue 19): `watch`, `watch -i` and the lock recipe (whose
waits are watches) against a TLS etcdlab and a TLS etcd 3.4, with --cacert/--cert/--key and an
https:// endpoint. The stream is read and written at once (the create requests, the nudges,
`progress`, while the answers come), which an OpenSSL stream allows only from one thread: these
tests are what failed before the stream got its own I/O thread. The plaintext behaviour is
test_cli_watch_compat.py's and test_cli_lock_compat.py's."""

import os
import queue
import shutil
import signal
import subprocess
import threading
import time

import pytest

from etcdlab.local import LocalCluster, find_binary

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
WAIT = 15.0  # seconds any one expected output may take


@pytest.fixture(scope="module", params=["etcdlab", "etcd-3.4"])
def server(request):
    binary = None
    if request.param == "etcd-3.4":
        if not os.path.exists(ETCD):
            if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
                pytest.fail("etcd 3.4 is needed")
            pytest.skip("etcd 3.4 is not installed")
        binary = ETCD
    with LocalCluster(n=1, tls=True, binary=binary) as c:
        c.wait_leader()
        yield c


class Ctl:
    """etcdlabctl over TLS with the cluster's CA and client certificate; stdout read by a thread
    so that a test can wait for lines with a deadline."""

    def __init__(self, c: LocalCluster, *args: str, stdin: bool = False) -> None:
        p = c.pki
        env = {k: v for k, v in os.environ.items()
               if k not in ("ETCDCTL_CACERT", "ETCDCTL_CERT", "ETCDCTL_KEY")}
        self.proc = subprocess.Popen(
            [find_binary("etcdlabctl"), "--endpoints", f"https://127.0.0.1:{c.client_ports[0]}",
             "--cacert", p.ca.cert, "--cert", p.client.cert, "--key", p.client.key, *args],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env)
        self.lines: "queue.Queue[str | None]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, *wanted: str) -> None:
        """The next lines are `wanted`, each within WAIT seconds."""
        for w in wanted:
            try:
                got = self.lines.get(timeout=WAIT)
            except queue.Empty:
                raise AssertionError(f"etcdlabctl printed no {w!r} within {WAIT} s; "
                                     f"stderr so far: {self.stop()}")
            assert got == w, f"expected {w!r}, got {got!r}; stderr: {self.stop()}"

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self, sig=signal.SIGTERM) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def test_watch_over_tls_prints_every_event(server):
    """Rule: `etcdlabctl watch` on an https:// endpoint with --cacert/--cert/--key streams the
    events as over plaintext: history from --rev, then live writes."""
    cl = server.client()
    try:
        first = cl.put("tw/a", "1")["header"]["revision"]
        ctl = Ctl(server, "watch", "tw/", "--prefix", "--rev", str(first))
        try:
            ctl.expect("PUT", "tw/a", "1")
            cl.put("tw/b", "2")
            cl.delete("tw/a")
            ctl.expect("PUT", "tw/b", "2", "DELETE", "tw/a")
        finally:
            ctl.stop()
    finally:
        cl.close()


def test_interactive_watch_over_tls_creates_watches_while_the_stream_is_read(server):
    """Rule: `watch -i` over TLS: watches created from stdin (written on the stream while it is
    being read) each get their events, and `progress` is sent and answered."""
    cl = server.client()
    ctl = Ctl(server, "watch", "-i", stdin=True)
    try:
        # (--rev: the writes may come before the watches are made; none is missed)
        base = cl.put("ti/base", "0")["header"]["revision"]
        ctl.send(f"watch ti/one --rev {base + 1}")
        rev = cl.put("ti/one", "x")["header"]["revision"]
        ctl.expect("PUT", "ti/one", "x")
        ctl.send(f"watch ti/two --rev {rev}")
        last = cl.put("ti/two", "y")["header"]["revision"]
        ctl.expect("PUT", "ti/two", "y")
        ctl.send("progress")
        # one progress notification per watch (etcdctl's printing of it).
        ctl.expect(f"progress notify: {last}", f"progress notify: {last}")
    finally:
        ctl.stop()
        cl.close()


def test_lock_over_tls_waits_for_the_holder_through_the_watch_stream(server):
    """Rule: `etcdlabctl lock` over TLS: a second locker waits (a watch on the holder's key)
    and gets the lock as soon as the holder lets it go."""
    holder = Ctl(server, "lock", "tls-lock")
    try:
        key = holder.lines.get(timeout=WAIT)
        assert key and key.startswith("tls-lock/"), f"{key!r}; stderr: {holder.stop()}"
        waiter = Ctl(server, "lock", "tls-lock", "echo", "second-has-it")
        try:
            time.sleep(0.5)  # (it must still be waiting: the holder has the lock)
            assert waiter.lines.empty() and waiter.proc.poll() is None, waiter.stop()
            holder.stop(signal.SIGINT)
            waiter.expect("second-has-it")
            assert waiter.proc.wait(timeout=WAIT) == 0, waiter.stop()
        finally:
            waiter.stop()
    finally:
        holder.stop()
