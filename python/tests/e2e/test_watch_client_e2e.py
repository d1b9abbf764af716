"""etcdlab.Client.watch against real etcdlab processes (and, where said, a real etcd 3.4): events,
ranges, filters, history and compaction, progress, fragments, cancel from another thread,
resuming on another member after a kill, and bad arguments refused before anything is sent."""

import os
import shutil
import threading
import time

import pytest

from etcdlab.client import Client, EtcdError
from etcdlab.local import LocalCluster

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
BIG = 700 * 1000  # three such events pass the fragment size (max request + 512 KiB: 2 MiB)


def events(w, count, timeout=10.0) -> list:
    """The next `count` events of a watch (across responses), as (type, key, value)."""
    out, deadline = [], time.monotonic() + timeout
    while len(out) < count:
        r = w.next(max(0.0, deadline - time.monotonic()))
        assert r is not None, f"only {out} after {timeout} s"
        for e in r.get("events", []):
            out.append((e.get("type", "PUT"), e["kv"]["key"], e["kv"].get("value", b"")))
    return out


def test_a_watch_sees_puts_and_deletes_in_order_with_prev_kv(single):
    c = single.client()
    c.put("k", "0")
    with c.watch("k", prev_kv=True) as w:
        assert w.watch_id == 0 and w.revision == c.get("k")["header"]["revision"]
        c.put("k", "1")
        c.put("other", "x")
        c.delete("k")
        first = w.next(5)
        assert [e["kv"]["value"] for e in first["events"]] == [b"1"]
        assert first["events"][0]["prev_kv"]["value"] == b"0"
        second = w.next(5)
        assert second["events"][0]["type"] == "DELETE"
        assert second["events"][0]["prev_kv"]["value"] == b"1"
        assert second["header"]["revision"] == first["header"]["revision"] + 2
    assert w.canceled and w.next(0.2) is None, "a cancelled watch yields nothing more"
    c.close()


def test_prefix_range_and_filters_choose_the_events(single):
    c = single.client()
    with c.watch("p/", prefix=True) as everything, c.watch("p/a", "p/c") as some, \
            c.watch("p/", prefix=True, filters=["NOPUT"]) as deletes:
        for key in ("p/a", "p/b", "p/c", "q"):
            c.put(key, "v")
        c.delete("p/", prefix=True)
        assert events(everything, 6) == [("PUT", b"p/a", b"v"), ("PUT", b"p/b", b"v"),
                                         ("PUT", b"p/c", b"v"), ("DELETE", b"p/a", b""),
                                         ("DELETE", b"p/b", b""), ("DELETE", b"p/c", b"")]
        assert events(some, 4) == [("PUT", b"p/a", b"v"), ("PUT", b"p/b", b"v"),
                                   ("DELETE", b"p/a", b""), ("DELETE", b"p/b", b"")]
        assert events(deletes, 3) == [("DELETE", b"p/a", b""), ("DELETE", b"p/b", b""),
                                      ("DELETE", b"p/c", b"")]
    c.close()


def test_a_delete_of_many_keys_comes_in_one_response(single):
    c = single.client()
    for key in ("m/1", "m/2", "m/3"):
        c.put(key, "v")
    with c.watch("m/", prefix=True) as w:
        c.delete("m/", prefix=True)
        response = w.next(5)
        assert len(response["events"]) == 3, response
    c.close()


def test_history_is_replayed_and_a_compacted_start_is_cancelled(single):
    c = single.client()
    first = c.put("h", "1")["header"]["revision"]
    c.put("h", "2")
    c.put("h", "3")
    with c.watch("h", start_revision=first) as w:
        assert events(w, 3) == [("PUT", b"h", b"1"), ("PUT", b"h", b"2"), ("PUT", b"h", b"3")]
    c.compact(first + 2)
    w = c.watch("h", start_revision=first)
    cancelled = list(w)  # the cancellation is its last response
    assert cancelled[-1]["canceled"] and cancelled[-1]["compact_revision"] == first + 2
    assert w.canceled and w.compact_revision == first + 2
    c.close()


def test_a_progress_request_answers_the_store_revision(single):
    c = single.client()
    with c.watch("nothing-here") as w:
        rev = c.put("elsewhere", "x")["header"]["revision"]
        w.request_progress()
        r = w.next(5)
        assert r["watch_id"] == -1 and not r.get("events") and r["header"]["revision"] == rev
        assert w.next_revision == rev + 1
    c.close()


def test_an_idle_watcher_gets_progress_notifications():
    with LocalCluster(n=1, extra_args=[
            "--experimental-watch-progress-notify-interval=300ms"]) as member:
        member.wait_leader()
        c = member.client()
        with c.watch("quiet", progress_notify=True) as w:
            r = w.next(5)
            assert r is not None and r.get("watch_id", 0) == w.watch_id and not r.get("events"), r
        c.close()


def test_a_fragmented_response_arrives_joined(single):
    c = single.client()
    for i in range(3):
        c.put(f"big/{i}", str(i) * BIG)
    with c.watch("big/", prefix=True, prev_kv=True, fragment=True) as w:
        c.delete("big/", prefix=True, prev_kv=True)
        r = w.next(10)
        assert len(r["events"]) == 3 and "fragment" not in r, \
            [len(r.get("events", [])), r.get("fragment")]
        assert [len(e["prev_kv"]["value"]) for e in r["events"]] == [BIG] * 3
    c.close()


def test_cancel_from_another_thread_ends_the_iteration(single):
    c = single.client()
    w = c.watch("t")
    got = []
    reader = threading.Thread(target=lambda: got.extend(w))
    reader.start()
    c.put("t", "1")
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    w.cancel()
    reader.join(5)
    assert not reader.is_alive(), "the reader is still blocked after cancel()"
    assert [r["events"][0]["kv"]["value"] for r in got] == [b"1"]
    c.close()


def test_a_watch_resumes_on_another_member_without_loss_or_repeat(cluster):
    """The member a watch streams from is killed between writes: the watch moves to the next
    endpoint and continues from the revision after the last one it delivered."""
    c = cluster.client()
    w = c.watch("r/", prefix=True, endpoint=None)
    first_endpoint = w._stream.endpoint
    victim = cluster.endpoints.index(first_endpoint)
    writer = cluster.client(members=[i for i in range(3) if i != victim], timeout=10)
    for i in range(5):
        writer.put(f"r/{i}", str(i))
    before = events(w, 5)
    cluster.kill(victim)
    cluster.wait_leader()
    for i in range(5, 10):
        writer.put(f"r/{i}", str(i))
    after = events(w, 5, timeout=20)
    assert w._stream.endpoint != first_endpoint
    assert [key for _, key, _ in before + after] == [f"r/{i}".encode() for i in range(10)]
    assert w.next(0.5) is None, "nothing repeated"
    w.cancel()
    writer.close()
    c.close()


def test_without_resume_a_lost_connection_is_an_error(single):
    c = single.client()
    w = c.watch("x", resume=False)
    single.kill(0)
    with pytest.raises(EtcdError, match="broke"):
        w.next(5)
    c.close()


@pytest.mark.parametrize("call, error", [
    (lambda c: c.watch("a", "b", prefix=True), ValueError),
    (lambda c: c.watch("a", filters=["NOPE"]), ValueError),
    (lambda c: c.watch("a", filters="NOPUT,NODELETE"), ValueError),
    (lambda c: c.watch("a", start_revision="5"), TypeError),
    (lambda c: c.watch("a", start_revision=2**63), ValueError),
    (lambda c: c.watch("a", prev_kv=1), TypeError),
    (lambda c: c.watch("a", resume="yes"), TypeError),
])
def test_bad_arguments_are_refused_before_anything_is_sent(call, error):
    c = Client(["127.0.0.1:1"], timeout=1)  # nothing listens there: nothing may be sent
    with pytest.raises(error):
        call(c)


def scenario(endpoint) -> list:
    """What Client.watch gives on one server: a watch, writes, a progress request, history."""
    c = Client([endpoint], timeout=10)
    out = []
    c.put("s", "0")
    with c.watch("s", prefix=True, prev_kv=True) as w:
        c.put("s", "1")
        c.put("s2", "x")
        c.delete("s", prefix=True)
        out.append(events(w, 4))
        w.request_progress()
        out.append(w.next(5))
        start = w.revision
    with c.watch("s", start_revision=start) as w:
        out.append(events(w, 2))
    c.close()
    return [_masked(x) for x in out]


def _masked(value):
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()
                if k not in ("cluster_id", "member_id", "raft_term")}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def test_the_client_gets_the_same_from_etcd():
    """The same calls against etcd 3.4's gateway (which needs the client's way of streaming
    requests over HTTP/1.1, etcdlab/watches.py) and etcdlab's give the same answers."""
    if not os.path.exists(ETCD):
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            pytest.fail("etcd 3.4 is not installed (make deps installs etcd-server)")
        pytest.skip("etcd 3.4 is not installed")
    answers = []
    for binary in (ETCD, None):
        with LocalCluster(n=1, binary=binary) as member:
            member.wait_leader()
            answers.append(scenario(member.endpoint(0)))
    assert answers[0] == answers[1]


def history_of(c: Client, last: int) -> list:
    """Every event the cluster committed up to `last`, read back with a watch from revision 1
    on every key (nothing is compacted)."""
    out = []
    with c.watch("\0", "\0", start_revision=1) as h:
        while not out or out[-1]["kv"]["mod_revision"] < last:
            r = h.next(10)
            assert r is not None, f"the history stopped at {out[-1:]}"
            out += r.get("events", [])
    return out


def test_a_watch_through_kills_passes_the_watch_checker(cluster):
    """Real processes, as the simulated suites do it: a prefix watch with prev_kv streams while
    the member it is on is killed and restarted, twice, between writes (puts, deletes of
    ranges); checkers.check_watches finds it ordered, unique, atomic, reliable and resumable,
    with every previous version right, against the history read back."""
    from etcdlab.checkers import check_watches
    c = cluster.client(timeout=10)
    w = c.watch("k/", prefix=True, prev_kv=True)
    n = 0

    def writes(count):
        nonlocal n
        for _ in range(count):
            n += 1
            if n % 4 == 0:
                c.delete("k/", prefix=True)
            else:
                c.put(f"k/{n % 3}", str(n))

    writes(6)
    for _ in range(2):
        victim = cluster.endpoints.index(w._stream.endpoint)
        cluster.kill(victim)
        cluster.wait_leader()
        writes(6)
        while w.next(0.3) is not None:  # it reads on, elsewhere
            pass
        cluster.restart(victim)
        cluster.wait_healthy(victim)
        writes(4)
    last = c.get("\0", "\0", count_only=True)["header"]["revision"]
    while w.next_revision <= last:
        assert w.next(10) is not None, f"the watch stopped before revision {last}"
    record = w.record()
    assert len(record["connections"]) >= 3, "it resumed on other members"
    result = check_watches([record], history_of(c, last), settled=True)
    assert result.verdict == "ok", result.explain()
    assert result.info["events"] > 20
    w.cancel()
    c.close()
