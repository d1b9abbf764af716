"""etcdlab.Client.lock and .election (etcd's concurrency recipes, client-side) against a real
etcd 3.4 and etcdlab: two lockers exclude each other and hand over in order, a timed-out wait
leaves no key, a waiter whose session dies stops, is_owner() guards a txn; elections campaign,
proclaim, observe and resign. Against etcd, interoperation with etcdctl 3.4 (the same keys):
a Python lock waits for `etcdctl lock` and etcdctl for Python, `etcdctl elect -l` sees a Python
leader and Python sees etcdctl's; against both, the server's own /v3/lock and a Python lock
exclude each other. Waits poll with deadlines."""

import os
import subprocess
import threading
import time

import pytest

from etcdlab import txn as t
from etcdlab.concurrency import Lock, NotLeader, SessionExpired

from txn_servers import ETCDCTL, SERVERS, need, start


def wait_for(predicate, timeout_s=10.0, every_s=0.02):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    return predicate()


@pytest.fixture(scope="module", params=SERVERS)
def member(request):
    cluster = start(request.param)
    cluster.server = request.param
    yield cluster
    cluster.close()


@pytest.fixture
def name(request):
    return request.node.name.split("[")[0]


def waiters(client, name) -> int:
    return client.get(name + "/", prefix=True).get("count", 0)


def test_two_lockers_exclude_each_other_and_hand_over_in_order(member, name):
    """B queues behind A (its key exists, it is not told it holds), and is told only after
    A's key is gone: at a revision at or after that delete, with a greater token."""
    a, b = member.client(), member.client()
    events = []
    with a.lock(name, ttl_s=10) as first:
        assert first.held and first.key.startswith(name.encode() + b"/")
        assert first.token == first.revision  # uncontended: the txn that created the key
        second = b.lock(name, ttl_s=10)
        th = threading.Thread(target=lambda: events.append(("acquired", second.acquire())))
        th.start()
        assert wait_for(lambda: waiters(a, name) == 2)
        assert not second.held and events == []
        key = first.key
    gone = a.get("x")["header"]["revision"]  # the release's delete is the last write
    th.join(10)
    assert events == [("acquired", True)]
    assert second.token > first.token and second.revision >= gone
    assert a.get(key).get("kvs") is None
    second.release()
    assert waiters(a, name) == 0  # released and its session revoked
    a.close(), b.close()


def test_try_and_timed_acquire_leave_no_key(member, name):
    a, b = member.client(), member.client()
    with a.lock(name, ttl_s=10):
        other = b.lock(name, ttl_s=10)
        assert other.try_acquire() is False
        assert other.acquire(timeout_s=0.3) is False
        assert waiters(a, name) == 1
        with pytest.raises(TimeoutError, match="not acquired in 0.2 s"):
            with b.lock(name, ttl_s=10, timeout_s=0.2):
                pass
        assert waiters(a, name) == 1
    assert other.try_acquire() is True
    other.release()


def test_a_waiter_whose_session_dies_stops_waiting(member, name):
    a, b = member.client(), member.client()
    with a.lock(name, ttl_s=10):
        session = b.session(ttl_s=2)
        waiter = Lock(session, name)
        raised = []

        def wait():
            try:
                waiter.acquire()
            except SessionExpired as e:
                raised.append(e)

        th = threading.Thread(target=wait)
        th.start()
        assert wait_for(lambda: waiters(a, name) == 2)
        a.lease_revoke(session.lease)  # e.g. expired while its keep-alives were lost
        th.join(15)
        assert raised and "session is expired" in str(raised[0])
        assert waiters(a, name) == 1
        session.close()


def test_is_owner_guards_writes(member, name):
    a = member.client()
    with a.lock(name, ttl_s=2) as lock:
        guarded = [lock.is_owner()]
        assert a.txn(guarded, [t.put(name + "-data", "1")]).succeeded
        a.lease_revoke(lock.session.lease)  # the lock is gone (as after an expiry)
        assert not a.txn(guarded, [t.put(name + "-data", "2")]).succeeded
        assert wait_for(lambda: lock.lost, 10)
    assert a.value(name + "-data") == b"1"


def test_a_python_lock_and_the_servers_lock_exclude_each_other(member, name):
    """The server's /v3/lock (etcd's v3lock: concurrency.Mutex inside the member) uses the same
    keys: a Python lock waits for a holder through the gateway, and the gateway for Python."""
    c, locker = member.client(), member.client()  # a client is used by one thread at a time
    lease = c.lease_grant(10)["ID"]
    held = c.call("/v3/lock/lock", {"name": t._enc(name.encode()), "lease": str(lease)})
    key = held["key"]
    assert key.startswith(name.encode() + b"/")
    mine = locker.lock(name, ttl_s=10)
    assert mine.try_acquire() is False
    th = threading.Thread(target=mine.acquire)
    th.start()
    assert wait_for(lambda: waiters(c, name) == 2) and not mine.held
    c.call("/v3/lock/unlock", {"key": t._enc(key)})
    th.join(10)
    assert mine.held and mine.token > held["header"]["revision"]  # queued after it
    other = member.client()
    lease2 = other.lease_grant(10)["ID"]
    answers = []
    gateway = threading.Thread(target=lambda: answers.append(other.call(
        "/v3/lock/lock", {"name": t._enc(name.encode()), "lease": str(lease2)})))
    gateway.start()
    assert wait_for(lambda: waiters(c, name) == 2) and answers == []
    mine.release()
    gateway.join(10)
    assert answers and answers[0]["key"].startswith(name.encode() + b"/")
    other.lease_revoke(lease2)
    c.lease_revoke(lease)


def test_election_campaign_proclaim_observe_resign(member, name):
    a, b, watcher = member.client(), member.client(), member.client()
    first, second = a.election(name, ttl_s=10), b.election(name, ttl_s=10)
    assert first.leader() is None
    with watcher.election(name).observe() as seen:
        assert first.campaign("one") and first.is_leader
        first.proclaim("two")
        assert seen.next(5).value == b"one" and seen.next(5).value == b"two"
        assert not second.campaign("three", timeout_s=0.3)  # withdrawn: no key left
        assert waiters(a, name) == 1
        elected = []
        th = threading.Thread(target=lambda: elected.append(second.campaign("three")))
        th.start()
        assert wait_for(lambda: waiters(a, name) == 2)
        first.resign()
        th.join(10)
        assert elected == [True] and second.leader().value == b"three"
        assert seen.next(5).value == b"three"
        with pytest.raises(NotLeader, match="election: not leader"):
            first.proclaim("four")
        second.close()
        assert first.leader() is None
    first.close()


# ---- etcdctl 3.4 (gRPC's Lock and Election services): against both servers

@pytest.fixture
def ctl_member(member):
    need(ETCDCTL, "etcdctl 3.4")
    return member


def ctl(member, *args, **kw):
    env = {"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"}
    # (ETCDLAB_TLS=1: the suite's CA and client certificate, as LocalCluster exported them)
    env.update({k: v for k, v in os.environ.items()
                if k in ("ETCDCTL_CACERT", "ETCDCTL_CERT", "ETCDCTL_KEY")})
    return subprocess.Popen([ETCDCTL, f"--endpoints={member.endpoint(0)}", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, **kw)


def test_a_python_lock_waits_for_etcdctl_and_etcdctl_for_python(ctl_member, name):
    c, locker = ctl_member.client(), ctl_member.client()  # one thread per client
    holder = ctl(ctl_member, "lock", name)
    try:
        key = holder.stdout.readline().strip()
        assert key.startswith(name + "/")
        mine = locker.lock(name, ttl_s=10)
        assert mine.try_acquire() is False
        th = threading.Thread(target=mine.acquire)
        th.start()
        assert wait_for(lambda: waiters(c, name) == 2) and not mine.held
        holder.send_signal(2)  # etcdctl unlocks and exits on SIGINT
        assert holder.wait(10) == 0
        th.join(10)
        assert mine.held and c.get(key).get("kvs") is None
    finally:
        holder.kill()
    waiting = ctl(ctl_member, "lock", name, "--", "sh", "-c", "echo got $ETCD_LOCK_KEY")
    try:
        assert wait_for(lambda: waiters(c, name) == 2) and waiting.poll() is None
        mine.release()
        out, _ = waiting.communicate(timeout=10)
        assert out.startswith(f"got {name}/") and waiting.returncode == 0
    finally:
        waiting.kill()
    assert waiters(c, name) == 0


def test_etcdctl_elect_sees_a_python_leader_and_python_sees_etcdctls(ctl_member, name):
    c = ctl_member.client()
    with c.election(name, ttl_s=10) as mine:
        assert mine.campaign("from-python")
        observer = ctl(ctl_member, "elect", "-l", name)
        try:
            assert observer.stdout.readline().strip() == mine.key.decode()
            assert observer.stdout.readline().strip() == "from-python"
            mine.proclaim("again")
            assert observer.stdout.readline().strip() == mine.key.decode()
            assert observer.stdout.readline().strip() == "again"
        finally:
            observer.kill()
    theirs = ctl(ctl_member, "elect", name, "from-etcdctl")
    try:
        key = theirs.stdout.readline().strip()
        assert theirs.stdout.readline().strip() == "from-etcdctl"
        leader = c.election(name).leader()
        assert (leader.key.decode(), leader.value) == (key, b"from-etcdctl")
    finally:
        theirs.send_signal(2)
        theirs.wait(10)
    assert wait_for(lambda: c.election(name).leader() is None)


@pytest.mark.parametrize("call, error, says", [
    (lambda c: c.lock(""), ValueError, "the name is not empty"),
    (lambda c: c.lock(5), TypeError, "the name is bytes or str, not int"),
    (lambda c: c.lock("x", ttl_s=0), ValueError, "ttl_s (seconds) must be in [1, 2**63)"),
    (lambda c: c.lock("x", ttl_s="10"), TypeError, "ttl_s (seconds) is an int"),
    (lambda c: c.lock("x", timeout_s=-1), ValueError, "timeout_s is a number of seconds >= 0"),
    (lambda c: c.lock("x").acquire(timeout_s="1"), ValueError, "timeout_s is a number"),
    (lambda c: c.election("x").proclaim("v"), NotLeader, "election: not leader"),
    (lambda c: c.election("x").campaign(5), TypeError, "the value is bytes or str"),
    (lambda c: c.lock("x").is_owner(), ValueError, "is_owner() of a lock that is not held"),
    (lambda c: Lock(object(), "x"), TypeError, "a Client or a Session"),
])
def test_bad_arguments_are_refused_before_sending(call, error, says):
    from etcdlab import Client
    client = Client(["127.0.0.1:1"])  # nothing listens: nothing may be sent
    with pytest.raises(error) as e:
        call(client)
    assert says in str(e.value)
