"""The revision-witness checker on hand-made KV histories whose responses carry revisions."""

from source_checkers import use_source_checkers

use_source_checkers()

import pytest  # noqa: E402

from etcdlab.checkers import HistoryError, KVRevision, check, check_revisions  # noqa: E402

_ids = iter(range(1, 10**9))


def put(client, key, value, rev, call, ret, outcome="ok"):
    return {"id": next(_ids), "client": client, "kind": "put", "input": [key, value],
            "output": None if rev is None else {"revision": rev}, "call": call, "ret": ret, "outcome": outcome}


def get(client, key, call, ret, header, value=None, mod=None, create=None, version=None):
    out = {"value": value, "revision": header}
    if value is not None:
        out.update(mod_revision=mod, create_revision=create, version=version)
    return {"id": next(_ids), "client": client, "kind": "get", "input": [key], "output": out, "call": call, "ret": ret}


def delete(client, key, deleted, rev, call, ret, outcome="ok"):
    return {"id": next(_ids), "client": client, "kind": "delete", "input": [key],
            "output": None if deleted is None else {"deleted": deleted, "revision": rev},
            "call": call, "ret": ret, "outcome": outcome}


def good():
    return [
        put(0, "a", "a1", 2, 0, 2),
        put(1, "b", "b1", 3, 1, 3),
        get(2, "a", 4, 5, 3, "a1", 2, 2, 1),
        put(0, "a", "a2", 4, 6, 8),
        get(1, "a", 7, 9, 4, "a2", 4, 2, 2),  # concurrent with the put, sees it
        get(2, "b", 7, 9, 3, "b1", 3, 3, 1),  # concurrent with the put, before it
        delete(0, "b", 1, 5, 10, 11),
        delete(1, "b", 0, 5, 12, 13),
        get(2, "b", 12, 13, 5),
    ]


def test_good_history_is_ok_for_both_checkers():
    h = good()
    r = check_revisions(h)
    assert r.verdict == "ok", r.explain()
    assert r.info["max_revision"] == 5 and r.info["gaps"] == []
    assert check(KVRevision(), h).verdict == "ok"


def test_duplicate_revision():
    h = good() + [put(3, "c", "c1", 4, 20, 21)]
    r = check_revisions(h)
    assert r.verdict == "illegal"
    assert r.first.kind == "duplicate-revision"
    assert "revision 4 was produced twice" in r.first.message
    assert set(r.first.ops) == {h[3]["id"], h[-1]["id"]}


def test_lost_revision():
    h = good() + [put(3, "c", "c1", 7, 20, 21)]
    r = check_revisions(h)
    assert r.verdict == "illegal"
    assert r.first.kind == "lost-revision" and r.first.revisions == [6]
    assert "revision 6 was produced by no operation" in r.first.message


def test_header_beyond_every_write_is_a_lost_revision():
    h = good() + [get(3, "a", 20, 21, 6, "a2", 4, 2, 2)]
    r = check_revisions(h)
    assert r.verdict == "illegal" and r.first.kind == "lost-revision"


def test_gap_filled_by_an_indeterminate_write():
    h = good() + [put(3, "c", "c1", None, 14, 15, outcome="unknown"), put(4, "c", "c2", 7, 20, 21),
                  get(4, "c", 22, 23, 7, "c2", 7, 6, 2)]
    r = check_revisions(h)
    assert r.verdict == "ok", r.explain()
    assert r.info["assigned"] == {6: h[-3]["id"]}
    # if the indeterminate write was called after revision 7 was known, it cannot be revision 6
    h2 = good() + [put(4, "c", "c2", 7, 14, 15), put(3, "c", "c1", None, 16, 17, outcome="unknown")]
    r2 = check_revisions(h2)
    assert r2.verdict == "illegal" and r2.first.kind == "lost-revision", r2.explain()


def test_gap_observed_by_a_read_needs_that_write():
    # a read saw c1 at mod revision 6: only an indeterminate put of c1 can fill it
    h = good() + [put(3, "c", "zz", None, 14, 15, outcome="unknown"), get(4, "c", 16, 17, 6, "c1", 6, 6, 1)]
    r = check_revisions(h)
    assert r.verdict == "illegal" and r.first.kind == "lost-revision", r.explain()
    assert "observed it as the mod_revision of 'c'" in r.first.message
    h = good() + [put(3, "c", "c1", None, 14, 15, outcome="unknown"), get(4, "c", 16, 17, 6, "c1", 6, 6, 1)]
    assert check_revisions(h).verdict == "ok"


def test_real_time_regression():
    # the read starts after revision 4 was acknowledged but reports header 3
    h = good()
    h[5] = get(2, "b", 9, 10, 3, "b1", 3, 3, 1)  # called after the put of a2 (rev 4) returned at 8
    r = check_revisions(h)
    assert r.verdict == "illegal"
    assert r.first.kind == "real-time"
    assert "returned at 8 with revision 4" in r.first.message and "called later at 9" in r.first.message


def test_stale_read_against_the_replay():
    h = good()
    h[4] = get(1, "a", 7, 9, 4, "a1", 2, 2, 1)  # header 4 says a2 was written, but shows a1
    r = check_revisions(h)
    assert r.verdict == "illegal" and r.first.kind == "stale-read"
    assert "at revision 4 'a' is 'a2'" in r.first.message
    assert check(KVRevision(), h).verdict == "illegal"


def test_wrong_version_or_create_revision():
    h = good()
    h[4] = get(1, "a", 7, 9, 4, "a2", 4, 2, 3)
    assert check_revisions(h).first.kind == "stale-read"
    h[4] = get(1, "a", 7, 9, 4, "a2", 4, 3, 2)
    assert check_revisions(h).first.kind == "stale-read"


def test_delete_of_an_absent_key():
    h = good() + [delete(3, "zz", 1, 6, 20, 21)]
    r = check_revisions(h)
    assert r.verdict == "illegal" and r.first.kind == "bad-delete"


def test_malformed_read_response():
    h = good() + [get(3, "a", 20, 21, 5, "a2", 6, 2, 2)]  # mod above header
    assert check_revisions(h).first.kind == "malformed"


def test_reads_need_header_revisions():
    h = good()
    h[2]["output"].pop("revision")
    with pytest.raises(HistoryError, match="header revision"):
        check_revisions(h)
    # the search checker does not need them
    assert check(KVRevision(), h).verdict == "ok"


def test_initial_revision():
    h = [put(0, "a", "x", 1, 0, 1)]
    assert check_revisions(h).first.kind == "malformed"
    assert check_revisions(h, initial_revision=0).verdict == "ok"
