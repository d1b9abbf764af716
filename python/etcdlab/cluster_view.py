"""The live view of a simulated cluster: :class:`etcdlab.Cluster`'s frames and recordings.

A frame is one picture of the cluster (every node with the terms of its log's last 64 entries,
the messages in flight, the cut links, the last 20 client operations); with
``Cluster(view_frames=N)`` the cluster keeps the last N frames as it runs, one after each event
that changed something a frame shows. :mod:`etcdlab.view` draws them (``etcdlab.view.embed``
in a notebook, ``python -m etcdlab.view`` in a browser); the shapes are described there.
"""

from __future__ import annotations

from typing import Optional


class ViewCalls:
    """A mixin of :class:`etcdlab.Cluster` (its ``_core`` is the simulator)."""

    def view_frame(self) -> dict:
        """The cluster now, as a frame (works with recording off too). Nodes are named by Raft
        id (node index + 1), as trace lines name them."""
        return self._core.view_frame()

    def view_recording(self, title: Optional[str] = None, replay: Optional[str] = None) -> dict:
        """The recording of the run: {"format": "etcdlab-view/1", "source": "sim", "title",
        "seed", "nodes", "replay", "frames"}, with the frames kept (``view_frames=N``: the last
        N), or the one frame of now when recording is off."""
        if title is None:
            title = f"simulated cluster of {len(self.nodes)}, seed {self.seed}"
        if not isinstance(title, str) or not (replay is None or isinstance(replay, str)):
            raise TypeError(f"title and replay are strings, not {title!r} and {replay!r}")
        return self._core.view_recording(title, replay)
