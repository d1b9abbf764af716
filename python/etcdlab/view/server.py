"""The live view's HTTP server: the page (static/) and a small JSON API over one source.

Sources:

* :class:`SimSource` — a simulated cluster that advances only when asked (``step``/``run``
  actions: the page's play button sends ``run`` on a timer), so the same seed and the same
  actions at the same virtual times give the same frames;
* :class:`TraceSource` — a recording read from a file (a failing lab 2 test's trace): frames
  only, no controls;
* :class:`MembersSource` — real members (``--members``): the page talks to them itself; this
  server only hands it the page and the member URLs.

API (JSON in and out; a bad request answers 400 ``{"error": "..."}``)::

    GET  /api/info            {"source", "seed", "nodes", "title", "controls"[, "members"]}
    GET  /api/frames?since=K  {"frames": [frames numbered K and later], "next": K2, "first": F}
    POST /api/action          {"action": A, ...} -> {"ok": true, "next": K2}

Frames are numbered 0, 1, ... in recording order; ``first`` is the number of the first frame
returned (above K when older frames were dropped: a simulated source keeps the last
:data:`SIM_FRAMES`). Actions (node ids are Raft ids, 1 .. n, as in frames): ``crash``
{"node"}, ``restart`` {"node"}, ``partition`` {"groups": [[1, 2], [3, 4, 5]]}, ``isolate``
{"node"}, ``heal`` {}, ``drop`` {"rate": 0.2}, ``propose`` {"data": "x", "via": id|null},
``step`` {"events": 1}, ``run`` {"ms": 50}.
"""

from __future__ import annotations

import json
import math
import mimetypes
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, quote, urlsplit

STATIC = Path(__file__).with_name("static")
SIM_FRAMES = 50000  # frames a simulated source keeps (a few minutes of play)
MAX_BODY = 64 << 10
MAX_RUN_MS = 60000  # per request: the server answers within a second or so
MAX_STEP_EVENTS = 100000
FORMAT = "etcdlab-view/1"


class BadRequest(Exception):
    """Answered 400 with the message."""


# ---- sources ---------------------------------------------------------------------------------

class SimSource:
    """A simulated cluster driven by actions."""

    controls = True

    def __init__(self, seed: int = 1, nodes: int = 5, frames: int = SIM_FRAMES):
        from ..cluster import Cluster  # the extension is needed here only

        self.seed, self.nodes, self.cap = seed, nodes, frames
        self.cluster = Cluster(n=nodes, seed=seed, view_frames=frames)
        self._lock = threading.Lock()  # ThreadingHTTPServer: one request at a time in here

    def info(self) -> dict:
        return {"source": "sim", "seed": self.seed, "nodes": self.nodes,
                # Titled as Cluster.view_recording titles a recording of it; the page shows
                # a source's title as is.
                "title": f"simulated cluster of {self.nodes}, seed {self.seed}",
                "controls": True}

    def frames_json(self, since: int) -> str:
        with self._lock:
            core = self.cluster._core
            recorded = core.view_frames_recorded()
            first = max(since, recorded - min(recorded, self.cap))
            frames = core.view_frames_json(since)
        return f'{{"frames":{frames},"next":{recorded},"first":{min(first, recorded)}}}'

    def act(self, body: dict) -> int:
        action = body.get("action")
        handler = _ACTIONS.get(action) if isinstance(action, str) else None
        if handler is None:
            raise BadRequest(f"unknown action {action!r}: one of {', '.join(sorted(_ACTIONS))}")
        with self._lock:
            handler(self, body)
            return self.cluster._core.view_frames_recorded()

    # ---- arguments, checked before anything changes
    def node(self, body: dict, key: str = "node", optional: bool = False) -> Optional[int]:
        """A Raft id (1 .. n) from the body, as the node index the cluster takes."""
        value = body.get(key)
        if value is None and optional:
            return None
        if not _is_int(value) or not 1 <= value <= self.nodes:
            raise BadRequest(f"{key!r} is a node id 1 .. {self.nodes}, not {value!r}")
        return value - 1


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(body: dict, key: str, lo: float, hi: float, default=None) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not lo <= value <= hi:
        raise BadRequest(f"{key!r} is a number in [{lo}, {hi}], not {value!r}")
    return value


def _crash(s: SimSource, body: dict) -> None:
    s.cluster.crash(s.node(body))


def _restart(s: SimSource, body: dict) -> None:
    s.cluster.restart(s.node(body))


def _partition(s: SimSource, body: dict) -> None:
    groups = body.get("groups")
    if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
        raise BadRequest(f"'groups' is a list of lists of node ids, e.g. [[1, 2], [3, 4, 5]], "
                         f"not {groups!r}")
    indexes = [[s.node({"id": n}, "id") for n in g] for g in groups]
    seen = [i for g in indexes for i in g]
    if len(seen) != len(set(seen)):
        raise BadRequest(f"a node is in two groups: {groups!r}")
    s.cluster.partition(indexes)


def _isolate(s: SimSource, body: dict) -> None:
    s.cluster.isolate(s.node(body))


def _heal(s: SimSource, body: dict) -> None:
    s.cluster.heal()


def _drop(s: SimSource, body: dict) -> None:
    s.cluster.network(drop=_number(body, "rate", 0, 1))


def _propose(s: SimSource, body: dict) -> None:
    data = body.get("data", "")
    if not isinstance(data, str) or len(data) > 1024:
        raise BadRequest(f"'data' is a string of at most 1024 characters, not {data!r:.80}")
    s.cluster.propose(data.encode(), via=s.node(body, "via", optional=True))


def _step(s: SimSource, body: dict) -> None:
    for _ in range(int(_number(body, "events", 1, MAX_STEP_EVENTS, default=1))):
        s.cluster.step()


def _run(s: SimSource, body: dict) -> None:
    s.cluster.run(_number(body, "ms", 0, MAX_RUN_MS))


_ACTIONS = {"crash": _crash, "restart": _restart, "partition": _partition, "isolate": _isolate,
            "heal": _heal, "drop": _drop, "propose": _propose, "step": _step, "run": _run}


class TraceSource:
    """A recording from a file: frames, no controls."""

    controls = False

    def __init__(self, recording: dict):
        check_recording(recording)
        self.recording = recording
        self._frames = [json.dumps(f, separators=(",", ":")) for f in recording["frames"]]

    @classmethod
    def load(cls, path: str) -> "TraceSource":
        try:
            with open(path, encoding="utf-8") as f:
                recording = json.load(f)
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read the recording {path}: {e}") from None
        return cls(recording)

    def info(self) -> dict:
        r = self.recording
        return {"source": "trace", "seed": r.get("seed"), "nodes": r.get("nodes"),
                "title": r.get("title"), "replay": r.get("replay"), "controls": False}

    def frames_json(self, since: int) -> str:
        frames = ",".join(self._frames[since:])
        n = len(self._frames)
        return f'{{"frames":[{frames}],"next":{n},"first":{min(since, n)}}}'

    def act(self, body: dict) -> int:
        raise BadRequest("this is a recorded run (--trace): it has no controls")


class MembersSource:
    """Real members: the page reads them itself (their /etcdlab/* endpoints)."""

    controls = False

    def __init__(self, members: list[str]):
        if not members or not all(re.match(r"^https?://[^\s,]+$", m) for m in members):
            raise ValueError(f"--members takes http(s) URLs separated by commas, not {members!r}")
        self.members = members

    def info(self) -> dict:
        return {"source": "real", "seed": None, "nodes": len(self.members),
                "title": "cluster at " + ", ".join(self.members), "members": self.members,
                "controls": False}

    def frames_json(self, since: int) -> str:
        return '{"frames":[],"next":0,"first":0}'

    def act(self, body: dict) -> int:
        raise BadRequest("real members take no actions from this server")


def check_recording(recording) -> None:
    """Raises ValueError unless `recording` has the shape of a recording."""
    if not isinstance(recording, dict) or recording.get("format") != FORMAT:
        got = recording.get("format") if isinstance(recording, dict) else type(recording).__name__
        raise ValueError(f"not a recording: its format is {got!r}, not {FORMAT!r}")
    if not isinstance(recording.get("frames"), list) or \
            not all(isinstance(f, dict) for f in recording["frames"]):
        raise ValueError("not a recording: 'frames' is not a list of frames")


# ---- HTTP ------------------------------------------------------------------------------------

_SAFE_PATH = re.compile(r"^(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*$")


class _Handler(BaseHTTPRequestHandler):
    server: "ViewServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass  # stdout's first line is the URL (tests read it); requests are not logged

    def _send(self, status: int, body: bytes, content_type: str, extra=()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, json.dumps({"error": message}))

    def do_GET(self):  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        source = self.server.source
        try:
            if url.path == "/api/info":
                return self._json(200, json.dumps(source.info()))
            if url.path == "/api/frames":
                return self._json(200, source.frames_json(_since(url.query)))
        except BadRequest as e:
            return self._error(400, str(e))
        if url.path.startswith("/api/"):
            return self._error(404, f"no such endpoint {url.path}")
        if isinstance(source, MembersSource) and url.path == "/" and not url.query:
            where = "/?members=" + quote(",".join(source.members), safe=":/,")
            return self._send(302, b"", "text/plain", [("Location", where)])
        self._static(url.path)

    do_HEAD = do_GET

    def do_POST(self):  # noqa: N802
        if urlsplit(self.path).path != "/api/action":
            return self._error(404, f"no such endpoint {self.path}")
        try:
            body = self._body()
            next_frame = self.server.source.act(body)
        except BadRequest as e:
            return self._error(400, str(e))
        except (ValueError, IndexError, TypeError) as e:  # the simulator refused the arguments
            return self._error(400, str(e))
        except Exception as e:  # an invariant broke, ...: the run cannot go on as it was
            return self._error(500, f"{type(e).__name__}: {e}")
        self._json(200, json.dumps({"ok": True, "next": next_frame}))

    def _body(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise BadRequest("a POST needs a Content-Length") from None
        if not 0 <= length <= MAX_BODY:
            raise BadRequest(f"the body is limited to {MAX_BODY} bytes")
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError as e:
            raise BadRequest(f"the body is not JSON: {e}") from None
        if not isinstance(body, dict):
            raise BadRequest('the body is a JSON object, e.g. {"action": "run", "ms": 50}')
        return body

    def _static(self, path: str) -> None:
        name = "index.html" if path in ("/", "") else path.lstrip("/")
        if not _SAFE_PATH.match(name) or not (STATIC / name).is_file():
            hint = " (the page is python/etcdlab/view/static/index.html)" if name == "index.html" \
                else ""
            return self._send(404, f"not found: /{name}{hint}\n".encode(),
                              "text/plain; charset=utf-8")
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind.endswith("javascript"):
            kind += "; charset=utf-8"
        self._send(200, (STATIC / name).read_bytes(), kind)


def _since(query: str) -> int:
    values = parse_qs(query).get("since")
    if not values:
        return 0
    if not re.fullmatch(r"\d{1,18}", values[0]):
        raise BadRequest(f"'since' is a frame number >= 0, not {values[0]!r}")
    return int(values[0])


class ViewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, source, host: str = "127.0.0.1", port: int = 0):
        self.source = source
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"
