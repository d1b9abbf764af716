"""Locks and elections built on leases, txns and watches, as etcd's Go `concurrency` package
(client/v3/concurrency: session.go, mutex.go, election.go, key.go) builds them, so they
interoperate with `etcdctl lock` and `etcdctl elect` and with any Go client.

    with client.lock("jobs/reindex", ttl_s=10) as lock:
        storage.write(data, fencing_token=lock.token)   # refused if a newer holder wrote

This module: sessions, the participants' shared machinery, and the lock (etcd's mutex.go,
session.go, key.go); etcdlab/election.py: the election (election.go).

The recipe. A **session** is a lease kept alive from a thread; a participant's key is
`<name>/<lease id in hex>`, attached to that lease, created by a txn only if it does not exist
(`create(key) == 0`), so a retried or repeated attempt finds its own key again. Keys line up
by create revision: the owner is the key with the lowest. A waiter watches only the key just
ahead of it (the greatest create revision below its own) until that key is deleted, then
looks again, until none is ahead: no herd wakes on a release.

**The fencing token** is the owned key's create revision (`lock.token`): it grows with each
new holder. A holder can be paused (GC, SIGSTOP, a slow disk) past its lease's TTL; its key is
then deleted and the next waiter takes the lock while the old holder still believes it holds
it. Nothing on the client can prevent that: the resource must refuse a write whose token is
older than one it has seen (or the write must be a txn guarded by `lock.is_owner()`).

Session loss (the lease expired or was revoked) shows as `lost`; a wait interrupted by it
raises SessionExpired. Requests that fail for a while (a member down, no leader) are tried
again every 0.1 s, on the client's endpoints in turn: every request of the recipe is safe to
repeat.
"""

from __future__ import annotations

import time
from typing import Optional

from . import txn as t
from .client import Client, EtcdError, _int64
from .leases import LeaseKeepalive

__all__ = ["Session", "Lock", "SessionExpired", "NotLeader"]  # Election: etcdlab/election.py

_RETRY_S = 0.1
_POLL_S = 0.2  # how often a wait looks at its deadline and its session


class SessionExpired(EtcdError):
    """The session's lease is gone (expired or revoked): its keys are deleted, and a lock or
    leadership it had is someone else's now. Go's text: "mutex: session is expired"."""


class NotLeader(EtcdError):
    """Proclaim or resign by a participant that is not (or no longer) the leader. Go's text:
    "election: not leader"."""


def _transient(e: EtcdError) -> bool:
    """Failures that say nothing about the request (no answer, no leader, timed out,
    unavailable): worth trying again when the request is safe to repeat."""
    return e.status in (0, 503) or e.code == 14


class Session:
    """A lease kept alive (etcdlab.LeaseKeepalive) until close(): `lease` (its id), `ttl_s`
    (granted), `lost`, `lost_reason`, `last_alive_s` (the last time.monotonic() the lease was
    certainly alive). close() revokes the lease (its keys go at once); orphan() only stops the
    keep-alives (the keys go when the TTL runs out)."""

    def __init__(self, client: Client, ttl_s: int = 60, *, timeout_s: Optional[float] = None):
        """Grants the lease, trying again while the cluster cannot answer (until `timeout_s`
        passes; None: until it answers). A grant that failed after it was sent may have
        granted a lease nobody uses: it has no keys and expires after its TTL."""
        if not isinstance(client, Client):
            raise TypeError(f"client is an etcdlab.Client, not {client!r}")
        _int64(ttl_s, "ttl_s (seconds)", minimum=1)
        self.client = client
        deadline = _deadline(timeout_s)
        while True:
            try:
                granted = client.lease_grant(ttl_s)
                break
            except EtcdError as e:
                if not _transient(e) or (deadline is not None and time.monotonic() >= deadline):
                    raise
            time.sleep(_RETRY_S)
        self.lease: int = granted["ID"]
        self.ttl_s: int = granted.get("TTL", ttl_s)
        self.granted_s = time.monotonic()
        self._keeper = LeaseKeepalive(client, self.lease)

    @property
    def lost(self) -> bool:
        return self._keeper.lost

    @property
    def lost_reason(self) -> Optional[str]:
        return self._keeper.lost_reason

    @property
    def last_alive_s(self) -> float:
        return self._keeper.last_alive_s or self.granted_s

    def orphan(self) -> None:
        self._keeper.close()

    def close(self) -> bool:
        """Stops the keep-alives and revokes the lease; False if the revoke failed (the lease
        then expires after its TTL anyway, as etcd's Session.Close says)."""
        self._keeper.close()
        try:
            self.client.lease_revoke(self.lease)
            return True
        except EtcdError:
            return False

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Session(lease {self.lease:x}, ttl_s={self.ttl_s}, lost={self.lost})"


class _Participant:
    """What Lock and Election share: a session (given, or made by the first attempt and closed
    by close()), the prefix, retries, and waiting for the keys ahead to go."""

    def __init__(self, owner, name, ttl_s: int):
        if isinstance(owner, Session):
            self.client, self.session, self._own_session = owner.client, owner, False
        elif isinstance(owner, Client):
            self.client, self.session, self._own_session = owner, None, True
        else:
            raise TypeError(f"a Client or a Session, not {owner!r}")
        if isinstance(name, (bytes, str)) and not name:
            raise ValueError("the name is not empty: it is the prefix of the participants' keys")
        self.prefix = t._key(name, "the name") + b"/"
        self.ttl_s = _int64(ttl_s, "ttl_s (seconds)", minimum=1)

    def _session(self, deadline: Optional[float] = None) -> Session:
        if self.session is None or (self._own_session and self.session.lost):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            self.session = Session(self.client, self.ttl_s, timeout_s=left)
        return self.session

    def _my_key(self, deadline: Optional[float] = None) -> bytes:
        return self.prefix + format(self._session(deadline).lease, "x").encode()

    def _retry(self, fn, deadline: Optional[float]):
        """fn() until it does not fail transiently, the session is lost, or the deadline."""
        while True:
            try:
                return fn()
            except EtcdError as e:
                if not _transient(e) or (deadline is not None and time.monotonic() >= deadline):
                    raise
                if self.session is not None and self.session.lost:
                    raise SessionExpired(f"{self.session.lost_reason} (while: {e})") from e
            time.sleep(_RETRY_S)

    def _txn(self, deadline, compare, success, failure=()):
        return self._retry(lambda: self.client.txn(compare, success, failure, idempotent=True),
                           deadline)

    def _wait_deletes(self, max_create_revision: int, deadline: Optional[float]) -> Optional[int]:
        """Waits until no key under the prefix has a create revision <= max_create_revision
        (etcd's waitDeletes: watch the newest such key, then look again). Returns the
        revision of the read that found none, or None when the deadline passed first."""
        last_create = t.get(self.prefix, prefix=True, sort_order="DESCEND",
                            sort_target="CREATE", limit=1,
                            max_create_revision=max_create_revision)
        while True:
            answer = self._retry(lambda: self.client.call("/v3/kv/range", last_create.request),
                                 deadline)
            kvs = answer.get("kvs", [])
            if not kvs:
                return answer["header"]["revision"]
            if not self._wait_delete(kvs[0]["key"], answer["header"]["revision"], deadline):
                return None

    def _wait_delete(self, key: bytes, revision: int, deadline: Optional[float]) -> bool:
        """Watches `key` from `revision` until a delete event (True) or the deadline (False)."""
        with self._retry(lambda: self.client.watch(key, start_revision=revision),
                         deadline) as watch:
            while True:
                if self.session is not None and self.session.lost:
                    raise SessionExpired(f"mutex: session is expired: "
                                         f"{self.session.lost_reason}")
                left = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
                if left <= 0:
                    return False
                response = watch.next(left)
                if response is None:
                    continue
                if response.get("canceled"):
                    raise EtcdError(f"the watch of {key!r} from revision {revision} was "
                                    f"cancelled (compacted at "
                                    f"{response.get('compact_revision', 0)})")
                if any(e.get("type") == "DELETE" for e in response.get("events", [])):
                    return True

    def close(self) -> None:
        """Closes (revokes) the session this object made; a session given is left alone."""
        if self._own_session and self.session is not None:
            self.session.close()
            self.session = None


def _deadline(timeout_s) -> Optional[float]:
    if timeout_s is None:
        return None
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or timeout_s < 0:
        raise ValueError(f"timeout_s is a number of seconds >= 0, or None, not {timeout_s!r}")
    return time.monotonic() + timeout_s


class Lock(_Participant):
    """A distributed mutex on `name` (etcd's concurrency.Mutex; the keys are `<name>/<lease>`).

    `acquire(timeout_s=None)` waits for the lock (True) or gives up after `timeout_s` (False,
    its key removed); `try_acquire()` does not wait; `release()` deletes the key (and revokes
    the session this lock made). In a `with` block the lock is acquired on entry (TimeoutError
    after `timeout_s`) and released on exit.

    Once held: `token` (the key's create revision: the fencing token), `key`, `revision` (the
    store's revision when the lock was known held), `is_owner()` (a Compare that holds while
    this lock is still the owner, for guarded txns), `lost` (the session is gone: someone
    else may hold the lock now)."""

    def __init__(self, owner, name, *, ttl_s: int = 60, timeout_s: Optional[float] = None):
        super().__init__(owner, name, ttl_s)
        _deadline(timeout_s)
        self.timeout_s = timeout_s
        self.key: Optional[bytes] = None
        self.token = 0
        self.revision = 0
        self.held = False

    @property
    def lost(self) -> bool:
        return self.session is not None and self.session.lost

    def _try(self, deadline):
        """The one txn (tryAcquire): create my key unless it exists, and read the owner."""
        key = self._my_key(deadline)
        owner = t.get(self.prefix, prefix=True, sort_order="ASCEND", sort_target="CREATE",
                      limit=1)
        r = self._txn(deadline, [t.create(key) == 0],
                      [t.put(key, lease=self.session.lease), owner], [t.get(key), owner])
        self.key = key
        self.token = r.revision if r.succeeded else r.responses[0].kvs[0].create_revision
        kvs = r.responses[1].kvs
        return r, (not kvs or kvs[0].create_revision == self.token)

    def try_acquire(self) -> bool:
        """Takes the lock if nobody holds it; otherwise removes this lock's key, False."""
        r, mine = self._try(None)
        if mine:
            self.held, self.revision = True, r.revision
            return True
        self._remove_key(None)
        return False

    def acquire(self, timeout_s: Optional[float] = None) -> bool:
        deadline = _deadline(timeout_s)
        r, mine = self._try(deadline)
        if mine:
            self.held, self.revision = True, r.revision
            return True
        try:
            found = self._wait_deletes(self.token - 1, deadline)
        except BaseException:
            self._forget_key()
            raise
        if found is None:
            self._forget_key()
            return False
        # Is the session (and so my key) still alive? Then nobody is ahead: the lock is mine.
        answer = self._retry(lambda: self.client.get(self.key), None)
        if not answer.get("kvs"):
            raise SessionExpired("mutex: session is expired", endpoint="")
        self.held, self.revision = True, answer["header"]["revision"]
        return True

    def _remove_key(self, deadline) -> None:
        if self.key is not None:
            key = self.key
            self._retry(lambda: self.client.delete(key), deadline)
        self.key, self.token, self.held = None, 0, False

    def _forget_key(self) -> None:
        """Gives up a wait: removes the key if that can be done now (it goes with the lease
        otherwise), without hiding the reason the wait stopped."""
        try:
            self._remove_key(time.monotonic())
        except EtcdError:
            self.key, self.token, self.held = None, 0, False

    def release(self) -> None:
        """Deletes the key (the next waiter goes on) and closes the session this lock made.
        With the session lost, the key went with its lease: nothing is left to delete."""
        try:
            self._remove_key(None)
        except SessionExpired:
            self.key, self.token, self.held = None, 0, False
        finally:
            self.close()

    def is_owner(self) -> t.Compare:
        """`create(key) == token`: true in a txn only while this lock still owns its key."""
        if self.key is None:
            raise ValueError("is_owner() of a lock that is not held")
        return t.create(self.key) == self.token

    def __enter__(self) -> "Lock":
        try:
            acquired = self.acquire(self.timeout_s)
        except BaseException:
            self.close()
            raise
        if not acquired:
            self.close()
            raise TimeoutError(f"lock {self.prefix[:-1]!r} not acquired in {self.timeout_s} s")
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __repr__(self) -> str:
        state = f"held, token {self.token}" if self.held else "not held"
        return f"Lock({self.prefix[:-1]!r}, {state}{', lost' if self.lost else ''})"
