"""The link proxies (etcdlab/link_proxy.py) on real sockets: fake members that send and record
peer frames, then one real cluster whose members reach each other only through the proxies.
Negative checks ("nothing arrived") are made after a later frame on the same path did arrive,
never by waiting an arbitrary time. Under ETCDLAB_TLS=1 the fake members speak TLS too (as
members with https:// peer URLs do), so every fault is also tried through a proxy that ends
TLS on both sides."""

import os
import pathlib
import random
import socket
import ssl
import struct
import threading
import time

from etcdlab import peer_wire as w
from etcdlab.link_proxy import LinkProxies
from etcdlab.local import LocalCluster, TestPki

A, B, C = 0xA, 0xB, 0xC  # member ids of indexes 0, 1, 2

# Over TLS: the fake members' (serving, dialling) contexts, and the proxies' own, all with
# certificates of the one test CA.
PKI = TestPki.shared() if os.environ.get("ETCDLAB_TLS") == "1" else None
MEMBER_TLS = PKI.peer_tls("fake-member") if PKI else (None, None)
PROXY_TLS = PKI.peer_tls("link-proxy") if PKI else None


class Sink:
    """A fake member's peer port: records every frame of every connection, whole."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.frames: list[bytes] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn):
        if MEMBER_TLS[0] is not None:
            try:
                conn = MEMBER_TLS[0].wrap_socket(conn, server_side=True)
            except OSError:
                return
        f = conn.makefile("rb")
        try:
            while True:
                header = f.read(8)
                if len(header) < 8:
                    return
                body = f.read(struct.unpack("<I", header[:4])[0])
                with self.lock:
                    self.frames.append(header + body)
        except OSError:
            return

    def payloads(self, kind=w.MESSAGE) -> list[bytes]:
        with self.lock:
            return [f[9:] for f in self.frames if f[8] == kind]

    def wait_for(self, payload: bytes, within: float = 5.0) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if payload in self.payloads():
                return True
            time.sleep(0.01)
        return False


def dial(port: int, sender: int, to: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    if MEMBER_TLS[1] is not None:
        # (ragged EOFs not turned into b"": closed() tells an abrupt end from a clean one)
        s = MEMBER_TLS[1].wrap_socket(s, server_hostname="127.0.0.1", suppress_ragged_eofs=False)
    s.sendall(w.hello(1, "t", sender, to))
    return s


def closed(s: socket.socket, within: float = 5.0) -> str:
    """'reset', 'eof' or 'open' (still open after `within` s). Over TLS a reset reaches Python's
    ssl as an end without close_notify (SSLEOFError), a clean close as close_notify (b"")."""
    s.settimeout(within)
    try:
        return "eof" if s.recv(1) == b"" else "open"
    except (ConnectionResetError, ssl.SSLEOFError):
        return "reset"
    except socket.timeout:
        return "open"


def proxies_for(*sinks):
    links = LinkProxies(seed=7, tls=PROXY_TLS)
    ports = [links.add(i, s.port) for i, s in enumerate(sinks)]
    for i, ident in enumerate((A, B, C)[:len(sinks)]):
        links.learn(i, ident)
    return links, ports


def test_a_cut_link_resets_its_connections_and_refuses_new_ones_until_healed():
    sink = Sink()
    links, (port,) = proxies_for(sink)
    links.learn(1, B)
    try:
        s = dial(port, B, A)  # link 1 -> 0
        s.sendall(w.frame(w.MESSAGE, b"before"))
        assert sink.wait_for(b"before")
        links.set(1, 0, cut="reset")
        assert closed(s) == "reset", "an open connection of a cut link is reset"
        s2 = dial(port, B, A)
        try:
            s2.sendall(w.frame(w.MESSAGE, b"during"))
            outcome = closed(s2)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError):
            outcome = "reset"  # the reset after the hello came before this frame went out
        assert outcome == "reset", "a new connection on a cut link is reset after its hello"
        links.heal()
        s3 = dial(port, B, A)
        s3.sendall(w.frame(w.MESSAGE, b"after"))
        assert sink.wait_for(b"after"), "a healed link delivers again"
        assert b"during" not in sink.payloads(), "nothing sent on a cut link arrives"
    finally:
        links.close()


def test_a_blackholed_link_holds_frames_silently_and_delivers_them_after_heal():
    sink = Sink()
    links, (port,) = proxies_for(sink)
    links.learn(1, B), links.learn(2, C)
    try:
        s = dial(port, B, A)
        s.sendall(w.frame(w.MESSAGE, b"first"))
        assert sink.wait_for(b"first")
        links.set(1, 0, cut="blackhole")
        s.sendall(w.frame(w.MESSAGE, b"held"))
        other = dial(port, C, A)  # link 2 -> 0 is not cut: its frame is the barrier
        other.sendall(w.frame(w.MESSAGE, b"barrier"))
        assert sink.wait_for(b"barrier")
        assert b"held" not in sink.payloads(), "a blackholed link delivers nothing"
        assert closed(s, within=0.3) == "open", "a blackhole does not close the connection"
        links.heal()
        assert sink.wait_for(b"held"), "what a blackhole held flows once healed"
    finally:
        links.close()


def test_a_one_way_cut_stops_one_direction_only():
    sink_a, sink_b = Sink(), Sink()
    links, (port_a, port_b) = proxies_for(sink_a, sink_b)
    try:
        links.set(0, 1, cut="reset")  # A cannot send to B
        a_to_b = dial(port_b, A, B)
        a_to_b.sendall(w.frame(w.MESSAGE, b"a->b"))
        b_to_a = dial(port_a, B, A)
        b_to_a.sendall(w.frame(w.MESSAGE, b"b->a"))
        assert sink_a.wait_for(b"b->a"), "B still reaches A"
        assert closed(a_to_b) == "reset"
        assert b"a->b" not in sink_b.payloads()
    finally:
        links.close()


def test_a_delayed_link_delivers_every_frame_in_order_even_after_the_sender_closed():
    sink = Sink()
    links, (port,) = proxies_for(sink)
    links.learn(1, B)
    try:
        links.set(1, 0, delay_ms=(1, 30))
        s = dial(port, B, A)
        sent = [f"m{n}".encode() for n in range(300)]
        t0 = time.monotonic()
        for p in sent:
            s.sendall(w.frame(w.MESSAGE, p))
        s.close()  # what was sent before the close is still delivered, late
        assert sink.wait_for(sent[-1], within=20), \
            f"{len(sink.payloads())} of {len(sent)} frames arrived (the last: " \
            f"{sink.payloads()[-1:]}); the proxy counted {dict(links.stats)}"
        assert time.monotonic() - t0 >= 0.001 * len(sent) / 300
        assert sink.payloads() == sent, "every frame, once, in the order sent"
        assert links.stats[("delayed", 1, 0)] == 300
    finally:
        links.close()


def test_drops_take_whole_messages_and_whole_snapshots_and_never_corrupt_a_frame():
    sink = Sink()
    links, (port,) = proxies_for(sink)
    links.learn(1, B)
    rng = random.Random(3)
    try:
        links.set(1, 0, drop=0.3, delay_ms=(0, 3))
        s = dial(port, B, A)
        sent = []
        for n in range(200):
            if n % 40 == 20:  # a snapshot: its begin frame, then 3 chunks of its payload
                chunks = [rng.randbytes(64 << 10) for _ in range(3)]
                begin = w.varint(sum(map(len, chunks))) + f"snap{n}".encode()
                frames = [w.frame(w.SNAPSHOT_BEGIN, begin)] + \
                    [w.frame(w.SNAPSHOT_CHUNK, c) for c in chunks]
            else:
                frames = [w.frame(w.MESSAGE, f"m{n}:".encode() + rng.randbytes(rng.randint(0, 50000)))]
            for f in frames:
                s.sendall(f)
            sent += frames
        links.set(1, 0)  # the end marker is never dropped
        s.sendall(w.frame(w.MESSAGE, b"end"))
        sent.append(w.frame(w.MESSAGE, b"end"))
        assert sink.wait_for(b"end", within=30)
        got = [f for f in sink.frames if f[8] != w.HELLO]
        for f in got:
            assert w.crc32c(f[8:]) == struct.unpack_from("<I", f, 4)[0], "a frame arrives whole"
        it = iter(sent)
        assert all(f in it for f in got), "what arrives is what was sent, in order"
        dropped = links.stats[("dropped", 1, 0)]
        assert 0 < dropped and len(got) == len(sent) - dropped
        kinds = [f[8] for f in got]
        for i, k in enumerate(kinds):  # a snapshot arrives with all of its chunks or not at all
            if k == w.SNAPSHOT_BEGIN:
                assert kinds[i + 1:i + 4] == [w.SNAPSHOT_CHUNK] * 3
            if k == w.SNAPSHOT_CHUNK:
                assert kinds[i - 1] in (w.SNAPSHOT_BEGIN, w.SNAPSHOT_CHUNK)
    finally:
        links.close()


def test_members_reach_each_other_only_through_the_proxies():
    """Member 2 cut off both ways at its proxies: the others commit without it, it serves no
    linearizable read; healed, it catches up."""
    with LocalCluster(n=3, link_proxies=True) as cluster:
        cluster.wait_leader()
        for i in range(3):
            cluster.member_id(i)
        for j in (0, 1):
            cluster.links.set(2, j, cut="reset")
            cluster.links.set(j, 2, cut="reset")
        c = cluster.client([0, 1])
        assert c.wait(lambda: c.put("cut", "x"), 15), "the majority commits without member 2"
        lone = cluster.client([2], timeout=1.0)
        assert lone.wait(lambda: lone.get("cut", serializable=True)["header"], 5)
        assert lone.get("cut", serializable=True).get("kvs") is None, \
            "nothing reached member 2 but through its proxies"
        cluster.links.heal()
        assert lone.wait(lambda: lone.value("cut") == b"x", 20), "healed, member 2 catches up"
        c.close()
        lone.close()


def test_a_snapshot_cut_off_mid_transfer_is_sent_again_and_leaves_no_staged_file():
    """A member away while the others wrote past their snapshots catches up by a snapshot; the
    first ones reach it cut off (their chunks lost). It must drop each such stream and its
    staged file, and be sent the snapshot again once the link is healed."""
    with LocalCluster(n=3, link_proxies=True, snapshot_count=50) as cluster:
        cluster.wait_leader()
        for i in range(3):
            cluster.member_id(i)
        v = (cluster.wait_leader() + 1) % 3
        cluster.stop(v)
        c = cluster.client([i for i in range(3) if i != v])
        for n in range(300):
            c.put(f"snap/{n}", str(n))
        for j in range(3):
            if j != v:
                cluster.links.set(j, v, truncate_snapshots=True)
        cluster.start_member(v)
        truncated = lambda: sum(n for (what, _, b), n in cluster.links.stats.items()
                                if what == "snapshots truncated" and b == v)
        assert c.wait(truncated, 30), "the member was sent a snapshot, and it was cut off"
        log = pathlib.Path(cluster.log_path(v))
        assert c.wait(lambda: "snapshot stream cut short" in log.read_text(errors="replace"), 30), \
            "the receiver dropped the cut-off stream"
        cluster.links.heal()
        mine = cluster.client([v])
        assert mine.wait(lambda: mine.get("snap/", prefix=True, serializable=True,
                                          count_only=True).get("count") == 300, 30), \
            "healed, the snapshot is sent again and the member catches up"
        left = list(pathlib.Path(cluster.data_dir, cluster.names[v]).rglob("*.part"))
        assert not left, f"a cut-off snapshot left staged files: {left}"
        c.close()
        mine.close()
