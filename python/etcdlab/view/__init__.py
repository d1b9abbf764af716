"""The live cluster view: a page that draws a Raft cluster as it runs.

One page (``static/``), three sources:

* a simulated cluster: ``python -m etcdlab.view --seed 3 --nodes 5`` (or ``build/bin/etcdlab-view``)
  serves the page and a cluster you crash, partition and step from the browser;
* a recording: ``--trace FILE`` replays one (a failing lab 2 test writes
  ``build/lab2-traces/<Suite>.<Test>.seed<N>.json``); in a notebook, :func:`embed` shows one
  inline, with no server;
* real members: ``--members http://127.0.0.1:2379,...`` opens the page on members started with
  ``--enable-view`` (the page reads their ``/etcdlab/state``).

A **frame** is one picture of the cluster (JSON)::

    {"t_ms": 1234.5, "seq": 5012, "event": "#5012 ... n2 recv ...",
     "nodes": [{"id": 1, "name": "n1", "up": true, "member": true, "role": "leader",
                "term": 3, "vote": 1, "leader": 1, "commit": 10, "applied": 10,
                "first_index": 1, "last_index": 12, "snapshot_index": 0,
                "log_from": 1, "log_terms": [1, 1, 2, ...],   # the last <= 64 entries
                "voters": [1, 2, 3], "learners": []}, ...],
     "messages": [{"id": 77, "from": 1, "to": 2, "kind": "Append", "term": 3, "index": 10,
                   "log_term": 3, "commit": 9, "entries": 2, "reject": false,
                   "sent_ms": 1230.0, "due_ms": 1236.0}, ...],      # in flight now
     "blocked": [[1, 2], ...],                                     # (from, to) cut now
     "clients": [{"op": 7, "kind": "propose", "via": null, "outcome": "ok",
                  "call_ms": 1200.0, "return_ms": 1236.0, "text": "propose \\"x\\""}, ...]}

Nodes are named by Raft id (node index + 1), as the simulator's trace lines name them. A
**recording** is ``{"format": "etcdlab-view/1", "source": "sim", "title", "seed", "nodes",
"replay", "frames": [...]}``, oldest frame first. A simulated cluster records a frame after each
event that changed something a frame shows (``etcdlab.Cluster(view_frames=N)`` keeps the last
N); a follower's tick that changes nothing adds none.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Union

from .server import FORMAT, STATIC, check_recording

__all__ = ["embed", "save", "page_html", "FORMAT"]


def _recording(what) -> dict:
    """A recording from a recording (dict) or a simulated cluster (etcdlab.Cluster)."""
    if isinstance(what, dict):
        check_recording(what)
        return what
    if hasattr(what, "view_recording"):
        return what.view_recording()
    raise TypeError(f"embed and save take an etcdlab.Cluster or a recording (dict), not "
                    f"{type(what).__name__}")


def _script_text(text: str) -> str:
    # Inside <script>, "</script" would end the element early, whatever the JS meant.
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def page_html(recording: dict) -> str:
    """The page as one self-contained HTML document that plays `recording`: its CSS and
    scripts inlined, the recording set as ``window.ETCDLAB_RECORDING`` before they run."""
    index = STATIC / "index.html"
    if not index.is_file():
        raise FileNotFoundError(f"the view's page is missing: {index}")
    page = index.read_text(encoding="utf-8")

    def local(name: str):
        path = STATIC / name
        ok = re.fullmatch(r"[A-Za-z0-9_.-]+", name) and path.is_file()
        return path.read_text(encoding="utf-8") if ok else None

    def css(m):
        text = local(m.group(1))
        return m.group(0) if text is None else f"<style>\n{text}\n</style>"

    def js(m):
        text = local(m.group(1))
        return m.group(0) if text is None else f"<script>\n{_script_text(text)}\n</script>"

    page = re.sub(r'<link\b[^>]*\bhref="([^"]+\.css)"[^>]*>', css, page)
    page = re.sub(r'<script\b[^>]*\bsrc="([^"]+\.js)"[^>]*>\s*</script>', js, page)
    data = _script_text(json.dumps(recording, separators=(",", ":")))
    data = data.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    preset = f"<script>window.ETCDLAB_RECORDING = {data};</script>\n"
    at = page.find("<script")
    return page[:at] + preset + page[at:] if at >= 0 else page + preset


class _Html:
    """What :func:`embed` returns without IPython: anything that renders ``_repr_html_``."""

    def __init__(self, data: str):
        self.data = data

    def _repr_html_(self) -> str:
        return self.data


def embed(recording_or_cluster, height: int = 480):
    """The page playing a recording, for a notebook: an iframe whose ``srcdoc`` holds the whole
    page and the recording, so the notebook saved as HTML plays it with no server.

        c = etcdlab.Cluster(n=5, seed=7, view_frames=2000)
        ...
        etcdlab.view.embed(c)
    """
    if isinstance(height, bool) or not isinstance(height, int) or not 100 <= height <= 4000:
        raise ValueError(f"height is a number of pixels in 100 .. 4000, not {height!r}")
    doc = page_html(_recording(recording_or_cluster))
    # (In a div: IPython warns about HTML that starts with an iframe.)
    frame = (f'<div><iframe srcdoc="{html.escape(doc, quote=True)}" sandbox="allow-scripts" '
             f'style="width: 100%; height: {height}px; border: 1px solid #ddd"></iframe></div>')
    try:
        from IPython.display import HTML
    except ImportError:
        return _Html(frame)
    return HTML(frame)


def save(recording_or_cluster, path: Union[str, Path]) -> Path:
    """Writes the recording (of a cluster: :meth:`etcdlab.Cluster.view_recording`) to `path`,
    which ``python -m etcdlab.view --trace path`` replays. Returns the path."""
    path = Path(path)
    path.write_text(json.dumps(_recording(recording_or_cluster), separators=(",", ":")),
                    encoding="utf-8")
    return path
