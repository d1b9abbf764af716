"""check_locks on hand-made holds and writes: a correct run (with a paused holder whose late
write a fenced resource refuses) passes; each broken variant is refused by the rule that
names it: a lock that does not wait for its predecessor, a holder whose lease expired still
writing to an unfenced resource, a resource that refuses a valid token, a write outside a hold,
tokens that do not grow."""

from source_checkers import use_source_checkers

use_source_checkers()

import pytest  # noqa: E402

from etcdlab.checkers import Hold, HistoryError, Write, check_locks  # noqa: E402
from etcdlab.checkers.locks import unfenced  # noqa: E402


def paused_run():
    """c1 holds (token 10), is paused at 2.0 with its lease last known alive at 1.5; its key
    expires at revision 13; c2 (token 12, waiting since revision 12) gets the lock at revision
    13 and writes; c1 wakes at 9.0, writes with its old token (refused), releases."""
    holds = [
        Hold("c0", 5, acquired=0.1, released=0.9, acquired_revision=5, deleted_revision=9),
        Hold("c1", 10, acquired=1.0, released=9.1, expired=1.5, acquired_revision=10,
             deleted_revision=13),
        Hold("c2", 12, acquired=5.0, released=6.0, acquired_revision=13, deleted_revision=15),
    ]
    writes = [
        Write("c0", 5, 0.5, True),
        Write("c1", 10, 1.2, True),
        Write("c2", 12, 5.5, True),
        Write("c1", 10, 9.0, False),  # the late write of the paused holder: fenced off
    ]
    return holds, writes


def test_a_paused_holder_fenced_off_is_a_correct_run():
    holds, writes = paused_run()
    r = check_locks(holds, writes)
    assert r.verdict == "ok", r.explain()
    assert r.info == {"holds": 3, "writes": 4, "refused": 1, "violations": []}


def test_without_fencing_the_paused_holders_write_is_a_stale_write():
    """The same run on a resource that takes every write: c1 overwrote c2's work."""
    holds, writes = paused_run()
    r = check_locks(holds, unfenced(writes))
    assert r.verdict == "illegal"
    assert [v.kind for v in r.violations] == ["stale-write"]
    assert "client 'c1', token 10, at 9" in r.first.message
    assert "after write 2 (client 'c2', token 12" in r.first.message


def test_a_lock_that_does_not_wait_for_its_predecessor():
    """c2 takes the lock as soon as its key exists, while c1 holds it with a live lease."""
    holds = [
        Hold("c1", 10, acquired=1.0, released=3.0, acquired_revision=10, deleted_revision=14),
        Hold("c2", 12, acquired=1.5, released=2.5, acquired_revision=12, deleted_revision=13),
    ]
    r = check_locks(holds)
    assert r.verdict == "illegal"
    assert [v.kind for v in r.violations] == ["overlap", "revision-overlap"]
    assert "from 1.5 to 2.5" in r.violations[0].message
    assert "did not wait for its predecessor" in r.violations[1].message


def test_an_overlap_on_revisions_alone_is_caught():
    """No clock overlap recorded (c1's lease is only known alive until 1.2), yet c2 was told
    it held the lock at revision 12 while c1's key lived until 14."""
    holds = [
        Hold("c1", 10, acquired=1.0, released=3.0, expired=1.2, acquired_revision=10,
             deleted_revision=14),
        Hold("c2", 12, acquired=1.5, released=2.5, acquired_revision=12, deleted_revision=16),
    ]
    r = check_locks(holds)
    assert [v.kind for v in r.violations] == ["revision-overlap"]


def test_a_hold_after_the_lease_expired_is_not_an_overlap():
    holds = [Hold("c1", 10, acquired=1.0, released=9.0, expired=2.0),
             Hold("c2", 12, acquired=5.0, released=6.0)]
    assert check_locks(holds).verdict == "ok"


def test_a_lease_expired_holder_writing_first_is_not_refused_by_fencing():
    """Fencing is about order at the resource: a late write that still comes before the new
    holder's first write carries the highest token the resource has seen, and is accepted."""
    holds = [Hold("c1", 10, acquired=1.0, released=9.0, expired=2.0),
             Hold("c2", 12, acquired=5.0, released=9.5)]
    writes = [Write("c1", 10, 8.0, True), Write("c2", 12, 9.2, True)]
    assert check_locks(holds, writes).verdict == "ok"


def test_a_resource_that_refuses_a_valid_token():
    holds, writes = paused_run()
    writes[2] = Write("c2", 12, 5.5, False)
    writes[3] = Write("c1", 10, 9.0, True)
    r = check_locks(holds, writes)
    assert [v.kind for v in r.violations] == ["wrong-refusal"]


def test_a_write_outside_its_hold():
    holds, writes = paused_run()
    writes.append(Write("c0", 5, 1.0, True))  # after c0 released at 0.9
    writes.append(Write("c2", 10, 5.6, False))  # a token c2 never held
    r = check_locks(holds, writes)
    assert [v.kind for v in r.violations] == ["write-without-hold"] * 2


def test_tokens_that_do_not_grow():
    holds = [Hold("c1", 10, acquired=1.0, released=2.0, acquired_revision=10,
                  deleted_revision=11),
             Hold("c2", 9, acquired=3.0, released=4.0, acquired_revision=11,
                  deleted_revision=12),
             Hold("c3", 9, acquired=5.0, released=6.0)]
    r = check_locks(holds)
    assert sorted(v.kind for v in r.violations) == ["duplicate-token", "token-order"]


def test_holds_and_writes_as_dicts_and_bad_input():
    holds, writes = paused_run()
    r = check_locks([h.__dict__ for h in holds], [w.__dict__ for w in writes])
    assert r.verdict == "ok"
    with pytest.raises(HistoryError, match="fields: client, token, acquired"):
        check_locks([{"client": 1, "token": 2}])
    with pytest.raises(HistoryError, match="released before it was acquired"):
        check_locks([Hold("c", 1, acquired=2.0, released=1.0)])
