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

from collections import defaultdict
from typing import Any, Iterable, Optional

from .revisions import RevisionResult, Violation
from .watch_input import History, Response, WatchRequest, get, join_fragments, show

__all__ = ["check_watches", "WatchResult"]

_SHOWN = 3  # findings shown per violation; the rest are counted


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


class _Findings:
    """What one stream broke, per rule, emitted as one violation per rule."""

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


class _WatchState:
    """What a watch's client knows across its streams."""

    def __init__(self):
        self.seen: set[tuple] = set()  # (rev, key) received on any stream
        self.last_rev = 0              # the highest event revision received
        self.next_rev = 0              # the first revision it still needs (0: none known)


class _Stream:
    """One stream of a watch, walked response by response, then judged as a whole."""

    def __init__(self, w: WatchRequest, h: History, conn: Any, index: int, prefix: str,
                 info: dict):
        self.w, self.h, self.info = w, h, info
        self.start = int(get(conn, "start_revision", 0) or 0)
        self.end = get(conn, "end")
        self.cancel_requested = bool(get(conn, "cancel_requested", False))
        self.f = _Findings(f"{prefix}{w.describe()}, stream {index} on member "
                           f"{get(conn, 'node')} (from "
                           f"{'revision %d' % self.start if self.start else 'the next write'})")
        self.responses = join_fragments(get(conn, "responses", ()) or ())
        self.eff = self.start if self.start > 0 else None  # the first revision it owes
        self.got: dict[tuple, int] = {}          # (rev, key) -> response position
        self.in_responses: dict[int, set] = defaultdict(set)  # rev -> response positions
        self.order: list[tuple] = []             # (rev, key) as received
        self.progress: list[tuple] = []          # (revision, events before it, position, ms)
        self.vouched = 0                         # every event up to here is due
        self.last = 0                            # its last event's revision
        self.split: set[int] = set()             # revisions found not atomic
        info["streams"] += 1
        info["responses"] += len(self.responses)

    # ---- the walk
    def walk(self, state: _WatchState, compacted: Optional[int]) -> None:
        for r in self.responses:
            if r.created:
                if r.canceled:
                    self.f.add("refused", f"refused: {r.cancel_reason or 'no reason'}",
                               r.revision, r.time_ms)
                    return
                if self.start == 0:
                    self.eff = r.revision + 1
                    state.next_rev = max(state.next_rev, self.eff)
            elif r.canceled:
                self._cancelled(r, state, compacted)
                return
            elif not r.events:
                self.info["progress"] += 1
                self.progress.append((r.revision, len(self.order), r.pos, r.time_ms))
                self.vouched = max(self.vouched, r.revision)
                state.next_rev = max(state.next_rev, r.revision + 1)
            else:
                for e in r.events:
                    self._event(e, r, state)
                self.vouched = max(self.vouched, self.last)
                state.next_rev = max(state.next_rev, state.last_rev + 1)

    def _cancelled(self, r: Response, state: _WatchState, compacted: Optional[int]) -> None:
        c = r.compact_revision
        if c:
            self.info["compaction cancels"] += 1
            need = max(self.eff or 0, self.vouched + 1)
            if c < need:
                self.f.add("compaction", f"cancelled with compact_revision {c}, but it needed "
                           f"revision {need} on, which no compaction at {c} touches", c,
                           r.time_ms)
            elif compacted is not None and c > compacted:
                self.f.add("compaction", f"cancelled with compact_revision {c}, above the "
                           f"cluster's highest compaction ({compacted})", c, r.time_ms)
            state.next_rev = max(state.next_rev, c + 1)
        elif not self.cancel_requested:
            self.f.add("unasked-cancel", f"cancelled (response {r.pos}, revision {r.revision}) "
                       f"though its client did not ask and nothing was compacted: "
                       f"{r.cancel_reason or 'no reason'}", r.revision, r.time_ms)

    def _event(self, e, r: Response, state: _WatchState) -> None:
        f, w, rev, key = self.f, self.w, e.rev, e.key
        self.info["events"] += 1
        if rev > r.revision:
            f.add("header", f"{e} in response {r.pos} whose header revision is {r.revision}",
                  rev, r.time_ms)
        if (rev, key) in state.seen:
            f.add("unique", f"{e} came again (response {r.pos})", rev, r.time_ms)
            return
        state.seen.add((rev, key))
        if rev < state.last_rev:
            f.add("ordered", f"{e} (response {r.pos}) came after revision {state.last_rev}",
                  rev, r.time_ms)
        if self.eff is not None and rev < self.eff:
            f.add("resumable", f"{e} is below the revision it started from ({self.eff})", rev,
                  r.time_ms)
        if not w.in_range(key):
            f.add("filter", f"{e} is outside its range", rev, r.time_ms)
        elif not w.wants(e):
            f.add("filter", f"{e} passed its filter {'NOPUT' if e.type == 'PUT' else 'NODELETE'}",
                  rev, r.time_ms)
        _check_event(w, self.h, e, r, f)
        self.got[(rev, key)] = r.pos
        self.in_responses[rev].add(r.pos)
        self.order.append((rev, key))
        state.last_rev = max(state.last_rev, rev)
        self.last = max(self.last, rev)

    # ---- the stream as a whole
    def check_atomic(self) -> None:
        """Each revision received comes in one response, whole."""
        h, w = self.h, self.w
        for rev, positions in sorted(self.in_responses.items()):
            if len(positions) > 1:
                self.split.add(rev)
                pieces = [[e for r in self.responses if r.pos == p for e in r.events
                           if e.rev == rev] for p in sorted(positions)]
                self.f.add("atomic", f"revision {rev} split across responses "
                           f"{', '.join(map(str, sorted(positions)))}: "
                           + " then ".join(show(p) for p in pieces), rev)
            elif h.known(rev):
                want = [e for e in h.by_rev[rev] if w.wants(e)]
                lost = [e for e in want if (rev, e.key) not in self.got]
                if lost and len(lost) < len(want):
                    self.split.add(rev)
                    self.f.add("atomic", f"response {min(positions)} holds "
                               f"{len(want) - len(lost)} of revision {rev}'s {len(want)} "
                               f"events; never sent: {show(lost)}", rev)

    def owed(self, lo: int, hi: int) -> list:
        """The history's events it wants in revisions [lo, hi] that it did not receive."""
        h = self.h
        return [e for rev in h.span(max(lo, h.from_revision), hi)
                if rev not in self.split and h.known(rev)
                for e in h.by_rev[rev] if self.w.wants(e) and (rev, e.key) not in self.got]

    def check_gaps(self) -> None:
        """Reliable and resumable: nothing missing from its start to what it vouched for."""
        if self.eff is None:
            return
        first = min((rev for rev, _ in self.order), default=None)
        missing = self.owed(self.eff, self.vouched)
        late = [e for e in missing if self.start > 0 and (first is None or e.rev < first)]
        gaps = [e for e in missing if e not in late]
        if late:
            self.f.add("resumable", f"a watch from revision {self.start} must start there, but "
                       f"it never got {show(late)}"
                       + (f" (its first event was at {first})" if first else ""), late[0].rev)
        if gaps:
            self.f.add("reliable", f"missing {show(gaps)} (received up to revision "
                       f"{max(self.last, self.eff - 1)}, vouched for {self.vouched})",
                       gaps[0].rev)

    def check_progress(self) -> None:
        """Bookmarkable: after a progress response at P, no event up to P arrives."""
        for p, before, pos, t in self.progress:
            after = [(rev, key) for rev, key in self.order[before:] if rev <= p]
            if after:
                rev, key = after[0]
                self.f.add("bookmarkable", f"a progress response at revision {p} (response "
                           f"{pos}) came before revision {rev}'s event on {key!r}", p, t)

    def check_resumed_from(self, previous_next: int) -> None:
        """The client's side of resuming: from where its last stream stopped."""
        if self.eff is None:
            return
        h = self.h
        skipped = [e for rev in h.span(previous_next, self.eff - 1) if h.known(rev)
                   for e in h.by_rev[rev] if self.w.wants(e)]
        if skipped:
            self.f.add("resumable", f"resumed from revision {self.eff} but the stream before "
                       f"had delivered only up to {previous_next - 1}: skipped {show(skipped)}",
                       skipped[0].rev)

    def check_caught_up(self) -> None:
        """Settled: an open stream got its range up to the history's last revision."""
        if self.eff is None or self.end not in ("open", "cancelling"):
            return
        behind = self.owed(max(self.vouched + 1, self.eff), self.h.through)
        if behind:
            self.f.add("behind", f"the run settled at revision {self.h.through}, but it never "
                       f"got {show(behind)}", behind[0].rev)


def _check_event(w: WatchRequest, h: History, e, r: Response, f: _Findings) -> None:
    """The event is the history's, with the right prev_kv."""
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
              + (str(match) if match else f"(revision {rev} has {show(h.by_rev[rev])})"),
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


def _check_watch(w: WatchRequest, h: History, prefix: str, compacted: Optional[int],
                 settled: bool, out: list, info: dict) -> None:
    state = _WatchState()
    previous = None  # (how the last stream ended, the client's next revision then)
    for j, conn in enumerate(w.connections):
        s = _Stream(w, h, conn, j, prefix, info)
        s.walk(state, compacted)
        s.check_atomic()
        s.check_gaps()
        s.check_progress()
        if previous is not None and previous[0] != "compacted" and previous[1]:
            s.check_resumed_from(previous[1])  # after a compaction: anywhere (it read again)
        if settled and j == len(w.connections) - 1:
            s.check_caught_up()
        previous = (s.end, state.next_rev)
        s.f.emit(out, w.name)


def check_watches(watches: Iterable[Any], history: Any, *, seed: Optional[int] = None,
                  from_revision: int = 1, unknown: Iterable = (),
                  compacted: Optional[int] = None, settled: bool = False) -> WatchResult:
    """Checks every watch's streams against the committed history (see the module's doc for
    the shapes and the rules). ``seed`` names the run in every message; ``compacted`` is the
    cluster's highest compact revision; ``settled``: every open watch must have received its
    range up to the history's last revision."""
    prefix = f"seed {seed}, " if seed is not None else ""
    violations: list[Violation] = []
    h = History(history, from_revision, unknown, violations, prefix)
    info = defaultdict(int, {"revisions": len(h.revs), "watches": 0, "streams": 0,
                             "responses": 0, "events": 0, "progress": 0,
                             "compaction cancels": 0})
    for i, w in enumerate(watches):
        info["watches"] += 1
        _check_watch(WatchRequest(w, i), h, prefix, compacted, settled, violations, info)
    return WatchResult("illegal" if violations else "ok", violations, dict(info))
