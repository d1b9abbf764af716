"""checkers.check_leases catches each mistake it names: small hand-made runs first (each rule
broken once, and the run that keeps it), then a real simulated run (test_lease_sim.py's
workload) altered the way a broken lessor would have altered it. A checker that cannot fail
checks nothing."""

import copy
import sys
from pathlib import Path

import pytest

from etcdlab import checkers
from etcdlab.checkers import Operation

sys.path.insert(0, str(Path(__file__).parent))


def op(id, kind, input, output, call, ret, outcome="ok"):
    return Operation(client=id, kind=kind, input=input, output=output, call=call, ret=ret,
                     outcome=outcome, id=id)


def grant(id, lease, ttl_s, call):
    return op(id, "lease_grant", {"ID": lease, "TTL": ttl_s},
              {"ID": lease, "TTL": ttl_s, "revision": 1}, call, call + 5)


def keepalive(id, lease, ttl_s, call, outcome="ok"):
    return op(id, "lease_keepalive", {"ID": lease}, {"TTL": ttl_s} if outcome == "ok" else None,
              call, call + 5, outcome)


def put(id, key, lease, revision, call):
    return op(id, "put", {"key": key, "value": b"up", "lease": lease}, {"revision": revision},
              call, call + 5)


def members(leases, events, nodes=(0, 1, 2)):
    return {n: {"leases": list(leases), "events": list(events)} for n in nodes}


# A lease of 3 s granted at 0 with keys a and b, kept alive at 1000 ms, expired at 4100 ms on
# every member (revision 4 deletes both keys).
HISTORY = [grant(1, 7, 3, 0), put(2, b"a", 7, 2, 10), put(3, b"b", 7, 3, 20),
           keepalive(4, 7, 3, 1000)]
EVENTS = [(2, "put", b"a", 7), (3, "put", b"b", 7), (4, "delete", b"a", 0),
          (4, "delete", b"b", 0)]
OBSERVED = {"time_ms": 10_000,
            "changes": [(5, n, 7, True) for n in range(3)] + [(4100, n, 7, False) for n in range(3)],
            "members": members([], EVENTS)}


def verdict(history=HISTORY, observed=OBSERVED, **kw):
    return checkers.check_leases(history, observed, **kw)


def kinds(result):
    return sorted({v.kind for v in result.violations})


def test_a_run_that_keeps_every_rule_is_ok():
    result = verdict(idle_ms=5000)
    assert result.verdict == "ok", result.explain()
    assert result.info["lease operations"] == 2 and result.info["members"] == 3


def test_a_lease_lost_before_a_keepalive_said_is_an_early_expiry():
    observed = copy.deepcopy(OBSERVED)
    observed["changes"][4] = (3900, 1, 7, False)  # member 1: 100 ms before 1000 + 3 s
    result = verdict(observed=observed)
    assert kinds(result) == ["early-expiry"], result.explain()
    assert "member 1 lost lease 7 at 3900 ms" in str(result.first)
    assert "keepalive op 4" in str(result.first) and "100 ms early" in str(result.first)


def test_a_keepalive_that_failed_or_came_after_the_loss_promises_nothing():
    history = HISTORY[:3] + [keepalive(4, 7, 3, 1000, "failed"), keepalive(5, 7, 3, 4200)]
    observed = copy.deepcopy(OBSERVED)
    observed["changes"][3] = (3100, 0, 7, False)  # after the grant's 3 s, before 1000 + 3 s
    assert verdict(history, observed).verdict == "ok"


def test_a_loss_after_a_client_revoke_was_called_is_no_expiry():
    observed = copy.deepcopy(OBSERVED)
    observed["changes"] = [(t - 3000 if not held else t, n, l, held)
                           for t, n, l, held in observed["changes"]]  # at 1100 ms
    assert kinds(verdict(observed=observed)) == ["early-expiry"]
    revoke = op(5, "lease_revoke", {"ID": 7}, None, 1050, 9000, "unknown")
    assert verdict(HISTORY + [revoke], observed).verdict == "ok"


def test_a_revoke_split_over_two_revisions_is_caught():
    events = EVENTS[:2] + [(4, "delete", b"a", 0), (5, "delete", b"b", 0)]
    result = verdict(observed={**OBSERVED, "members": members([], events)})
    assert kinds(result) == ["split-revoke"], result.explain()
    assert "revision 4 deleted [b'a'] of lease 7 while [b'b'] stayed attached" in str(result.first)


def test_a_client_delete_of_one_key_is_not_a_split_revoke():
    events = EVENTS[:2] + [(4, "delete", b"a", 0), (5, "delete", b"b", 0)]
    delete = op(5, "delete", {"key": b"a"}, {"deleted": 1, "revision": 4}, 2000, 2005)
    assert verdict(HISTORY + [delete], {**OBSERVED, "members": members([], events)}).ok


def test_a_key_left_behind_by_a_gone_lease_is_leaked():
    result = verdict(observed={**OBSERVED, "members": members([], EVENTS[:2])})
    assert kinds(result) == ["leaked-key"], result.explain()  # the lease went, its keys stayed
    assert "key b'a' is still attached to lease 7" in str(result.first)
    half = verdict(observed={**OBSERVED, "members": members([], EVENTS[:3])})
    assert kinds(half) == ["leaked-key", "split-revoke"], half.explain()


def test_a_key_of_a_live_lease_that_nobody_deleted_is_lost():
    events = EVENTS[:2] + [(4, "delete", b"a", 0)]
    observed = {**OBSERVED, "changes": OBSERVED["changes"][:3], "members": members([7], events)}
    assert kinds(verdict(observed=observed)) == ["lost-key"]


def test_members_that_end_differently_disagree():
    observed = copy.deepcopy(OBSERVED)
    observed["members"][2]["leases"] = [7]
    observed["members"][2]["events"] = EVENTS[:2]
    result = verdict(observed=observed)
    assert "disagreement" in kinds(result)
    assert any("member 2 ends with leases [7], member 0 with []" in str(v)
               for v in result.violations)


def test_a_lease_nobody_kept_alive_must_be_gone_at_the_end():
    observed = {"time_ms": 10_000, "changes": OBSERVED["changes"][:3],
                "members": members([7], EVENTS[:2])}
    result = verdict(observed=observed, idle_ms=5000)
    assert kinds(result) == ["not-expired"], result.explain()
    assert "lease 7 was last kept alive at 1005 ms" in str(result.first)
    assert verdict(observed=observed).ok  # without idle_ms there is no such rule
    assert verdict(observed=observed, idle_ms=9500).ok  # not idle long enough


def test_observations_of_the_wrong_shape_are_refused():
    with pytest.raises(TypeError, match="lease_observations"):
        checkers.check_leases(HISTORY, [])


# ---- a real run, altered ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def run():
    from test_lease_sim import IDLE_MS, lease_workload
    c = lease_workload(11)
    history, observed = c.history, c.lease_observations()
    assert checkers.check_leases(history, observed, idle_ms=IDLE_MS).ok
    return history, observed


def _expired(observed):
    """(time, node, lease) of the first loss of lease 1002, the one nobody kept alive."""
    return next((t, n, l) for t, n, l, held in observed["changes"] if l == 1002 and not held)


def test_real_run_a_lessor_that_expires_early_is_caught(run):
    history, observed = run
    t, node, lease = _expired(observed)
    grant_op = next(o for o in history if o.kind == "lease_grant" and o.output["ID"] == lease)
    changed = copy.deepcopy(observed)
    early = grant_op.call + 2500  # half a second before the grant's 3 s
    changed["changes"] = [(early if (ct, cn, cl) == (t, node, lease) else ct, cn, cl, h)
                          for ct, cn, cl, h in observed["changes"]]
    result = checkers.check_leases(history, changed)
    assert kinds(result) == ["early-expiry"], result.explain()


def test_real_run_a_longer_promise_than_the_lessor_keeps_is_caught(run):
    """A keep-alive that answered a TTL the lessor did not honour: the real expiry is early."""
    history, observed = run
    t, _, lease = _expired(observed)
    lied = [o if o.kind != "lease_grant" or o.output["ID"] != lease else
            op(o.id, o.kind, o.input, {**o.output, "TTL": 60}, o.call, o.ret)
            for o in history]
    assert "early-expiry" in kinds(checkers.check_leases(lied, observed))


def test_real_run_a_split_revoke_is_caught(run):
    history, observed = run
    changed = copy.deepcopy(observed)
    events = changed["members"][0]["events"]
    deletes = [e for e in events if e[1] == "delete" and e[2].startswith(b"svc/1002/")]
    assert len(deletes) == 2 and deletes[0][0] == deletes[1][0], "premise: one revision"
    events[events.index(deletes[0])] = (deletes[0][0] - 1, *deletes[0][1:])
    events.sort(key=lambda e: e[0])
    assert "split-revoke" in kinds(checkers.check_leases(history, changed))


def test_real_run_a_leaked_key_and_a_disagreeing_member_are_caught(run):
    history, observed = run
    changed = copy.deepcopy(observed)
    events = changed["members"][1]["events"]
    events.remove(next(e for e in events if e[1] == "delete" and e[2].startswith(b"svc/1002/")))
    assert {"leaked-key", "disagreement"} <= set(kinds(checkers.check_leases(history, changed)))
