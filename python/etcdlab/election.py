"""Leader elections built on leases, txns and watches, as etcd's Go `concurrency` package
builds them (client/v3/concurrency/election.go): the same keys as `etcdctl elect`, so either
sees the other's leader.

    with client.election("service/leader", ttl_s=10) as e:
        e.campaign("node-1")          # waits until elected
        e.proclaim("node-1, v2")      # a new value, no new election
    # closed: resigned, the session revoked

Candidates are keys `<name>/<lease id in hex>` on the candidate's session lease, created by a
txn if absent; the leader is the key with the lowest create revision; a candidate waits for
the key just ahead of it to go (etcdlab/concurrency.py's waiting, shared with the lock). The
leader's key's create revision (`revision`) is a fencing token, as a lock's.
"""

from __future__ import annotations

import time
from typing import Optional

from . import txn as t
from .concurrency import NotLeader, _deadline, _Participant
from .views import KeyValue

__all__ = ["Election", "Observer"]


class Election(_Participant):
    """A leader election on `name` (etcd's concurrency.Election): `campaign(value)` waits to be
    leader, `proclaim(value)` changes the leader's value, `resign()` steps down, `leader()`
    reads the current leader's key (or None), `observe()` follows the leaders' values.

    Once leader: `key`, `revision` (the key's create revision, a fencing token as a lock's).
    `close()` (or the end of a `with` block) resigns and closes the session it made."""

    def __init__(self, owner, name, *, ttl_s: int = 60):
        super().__init__(owner, name, ttl_s)
        self.key: Optional[bytes] = None
        self.revision = 0

    @property
    def is_leader(self) -> bool:
        return self.key is not None and not (self.session is None or self.session.lost)

    def campaign(self, value, timeout_s: Optional[float] = None) -> bool:
        """Becomes a candidate with `value` and waits until elected (True), or until
        `timeout_s` passes (False: the candidacy is withdrawn)."""
        value = t._key(value, "the value")
        deadline = _deadline(timeout_s)
        key = self._my_key(deadline)
        r = self._txn(deadline, [t.create(key) == 0], [t.put(key, value,
                                                             lease=self.session.lease)],
                      [t.get(key)])
        self.key, self.revision = key, r.revision
        if not r.succeeded:
            kv = r.responses[0].kvs[0]
            self.revision = kv.create_revision
            if kv.value != value:
                self.proclaim(value)
        try:
            found = self._wait_deletes(self.revision - 1, deadline)
        except BaseException:
            self.resign()
            raise
        if found is None:
            self.resign()
            return False
        return True

    def proclaim(self, value) -> None:
        """Sets the leader's value without a new election; NotLeader if not the leader."""
        value = t._key(value, "the value")
        if self.key is None:
            raise NotLeader("election: not leader")
        r = self._txn(None, [t.create(self.key) == self.revision],
                      [t.put(self.key, value, lease=self.session.lease)])
        if not r.succeeded:
            self.key = None
            raise NotLeader("election: not leader")

    def resign(self) -> None:
        """Steps down (deletes the key if it is still this campaign's); harmless if not
        leader."""
        if self.key is None:
            return
        key, rev = self.key, self.revision
        self.key, self.revision = None, 0
        self._txn(None, [t.create(key) == rev], [t.delete(key)])

    def leader(self) -> Optional[KeyValue]:
        """The current leader's key and value (the key with the lowest create revision)."""
        op = t.get(self.prefix, prefix=True, sort_order="ASCEND", sort_target="CREATE", limit=1)
        answer = self._retry(lambda: self.client.call("/v3/kv/range", op.request), None)
        kvs = answer.get("kvs", [])
        return KeyValue.from_dict(kvs[0]) if kvs else None

    def observe(self) -> "Observer":
        """An iterator of the leaders' KeyValues as they change (see Observer)."""
        return Observer(self)

    def close(self) -> None:
        try:
            if self.session is not None and not self.session.lost:
                self.resign()
        finally:
            super().close()

    def __enter__(self) -> "Election":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Observer:
    """The values of an election's leaders, in order (etcd's Election.Observe): the current
    leader's first, then each proclaimed value, then the next leader's when the key goes. It
    may skip values that came and went while it looked elsewhere, never goes back. `next(timeout)`
    returns a KeyValue or None after `timeout` seconds; iterating blocks; close() ends it."""

    def __init__(self, election: Election):
        self._election = election
        self._watch = None
        self._waiting_first = False  # watching the prefix for a first leader (none yet)
        self._pending: list[KeyValue] = []
        self.closed = False
        self._look()  # now, as Go's goroutine does: a leader elected after this is seen

    def _look(self) -> None:
        """Reads the leader; watches its key, or, with none, the prefix for the first put."""
        e = self._election
        op = t.get(e.prefix, prefix=True, sort_order="ASCEND", sort_target="CREATE", limit=1)
        answer = e._retry(lambda: e.client.call("/v3/kv/range", op.request), None)
        kvs, rev = answer.get("kvs", []), answer["header"]["revision"]
        if kvs:
            kv = KeyValue.from_dict(kvs[0])
            self._pending.append(kv)
            self._watch = e.client.watch(kv.key, start_revision=rev + 1)
            self._waiting_first = False
        else:
            self._watch = e.client.watch(e.prefix, prefix=True, start_revision=rev)
            self._waiting_first = True

    def next(self, timeout: Optional[float] = None) -> Optional[KeyValue]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.closed:
            if self._pending:
                return self._pending.pop(0)
            if self._watch is None:
                self._look()
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            response = self._watch.next(left)
            if response is None:
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            if response.get("canceled"):  # compacted: look again from now
                self._drop_watch()
                continue
            for event in response.get("events", []):
                deleted = event.get("type") == "DELETE"
                if self._waiting_first:
                    if not deleted:  # only a put makes a leader (a delete would spin)
                        kv = KeyValue.from_dict(event["kv"])
                        self._pending.append(kv)
                        self._drop_watch()
                        self._watch = self._election.client.watch(
                            kv.key, start_revision=kv.mod_revision + 1)
                        self._waiting_first = False
                        break
                elif deleted:  # the leader is gone: look for the next one
                    self._drop_watch()
                    break
                else:
                    self._pending.append(KeyValue.from_dict(event["kv"]))
        return None

    def _drop_watch(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    def __iter__(self):
        return self

    def __next__(self) -> KeyValue:
        kv = self.next(None)
        if kv is None:
            raise StopIteration
        return kv

    def close(self) -> None:
        self.closed = True
        self._drop_watch()

    def __enter__(self) -> "Observer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
