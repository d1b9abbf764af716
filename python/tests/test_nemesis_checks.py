"""The nemesis's own verdicts (etcdlab/nemesis_load.py, nemesis.py) on made-up histories: a
check that cannot fail would let a real-process run pass whatever the cluster did."""

import random
from collections import Counter

from etcdlab.checkers import Operation
from etcdlab.nemesis import FAULT_KINDS, Report
from etcdlab.nemesis_load import lost_writes, unavailability


def _op(kind, inp, out, outcome="ok", call=0.0, ret=1.0, who="c0"):
    return Operation(client=who, kind=kind, input=inp, output=out, call=call,
                     ret=ret if outcome != "unknown" else None, outcome=outcome)


def _put(key, value, rev, **kw):
    return _op("put", {"key": key, "value": value}, {"revision": rev}, **kw)


def _cas(key, value, rev, succeeded=True):
    return _op("txn", {"compare": [], "success": [{"put": {"key": key, "value": value}}],
                       "failure": []},
               {"succeeded": succeeded, "revision": rev, "responses": []})


EVENTS = [(2, "PUT", "nem/a", "1"), (3, "DELETE", "nem/a", ""), (4, "PUT", "nem/b", "2")]


def test_every_acknowledged_write_found_at_its_revision_is_not_lost():
    history = [_put("nem/a", "1", 2),
               _op("delete", {"key": "nem/a"}, {"deleted": 1, "revision": 3}),
               _cas("nem/b", "2", 4),
               _put("nem/c", "9", None, outcome="unknown"),   # may not have applied
               _cas("nem/b", "x", 4, succeeded=False)]        # wrote nothing
    assert lost_writes(history, EVENTS) == []


def test_an_acknowledged_put_missing_or_different_at_its_revision_is_lost():
    assert len(lost_writes([_put("nem/a", "1", 5)], EVENTS)) == 1, "missing"
    assert len(lost_writes([_put("nem/a", "other", 2)], EVENTS)) == 1, "another value there"
    assert len(lost_writes([_put("nem/b", "1", 2)], EVENTS)) == 1, "another key there"


def test_an_acknowledged_delete_or_txn_missing_from_the_history_is_lost():
    gone = _op("delete", {"key": "nem/b"}, {"deleted": 1, "revision": 4})
    assert len(lost_writes([gone], EVENTS)) == 1, "a put where the delete should be"
    assert len(lost_writes([_cas("nem/b", "2", 5)], EVENTS)) == 1


def test_a_run_passes_only_with_ok_verdict_no_lost_write_and_equal_hashes():
    def report(verdict="ok", lost=(), hashes=None):
        return Report(1, 1.0, {"operations": 0}, Counter(), Counter(), verdict, "", list(lost),
                      hashes or {0: 5, 1: 5}, 0, 1, 0.0)
    assert report().passed
    assert not report(verdict="illegal").passed
    assert not report(verdict="unknown").passed, "an undecided check is no pass"
    assert not report(lost=["op 3 lost"]).passed
    assert not report(hashes={0: 5, 1: 6}).passed
    assert "lost acknowledged writes" in report().table()


def test_unavailability_is_the_longest_gap_between_acknowledged_writes():
    history = [_put("k", "1", 2, ret=1.0), _put("k", "2", 3, ret=1.5),
               _op("get", {"key": "k"}, {"value": "2", "revision": 3}, ret=3.0),
               _put("k", "3", 4, ret=4.5), _put("k", "4", None, outcome="unknown")]
    assert unavailability(history) == 3.0


def test_the_fault_table_holds_the_link_process_and_disk_faults():
    assert {"partition", "isolate-leader", "one-way", "bridge", "delay", "drop", "kill",
            "pause", "disk-full", "slow-disk"} <= set(FAULT_KINDS)


def test_disk_faults_are_not_possible_without_small_disks():
    class NoDisks:  # a nemesis given no DiskFaults
        disks = None
    for name in ("disk-full", "slow-disk"):
        assert FAULT_KINDS[name].inject(NoDisks(), random.Random(1)) is None, name
