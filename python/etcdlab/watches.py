"""Watches over etcd's v3 JSON gateway: /v3/watch is one long POST whose body is a stream of
requests ({"create_request": ...}, {"cancel_request": ...}, {"progress_request": {}}) and whose
answer is a stream of {"result": ...} lines, one per watch response.

    with client.watch("config/", prefix=True) as w:   # created: w.watch_id, w.revision
        for response in w:                             # decoded as Client's answers
            for event in response.get("events", []):
                print(event.get("type", "PUT"), event["kv"]["key"], event["kv"].get("value"))

`WatchStream` is the wire (one connection, requests written as they are made, answer lines read
as they come); `Watch` is one watcher on its own stream, what `Client.watch` returns. Both work
against etcdlab's gateway and etcd 3.4's. Two things make the latter work over HTTP/1.1:

- The body declares a length it never reaches, and the connection is closed when the stream
  is done. etcd 3.4's gateway runs on Go's HTTP/1 server, which, once its answer has started,
  reads and throws away up to 256 KiB of a chunked body (or of one whose declared remainder is
  smaller): later requests would be lost. A body that says it is longer is left alone.
- Until the answer's header has come, a newline is sent every 20 ms. Go's server cannot start
  the answer while the gateway's reader is blocked reading the body (they share its lock); each
  newline frees it for a moment. Whitespace between requests is nothing to either gateway.
"""

from __future__ import annotations

import base64
import json
import select
import ssl
import socket
import time
from typing import Any, Iterable, Optional

from .client import EtcdError, _enc, decode, prefix_end

__all__ = ["Watch", "WatchStream", "FILTERS"]

FILTERS = ("NOPUT", "NODELETE")
_DECLARED_LENGTH = 1 << 50  # never reached: the stream ends when the connection closes
_NUDGE_S = 0.02


class WatchStream:
    """One POST /v3/watch held open. `send()` writes a request (a dict, or raw bytes as they are);
    `read(timeout)` returns the next answer line, parsed (not decoded: the gateway's JSON), or
    None when `timeout` seconds pass first. Raises EtcdError when the server refused the stream
    (its status and etcd's error body) and ConnectionError when the connection ends."""

    def __init__(self, endpoint: str, timeout: float = 5.0, body: Optional[bytes] = None,
                 chunked: bool = False, token: Optional[str] = None, ssl_context=None):
        """`body`: the whole body at once, with its exact length (as curl sends one): nothing
        can be sent after it. `chunked`: the body in chunked encoding (etcdlab reads it as it
        comes; etcd 3.4 loses what comes after its answer starts)."""
        self.endpoint = endpoint.replace("https://", "").replace("http://", "")
        host, port = self.endpoint.rsplit(":", 1)
        try:
            self._sock = socket.create_connection((host, int(port)), timeout=timeout)
            if ssl_context is not None:  # (`ssl_context`: TLS, etcdlab.client.tls_context)
                self._sock = ssl_context.wrap_socket(self._sock, server_hostname=host)
        except OSError as e:
            raise ConnectionRefusedError(f"{self.endpoint}: cannot connect: {e}") from e
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = b""
        self._chunked = False
        self._body_left: Optional[int] = None  # of a refusal with a Content-Length
        self._pending = b""    # decoded body bytes not yet a whole line
        self._eof = False
        self.status: Optional[int] = None   # the answer's, once its header came
        self.headers: dict[str, str] = {}
        self._chunked_body = chunked
        self._nudge = body is None
        framing = b"Transfer-Encoding: chunked" if chunked else \
            b"Content-Length: " + str(_DECLARED_LENGTH if body is None else len(body)).encode()
        auth = b"Authorization: " + token.encode() + b"\r\n" if token else b""
        self._sock.sendall(b"POST /v3/watch HTTP/1.1\r\nHost: " + host.encode() +
                           b"\r\nContent-Type: application/json\r\n" + auth + framing +
                           b"\r\n\r\n" + (body or b""))

    def send(self, request) -> None:
        data = request if isinstance(request, (bytes, bytearray)) else \
            json.dumps(request).encode() + b"\n"
        if self._chunked_body:
            data = b"%x\r\n" % len(data) + data + b"\r\n" if data else b"0\r\n\r\n"
        try:
            self._sock.sendall(data)
        except OSError as e:
            raise ConnectionError(f"{self.endpoint}: the watch stream is closed: {e}") from e

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()

    def shutdown(self) -> None:
        """Ends the connection from any thread: a read blocked in another one returns."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ---- reading
    def read(self, timeout: Optional[float] = None) -> Optional[dict]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            line = self._next_line()
            if line is not None:
                try:
                    return json.loads(line)
                except ValueError as e:
                    raise ConnectionError(f"{self.endpoint}: not JSON: {line[:200]!r}") from e
            if self._eof:
                raise ConnectionError(f"{self.endpoint}: the watch stream ended")
            if not self._receive(deadline):
                return None

    def _receive(self, deadline: Optional[float]) -> bool:
        """Reads what the socket has (nudging while no header came); False on timeout."""
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self.status is None and self._nudge:
                wait = _NUDGE_S if wait is None else min(wait, _NUDGE_S)
            try:
                # (TLS: bytes already decrypted wait in the SSL object, unseen by select.)
                pending = getattr(self._sock, "pending", None)
                ready = [self._sock] if pending and pending() else \
                    select.select([self._sock], [], [], wait)[0]
            except (OSError, ValueError) as e:
                raise ConnectionError(f"{self.endpoint}: the watch stream is closed") from e
            if ready:
                try:
                    data = self._recv_ready()
                except ssl.SSLWantReadError:
                    continue  # a TLS record that was not data (a session ticket): none yet
                except OSError as e:
                    raise ConnectionError(f"{self.endpoint}: {e}") from e
                if not data:
                    self._eof = True
                else:
                    self._buf += data
                self._parse()
                return True
            if self.status is None and self._nudge:
                try:
                    self.send(b"\n")
                except ConnectionError:
                    pass  # (the server may have answered and closed: the answer is read next)
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def _recv_ready(self) -> bytes:
        """recv once select said the socket is readable. Over TLS, readable may mean a record
        that holds no data (Go's TLS 1.3 server sends session tickets after the handshake): a
        blocking recv would then wait for data the server sends only after more nudges, so it
        does not block there (SSLWantReadError: nothing yet)."""
        if not isinstance(self._sock, ssl.SSLSocket):
            return self._sock.recv(65536)
        timeout = self._sock.gettimeout()
        self._sock.settimeout(0)
        try:
            return self._sock.recv(65536)
        finally:
            self._sock.settimeout(timeout)

    def _parse(self) -> None:
        if self.status is None:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                if self._eof:
                    raise ConnectionError(f"{self.endpoint}: closed before answering")
                return
            head, self._buf = self._buf[:end].decode("latin-1"), self._buf[end + 4:]
            lines = head.split("\r\n")
            if lines[0].split(" ")[1] == "100":  # 100 Continue: the real header follows
                self._parse()
                return
            self.status = int(lines[0].split(" ")[1])
            for h in lines[1:]:
                name, _, value = h.partition(":")
                self.headers[name.strip().title()] = value.strip()
            self._chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            if not self._chunked:
                self._body_left = int(self.headers.get("Content-Length", "0"))
        if self._chunked:
            while True:
                end = self._buf.find(b"\r\n")
                if end < 0:
                    return
                size = int(self._buf[:end].split(b";")[0], 16)
                if size == 0:
                    self._eof = True
                    self._buf = b""
                    return
                if len(self._buf) < end + 2 + size + 2:
                    return
                self._pending += self._buf[end + 2:end + 2 + size]
                self._buf = self._buf[end + 2 + size + 2:]
        else:
            self._pending += self._buf
            self._buf = b""
            if self._body_left is not None and len(self._pending) >= self._body_left:
                self._eof = True

    def _next_line(self) -> Optional[bytes]:
        if self.status is not None and self.status != 200:
            if not self._eof:
                return None
            raise _refusal(self.endpoint, self.status, self._pending)
        end = self._pending.find(b"\n")
        if end >= 0:
            line, self._pending = self._pending[:end], self._pending[end + 1:]
            return line if line.strip() else self._next_line()
        if self._eof and self._pending.strip():  # a last line without its newline
            line, self._pending = self._pending, b""
            return line
        return None


def _recorded(result: dict) -> dict:
    """A decoded response as the watch checker reads it."""
    return {"watch_id": result.get("watch_id", 0),
            "revision": result.get("header", {}).get("revision", 0),
            "created": bool(result.get("created")), "canceled": bool(result.get("canceled")),
            "compact_revision": result.get("compact_revision", 0),
            "cancel_reason": result.get("cancel_reason", ""),
            "fragment": bool(result.get("fragment")),
            "events": [{"type": e.get("type", "PUT"), "kv": e["kv"],
                        "prev_kv": e.get("prev_kv")} for e in result.get("events", [])]}


def _refusal(endpoint: str, status: int, body: bytes) -> EtcdError:
    """etcd's answer to a first request it could not read: {"error", "message", "code"}."""
    try:
        answer = json.loads(body)
        return EtcdError(answer.get("message", str(answer)), answer.get("code", 0), status,
                         endpoint)
    except ValueError:
        return EtcdError(f"{endpoint}: HTTP {status}: {body[:200]!r}", status=status,
                         endpoint=endpoint)


def stream_error(endpoint: str, line: dict) -> EtcdError:
    """An {"error": ...} line in a stream (grpc-gateway's: a string or an object)."""
    err = line["error"] if isinstance(line["error"], dict) else line
    return EtcdError(err.get("message", str(err)), err.get("grpc_code", err.get("code", 0)),
                     200, endpoint)


def create_request(key, range_end=None, *, prefix: bool = False, start_revision: int = 0,
                   prev_kv: bool = False, filters: Iterable[str] = (),
                   progress_notify: bool = False, fragment: bool = False,
                   watch_id: int = 0) -> dict:
    """The body of a create_request, checked: bad arguments raise before anything is sent."""
    for name, flag in (("prefix", prefix), ("prev_kv", prev_kv),
                       ("progress_notify", progress_notify), ("fragment", fragment)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} is a bool, not {flag!r}")
    for name, value in (("start_revision", start_revision), ("watch_id", watch_id)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} is an int, not {value!r}")
        if not -2**63 <= value < 2**63:
            raise ValueError(f"{name} must be an int64, not {value}")
    if isinstance(filters, str):
        filters = (filters,)
    filters = list(filters)
    for f in filters:
        if f not in FILTERS:
            raise ValueError(f"unknown filter {f!r}: one of {', '.join(FILTERS)}")
    if prefix and range_end is not None:
        raise ValueError("range_end and prefix=True both say where the range ends: give one")
    body: dict[str, Any] = {"key": _enc(key)}
    if prefix:
        range_end = prefix_end(key) if key not in (b"", "") else b"\0"
        if key in (b"", ""):
            body["key"] = _enc(b"\0")
    if range_end is not None:
        body["range_end"] = _enc(range_end)
    if start_revision:
        body["start_revision"] = str(start_revision)
    if filters:
        body["filters"] = filters
    for name, flag in (("prev_kv", prev_kv), ("progress_notify", progress_notify),
                       ("fragment", fragment)):
        if flag:
            body[name] = True
    if watch_id:
        body["watch_id"] = str(watch_id)
    return body


class Watch:
    """One watcher, on a stream of its own. Iterating yields its responses, decoded as Client's
    answers: events ({"header", "events": [...]}; with `fragment`, the pieces of a large
    response arrive joined), progress notifications (no events), and, last, a cancellation by
    the server ({"canceled": True, "compact_revision": N} when its history was compacted: read
    again and watch from a newer revision).

    `cancel()` (or the end of a `with` block) ends it; `request_progress()` asks the server
    for a progress response (watch_id -1: every event up to its header revision was sent);
    `next(timeout)` waits at most `timeout` seconds (None when nothing came).

    With `resume` (the default), a lost connection is made again to the next endpoint that
    answers (within the client's timeout, trying each in turn) and the watcher is created again
    from the revision after the last one it delivered, as etcd's own client resumes: nothing
    is lost or repeated. Without it, a lost connection raises EtcdError.

    One thread iterates; `cancel()` may come from another (it then just closes the
    connection, which the server takes as a cancel).

    `record()` is every stream it used and every response on it, in the shape
    `etcdlab.checkers.check_watches` reads: a run on real processes can be checked as a
    simulated one is."""

    def __init__(self, endpoints: list[str], create: dict, timeout: float = 5.0,
                 resume: bool = True, token: Optional[str] = None, ssl_context=None):
        self._ssl_context = ssl_context
        self._endpoints = list(endpoints)
        self._token = token  # the signed-in client's (Authorization on every stream)
        self._create = dict(create)
        self._timeout = timeout
        self._resume = resume
        self._stream: Optional[WatchStream] = None
        self._backlog: list[dict] = []   # answers read while waiting for another
        self._fragments: Optional[dict] = None
        self._reading = False
        self._connections: list[dict] = []  # record(): one per stream
        self.watch_id: Optional[int] = None
        self.revision = 0           # the store's revision when it was created
        self.next_revision = int(create.get("start_revision", 0))
        self.canceled = False
        self.compact_revision = 0
        self._open(first=True)

    # ---- the stream
    def _open(self, first: bool) -> None:
        """Connects (to each endpoint in turn, until the client's timeout) and creates the
        watcher: from its start revision the first time, from next_revision after that."""
        create = dict(self._create)
        if not first and self.next_revision:
            create["start_revision"] = str(self.next_revision)
        if self._connections and self._connections[-1]["end"] == "open":
            self._connections[-1]["end"] = "disconnected"
        deadline = time.monotonic() + self._timeout
        last: Optional[Exception] = None
        while True:
            for endpoint in self._endpoints:
                try:
                    stream = WatchStream(endpoint, self._timeout, token=self._token,
                                         ssl_context=self._ssl_context)
                except ConnectionRefusedError as e:
                    last = e
                    continue
                conn = {"node": self._endpoints.index(endpoint),
                        "start_revision": int(create.get("start_revision", 0)),
                        "watch_id": -1, "end": "open", "cancel_requested": False,
                        "responses": []}
                try:
                    stream.send({"create_request": create})
                    created = self._await_created(stream, deadline, conn)
                except ConnectionError as e:
                    stream.close()
                    last = e
                    continue
                self._stream = stream
                conn["watch_id"] = int(created["result"].get("watch_id", 0))
                self._connections.append(conn)
                if first:
                    self.watch_id = int(created["result"].get("watch_id", 0))
                    self.revision = int(created["result"]["header"]["revision"])
                    if not self.next_revision:
                        self.next_revision = self.revision + 1
                else:
                    self.watch_id = int(created["result"].get("watch_id", 0))
                return
            if time.monotonic() >= deadline:
                raise EtcdError(f"cannot watch: {last}", endpoint=",".join(self._endpoints))
            time.sleep(0.1)

    def _await_created(self, stream: WatchStream, deadline: float, conn: dict) -> dict:
        while True:
            line = stream.read(max(0.0, deadline - time.monotonic()))
            if line is None:
                raise ConnectionError(f"{stream.endpoint}: no answer to the create request")
            if "error" in line:
                raise stream_error(stream.endpoint, line)
            result = line.get("result", {})
            if result.get("created"):
                conn["responses"].append(_recorded(decode(result)))
                if result.get("canceled"):  # refused at once (an id in use)
                    raise EtcdError(result.get("cancel_reason", "watch refused"),
                                    endpoint=stream.endpoint)
                return line
            self._backlog.append(line)

    # ---- iteration
    def __iter__(self):
        return self

    def __next__(self) -> dict:
        response = self.next(None)
        if response is None:
            raise StopIteration
        return response

    def next(self, timeout: Optional[float] = None) -> Optional[dict]:
        """The next response, or None after `timeout` seconds (and at the end)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.canceled:
            line = self._backlog.pop(0) if self._backlog else self._read(deadline)
            if line is None:
                return None
            response = self._take(line)
            if response is not None:
                return response
        return None

    def _read(self, deadline: Optional[float]) -> Optional[dict]:
        self._reading = True
        try:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            return self._stream.read(left)
        except ConnectionError as e:
            if self.canceled:
                return None
            if not self._resume:
                raise EtcdError(f"the watch stream broke: {e}",
                                endpoint=self._stream.endpoint) from e
            self._stream.close()
            self._open(first=False)
            return self._read(deadline)
        finally:
            self._reading = False

    def _take(self, line: dict) -> Optional[dict]:
        """What one answer line means to this watcher: a response to hand out, or None."""
        if "error" in line:
            raise stream_error(self._stream.endpoint, line)
        result = decode(line.get("result", {}))
        watch_id = result.get("watch_id", 0)
        if self._connections and (watch_id in (-1, self.watch_id)):
            self._connections[-1]["responses"].append(_recorded(result))
        header_rev = result.get("header", {}).get("revision", 0)
        if watch_id == -1:  # a progress response: every event up to its revision was sent
            self.next_revision = max(self.next_revision, header_rev + 1)
            return result
        if watch_id != self.watch_id or result.get("created"):
            return None
        if result.get("fragment") or self._fragments is not None:
            if self._fragments is None:
                self._fragments = result
            else:
                self._fragments["events"] = self._fragments.get("events", []) + \
                    result.get("events", [])
            if result.get("fragment"):
                return None
            result, self._fragments = self._fragments, None
            result.pop("fragment", None)
        events = result.get("events", [])
        if events:
            self.next_revision = events[-1]["kv"]["mod_revision"] + 1
        elif not result.get("canceled") and header_rev:
            # A progress notification: the watcher is synced up to it.
            self.next_revision = max(self.next_revision, header_rev + 1)
        if result.get("canceled"):
            self.canceled = True
            self.compact_revision = result.get("compact_revision", 0)
            self._connections[-1]["end"] = "compacted" if self.compact_revision else "cancelled"
            self._stream.close()
        return result

    # ---- requests
    def request_progress(self) -> None:
        self._stream.send({"progress_request": {}})

    def cancel(self) -> None:
        """Ends the watcher: the server is told (or, from another thread, the connection is
        closed, which tells it too), and iteration stops."""
        if self.canceled:
            return
        self.canceled = True
        conn = self._connections[-1]
        conn["cancel_requested"], conn["end"] = True, "closed"
        if self._reading:  # another thread is blocked reading: wake it
            self._stream.shutdown()
            return
        try:
            self._stream.send({"cancel_request": {"watch_id": str(self.watch_id)}})
            deadline = time.monotonic() + self._timeout
            while time.monotonic() < deadline:
                line = self._stream.read(deadline - time.monotonic())
                result = (line or {}).get("result", {})
                if line is not None and int(result.get("watch_id", 0)) in (-1, self.watch_id):
                    conn["responses"].append(_recorded(decode(result)))
                if line is None or (result.get("canceled") and
                                    int(result.get("watch_id", 0)) == self.watch_id):
                    conn["end"] = "cancelled" if line is not None else "closed"
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            self._stream.close()

    def close(self) -> None:
        self.cancel()

    def record(self, name: str = "w") -> dict:
        """What `checkers.check_watches` reads: the request, and each stream's member (the
        index of its endpoint), start, end and responses (fragments as they came)."""
        c = self._create
        return {"name": name, "key": base64.b64decode(c.get("key", "")),
                "range_end": base64.b64decode(c.get("range_end", "")),
                "prev_kv": bool(c.get("prev_kv")), "filters": list(c.get("filters", [])),
                "progress_notify": bool(c.get("progress_notify")),
                "fragment": bool(c.get("fragment")),
                "connections": [dict(conn, responses=list(conn["responses"]))
                                for conn in self._connections]}

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()
