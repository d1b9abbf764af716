"""checkers.check_watches catches each mistake it names: small hand-made streams first (each rule
broken once, and the stream that keeps them all), then a real simulated run (test_watch_sim.py's
workload) altered the way a broken watch hub would have altered it. A checker that cannot fail
checks nothing."""

import copy
import sys
from pathlib import Path

import pytest

from etcdlab import checkers

sys.path.insert(0, str(Path(__file__).parent))


def kv(key, value, rev, create, version):
    return {"key": key, "value": value, "create_revision": create, "mod_revision": rev,
            "version": version, "lease": 0}


def put(key, value, rev, create, version, prev=None):
    e = {"type": "PUT", "kv": kv(key, value, rev, create, version)}
    if prev is not None:
        e["prev_kv"] = prev
    return e


def delete(key, rev, prev=None):
    e = {"type": "DELETE", "kv": kv(key, b"", rev, 0, 0)}
    if prev is not None:
        e["prev_kv"] = prev
    return e


A1, B1, A2, C1 = kv(b"a", b"1", 2, 2, 1), kv(b"b", b"1", 3, 3, 1), kv(b"a", b"2", 4, 2, 2), \
    kv(b"c", b"1", 6, 6, 1)
# Revision 5 deletes a and b at once (a lease's revoke); 7 creates a again.
HISTORY = [put(b"a", b"1", 2, 2, 1), put(b"b", b"1", 3, 3, 1), put(b"a", b"2", 4, 2, 2, A1),
           delete(b"a", 5, A2), delete(b"b", 5, B1), put(b"c", b"1", 6, 6, 1),
           put(b"a", b"3", 7, 7, 1)]


def response(revision, *events, created=False, canceled=False, compact_revision=0,
             watch_id=0, fragment=False, reason=""):
    return {"watch_id": watch_id, "revision": revision, "created": created,
            "canceled": canceled, "compact_revision": compact_revision,
            "cancel_reason": reason, "fragment": fragment, "events": list(events)}


def events_at(rev, prev_kv=True):
    out = []
    for e in HISTORY:
        if e["kv"]["mod_revision"] == rev:
            e = copy.deepcopy(e)
            if not prev_kv:
                e.pop("prev_kv", None)
            out.append(e)
    return out


def stream(start=0, revisions=range(2, 8), progress=7, node=1, end="open", prev_kv=True,
           created_at=1):
    responses = [response(created_at, created=True)]
    responses += [response(rev, *events_at(rev, prev_kv)) for rev in revisions]
    if progress:
        responses.append(response(progress, watch_id=-1))
    return {"node": node, "start_revision": start, "end": end, "cancel_requested": False,
            "responses": responses}


def watch(*connections, key=b"\0", range_end=b"\0", prev_kv=True, filters=(), name="w0"):
    return {"name": name, "key": key, "range_end": range_end, "prev_kv": prev_kv,
            "filters": list(filters), "connections": list(connections)}


def verdict(*watches, history=HISTORY, **options):
    return checkers.check_watches(list(watches), history, seed=42, **options)


def kinds(result):
    return sorted({v.kind for v in result.violations})


def only(kind, result, *says):
    assert kinds(result) == [kind], result.explain()
    for text in says:
        assert text in str(result.first), result.explain()


def test_a_stream_that_keeps_every_rule_is_ok():
    result = verdict(watch(stream()), settled=True)
    assert result.verdict == "ok", result.explain()
    assert result.info["events"] == 7 and result.info["progress"] == 1


def test_a_revision_below_an_earlier_one_breaks_ordered():
    s = stream()
    s["responses"][2], s["responses"][3] = s["responses"][3], s["responses"][2]
    only("ordered", verdict(watch(s)), "seed 42, watch w0 (every key, prev_kv), stream 0 on "
         "member 1 (from the next write)", "PUT b'b'@3=b'1' (response 3) came after revision 4")


def test_an_event_twice_breaks_unique():
    s = stream()
    s["responses"].insert(6, copy.deepcopy(s["responses"][5]))
    only("unique", verdict(watch(s)), "PUT b'c'@6=b'1' came again (response 6)")


def test_a_revision_across_two_responses_breaks_atomic():
    s = stream()
    both = s["responses"][4]
    s["responses"][4:5] = [response(5, both["events"][0]), response(5, both["events"][1])]
    only("atomic", verdict(watch(s)), "revision 5 split across responses 4, 5",
         "[DELETE b'a'@5 (was b'2'@4)] then [DELETE b'b'@5 (was b'1'@3)]")


def test_a_response_with_part_of_a_revision_breaks_atomic():
    s = stream()
    del s["responses"][4]["events"][1]
    only("atomic", verdict(watch(s)), "response 4 holds 1 of revision 5's 2 events; never "
         "sent: [DELETE b'b'@5")


def test_fragments_of_one_response_are_one_response():
    s = stream()
    both = s["responses"][4]
    s["responses"][4:5] = [response(5, both["events"][0], fragment=True),
                           response(5, both["events"][1])]
    assert verdict(watch(s)).ok


def test_a_missing_event_breaks_reliable():
    s = stream()
    del s["responses"][3]  # revision 4
    only("reliable", verdict(watch(s)), "missing [PUT b'a'@4=b'2' (was b'1'@2)]")


def test_a_progress_vouches_for_what_came_before_it():
    s = stream(revisions=[2, 3, 4, 5], progress=7)  # 6 and 7 never came, yet progress at 7
    only("reliable", verdict(watch(s)), "missing [PUT b'c'@6=b'1', PUT b'a'@7=b'3']",
         "vouched for 7")
    assert verdict(watch(stream(revisions=[2, 3, 4, 5], progress=5))).ok


def test_a_stream_from_a_revision_starts_exactly_there():
    late = stream(start=4, revisions=[5, 6, 7])
    only("resumable", verdict(watch(late)), "a watch from revision 4 must start there, but it "
         "never got [PUT b'a'@4=b'2'", "its first event was at 5")
    early = stream(start=4, revisions=[3, 4, 5, 6, 7])
    only("resumable", verdict(watch(early)), "PUT b'b'@3=b'1' is below the revision it "
         "started from (4)")


def test_a_resumed_watch_continues_from_where_it_stopped():
    first = stream(revisions=[2, 3], progress=0, end="disconnected")
    ok = stream(start=4, revisions=[4, 5, 6, 7], node=2, created_at=7)
    assert verdict(watch(first, ok), settled=True).ok
    skipping = stream(start=5, revisions=[5, 6, 7], node=2, created_at=7)
    only("resumable", verdict(watch(first, skipping)), "stream 1 on member 2 (from revision 5)",
         "resumed from revision 5 but the stream before had delivered only up to 3: skipped "
         "[PUT b'a'@4=b'2'")
    # After a compaction cancel its client read the keys again: it may resume anywhere.
    compacted = stream(revisions=[2, 3], progress=0, end="compacted")
    compacted["responses"].append(response(0, canceled=True, compact_revision=4))
    assert verdict(watch(compacted, stream(start=6, revisions=[6, 7], node=2))).ok


def test_a_progress_before_its_events_breaks_bookmarkable():
    s = stream(progress=0)
    s["responses"].insert(5, response(6, watch_id=-1))  # before revision 6's response
    only("bookmarkable", verdict(watch(s)), "a progress response at revision 6 (response 5) "
         "came before revision 6's event on b'c'")


def test_prev_kv_is_the_previous_version_or_nothing():
    s = stream()
    s["responses"][3]["events"][0]["prev_kv"] = B1  # a at 4 was a=1@2, not b's
    only("prev-kv", verdict(watch(s)), "PUT b'a'@4=b'2' (was b'1'@3): its previous version was "
         "b'1'@2 (version 1)")
    s = stream()
    s["responses"][6]["events"][0]["prev_kv"] = A2  # a at 7 was created anew: no prev_kv
    only("prev-kv", verdict(watch(s)), "its previous version was none")
    s = stream(prev_kv=False)
    assert verdict(watch(s, prev_kv=False)).ok
    s["responses"][3]["events"][0]["prev_kv"] = A1
    only("prev-kv", verdict(watch(s, prev_kv=False)), "carries a prev_kv the watch did not ask")


def test_events_outside_the_range_or_the_filters_break_filter():
    only("filter", verdict(watch(stream(), key=b"a", range_end=b"b")), "PUT b'b'@3=b'1'",
         "outside its range")
    only("filter", verdict(watch(stream(), filters=["NOPUT"])), "passed its filter NOPUT")
    nodelete = stream(revisions=[2, 3, 4, 6, 7])
    assert verdict(watch(nodelete, filters=["NODELETE"])).ok


def test_an_event_the_history_does_not_hold_is_caught():
    s = stream()
    s["responses"][5]["events"][0]["kv"]["value"] = b"forged"
    only("not-in-history", verdict(watch(s)), "PUT b'c'@6=b'forged' is not the history's "
         "PUT b'c'@6=b'1'")
    s = stream(progress=0)
    s["responses"].append(response(9, put(b"z", b"1", 9, 9, 1)))
    only("not-in-history", verdict(watch(s)), "above the history's last revision (7)")


def test_an_event_newer_than_its_response_breaks_header():
    s = stream()
    s["responses"][6]["revision"] = 6
    only("header", verdict(watch(s)), "PUT b'a'@7=b'3' in response 6 whose header revision is 6")


def test_a_compaction_cancel_must_be_for_a_revision_it_needed():
    s = stream(revisions=[2, 3, 4, 5], progress=0, end="compacted")
    s["responses"].append(response(0, canceled=True, compact_revision=6))
    assert verdict(watch(s), compacted=6).ok
    only("compaction", verdict(watch(s), compacted=5), "above the cluster's highest compaction")
    s["responses"][-1]["compact_revision"] = 4
    only("compaction", verdict(watch(s)), "cancelled with compact_revision 4, but it needed "
         "revision 6 on")


def test_a_cancel_nobody_asked_for_is_caught():
    s = stream(revisions=[2, 3], progress=0, end="cancelled")
    s["responses"].append(response(3, canceled=True))
    only("unasked-cancel", verdict(watch(s)), "though its client did not ask")
    s["cancel_requested"] = True
    assert verdict(watch(s)).ok


def test_a_refused_watch_is_caught():
    s = stream(revisions=[], progress=0, end="refused")
    s["responses"] = [response(1, created=True, canceled=True, watch_id=-1,
                               reason="mvcc: duplicate watch ID provided on the WatchStream")]
    only("refused", verdict(watch(s)), "refused: mvcc: duplicate watch ID")


def test_a_settled_run_needs_every_open_watch_caught_up():
    s = stream(revisions=[2, 3, 4, 5], progress=0)
    assert verdict(watch(s)).ok, "without settled=True, what it has not received yet is owed"
    only("behind", verdict(watch(s), settled=True), "the run settled at revision 7, but it "
         "never got [PUT b'c'@6=b'1', PUT b'a'@7=b'3']")
    s["end"] = "disconnected"
    assert verdict(watch(s), settled=True).ok, "a watch whose stream died owes nothing more"


def test_members_histories_are_merged_and_must_agree():
    lagging = [e for e in HISTORY if e["kv"]["mod_revision"] <= 5]
    assert verdict(watch(stream()), history={0: HISTORY, 1: lagging}).ok
    forked = copy.deepcopy(HISTORY)
    forked[5]["kv"]["value"] = b"other"
    result = verdict(watch(stream()), history={0: HISTORY, 2: forked})
    assert "history-disagreement" in kinds(result), result.explain()
    assert "members 0 and 2 disagree at revision 6" in result.explain()


def test_revisions_the_history_lacks_are_not_judged():
    s = stream()
    s["responses"][3]["events"][0]["kv"]["value"] = b"unknowable"
    assert verdict(watch(s), unknown=[(4, 4)]).ok
    assert not verdict(watch(s)).ok


def test_watch_objects_and_views_are_accepted_as_they_are():
    from etcdlab.views import WatchEvent
    history = [WatchEvent.from_dict(e) for e in HISTORY]
    assert verdict(watch(stream()), history=history).ok


# ---- a real run, altered as a broken hub would ----------------------------------------------

@pytest.fixture(scope="module")
def real_run():
    pytest.importorskip("etcdlab._core")
    from test_watch_sim import watch_workload
    c, _ = watch_workload(1)
    result = c.check_watches(settled=True)
    assert result.ok, result.explain()
    return [w.record() for w in c.watches], c.store_events


def real(records, history, **options):
    return checkers.check_watches(records, history, seed=1, **options)


def responses_with_events(records):
    """(watch, stream, response) of responses with events, each after another with events in
    its stream (so what is lost from it is a gap, not a late start)."""
    for w, rec in enumerate(records):
        for j, conn in enumerate(rec["connections"]):
            earlier = False
            for k, r in enumerate(conn["responses"]):
                if earlier and r["events"]:
                    yield w, j, k
                earlier = earlier or bool(r["events"])


def test_a_real_run_is_ok_and_altered_runs_are_caught(real_run):
    records, history = real_run
    assert real(records, history, settled=True).ok

    # A hub that loses an event (notify skips a watcher).
    lost = copy.deepcopy(records)
    w, j, k = next(responses_with_events(lost))
    events = lost[w]["connections"][j]["responses"][k]["events"]
    events.pop()
    assert kinds(real(lost, history, settled=True)) == ["atomic" if events else "reliable"]

    # A hub that sends a response twice (a catch-up from the batch's start).
    twice = copy.deepcopy(records)
    w, j, k = next(responses_with_events(twice))
    conn = twice[w]["connections"][j]
    conn["responses"].insert(k + 1, copy.deepcopy(conn["responses"][k]))
    assert "unique" in kinds(real(twice, history))

    # A hub that serves prev_kv from the event's own revision.
    prev = copy.deepcopy(records)
    e = next(e for rec in prev if rec["prev_kv"] for conn in rec["connections"]
             for r in conn["responses"] for e in r["events"] if "prev_kv" in e)
    e["prev_kv"] = dict(e["kv"])
    assert kinds(real(prev, history)) == ["prev-kv"]

    # A hub that splits a revision's events across responses.
    split = copy.deepcopy(records)
    conn, k, cut = next(
        (conn, k, i) for rec in split for conn in rec["connections"]
        for k, r in enumerate(conn["responses"]) for i in range(1, len(r["events"]))
        if r["events"][i]["kv"]["mod_revision"] == r["events"][i - 1]["kv"]["mod_revision"])
    r = conn["responses"][k]
    conn["responses"].insert(k + 1, dict(r, events=r["events"][cut:]))
    r["events"] = r["events"][:cut]
    assert kinds(real(split, history)) == ["atomic"]

    # A hub whose start revision is exclusive: a resumed stream misses its first revision.
    exclusive = copy.deepcopy(records)
    def first_event(conn):
        return next((r for r in conn["responses"] if r["events"]), None)
    conn = next(conn for rec in exclusive for conn in rec["connections"]
                if conn["start_revision"] > 0 and first_event(conn) is not None
                and first_event(conn)["events"][0]["kv"]["mod_revision"]
                == conn["start_revision"])
    first = first_event(conn)
    first["events"] = [e for e in first["events"]
                       if e["kv"]["mod_revision"] != conn["start_revision"]]
    assert "resumable" in kinds(real(exclusive, history))

    # A hub that answers a progress request before a watcher is synced.
    early = copy.deepcopy(records)
    conn = next(conn for rec in early for conn in rec["connections"]
                if sum(1 for r in conn["responses"] if r["events"]) >= 2)
    last = max(i for i, r in enumerate(conn["responses"]) if r["events"])
    rev = conn["responses"][last]["events"][-1]["kv"]["mod_revision"]
    conn["responses"].insert(last, {**conn["responses"][last], "events": [], "watch_id": -1,
                                    "revision": rev})
    assert "bookmarkable" in kinds(real(early, history))

    # A hub that cancels for compaction a watcher it could still serve.
    compaction = copy.deepcopy(records)
    conn = next(conn for rec in compaction for conn in rec["connections"]
                if sum(1 for r in conn["responses"] if r["events"]) >= 2)
    last = max(i for i, r in enumerate(conn["responses"]) if r["events"])
    rev = conn["responses"][last]["events"][-1]["kv"]["mod_revision"]
    conn["responses"].insert(last + 1, {**conn["responses"][last], "events": [],
                                        "canceled": True, "compact_revision": rev - 1})
    result = real(compaction, history)
    assert "compaction" in kinds(result), result.explain()
    assert "seed 1, watch" in str(result.first)
