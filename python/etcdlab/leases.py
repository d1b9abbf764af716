"""Keeping a lease alive from a thread, as etcd's own clients do.

    lease = client.lease_grant(ttl_s=10)["ID"]
    client.put("/services/web/1", "10.0.0.1:80", lease=lease)
    with LeaseKeepalive(client, lease, on_lost=print) as keeper:
        ...                       # the registration lives while this block runs
    # closed: no more keep-alives; the lease expires 10 s later and the key goes with it

A keep-alive goes out at once, then a third of the TTL after each answer (clientv3's cadence,
and etcdctl lease keep-alive's). The lease is *lost* when the server answers that it is gone
(expired or revoked), or when no answer has come for a whole TTL (the lease has then expired,
unless a new leader extended it); the thread then stops, sets `lost`, `lost_reason`, and calls
`on_lost(reason)`. Failed requests are tried again every 0.5 s until then. Closing does not
revoke the lease: it lives out its TTL, as when etcd's client stops keeping it alive.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

from .client import Client, EtcdError, _lease_id

__all__ = ["LeaseKeepalive"]

_RETRY_S = 0.5  # clientv3's retryConnWait


class LeaseKeepalive:
    """Keeps lease `lease_id` alive through `client`'s endpoints (with a connection of its own:
    `client` stays usable from the calling thread) until close() or the end of a `with` block.

    Observe it with `lost` (bool), `lost_reason` (str or None), `ttl_s` (the TTL the server
    last answered, seconds; None before the first answer), `rounds` (keep-alives answered),
    `last_alive_s` (time.monotonic() when the last answered keep-alive was sent: the lease was
    certainly alive then, since the server found it after that), and
    wait_lost(timeout_s). `on_lost(reason)` is called once, from the keep-alive thread."""

    def __init__(self, client: Client, lease_id: int, *,
                 on_lost: Optional[Callable[[str], None]] = None):
        if not isinstance(client, Client):
            raise TypeError(f"client is an etcdlab.Client, not {client!r}")
        _lease_id(lease_id, "lease_id")
        if on_lost is not None and not callable(on_lost):
            raise TypeError(f"on_lost is a function of the reason, or None, not {on_lost!r}")
        self.lease_id = lease_id
        self.ttl_s: Optional[int] = None
        self.rounds = 0
        self.last_alive_s: Optional[float] = None
        self.lost_reason: Optional[str] = None
        self._on_lost = on_lost
        self._client = Client(client.endpoints, timeout=client.timeout)
        # Before the first answer: clientv3's firstKeepAliveTimeout (dial timeout + 1 s).
        self._first_answer_s = client.timeout + 1.0
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                         name=f"lease-keepalive-{lease_id:x}")
        self._thread.start()

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def wait_lost(self, timeout_s: Optional[float] = None) -> bool:
        """Waits until the lease is lost (True) or `timeout_s` seconds pass (False)."""
        return self._lost.wait(timeout_s)

    def close(self) -> None:
        """Stops keeping the lease alive (it is not revoked) and waits for the thread."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> "LeaseKeepalive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"lost: {self.lost_reason}" if self.lost else \
            ("closed" if self._stop.is_set() else "alive")
        return f"LeaseKeepalive(lease {self.lease_id:x}, ttl_s={self.ttl_s}, " \
               f"rounds={self.rounds}, {state})"

    # ---- the thread
    def _run(self) -> None:
        last_answer = time.monotonic()
        try:
            while not self._stop.is_set():
                sent = time.monotonic()
                try:
                    ttl, error = self._client.lease_keepalive(self.lease_id), None
                except (EtcdError, OSError) as e:
                    ttl, error = 0, e
                now = time.monotonic()
                if error is None and ttl is None:
                    self._lose(f"lease {self.lease_id:x} is gone: it expired or was revoked")
                    return
                if error is None:
                    self.ttl_s, last_answer = ttl, now
                    self.last_alive_s = sent
                    self.rounds += 1
                    wait_s = ttl / 3
                else:
                    limit_s = self.ttl_s if self.ttl_s is not None else self._first_answer_s
                    if now - last_answer >= limit_s:
                        self._lose(f"no keep-alive answer for {limit_s:g} s (the lease's TTL): "
                                   f"it has expired; last error: {error}")
                        return
                    wait_s = _RETRY_S
                self._stop.wait(wait_s)
        finally:
            self._client.close()

    def _lose(self, reason: str) -> None:
        self.lost_reason = reason
        self._lost.set()
        if self._on_lost is not None:
            self._on_lost(reason)
