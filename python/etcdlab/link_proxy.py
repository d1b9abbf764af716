"""TCP proxies in front of each member's peer port, so a test controls every DIRECTED peer link
(A→B) from outside the processes: cut it (reset or blackhole), delay its frames, drop them,
heal it.

Why a directed link is one proxy's business: a member sends to a peer only on connections it
dials itself (server/runtime/peer_transport.cc), and the receiver answers on that connection only
to say "you were removed" (peer_receiver.cc). So everything A says to B — Raft messages,
snapshots, node messages — flows on connections A dialed to B's proxy, and B's answers flow on
B's own connections to A's proxy. The proxy in front of B reads each connection's hello (its
first frame) to learn the sender, and applies that link's rule to every later frame.

Faults, per directed link (``LinkProxies.set(a, b, ...)``):

- ``cut="reset"``: open connections are reset (RST, SO_LINGER 0) and new ones are reset right
  after their hello, as a refused or firewalled port answers;
- ``cut="blackhole"``: nothing is read any more, so the sender's socket buffer fills and its
  writes stall, as on a link that silently loses every packet; new connections are accepted and
  held. On heal the held bytes flow again (TCP would have retransmitted them);
- ``delay_ms=(lo, hi)``: every frame is held a random time in [lo, hi] ms, in order (a frame is
  never sent before the one read before it);
- ``drop=p``: each message frame is lost with probability p, whole, as a lossy network loses
  a message; a snapshot (its begin frame and every chunk after it) is lost as one message, so
  the receiver never sees a cut-off transfer. The hello is never dropped;
- ``truncate_snapshots=True``: a snapshot's begin frame passes but its chunks are lost, so the
  receiver sees the transfer cut off by the next message (what a connection broken mid-transfer
  shows it, while the sender believes the snapshot sent): it must drop the stream and its
  staged file, and Raft must send the snapshot again.

Frames are forwarded byte for byte as they were read: the proxy never rewrites one. Members
requests (a joining member's first frame) pass unconditionally. Everything runs on one asyncio
loop in a daemon thread; the public methods are called from any thread.

Over TLS (``LinkProxies(seed, tls=(serving, dialling))``, as LocalCluster passes when its
members use https:// peer URLs) a proxy cannot read frames in the middle of a member's TLS
stream, so it ends TLS on both sides: it serves the dialling member with a certificate of the
cluster's CA (and asks for the member's, as --peer-client-cert-auth does), and dials the member
behind it with the same certificate as its client certificate. It is a man in the middle that
the test owns and the members trust, because the test gave it a certificate of their CA: the
frames it forwards are the plaintext frames, byte for byte, re-encrypted. What it does not
keep: which certificate the dialling member showed (the member behind sees the proxy's), so a
test of certificate checks between members (--peer-cert-allowed-cn) runs without proxies. A
reset cut aborts the TLS connection (RST, no close_notify), as a firewall's reset would.
"""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from . import peer_wire as w

__all__ = ["LinkProxies", "LinkRule"]

_FIRST_FRAME_S = 10.0         # a member sends its hello at once; a silent stranger is dropped
_MAX_FRAME = (64 << 20) + 16  # the transport's own limit (peer_transport.h) plus the kind byte


async def _quiet(coro) -> None:
    """A pump ends when either side closes: that is its normal end, not an error to report."""
    try:
        await coro
    except (asyncio.IncompleteReadError, ConnectionError, OSError, ValueError):
        pass


@dataclass
class LinkRule:
    cut: Optional[str] = None                  # None, "reset" or "blackhole"
    delay_ms: tuple[float, float] = (0.0, 0.0)
    drop: float = 0.0
    truncate_snapshots: bool = False

    @property
    def healthy(self) -> bool:
        return self == LinkRule()


@dataclass(eq=False)  # (hashed by identity: kept in a set)
class _Conn:
    source: int                      # the sender's member id (0: a members request)
    to: int                          # the member index behind the proxy
    writer: asyncio.StreamWriter     # towards the sender
    backend: Optional[asyncio.StreamWriter] = None
    tasks: list = field(default_factory=list)


class LinkProxies:
    """One proxy per member (``add``), all on one event loop. ``seed`` drives the drop and delay
    draws. Members are named by index; ``learn(index, member_id)`` tells the proxies which
    member an id in a hello is (each proxy also learns its own member's id from the hellos it
    sees, which are addressed to it). ``tls``: (serving, dialling) ssl contexts with a
    certificate of the members' CA, for members on https:// peer URLs (module docstring)."""

    def __init__(self, seed: int = 0,
                 tls: Optional[tuple[ssl.SSLContext, ssl.SSLContext]] = None):
        self.rng = random.Random(seed)
        self._serving, self._dialling = tls if tls is not None else (None, None)
        self.ids: dict[int, int] = {}            # member id -> index
        self.rules: dict[tuple[int, int], LinkRule] = {}
        self.stats: Counter = Counter()          # (what, a, b) -> count
        self.leaders: set[tuple[int, int]] = set()  # (term, index) seen sending appends
        self.max_term = 0
        self._conns: set[_Conn] = set()
        self._servers: dict[int, asyncio.base_events.Server] = {}
        self._open: dict[tuple[int, int], asyncio.Event] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="link-proxies",
                                        daemon=True)
        self._thread.start()

    # ---- control (any thread)
    def _run(self, coro, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def add(self, index: int, target_port: int, listen_port: int = 0) -> int:
        """A proxy for member `index` (its real peer port: `target_port`) on `listen_port`
        (0: a free one); returns the port members must dial instead."""
        async def start():
            server = await asyncio.start_server(
                lambda r, wr: self._serve(index, target_port, r, wr), "127.0.0.1", listen_port,
                reuse_address=True, ssl=self._serving,
                ssl_handshake_timeout=_FIRST_FRAME_S if self._serving else None)
            self._servers[index] = server
            return server.sockets[0].getsockname()[1]
        return self._run(start())

    def learn(self, index: int, member_id: int) -> None:
        self.ids[member_id] = index

    def set(self, a: int, b: int, *, cut: Optional[str] = None, delay_ms=(0.0, 0.0),
            drop: float = 0.0, truncate_snapshots: bool = False) -> None:
        """The rule of link a→b (replacing its previous one)."""
        if cut not in (None, "reset", "blackhole"):
            raise ValueError(f"cut is None, 'reset' or 'blackhole', not {cut!r}")
        if not 0.0 <= drop <= 1.0:
            raise ValueError(f"drop is a probability, not {drop!r}")
        if isinstance(delay_ms, (int, float)):
            delay_ms = (delay_ms, delay_ms)
        rule = LinkRule(cut, (float(delay_ms[0]), float(delay_ms[1])), drop,
                        bool(truncate_snapshots))
        self._run(self._apply(a, b, rule))

    def heal(self, a: Optional[int] = None, b: Optional[int] = None) -> None:
        """Link a→b back to healthy (None: every link from a, to b, or all)."""
        for (x, y) in list(self.rules):
            if (a is None or x == a) and (b is None or y == b):
                self._run(self._apply(x, y, LinkRule()))

    def faulty(self) -> dict[tuple[int, int], LinkRule]:
        return {k: r for k, r in self.rules.items() if not r.healthy}

    def close(self) -> None:
        async def stop():
            for s in self._servers.values():
                s.close()
            for c in list(self._conns):
                self._close(c, reset=False)
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in others:
                t.cancel()
            await asyncio.gather(*others, return_exceptions=True)
        try:
            self._run(stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    # ---- on the loop
    def _gate(self, a: int, b: int) -> asyncio.Event:
        ev = self._open.get((a, b))
        if ev is None:
            ev = self._open[(a, b)] = asyncio.Event()
            ev.set()
        return ev

    async def _apply(self, a: int, b: int, rule: LinkRule) -> None:
        self.rules[(a, b)] = rule
        gate = self._gate(a, b)
        if rule.cut == "blackhole":
            gate.clear()
        else:
            gate.set()
        if rule.cut == "reset":
            for c in list(self._conns):
                if c.to == b and self.ids.get(c.source) == a:
                    self.stats[("reset", a, b)] += 1
                    self._close(c, reset=True)

    def _rule(self, source: int, b: int) -> tuple[Optional[int], LinkRule]:
        a = self.ids.get(source)
        return a, self.rules.get((a, b), LinkRule()) if a is not None else LinkRule()

    def _close(self, c: _Conn, reset: bool) -> None:
        self._conns.discard(c)
        for t in c.tasks:
            t.cancel()
        for wr in (c.writer, c.backend):
            if wr is None:
                continue
            if reset and wr is c.writer:
                sock = wr.get_extra_info("socket")
                if sock is not None:
                    try:  # SO_LINGER 0: close() sends RST instead of FIN
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
                    except OSError:
                        pass
                # (abort: at once, with no TLS close_notify exchange first)
                wr.transport.abort()
                continue
            wr.close()

    async def _read_frame(self, reader: asyncio.StreamReader) -> bytes:
        header = await reader.readexactly(w.FRAME_HEADER_BYTES)
        length = struct.unpack_from("<I", header)[0]
        if not 0 < length <= _MAX_FRAME:
            raise ValueError(f"frame length {length}")
        return header + await reader.readexactly(length)

    async def _serve(self, b: int, target_port: int, reader, writer) -> None:
        c = _Conn(0, b, writer)
        self._conns.add(c)
        try:
            first = await asyncio.wait_for(self._read_frame(reader), _FIRST_FRAME_S)
            if first[8] == w.HELLO:
                h = w.decode_hello(first[9:])
                c.source = h["from"]
                self.ids.setdefault(h["to"], b)  # a hello is addressed to our member
            a, rule = self._rule(c.source, b)
            if c.source and rule.cut == "reset":
                self.stats[("refused", a, b)] += 1
                self._close(c, reset=True)
                return
            if c.source and a is not None:
                await self._gate(a, b).wait()  # blackholed: held before it reaches B
                if c not in self._conns:       # (reset while it was held)
                    return
            try:
                back_reader, c.backend = await asyncio.open_connection(
                    "127.0.0.1", target_port, ssl=self._dialling,
                    server_hostname="127.0.0.1" if self._dialling else None,
                    ssl_handshake_timeout=_FIRST_FRAME_S if self._dialling else None)
            except (OSError, asyncio.TimeoutError):
                self._close(c, reset=True)  # B is down: the sender sees a refused connection
                return
            c.backend.write(first)
            queue: asyncio.Queue = asyncio.Queue()
            c.tasks = [asyncio.ensure_future(_quiet(self._deliver(c, queue))),
                       asyncio.ensure_future(_quiet(self._pipe(back_reader, writer))),
                       asyncio.ensure_future(_quiet(self._forward(c, reader, queue)))]
            # The sender's close ends the connection once what it sent is delivered (delayed
            # frames too, as TCP delivers what precedes a FIN); B's close ends it at once.
            await asyncio.wait(c.tasks[:2], return_when=asyncio.FIRST_COMPLETED)
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError, OSError,
                ValueError, asyncio.CancelledError):
            pass
        finally:
            if c in self._conns:
                self._close(c, reset=False)

    async def _forward(self, c: _Conn, reader, queue: asyncio.Queue) -> None:
        """Sender → B: frame by frame, through the link's rule, onto the delivery queue (then
        None: the sender is done)."""
        try:
            await self._forward_frames(c, reader, queue)
        finally:
            queue.put_nowait(None)

    async def _forward_frames(self, c: _Conn, reader, queue: asyncio.Queue) -> None:
        b = c.to
        skipping = 0   # payload bytes of a dropped snapshot still to skip
        last_due = 0.0
        while True:
            a, _ = self._rule(c.source, b)
            if a is not None:  # blackholed: stop reading, so the sender's buffers fill
                await self._gate(a, b).wait()
            f = await self._read_frame(reader)
            a, rule = self._rule(c.source, b)
            if a is not None and not self._gate(a, b).is_set():
                # (read while the cut was being set: held like the rest)
                await self._gate(a, b).wait()
                a, rule = self._rule(c.source, b)
            kind = f[8]
            if kind == w.SNAPSHOT_CHUNK and skipping > 0:
                skipping -= len(f) - 9
                self.stats[("dropped", a, b)] += 1
                continue
            if kind == w.MESSAGE:
                self._observe(f[9:])
            elif kind == w.SNAPSHOT_BEGIN:
                self.stats[("snapshots", a, b)] += 1
            if kind in (w.MESSAGE, w.NODE_MESSAGE, w.SNAPSHOT_BEGIN) and rule.drop > 0 and \
                    self.rng.random() < rule.drop:
                self.stats[("dropped", a, b)] += 1
                if kind == w.SNAPSHOT_BEGIN:
                    skipping = w.snapshot_size(f[9:])
                    self.stats[("snapshots dropped", a, b)] += 1
                continue
            if kind == w.SNAPSHOT_BEGIN and rule.truncate_snapshots:
                skipping = w.snapshot_size(f[9:])  # its chunks are lost, it is not
                self.stats[("snapshots truncated", a, b)] += 1
            lo, hi = rule.delay_ms
            due = time.monotonic() + (self.rng.uniform(lo, hi) / 1000.0 if hi > 0 else 0.0)
            last_due = max(last_due, due)  # keep order: never before the previous frame
            if hi > 0:
                self.stats[("delayed", a, b)] += 1
            self.stats[("frames", a, b)] += 1
            queue.put_nowait((last_due, f))

    async def _deliver(self, c: _Conn, queue: asyncio.Queue) -> None:
        while True:
            item = await queue.get()
            if item is None:
                return
            due, f = item
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            c.backend.write(f)
            await c.backend.drain()

    async def _pipe(self, reader, writer) -> None:
        """B → sender on the same connection (only ever "you were removed"): bytes as they come."""
        while True:
            data = await reader.read(65536)
            if not data:
                return
            writer.write(data)
            await writer.drain()

    def _observe(self, payload: bytes) -> None:
        """Terms and leaders, as the wire shows them: who sends appends and heartbeats at which
        term (a leader's messages), for the run's report."""
        try:
            kind, _to, sender, term = w.message_head(payload)
        except ValueError:
            return
        self.max_term = max(self.max_term, term)
        if kind in (w.APPEND, w.HEARTBEAT, w.SNAPSHOT):
            idx = self.ids.get(sender)
            self.leaders.add((term, idx if idx is not None else sender))
