"""The Python API of the simulated cluster: time, faults, clients, observation, checks."""

import pytest

import etcdlab


def elect(c, timeout_ms=10000):
    assert c.run_until(lambda: c.leader() is not None, timeout_ms), "no leader elected"
    return c.leader()


def test_a_cluster_elects_and_replicates():
    c = etcdlab.Cluster(n=5, seed=7)
    leader = elect(c)
    assert c.nodes[leader].role == "leader"
    ops = [c.propose(f"cmd{i}".encode()) for i in range(10)]
    assert c.run_until(lambda: all(op.done for op in ops), 5000)
    assert [op.outcome for op in ops] == ["ok"] * 10
    c.run(1000)
    for node in c.nodes:
        assert node.commands_applied == 10
        assert node.commit == c.nodes[leader].commit
    commands = [e.command for e in c.nodes[0].log if e.type == "normal" and e.command]
    assert commands == [f"cmd{i}".encode() for i in range(10)], "the log holds the commands"


def test_log_entries_carry_the_op_id_before_the_command():
    # python/README.md, "Log entries": 8 bytes of operation id (little-endian), then the command.
    c = etcdlab.Cluster(n=3, seed=7)
    elect(c)
    op = c.propose(b"hello")
    assert c.run_until(lambda: op.done, 5000)
    [entry] = [e for e in c.nodes[c.leader()].log if e.command == b"hello"]
    assert entry.type == etcdlab.EntryType.normal == "normal"
    assert entry.op_id == op.id
    assert entry.data == op.id.to_bytes(8, "little") + b"hello"
    kv = etcdlab.Cluster(n=3, seed=7, kv=True)
    elect(kv)
    put = kv.put(b"k", b"v")
    assert kv.run_until(lambda: put.done, 5000)
    assert all(e.op_id is None and e.command is None for e in kv.nodes[0].log)


def test_roles_are_one_str_type_everywhere():
    c = etcdlab.Cluster(n=3, seed=7)
    leader = elect(c)
    role = c.nodes[leader].role
    assert role == "leader" and role is etcdlab.Role.leader and f"{role}" == "leader"
    changes = c.role_changes
    became = [rc for rc in changes if rc.role == "leader"]
    assert became and became[-1].node == leader
    assert all(isinstance(rc.role, etcdlab.Role) for rc in changes)
    assert {rc.role for rc in changes} <= {"follower", "pre_candidate", "candidate", "leader"}
    assert "pre_candidate" in {rc.role for rc in changes}  # PreVote is on by default
    assert "pre-candidate" not in repr(changes) + repr(c._core.role_changes())
    assert became[-1].role.name == "leader"  # as the notebooks used to read it


def test_times_are_milliseconds_and_say_so():
    c = etcdlab.Cluster(n=3, seed=7, record_trace=True)
    elect(c)
    rc = c.role_changes[-1]
    assert 0 < rc.time_ms <= c.now_ms
    assert rc.time_us == round(rc.time_ms * 1000)  # the old name, same instant
    assert c.trace[-1].time_ms == c.trace[-1].time_us / 1000 <= c.now_ms


def test_nodes_report_term_role_vote_and_counters():
    c = etcdlab.Cluster(n=3, seed=3)
    leader = elect(c)
    c.run(500)  # followers learn of the leader from its first appends
    for node in c.nodes:
        assert node.term == c.nodes[leader].term
        assert node.leader == leader
        assert node.messages_sent > 0
        assert node.vote is None or 0 <= node.vote < 3
    assert "leader" in repr(c.nodes[leader])


def test_time_moves_by_run_tick_and_step():
    c = etcdlab.Cluster(n=3, seed=1)
    c.run(250)
    assert c.now_ms == pytest.approx(250)
    c.tick()
    assert c.now_ms == pytest.approx(350)
    before = c.events
    c.step()
    assert c.events == before + 1


def test_partition_minority_cannot_commit_majority_can():
    c = etcdlab.Cluster(n=5, seed=11)
    leader = elect(c)
    others = [i for i in range(5) if i != leader]
    c.partition([[leader, others[0]], others[1:]])
    c.run(3000)
    new_leader = c.leader()
    assert new_leader in others[1:], "the majority side elects a leader"
    op = c.propose(b"after-partition", via=new_leader)
    assert c.run_until(lambda: op.done, 5000) and op.outcome == "ok"
    c.heal()
    c.run(3000)
    assert all(n.commands_applied == 1 for n in c.nodes)


def test_crash_and_restart_keep_what_was_acknowledged():
    c = etcdlab.Cluster(n=3, seed=5)
    elect(c)
    ops = [c.propose(b"x%d" % i) for i in range(5)]
    c.run_until(lambda: all(op.done for op in ops), 5000)
    for i in range(3):
        c.crash(i, mode="torn_write")
    assert not c.nodes[0].up
    for i in range(3):
        c.restart(i)
    elect(c)
    c.run(2000)
    assert all(n.commands_applied == 5 for n in c.nodes)
    assert c.nodes[0].restarts == 1


def test_reads_are_linearizable_and_return_the_count():
    c = etcdlab.Cluster(n=3, seed=2)
    elect(c)
    w = c.propose(b"one")
    c.run_until(lambda: w.done, 5000)
    r = c.read(via=(c.leader() + 1) % 3)
    assert c.run_until(lambda: r.done, 5000)
    assert r.outcome == "ok" and r.value == 1
    assert r.call_ms <= r.return_ms


def test_membership_and_transfer():
    c = etcdlab.Cluster(n=4, seed=4, initial_voters=3)
    elect(c)
    add = c.add_voter(3)
    assert c.run_until(lambda: add.done, 10000) and add.outcome == "ok"
    assert 3 in c.nodes[c.leader()].voters
    t = c.transfer_leader(3)
    assert c.run_until(lambda: t.done, 10000) and t.outcome == "ok"
    assert c.leader() == 3


def test_history_feeds_the_checkers():
    c = etcdlab.Cluster(n=3, seed=9)
    elect(c)
    for i in range(5):
        c.propose(b"w%d" % i)
        c.read()
        c.run(20)
    c.run(3000)
    history = c.history
    assert {op.kind for op in history} == {"write", "read"}
    result = etcdlab.checkers.check(etcdlab.checkers.CountingLog(), history, timeout=10)
    assert result.verdict == "ok"


def test_a_broken_invariant_raises_with_its_name():
    violation = etcdlab.InvariantViolation("invariant \"log matching\" broken")
    assert isinstance(violation, AssertionError)
    assert "log matching" in etcdlab.INVARIANTS


def test_bad_arguments_are_python_errors():
    c = etcdlab.Cluster(n=3, seed=1)
    with pytest.raises(IndexError):
        c.propose(b"x", via=7)
    with pytest.raises(ValueError):
        etcdlab.Cluster(n=0)


def test_trace_is_recorded_on_request():
    c = etcdlab.Cluster(n=3, seed=1, record_trace=True)
    c.run(500)
    assert len(c.trace) > 0
    assert "tick" in str(c.trace[0]) or "log" in str(c.trace[0])
    assert "last events of node 0" in c.recent_events()
