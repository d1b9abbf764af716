"""The watch checker: what watch streams delivered, against the history the cluster committed,
after etcd's robustness tests (tests/robustness/validate/watch.go).

Two inputs. The **watches**: each a client's watch, as ``Watch.record()`` gives it (or the
``Watch`` itself):

    {"name": "w0", "key": b"k", "range_end": b"l", "prev_kv": True, "filters": ["NOPUT"],
     "connections": [                     # one per stream, in order (a resume opens another)
        {"node": 1, "start_revision": 0,  # 0: from the next write
         "end": "open" | "cancelled" | "compacted" | "refused" | "disconnected" | "closed",
         "cancel_requested": False,
         "responses": [{"watch_id", "revision", "created", "canceled", "compact_revision",
                        "cancel_reason", "fragment", "events": [event, ...]}, ...]}]}

and the **history**: every event the cluster committed, in revision order (``Cluster.
store_events``, or a member's ``kv_store_events``), or a dict of such lists by member (merged;
members must agree where they overlap). An event is ``{"type": "PUT" | "DELETE", "kv": {"key",
"value", "create_revision", "mod_revision", "version", "lease"}}`` (a delete's kv holds the key
and its revision), or a :class:`~etcdlab.views.WatchEvent`. The history is complete from
``from_revision`` to its last revision, except the ``unknown`` ranges ``(from, to)``; events
there are not judged.

The rules, each a kind of :class:`Violation` (each stream of a watch is checked from where it
started: its ``start_revision``, or the revision after its created response's):

``ordered``       event revisions never go down, across the watch's streams
``unique``        no event (key, revision) comes twice
``atomic``        all of a revision's events (in the watched range, filtered) come in one
                  response (fragments of one response count as one)
``reliable``      no event of the range is missing between a stream's start and the last
                  revision it vouched for (its last event, or a progress response)
``resumable``     a stream from revision S sends nothing below S and starts exactly at S; a
                  watch that resumed on a new stream did so from where the last one stopped
                  (after a compaction cancel, anywhere: its client read the keys again)
``bookmarkable``  a progress response at R comes after every event up to R
``prev-kv``       with prev_kv, each event carries the key's previous version (by replaying the
                  history), or none if it had none; without prev_kv, none
``filter``        events are in the watched range and pass its filters
``not-in-history``  every event is one the history holds, exactly
``header``        an event is no newer than its response's header revision
``compaction``    a compaction cancel's compact_revision is at or above the first revision the
                  stream still needed, and (with ``compacted``) no higher than the cluster's
``unasked-cancel``  a watcher is cancelled only when its client asked or by compaction
``refused``       a watch is not refused
``behind``        with ``settled=True`` (the run ended whole and every watch read to the end):
                  an open watch has every event of its range up to the history's last revision
``history-disagreement``  members' histories differ at a revision

Every message names the seed (``seed=``), the watch and its range, the stream (its member and
start), the revisions and the events, so a failure reads without a debugger.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Any, Iterable, Optional

from .revisions import RevisionResult, Violation

__all__ = ["check_watches", "WatchResult"]

_SHOWN = 3  # details shown per violation; the rest are counted


class WatchResult(RevisionResult):
    """The verdict of :func:`check_watches`: "ok" or "illegal" with its violations, the first
    first; ``info`` counts what was looked at."""

    def explain(self) -> str:
        i = self.info
        lines = [f"verdict: {self.verdict} ({i.get('watches', 0)} watches, "
                 f"{i.get('streams', 0)} streams, {i.get('responses', 0)} responses, "
                 f"{i.get('events', 0)} events received; history of "
                 f"{i.get('revisions', 0)} revisions)"]
        for v in self.violations[:10]:
            lines.append(str(v))
        if len(self.violations) > 10:
            lines.append(f"... and {len(self.violations) - 10} more")
        return "\n".join(lines)


# ---- normal forms ------------------------------------------------------------------------------

def _get(x: Any, name: str, default: Any = None) -> Any:
    if isinstance(x, dict):
        return x.get(name, default)
    return getattr(x, name, default)


def _bytes(x: Any) -> bytes:
    if isinstance(x, str):
        return x.encode()
    return bytes(x) if x is not None else b""


def _kv(x: Any) -> Optional[tuple]:
    """(key, value, create_revision, mod_revision, version, lease), or None."""
    if x is None:
        return None
    return (_bytes(_get(x, "key")), _bytes(_get(x, "value", b"")),
            int(_get(x, "create_revision", 0) or 0), int(_get(x, "mod_revision", 0) or 0),
            int(_get(x, "version", 0) or 0), int(_get(x, "lease", 0) or 0))


class _Event:
    __slots__ = ("type", "kv", "prev")

    def __init__(self, e: Any):
        self.type = str(_get(e, "type", "PUT"))
        self.kv = _kv(_get(e, "kv"))
        self.prev = _kv(_get(e, "prev_kv"))

    @property
    def rev(self) -> int:
        return self.kv[3]

    @property
    def key(self) -> bytes:
        return self.kv[0]

    def __str__(self) -> str:
        text = f"{self.type} {self.key!r}@{self.rev}"
        if self.type == "PUT":
            text += f"={self.kv[1]!r}"
        if self.prev is not None:
            text += f" (was {self.prev[1]!r}@{self.prev[3]})"
        return text


class _Response:
    __slots__ = ("pos", "watch_id", "revision", "created", "canceled", "compact_revision",
                 "cancel_reason", "events", "time_ms")

    def __init__(self, pos: int, r: Any):
        self.pos = pos
        self.watch_id = int(_get(r, "watch_id", -1))
        self.revision = int(_get(r, "revision", 0))
        self.created = bool(_get(r, "created", False))
        self.canceled = bool(_get(r, "canceled", False))
        self.compact_revision = int(_get(r, "compact_revision", 0) or 0)
        self.cancel_reason = str(_get(r, "cancel_reason", "") or "")
        self.events = [_Event(e) for e in _get(r, "events", ()) or ()]
        self.time_ms = _get(r, "time_ms")


def _responses(raw: Iterable[Any]) -> list[_Response]:
    """The stream's responses with each fragmented response's pieces joined (numbered by its
    first piece: response 0 is the first read)."""
    out: list[_Response] = []
    piece: Optional[_Response] = None
    for pos, r in enumerate(raw):
        if piece is not None:
            piece.events += [_Event(e) for e in _get(r, "events", ()) or ()]
            piece.revision = int(_get(r, "revision", piece.revision))
        else:
            piece = _Response(pos, r)
        if not _get(r, "fragment", False):
            out.append(piece)
            piece = None
    if piece is not None:
        out.append(piece)  # its last pieces never came: judged as it is
    return out


class _History:
    """The committed events by revision, and each event's expected prev_kv by replay."""

    def __init__(self, history: Any, from_revision: int, unknown: Iterable, violations: list,
                 where: str):
        self.unknown = sorted((int(a), int(b)) for a, b in unknown)
        if isinstance(history, dict):
            events = self._merge(history, violations, where)
        else:
            events = [_Event(e) for e in history]
        events.sort(key=lambda e: e.rev)  # stable: a revision's events keep their order
        self.by_rev: dict[int, list[_Event]] = defaultdict(list)
        for e in events:
            self.by_rev[e.rev].append(e)
        self.revs = sorted(self.by_rev)
        self.from_revision = from_revision
        self.through = self.revs[-1] if self.revs else 0
        self.prev: dict[tuple, Optional[tuple]] = {}  # (rev, key) -> kv before it (known ones)
        state: dict[bytes, Optional[tuple]] = {}
        known_all = from_revision <= 1
        holes = list(self.unknown)
        for rev in self.revs:
            while holes and holes[0][0] <= rev:
                holes.pop(0)
                state, known_all = {}, False  # what a key was after a hole is unknown
            for e in self.by_rev[rev]:
                if e.key in state or known_all:
                    self.prev[(rev, e.key)] = state.get(e.key)
            for e in self.by_rev[rev]:
                state[e.key] = e.kv if e.type == "PUT" else None

    @staticmethod
    def _merge(members: dict, violations: list, where: str) -> list[_Event]:
        merged: dict[int, list[_Event]] = {}
        owner: dict[int, Any] = {}
        for member, events in sorted(members.items(), key=lambda m: str(m[0])):
            mine: dict[int, list[_Event]] = defaultdict(list)
            for e in events or ():
                ev = _Event(e)
                mine[ev.rev].append(ev)
            for rev, evs in mine.items():
                if rev not in merged:
                    merged[rev], owner[rev] = evs, member
                elif sorted((e.type, e.kv) for e in evs) != sorted(
                        (e.type, e.kv) for e in merged[rev]):
                    violations.append(Violation(
                        "history-disagreement",
                        f"{where}members {owner[rev]} and {member} disagree at revision {rev}: "
                        f"{_list(merged[rev])} against {_list(evs)}", revisions=[rev]))
        return [e for rev in sorted(merged) for e in merged[rev]]

    def known(self, rev: int) -> bool:
        if rev < self.from_revision or rev > self.through:
            return False
        return not any(a <= rev <= b for a, b in self.unknown)

    def span(self, lo: int, hi: int) -> Iterable[int]:
        """The history's revisions in [lo, hi]."""
        i = bisect.bisect_left(self.revs, lo)
        while i < len(self.revs) and self.revs[i] <= hi:
            yield self.revs[i]
            i += 1


def _prefix_end(prefix: bytes) -> bytes:
    """The range end of every key with this prefix (etcd's GetPrefixRangeEnd)."""
    p = bytearray(prefix)
    while p and p[-1] == 0xFF:
        p.pop()
    if not p:
        return b"\0"
    p[-1] += 1
    return bytes(p)


def _list(events, limit: int = 4) -> str:
    shown = ", ".join(str(e) for e in events[:limit])
    more = f", and {len(events) - limit} more" if len(events) > limit else ""
    return f"[{shown}{more}]"


# ---- one watch ---------------------------------------------------------------------------------

class _Watch:
    """A watch's request: its range and filters, and how to name it."""

    def __init__(self, w: Any, index: int):
        rec = w.record() if hasattr(w, "record") else w
        self.rec = rec
        self.name = str(_get(rec, "name", f"watch {index}"))
        self.key = _bytes(_get(rec, "key"))
        self.end = _bytes(_get(rec, "range_end", b""))
        self.prev_kv = bool(_get(rec, "prev_kv", False))
        filters = set(_get(rec, "filters", ()) or ())
        self.no_put, self.no_delete = "NOPUT" in filters, "NODELETE" in filters
        self.connections = list(_get(rec, "connections", ()) or ())

    def in_range(self, key: bytes) -> bool:
        if not self.end:
            return key == self.key
        if self.end == b"\0":
            return key >= self.key
        return self.key <= key < self.end

    def wants(self, e: _Event) -> bool:
        if not self.in_range(e.key):
            return False
        return not (self.no_put if e.type == "PUT" else self.no_delete)

    def describe(self) -> str:
        if not self.end:
            what = f"key {self.key!r}"
        elif self.end == _prefix_end(self.key) and self.key not in (b"", b"\0"):
            what = f"prefix {self.key!r}"
        elif self.end == b"\0":
            what = "every key" if self.key in (b"", b"\0") else f"keys from {self.key!r}"
        else:
            what = f"range [{self.key!r}, {self.end!r})"
        opts = [o for o, on in (("prev_kv", self.prev_kv), ("NOPUT", self.no_put),
                                ("NODELETE", self.no_delete)) if on]
        return f"watch {self.name} ({what}{', ' + ', '.join(opts) if opts else ''})"


class _Findings:
    """Details per rule for one stream, emitted as one violation per rule."""

    def __init__(self, where: str):
        self.where = where
        self.details: dict[str, list] = defaultdict(list)  # kind -> [(text, revision, time)]

    def add(self, kind: str, text: str, revision: int = 0, time_ms: Any = None) -> None:
        self.details[kind].append((text, revision, time_ms))

    def emit(self, out: list, name: str) -> None:
        for kind, found in self.details.items():
            shown = "; ".join(t for t, _, _ in found[:_SHOWN])
            more = f"; and {len(found) - _SHOWN} more like it" if len(found) > _SHOWN else ""
            out.append(Violation(kind, f"{self.where}: {shown}{more}", ops=[name],
                                 revisions=[r for _, r, _ in found],
                                 times=[t for _, _, t in found if t is not None]))


def _check_watch(w: _Watch, h: _History, prefix: str, compacted: Optional[int], settled: bool,
                 out: list, info: dict) -> None:
    seen: set[tuple] = set()  # (rev, key) received on any stream
    last_rev = 0              # the highest event revision received
    next_rev = 0              # the first revision the client still needed (0: none known)
    previous_end = None
    conn_prev_next = None     # next_rev when the previous stream ended
    for j, conn in enumerate(w.connections):
        start = int(_get(conn, "start_revision", 0) or 0)
        node = _get(conn, "node")
        where = (f"{prefix}{w.describe()}, stream {j} on member {node} "
                 f"(from {'revision ' + str(start) if start else 'the next write'})")
        f = _Findings(where)
        responses = _responses(_get(conn, "responses", ()) or ())
        info["streams"] += 1
        info["responses"] += len(responses)
        eff = start if start > 0 else None  # the first revision this stream owes
        got: dict[tuple, int] = {}          # (rev, key) -> response position, this stream
        in_responses: dict[int, set] = defaultdict(set)  # rev -> response positions
        order: list[tuple] = []             # (rev, key) in the order received
        progress: list[tuple] = []          # (revision, events received before, response)
        vouched = 0
        stream_last = 0
        for r in responses:
            if r.created:
                if r.canceled:
                    f.add("refused", f"refused: {r.cancel_reason or 'no reason'}", r.revision,
                          r.time_ms)
                    break
                if start == 0:
                    eff = r.revision + 1
                    next_rev = max(next_rev, eff)
                continue
            if r.canceled:
                if r.compact_revision:
                    info["compaction cancels"] += 1
                    need = max(eff or 0, vouched + 1)
                    c = r.compact_revision
                    if c < need:
                        f.add("compaction", f"cancelled with compact_revision {c}, but it "
                              f"needed revision {need} on, which no compaction at {c} touches",
                              c, r.time_ms)
                    elif compacted is not None and c > compacted:
                        f.add("compaction", f"cancelled with compact_revision {c}, above the "
                              f"cluster's highest compaction ({compacted})", c, r.time_ms)
                    next_rev = max(next_rev, c + 1)
                elif not _get(conn, "cancel_requested", False):
                    f.add("unasked-cancel", f"cancelled (response {r.pos}, revision "
                          f"{r.revision}) though its client did not ask and nothing was "
                          f"compacted: {r.cancel_reason or 'no reason'}", r.revision, r.time_ms)
                break
            if not r.events:
                info["progress"] += 1
                progress.append((r.revision, len(order), r.pos, r.time_ms))
                vouched = max(vouched, r.revision)
                next_rev = max(next_rev, r.revision + 1)
                continue
            for e in r.events:
                info["events"] += 1
                rev, key = e.rev, e.key
                if rev > r.revision:
                    f.add("header", f"{e} in response {r.pos} whose header revision is "
                          f"{r.revision}", rev, r.time_ms)
                if (rev, key) in seen:
                    f.add("unique", f"{e} came again (response {r.pos})", rev, r.time_ms)
                    continue
                seen.add((rev, key))
                if rev < last_rev:
                    f.add("ordered", f"{e} (response {r.pos}) came after revision {last_rev}",
                          rev, r.time_ms)
                if eff is not None and rev < eff:
                    f.add("resumable", f"{e} is below the revision it started from ({eff})",
                          rev, r.time_ms)
                if not w.in_range(key):
                    f.add("filter", f"{e} is outside its range", rev, r.time_ms)
                elif not w.wants(e):
                    f.add("filter", f"{e} passed its filter "
                          f"{'NOPUT' if e.type == 'PUT' else 'NODELETE'}", rev, r.time_ms)
                _check_event(w, h, e, r, f)
                got[(rev, key)] = r.pos
                in_responses[rev].add(r.pos)
                order.append((rev, key))
                last_rev = max(last_rev, rev)
                stream_last = max(stream_last, rev)
            vouched = max(vouched, stream_last)
            next_rev = max(next_rev, last_rev + 1)
        # Atomic: each revision received in one response, whole.
        split = set()
        for rev, positions in sorted(in_responses.items()):
            if len(positions) > 1:
                split.add(rev)
                pieces = [[e for e in _stream_events(responses, p) if e.rev == rev]
                          for p in sorted(positions)]
                f.add("atomic", f"revision {rev} split across responses "
                      f"{', '.join(map(str, sorted(positions)))}: "
                      + " then ".join(_list(p) for p in pieces), rev)
            elif h.known(rev):
                want = [e for e in h.by_rev[rev] if w.wants(e)]
                lost = [e for e in want if (rev, e.key) not in got]
                if lost and len(lost) < len(want):
                    split.add(rev)
                    f.add("atomic", f"response {min(positions)} holds "
                          f"{len(want) - len(lost)} of revision {rev}'s {len(want)} events; "
                          f"never sent: {_list(lost)}", rev)
        # Reliable and resumable: nothing missing from the start to what it vouched for.
        if eff is not None:
            first = min((rev for rev, _ in order), default=None)
            missing = []
            for rev in h.span(max(eff, h.from_revision), vouched):
                if rev in split or not h.known(rev):
                    continue
                missing += [e for e in h.by_rev[rev] if w.wants(e) and (rev, e.key) not in got]
            late = [e for e in missing if start > 0 and (first is None or e.rev < first)]
            gaps = [e for e in missing if e not in late]
            if late:
                f.add("resumable", f"a watch from revision {start} must start there, but it "
                      f"never got {_list(late)}"
                      + (f" (its first event was at {first})" if first else ""), late[0].rev)
            if gaps:
                f.add("reliable", f"missing {_list(gaps)} (received up to revision "
                      f"{max(stream_last, eff - 1)}, vouched for {vouched})", gaps[0].rev)
            # Bookmarkable: after a progress at P, no event up to P arrives.
            for p, before, pos, t in progress:
                after = [(rev, key) for rev, key in order[before:] if rev <= p]
                if after:
                    rev, key = after[0]
                    f.add("bookmarkable", f"a progress response at revision {p} (response "
                          f"{pos}) came before revision {rev}'s event on {key!r}", p, t)
            # The client's side of resuming: from where the last stream stopped.
            if j > 0 and previous_end != "compacted" and conn_prev_next is not None:
                skipped = [e for rev in h.span(conn_prev_next, eff - 1) if h.known(rev)
                           for e in h.by_rev[rev] if w.wants(e)]
                if skipped:
                    f.add("resumable", f"resumed from revision {eff} but the stream before had "
                          f"delivered only up to {conn_prev_next - 1}: skipped {_list(skipped)}",
                          skipped[0].rev)
            if settled and j == len(w.connections) - 1 and _get(conn, "end") in (
                    "open", "cancelling"):
                behind = [e for rev in h.span(max(vouched + 1, eff), h.through) if h.known(rev)
                          for e in h.by_rev[rev] if w.wants(e) and (rev, e.key) not in got]
                if behind:
                    f.add("behind", f"the run settled at revision {h.through}, but it never "
                          f"got {_list(behind)}", behind[0].rev)
        previous_end = _get(conn, "end")
        conn_prev_next = next_rev if next_rev else None
        f.emit(out, w.name)


def _stream_events(responses: list[_Response], pos: int) -> list[_Event]:
    return next((r.events for r in responses if r.pos == pos), [])


def _check_event(w: _Watch, h: _History, e: _Event, r: _Response, f: _Findings) -> None:
    rev = e.rev
    if rev > h.through and h.revs:
        f.add("not-in-history", f"{e} is above the history's last revision ({h.through})",
              rev, r.time_ms)
        return
    if not h.known(rev):
        return
    match = next((x for x in h.by_rev[rev] if x.key == e.key), None)
    if match is None or match.type != e.type or match.kv != e.kv:
        f.add("not-in-history", f"{e} is not the history's "
              + (str(match) if match else f"(revision {rev} has {_list(h.by_rev[rev])})"),
              rev, r.time_ms)
        return
    if not w.prev_kv:
        if e.prev is not None:
            f.add("prev-kv", f"{e} carries a prev_kv the watch did not ask for", rev, r.time_ms)
        return
    if (rev, e.key) not in h.prev:
        return  # the key's previous version is before what the history holds
    want = h.prev[(rev, e.key)]
    if e.prev != want:
        said = "none" if want is None else f"{want[1]!r}@{want[3]} (version {want[4]})"
        f.add("prev-kv", f"{e}: its previous version was {said}", rev, r.time_ms)


# ---- the checker -------------------------------------------------------------------------------

def check_watches(watches: Iterable[Any], history: Any, *, seed: Optional[int] = None,
                  from_revision: int = 1, unknown: Iterable = (),
                  compacted: Optional[int] = None, settled: bool = False) -> WatchResult:
    """Checks every watch's streams against the committed history (see the module's doc for
    the shapes and the rules). ``seed`` names the run in every message; ``compacted`` is the
    cluster's highest compact revision; ``settled``: every open watch must have received its
    range up to the history's last revision."""
    prefix = f"seed {seed}, " if seed is not None else ""
    violations: list[Violation] = []
    h = _History(history, from_revision, unknown, violations, prefix)
    info = defaultdict(int, {"revisions": len(h.revs), "watches": 0, "streams": 0,
                             "responses": 0, "events": 0, "progress": 0,
                             "compaction cancels": 0})
    ws = [_Watch(w, i) for i, w in enumerate(watches)]
    for w in ws:
        info["watches"] += 1
        _check_watch(w, h, prefix, compacted, settled, violations, info)
    return WatchResult("illegal" if violations else "ok", violations, dict(info))
