"""Real etcdlab clusters on loopback, for tests and notebooks: processes in temporary data
directories, with the faults a test needs (SIGKILL, SIGSTOP/SIGCONT, restart).

    with LocalCluster(n=3) as cluster:
        leader = cluster.wait_leader()
        cluster.client().put("k", "v")
        cluster.kill(leader)
        ...

Ports are picked free at start unless given (``client_ports=[...]``, ``peer_ports=[...]``, one
per member, all distinct: for a firewall or a port range you must stay in). Data goes to a fresh
temporary folder, removed on close, unless ``data_dir=`` names one (created if missing, never
removed). Each member keeps its data in <data_dir>/m<i>/ and logs to <data_dir>/m<i>.log (kept on
failure: the path is in every error message).

    with LocalCluster(n=3, client_ports=[32379, 32479, 32579],
                      peer_ports=[32380, 32480, 32580], data_dir="cluster-data") as cluster:
        ...

``tls=True`` (or ETCDLAB_TLS=1 in the environment, which runs a whole test suite over TLS)
serves clients and peers over https:// with mutual TLS: members get --cert-file, --key-file,
--trusted-ca-file, --client-cert-auth and the --peer-* twins, with certificates of one CA made
at run time for the whole process (certs.py; ``cluster.pki``); ``cluster.client()`` trusts that
CA and presents its client certificate (no CN: it names no user). With ETCDLAB_TLS=1 every
Python client and every etcdctl/etcdlabctl started afterwards does too
(TestPki.make_default), so tests written for plaintext run unchanged.

``link_proxies=True`` puts a TCP proxy in front of each member's peer port (link_proxy.py):
members advertise the proxy's port and listen on another, so they reach each other only
through the proxies, and ``cluster.links`` cuts, delays or drops each directed link A→B. Over
TLS the proxies end TLS on both sides with a peer certificate of the test CA (link_proxy.py).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Optional

from .certs import TestPki
from .client import Client, EtcdError
from .link_proxy import LinkProxies

__all__ = ["LocalCluster", "TestPki", "find_binary"]


def find_binary(name: str = "etcdlab") -> str:
    """build/bin/<name> of this checkout (ETCDLAB_BIN_DIR overrides)."""
    explicit = os.environ.get("ETCDLAB_BIN_DIR")
    if explicit:
        return os.path.join(explicit, name)
    here = pathlib.Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "build" / "bin" / name
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError(f"{name} not found: build it (make) or set ETCDLAB_BIN_DIR")


def free_ports(count: int) -> list[int]:
    socks, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


if os.environ.get("ETCDLAB_TLS") == "1":
    TestPki.shared()  # (now: clients made before the first cluster speak TLS too)


def _port(p, what: str) -> int:
    if not isinstance(p, int) or isinstance(p, bool):
        raise TypeError(f"{what}: a port is an int, not {p!r}")
    if not 1 <= p <= 65535:
        raise ValueError(f"{what}: {p} is not a TCP port (1 .. 65535)")
    return p


def _ports(ports, n: int, what: str) -> Optional[list[int]]:
    """`ports` checked: n distinct ports, one per member (None: pick free ones)."""
    if ports is None:
        return None
    if isinstance(ports, (str, bytes)) or not hasattr(ports, "__iter__"):
        raise TypeError(f"{what} is a list of {n} ports, one per member, not {ports!r}")
    ports = [_port(p, what) for p in ports]
    if len(ports) != n:
        raise ValueError(f"{what} has {len(ports)} port(s) for {n} member(s)")
    if len(set(ports)) != n:
        raise ValueError(f"{what} repeats a port: {ports}")
    return ports


class LocalCluster:
    """``n`` members on loopback, numbered 0 .. n-1 (members added later get the next numbers;
    a removed member keeps its number, with no process).

    ``client_ports`` and ``peer_ports`` (n distinct ports each, default: free ones picked at
    start) and ``data_dir`` (created if missing and kept; default: a temporary folder removed by
    :meth:`close`) place the cluster; see the module docstring. ``heartbeat_ms``,
    ``election_ms`` and ``snapshot_count`` are the members' flags of the same names.
    ``failpoints=True`` starts the members with ``--enable-failpoints``, which
    :meth:`partition` and :meth:`heal` need. ``enable_view=True`` starts them with
    ``--enable-view``: the live cluster view's /etcdlab/state, /etcdlab/events and the page at
    /etcdlab/view/ (docs/api.md). ``binary`` may be a real etcd (same flags), as the
    compatibility tests do. Over TLS, ``client_cert_auth=False`` leaves out
    --client-cert-auth: clients still present certificates, which then name no user (tests of
    token auth against etcd 3.4, whose gateway otherwise calls as its own certificate's CN)."""

    def __init__(self, n: int = 3, *, binary: Optional[str] = None, data_dir: Optional[str] = None,
                 client_ports: Optional[list[int]] = None,
                 peer_ports: Optional[list[int]] = None,
                 heartbeat_ms: int = 50, election_ms: int = 500, snapshot_count: int = 100000,
                 extra_args: Optional[list[str]] = None, token: Optional[str] = None,
                 failpoints: bool = False, link_proxies: bool = False, link_seed: int = 0,
                 tls: Optional[bool] = None, client_cert_auth: bool = True,
                 enable_view: bool = False):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"a cluster has at least one member, not n={n!r}")
        client_ports = _ports(client_ports, n, "client_ports")
        peer_ports = _ports(peer_ports, n, "peer_ports")
        clash = set(client_ports or []) & set(peer_ports or [])
        if clash:
            raise ValueError(f"client_ports and peer_ports share {sorted(clash)}: each port serves "
                             f"one member's clients or peers")
        self.n = n
        if tls is None:
            tls = os.environ.get("ETCDLAB_TLS") == "1"
        self.pki: Optional[TestPki] = TestPki.shared() if tls else None
        self.scheme = "https" if tls else "http"
        self.client_cert_auth = client_cert_auth
        self.binary = binary or find_binary()
        self._own_dir = data_dir is None
        if data_dir is not None:
            os.makedirs(data_dir, exist_ok=True)
        self.data_dir = os.fspath(data_dir) if data_dir is not None else \
            tempfile.mkdtemp(prefix="etcdlab-cluster-")
        self.heartbeat_ms = heartbeat_ms
        self.election_ms = election_ms
        self.snapshot_count = snapshot_count
        self.extra_args = list(extra_args or [])
        if failpoints:
            self.extra_args.append("--enable-failpoints")
        if enable_view:
            self.extra_args.append("--enable-view")
        self.token = token or f"etcdlab-test-{os.getpid()}-{time.monotonic_ns()}"
        free = iter(free_ports((client_ports is None) * n + (peer_ports is None) * n))
        self.client_ports = client_ports or [next(free) for _ in range(n)]
        self.peer_ports = peer_ports or [next(free) for _ in range(n)]
        # The ports members listen on for peers: their advertised peer ports, unless proxies
        # stand there (then each member listens on a port only its proxy dials).
        self.links: Optional[LinkProxies] = None
        self.listen_peer_ports = list(self.peer_ports)
        if link_proxies:
            # Over TLS each proxy ends TLS on both sides with a certificate of the test CA (a
            # man in the middle the test owns), so it can still read, drop and delay frames.
            self.links = LinkProxies(link_seed, tls=self.pki.peer_tls("link-proxy")
                                     if self.pki else None)
            self.listen_peer_ports = free_ports(n)
            for i in range(n):
                self.links.add(i, self.listen_peer_ports[i], self.peer_ports[i])
        self.names = [f"m{i}" for i in range(n)]
        self.procs: list[Optional[subprocess.Popen]] = [None] * n
        self.initial_cluster = ",".join(
            f"{self.names[i]}={self.scheme}://127.0.0.1:{self.peer_ports[i]}" for i in range(n))
        self._initial = [self.initial_cluster] * n  # per member: its --initial-cluster
        self._state = ["new"] * n                  # per member: its --initial-cluster-state
        self.removed: set[int] = set()
        self._ids: dict[int, int] = {}
        # Per member: what its command runs under (disk_faults.py starts a member on a small
        # disk inside a mount namespace this way).
        self.launch_prefix: dict[int, list[str]] = {}

    # ---- lifecycle
    def __enter__(self) -> "LocalCluster":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close(keep_data=exc[0] is not None)

    def endpoint(self, i: int) -> str:
        return f"127.0.0.1:{self.client_ports[i]}"

    @property
    def endpoints(self) -> list[str]:
        return [self.endpoint(i) for i in self.members]

    def log_path(self, i: int) -> str:
        return os.path.join(self.data_dir, f"{self.names[i]}.log")

    def args(self, i: int, state: Optional[str] = None) -> list[str]:
        state = state or self._state[i]
        return [
            self.binary, "--name", self.names[i],
            "--data-dir", os.path.join(self.data_dir, self.names[i]),
            "--listen-client-urls", f"{self.scheme}://127.0.0.1:{self.client_ports[i]}",
            "--advertise-client-urls", f"{self.scheme}://127.0.0.1:{self.client_ports[i]}",
            "--listen-peer-urls", f"{self.scheme}://127.0.0.1:{self.listen_peer_ports[i]}",
            "--initial-advertise-peer-urls", f"{self.scheme}://127.0.0.1:{self.peer_ports[i]}",
            "--initial-cluster", self._initial[i],
            "--initial-cluster-state", state,
            "--initial-cluster-token", self.token,
            "--heartbeat-interval", str(self.heartbeat_ms),
            "--election-timeout", str(self.election_ms),
            "--snapshot-count", str(self.snapshot_count),
            "--log-level", "info",
        ] + (self.pki.flags(self.names[i], self.client_cert_auth) if self.pki else []) + \
            self.extra_args

    def start_member(self, i: int, state: Optional[str] = None) -> None:
        assert self.procs[i] is None or self.procs[i].poll() is not None, "already running"
        log = open(self.log_path(i), "ab")
        command = self.launch_prefix.get(i, []) + self.args(i, state)
        self.procs[i] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def start(self) -> None:
        for i in range(self.n):
            self.start_member(i)

    @property
    def members(self) -> list[int]:
        """The indexes of the members not removed."""
        return [i for i in range(self.n) if i not in self.removed]

    def close(self, keep_data: bool = False) -> None:
        for i in range(self.n):
            self.stop(i, timeout=5)
        if self.links is not None:
            self.links.close()
        if self._own_dir and not keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # ---- faults
    def kill(self, i: int) -> None:
        """SIGKILL: the process dies at once; what it had not fsynced is its own business."""
        p = self.procs[i]
        if p and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()

    def stop(self, i: int, timeout: float = 10) -> Optional[int]:
        """SIGTERM and wait for a clean exit (SIGKILL after `timeout`)."""
        p = self.procs[i]
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.terminate()
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def restart(self, i: int) -> None:
        self.stop(i)
        self.start_member(i)

    def pause(self, i: int) -> None:
        self.procs[i].send_signal(signal.SIGSTOP)

    def resume(self, i: int) -> None:
        self.procs[i].send_signal(signal.SIGCONT)

    def running(self, i: int) -> bool:
        p = self.procs[i]
        return p is not None and p.poll() is None

    # ---- membership
    def member_id(self, i: int) -> int:
        """Member i's id (asked once, then remembered)."""
        if i not in self._ids:
            c = self._client([self.endpoint(i)], timeout=2.0)
            try:
                ident = c.wait(lambda: c.status(self.endpoint(i))["header"]["member_id"], 15)
            finally:
                c.close()
            if not ident:
                raise TimeoutError(f"member {i} did not answer; log {self.log_path(i)}")
            self._ids[i] = ident
            if self.links is not None:
                self.links.learn(i, ident)
        return self._ids[i]

    def _through(self, i: int, via: Optional[list[int]]) -> Client:
        """A client for a membership request about member i: through `via` (indexes, tried in
        order), else every other running member."""
        return self.client(via if via is not None else
                           [j for j in self.members if j != i and self.running(j)])

    def add_member(self, learner: bool = False, start: bool = True,
                   client_port: Optional[int] = None, peer_port: Optional[int] = None,
                   via: Optional[list[int]] = None) -> int:
        """member add through the cluster (or the members `via`), then starts the new member
        with --initial-cluster-state existing (on the given ports, else free ones). Returns its
        index."""
        i = self.n
        chosen = [_port(p, what) for p, what in ((client_port, "client_port"),
                                                 (peer_port, "peer_port")) if p is not None]
        taken = set(self.client_ports) | set(self.peer_ports)
        if set(chosen) & taken or len(set(chosen)) < len(chosen):
            raise ValueError(f"port(s) {chosen} already serve this cluster ({sorted(taken)})")
        free = iter(free_ports((client_port is None) + (peer_port is None)))
        client_port = client_port if client_port is not None else next(free)
        peer_port = peer_port if peer_port is not None else next(free)
        self.n += 1
        self.client_ports.append(client_port)
        self.peer_ports.append(peer_port)
        self.listen_peer_ports.append(peer_port)
        if self.links is not None:
            self.listen_peer_ports[i] = free_ports(1)[0]
            self.links.add(i, self.listen_peer_ports[i], peer_port)
        self.names.append(f"m{i}")
        self.procs.append(None)
        peer_url = f"{self.scheme}://127.0.0.1:{peer_port}"
        c = self._through(i, via)
        try:
            answer = c.member_add([peer_url], learner=learner)
        except BaseException:
            # Not added as far as we know (or unknown): the index stays taken, with no member.
            self.removed.add(i)
            self._initial.append("")
            self._state.append("existing")
            raise
        finally:
            c.close()
        self._ids[i] = answer["member"]["ID"]
        if self.links is not None:
            self.links.learn(i, self._ids[i])
        cluster = [f"{self.names[j]}={self.scheme}://127.0.0.1:{self.peer_ports[j]}"
                   for j in self.members if j != i]
        cluster.append(f"{self.names[i]}={peer_url}")
        self._initial.append(",".join(cluster))
        self._state.append("existing")
        if start:
            self.start_member(i)
        return i

    def remove_member(self, i: int, wait_exit: float = 15.0,
                      via: Optional[list[int]] = None) -> None:
        """member remove through another member (or `via`); the removed process exits on its
        own."""
        ident = self.member_id(i)
        c = self._through(i, via)
        try:
            c.member_remove(ident)
        finally:
            c.close()
        self.removed.add(i)
        p = self.procs[i]
        if p is not None:
            try:
                p.wait(wait_exit)
            except subprocess.TimeoutExpired:
                raise TimeoutError(f"removed member {i} did not exit; log {self.log_path(i)}")

    def promote_member(self, i: int, via: Optional[list[int]] = None) -> dict:
        c = self.client(via if via is not None else [j for j in self.members if j != i])
        try:
            return c.member_promote(self.member_id(i))
        finally:
            c.close()

    # ---- network faults (failpoints=True)
    def partition(self, groups) -> None:
        """Members talk only within their group: each member drops its peer traffic to and from
        every member outside its group (members in no group are isolated)."""
        groups = [set(g) for g in groups]
        ids = {i: self.member_id(i) for i in self.members if self.running(i)}
        for i in ids:
            mine = next((g for g in groups if i in g), {i})
            others = [ids[j] for j in ids if j not in mine]
            c = self._client([self.endpoint(i)], timeout=2.0)
            try:
                c.set_failpoints(self.endpoint(i), drop_to=others, drop_from=others)
            finally:
                c.close()

    def isolate(self, i: int) -> None:
        self.partition([[i]] + [[j for j in self.members if j != i]])

    def heal(self) -> None:
        for i in self.members:
            if not self.running(i):
                continue
            c = self._client([self.endpoint(i)], timeout=2.0)
            try:
                c.set_failpoints(self.endpoint(i))
            finally:
                c.close()

    # ---- observation
    def _client(self, endpoints: list[str], timeout: float) -> Client:
        """A client speaking this cluster's scheme (TLS: the test CA's client certificate)."""
        if self.pki is None:
            return Client(endpoints, timeout=timeout, tls=False)
        return Client(endpoints, timeout=timeout, ca=self.pki.ca.cert,
                      cert=self.pki.client.cert, key=self.pki.client.key)

    def client(self, members: Optional[list[int]] = None, timeout: float = 5.0) -> Client:
        idx = self.members if members is None else members
        return self._client([self.endpoint(i) for i in idx], timeout=timeout)

    def leader(self) -> Optional[int]:
        """The index of the member that says it is leader (asked directly), or None."""
        c = self._client(self.endpoints, timeout=1.0)
        try:
            for i in self.members:
                if not self.running(i):
                    continue
                try:
                    s = c.status(self.endpoint(i))
                except (EtcdError, OSError):
                    continue
                if s.get("leader") and s["leader"] == s["header"]["member_id"]:
                    return i
            return None
        finally:
            c.close()

    def wait_leader(self, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leader = self.leader()
            if leader is not None:
                return leader
            time.sleep(0.05)
        raise TimeoutError(f"no leader within {timeout} s; logs in {self.data_dir}")

    def wait_healthy(self, i: int, timeout: float = 15.0) -> None:
        c = self._client([self.endpoint(i)], timeout=1.0)
        try:
            if not c.wait(lambda: c.health(self.endpoint(i)), timeout):
                raise TimeoutError(f"member {i} not healthy within {timeout} s; log {self.log_path(i)}")
        finally:
            c.close()
