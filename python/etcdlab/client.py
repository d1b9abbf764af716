"""A small client for etcd's v3 JSON gateway (etcdlab's and real etcd's alike).

    c = Client(["127.0.0.1:2379", "127.0.0.1:22379"])
    c.put("foo", "bar")
    c.get("foo")["kvs"][0]["value"]      # b"bar" (decoded)

Keys and values are bytes (str is encoded as UTF-8); responses are the gateway's JSON with
base64 fields decoded to bytes and int64 strings turned into ints. Errors raise EtcdError with
etcd's message, gRPC code and HTTP status. Requests go to the first endpoint that answers; an
unreachable endpoint or a "no leader" answer moves on to the next (failover). A mutating
request that may have been applied is never sent again: its error says `indeterminate`.

Leases: lease_grant, lease_revoke, lease_keepalive (one round), lease_time_to_live, leases, and
put(..., lease=id); etcdlab.LeaseKeepalive (etcdlab/leases.py) keeps a lease alive from a
thread. Bad arguments (a lease id that is not an int64, a negative TTL) raise TypeError or
ValueError before anything is sent.

Watches: `watch(...)` returns an etcdlab.watches.Watch, an iterator of responses (see there).

Transactions: `txn(compare, success, failure)` with etcdlab.txn's builders returns a TxnResult.

Auth (etcd 3.4's): `Client(endpoints, user="alice", password="...")` signs in on the first
request (/v3/auth/authenticate) and sends the token raw in the Authorization header of every
request and watch; when a server refuses it ("invalid auth token", "revision of auth store is
old") it signs in again once and repeats the request, as etcd's clientv3 (3.4) does: a failed
sign-in then raises its own error (auth turned off meanwhile: "authentication is not
enabled"), and the next call signs in afresh. "authentication is not enabled" at a first
sign-in means going on without a token. A refused sign-in raises EtcdError. The admin
calls: auth_enable/disable, user_add/get/list/delete/change_password/grant_role/revoke_role,
role_add/get/list/delete/grant_permission/revoke_permission.
Locks and elections: `lock(name)`, `election(name)`, `session()` (etcdlab/concurrency.py and
election.py).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import select
import socket
import ssl
import time
from typing import Any, Iterable, Optional

from .auth_admin import AuthAdmin

__all__ = ["Client", "EtcdError", "prefix_end"]

_BYTES_FIELDS = {"key", "value", "range_end", "keys"}
_INT_FIELDS = {
    "cluster_id", "member_id", "revision", "raft_term", "create_revision", "mod_revision",
    "version", "lease", "count", "deleted", "ID", "leader", "raftIndex", "raftTerm",
    "raftAppliedIndex", "dbSize", "dbSizeInUse", "compact_revision", "TTL", "grantedTTL",
    "memberID", "watch_id",
}


class EtcdError(Exception):
    """An error answer (message, gRPC code, HTTP status), or a failed exchange (status 0).
    `indeterminate` is True when a mutating request was sent and no answer came back, or the
    answer was "request timed out": it may or may not have been applied."""

    def __init__(self, message: str, code: int = 0, status: int = 0, endpoint: str = "",
                 indeterminate: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.endpoint = endpoint
        self.indeterminate = indeterminate


class _NotSent(OSError):
    """The connection could not be made: the request never left (safe to try elsewhere)."""


# Requests that change nothing, so sending them again (or to another member) is harmless.
_IDEMPOTENT = {
    "/v3/kv/range", "/v3/maintenance/status", "/v3/maintenance/hash",
    "/v3/maintenance/hashkv", "/v3/cluster/member/list", "/v3/lease/timetolive",
    "/v3/lease/leases", "/v3/maintenance/alarm", "/v3/lease/keepalive",
    "/v3/auth/authenticate", "/v3/auth/user/get", "/v3/auth/user/list", "/v3/auth/role/get",
    "/v3/auth/role/list",
}
# A token the server no longer takes: sign in again and repeat (clientv3's retryAuth).
_TOKEN_REFUSED = {"etcdserver: invalid auth token", "etcdserver: revision of auth store is old"}
_NO_LEADER = "etcdserver: no leader"  # refused before proposing: nothing was applied


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle keep-alive connection was closed by the server (readable at rest means
    EOF or garbage), so it is replaced before a request rather than failing after one."""
    if conn.sock is None:
        return False
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _int64(value, what: str, minimum: int = -2**63) -> int:
    """`value` checked as an int in [minimum, 2**63): bools and floats are refused too."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} is an int, not {value!r}")
    if not minimum <= value < 2**63:
        low = "-2**63" if minimum == -2**63 else str(minimum)
        raise ValueError(f"{what} must be in [{low}, 2**63), not {value}")
    return value


def _lease_id(value, what: str = "a lease id") -> int:
    """etcd's lease ids are signed 64-bit integers; 0 is "no lease"."""
    return _int64(value, what)


def _b(x) -> bytes:
    return x.encode() if isinstance(x, str) else bytes(x)


def _enc(x) -> str:
    return base64.b64encode(_b(x)).decode()


def prefix_end(prefix) -> bytes:
    """The range_end selecting every key with this prefix."""
    p = bytearray(_b(prefix))
    while p:
        if p[-1] < 0xFF:
            p[-1] += 1
            return bytes(p)
        p.pop()
    return b"\0"


def decode(value: Any, key: str = "") -> Any:
    """The gateway's JSON with bytes decoded and int64 strings as ints."""
    if isinstance(value, dict):
        return {k: decode(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v, key) for v in value]
    if isinstance(value, str):
        if key in _BYTES_FIELDS:
            return base64.b64decode(value)
        if key in _INT_FIELDS:
            try:
                return int(value)
            except ValueError:
                return value
    return value


def _bare(endpoint: str) -> str:
    """host:port of an endpoint given with or without its scheme."""
    return endpoint.replace("https://", "").replace("http://", "")


def tls_context(ca: Optional[str] = None, cert: Optional[str] = None,
                key: Optional[str] = None) -> ssl.SSLContext:
    """A client TLS context as etcdctl's --cacert/--cert/--key make one: the server checked
    against `ca` (the system's roots if None), `cert`/`key` presented when given."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


_default_tls: Optional[tuple] = None


def set_default_tls(ca: Optional[str], cert: Optional[str] = None,
                    key: Optional[str] = None) -> None:
    """What Clients made without ca/cert/key use from now on in this process (None: plaintext).
    LocalCluster(tls=True) sets it to its test CA, so tests written for plaintext run over TLS
    unchanged (ETCDLAB_TLS=1)."""
    global _default_tls
    _default_tls = None if ca is None else (ca, cert, key)


class Client(AuthAdmin):
    def __init__(self, endpoints: Iterable[str], timeout: float = 5.0, *,
                 user: Optional[str] = None, password: Optional[str] = None,
                 ca: Optional[str] = None, cert: Optional[str] = None,
                 key: Optional[str] = None, tls: Optional[bool] = None):
        """`ca`, `cert`, `key`: TLS (as etcdctl's --cacert, --cert, --key); also on when an
        endpoint is written https://. Without them, set_default_tls's files if set. `tls=False`:
        plaintext whatever the default."""
        endpoints = list(endpoints)
        if ca is None and cert is None and tls is not False and _default_tls is not None:
            ca, cert, key = _default_tls
        if tls is None:
            tls = ca is not None or cert is not None or \
                any(e.startswith("https://") for e in endpoints)
        self.ssl_context: Optional[ssl.SSLContext] = tls_context(ca, cert, key) if tls else None
        self.endpoints = [_bare(e) for e in endpoints]
        self.timeout = timeout
        self._conns: dict[str, http.client.HTTPConnection] = {}
        if (user is None) != (password is None):
            raise ValueError("user and password go together (both or neither)")
        self.user, self._password = user, password
        self.token: Optional[str] = None  # once signed in (None: auth off, or no user)
        self._signed_in = False

    def _connection(self, host: str, port: int) -> http.client.HTTPConnection:
        if self.ssl_context is not None:
            return http.client.HTTPSConnection(host, port, timeout=self.timeout,
                                               context=self.ssl_context)
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    # ---- transport
    def raw(self, endpoint: str, method: str, path: str, body: bytes | None = None,
            headers: Optional[dict] = None, *, resend: bool = True) -> tuple[int, bytes]:
        """One HTTP exchange; returns (status, body). Raises _NotSent (an OSError) when the
        connection could not be made, OSError when the exchange failed after sending. With
        resend, a failed exchange is retried once on a new connection (only for requests that
        are safe to repeat)."""
        endpoint = _bare(endpoint)
        for attempt in range(2):
            conn = self._conns.get(endpoint)
            if conn is not None and _dropped(conn):
                conn.close()
                conn = None
            if conn is None:
                host, port = endpoint.rsplit(":", 1)
                conn = self._connection(host, int(port))
                try:
                    conn.connect()
                except OSError as e:
                    conn.close()
                    self._conns.pop(endpoint, None)
                    raise _NotSent(f"cannot connect: {e}") from e
                self._conns[endpoint] = conn
            try:
                conn.request(method, path, body=body, headers=headers or {})
                resp = conn.getresponse()
                data = resp.read()
                if resp.getheader("connection", "").lower() == "close":
                    conn.close()
                    self._conns.pop(endpoint, None)
                return resp.status, data
            except (http.client.HTTPException, OSError) as e:
                conn.close()
                self._conns.pop(endpoint, None)
                if attempt == 1 or not resend:
                    raise OSError(f"{type(e).__name__}: {e}") from e
        raise OSError("unreachable")

    # ---- auth (clientv3's getToken and retryAuth)
    def _sign_in(self, renewal: bool = False) -> None:
        """clientv3's getToken: "authentication is not enabled" is no token, except at a
        renewal (after a refused token), where it is the error, as clientv3 3.4's."""
        self.token = None
        try:
            self.token = self._call("/v3/auth/authenticate",
                                    {"name": self.user, "password": self._password})["token"]
        except EtcdError as e:
            if renewal or e.message != "etcdserver: authentication is not enabled":
                raise
        self._signed_in = True

    def call(self, path: str, body: dict, endpoint: Optional[str] = None,
             idempotent: Optional[bool] = None) -> dict:
        """POSTs a JSON body (signed in first if the client has a user; see the module's
        docstring) and returns the decoded answer, or raises EtcdError."""
        if self.user is not None and not self._signed_in:
            self._sign_in()
        try:
            return self._call(path, body, endpoint, idempotent)
        except EtcdError as e:
            if self.token is None or e.message not in _TOKEN_REFUSED:
                raise
        # The refused request was not applied: sending it again is safe. A failed sign-in
        # raises its own error, as clientv3 3.4's retry does.
        self.token = None
        self._signed_in = False  # if this fails, the next call signs in afresh
        self._sign_in(renewal=True)
        return self._call(path, body, endpoint, idempotent)

    def _call(self, path: str, body: dict, endpoint: Optional[str] = None,
              idempotent: Optional[bool] = None) -> dict:
        """POSTs a JSON body; returns the decoded answer or raises EtcdError.

        Fails over to the next endpoint only when that cannot apply the request twice: the
        connection was refused, the member answered "no leader", or the request changes
        nothing. Otherwise the error is marked indeterminate and raised: as etcd's own client,
        this one never turns one put into two."""
        if idempotent is None:
            idempotent = path in _IDEMPOTENT
        targets = [endpoint] if endpoint else self.endpoints
        last: Optional[EtcdError] = None
        for ep in targets:
            try:
                headers = {"Content-Type": "application/json"}
                if self.token and path != "/v3/auth/authenticate":
                    headers["Authorization"] = self.token  # raw: etcd refuses "Bearer x"
                status, data = self.raw(ep, "POST", path, json.dumps(body).encode(), headers,
                                        resend=idempotent)
            except _NotSent as e:
                last = EtcdError(f"{ep}: {e}", endpoint=ep)
                continue
            except OSError as e:
                last = EtcdError(f"{ep}: {e}", endpoint=ep, indeterminate=not idempotent)
                if idempotent:
                    continue
                raise last from e
            try:
                answer = json.loads(data) if data else {}
            except ValueError:
                raise EtcdError(f"{ep}: HTTP {status}: {data[:200]!r}", status=status, endpoint=ep)
            if status == 200:
                return decode(answer)
            # {"error", "message", "code"}, or a stream that failed before its first answer
            # (lease keep-alive): {"error": {"grpc_code", "http_code", "message", ...}}
            error = answer.get("error") if isinstance(answer.get("error"), dict) else answer
            message = error.get("message", str(answer))
            err = EtcdError(message, error.get("grpc_code", error.get("code", 0)), status, ep,
                            indeterminate=status == 503 and message != _NO_LEADER
                            and not idempotent)
            if status != 503 or err.indeterminate:
                raise err
            last = err
        raise last or EtcdError("no endpoints")

    # ---- KV (the request bodies are etcdlab/txn.py's operations: one copy for both)
    def put(self, key, value=b"", *, lease: int = 0, prev_kv: bool = False,
            ignore_value: bool = False, ignore_lease: bool = False, endpoint=None) -> dict:
        """Puts key = value. `lease` attaches the key to that lease (it goes when the lease is
        revoked or expires); a put without one detaches the key from the lease it had."""
        from .txn import put
        op = put(key, value, lease=lease, prev_kv=prev_kv, ignore_value=ignore_value,
                 ignore_lease=ignore_lease)
        return self.call("/v3/kv/put", op.request, endpoint)

    def get(self, key, range_end=None, *, prefix: bool = False, revision: int = 0,
            limit: int = 0, serializable: bool = False, keys_only: bool = False,
            count_only: bool = False, endpoint=None, **extra) -> dict:
        """A range read (see etcdlab.txn.get; `extra` adds raw request fields as they are)."""
        from .txn import get
        body = dict(get(key, range_end, prefix=prefix, revision=revision, limit=limit,
                        serializable=serializable, keys_only=keys_only,
                        count_only=count_only).request)
        body.update(extra)
        return self.call("/v3/kv/range", body, endpoint)

    def value(self, key, **kw) -> Optional[bytes]:
        kvs = self.get(key, **kw).get("kvs", [])
        return kvs[0].get("value", b"") if kvs else None

    def delete(self, key, range_end=None, *, prefix: bool = False, prev_kv: bool = False,
               endpoint=None) -> dict:
        from .txn import delete
        op = delete(key, range_end, prefix=prefix, prev_kv=prev_kv)
        return self.call("/v3/kv/deleterange", op.request, endpoint)

    def txn(self, compare=(), success=(), failure=(), *, idempotent: Optional[bool] = None,
            endpoint=None):
        """One transaction (etcdlab/txn.py: compares, operations, the TxnResult returned):
        if every compare holds, the success operations run, else the failure ones, atomically
        at one revision. A txn that cannot write is sent again elsewhere after a lost
        connection; one that can is not (its error says `indeterminate`), unless
        `idempotent=True` says a second application is harmless (e.g. guarded by a compare
        the first makes false, as the lock recipe's `create(k) == 0`)."""
        from .txn import TxnResult, request
        body = request(compare, success, failure)
        if idempotent is None:
            idempotent = not any(op.writes for op in list(success) + list(failure))
        elif not isinstance(idempotent, bool):
            raise TypeError(f"idempotent is a bool or None, not {idempotent!r}")
        return TxnResult.from_answer(self.call("/v3/kv/txn", body, endpoint, idempotent))

    def compact(self, revision: int, physical: bool = False, endpoint=None) -> dict:
        body: dict[str, Any] = {"revision": str(revision)}
        if physical:
            body["physical"] = True
        return self.call("/v3/kv/compaction", body, endpoint)

    # ---- leases
    def lease_grant(self, ttl_s: int, lease_id: int = 0, endpoint=None) -> dict:
        """Grants a lease of `ttl_s` seconds; returns {"header", "ID", "TTL"} (the TTL
        granted: the server raises one below its minimum, ceil(1.5 election timeouts), to it).
        `lease_id` 0 lets the server pick the id. Errors: "etcdserver: lease already exists"
        (412), "etcdserver: too large lease TTL" above 9,000,000,000 s (400)."""
        body: dict[str, Any] = {"TTL": str(_int64(ttl_s, "ttl_s (seconds)", minimum=0))}
        if _lease_id(lease_id, "lease_id"):
            body["ID"] = str(lease_id)
        return self.call("/v3/lease/grant", body, endpoint)

    def lease_revoke(self, lease_id: int, endpoint=None) -> dict:
        """Revokes the lease: every key attached to it is deleted, at one revision. An unknown
        lease is EtcdError "etcdserver: requested lease not found" (404)."""
        return self.call("/v3/lease/revoke", {"ID": str(_lease_id(lease_id))}, endpoint)

    def lease_keepalive(self, lease_id: int, endpoint=None) -> Optional[int]:
        """One keep-alive: the lease's time starts again from its granted TTL, which is
        returned (seconds); None when the lease is gone (unknown, expired or revoked), which
        etcd does not treat as an error. Answered by the leader (a follower forwards it). To
        keep a lease alive for a while, use etcdlab.LeaseKeepalive."""
        answer = self.call("/v3/lease/keepalive", {"ID": str(_lease_id(lease_id))}, endpoint)
        if "error" in answer:  # an error after answers (3.4, etcdlab: grpc_code; 3.6: code)
            err = answer["error"] if isinstance(answer["error"], dict) else answer
            raise EtcdError(err.get("message", str(err)),
                            err.get("grpc_code", err.get("code", 0)), 200, endpoint or "")
        return answer.get("result", {}).get("TTL") or None

    def lease_time_to_live(self, lease_id: int, keys: bool = False, endpoint=None) -> dict:
        """{"header", "ID", "TTL" (seconds left, rounded down), "grantedTTL", and with keys
        "keys" (the attached keys, bytes)}; a lease that is gone answers "TTL": -1 and no
        grantedTTL."""
        if not isinstance(keys, bool):
            raise TypeError(f"keys is a bool, not {keys!r}")
        body: dict[str, Any] = {"ID": str(_lease_id(lease_id))}
        if keys:
            body["keys"] = True
        return self.call("/v3/lease/timetolive", body, endpoint)

    def leases(self, endpoint=None) -> list:
        """The ids of the leases that exist, in no particular order."""
        answer = self.call("/v3/lease/leases", {}, endpoint)
        return [lease.get("ID", 0) for lease in answer.get("leases", [])]

    # ---- watches (etcdlab/watches.py)
    def watch(self, key, range_end=None, *, prefix: bool = False, start_revision: int = 0,
              prev_kv: bool = False, filters=(), progress_notify: bool = False,
              fragment: bool = False, resume: bool = True, endpoint=None):
        """Watches `key` (or [key, range_end), or every key with the prefix `key`) and returns
        an etcdlab.watches.Watch once the server has created it: iterate it for responses
        (events, progress notifications, a cancellation), `cancel()` it or use it in a `with`
        block, `request_progress()`. `start_revision` (inclusive; 0: from the next write)
        replays history; `filters` leaves out "NOPUT" and/or "NODELETE" events;
        `progress_notify` asks for a notification whenever the watcher has been idle for the
        server's interval; `fragment` lets the server send a very large response in pieces
        (joined here). With `resume`, a lost connection moves on to the next endpoint and
        continues from the next revision. Bad arguments raise TypeError or ValueError before
        anything is sent; a refused watch raises EtcdError."""
        from .watches import Watch, create_request
        body = create_request(key, range_end, prefix=prefix, start_revision=start_revision,
                              prev_kv=prev_kv, filters=filters, progress_notify=progress_notify,
                              fragment=fragment)
        if not isinstance(resume, bool):
            raise TypeError(f"resume is a bool, not {resume!r}")
        if self.user is not None and not self._signed_in:
            self._sign_in()
        return Watch([endpoint] if endpoint else self.endpoints, body, self.timeout, resume,
                     token=self.token, ssl_context=self.ssl_context)

    # ---- locks and elections (etcdlab/concurrency.py: etcd's concurrency recipes)
    def session(self, ttl_s: int = 60, *, timeout_s: Optional[float] = None):
        """A lease kept alive until close() (revoked then): locks and elections made with it
        share it, as in etcd's concurrency package."""
        from .concurrency import Session
        return Session(self, ttl_s, timeout_s=timeout_s)

    def lock(self, name, *, ttl_s: int = 60, timeout_s: Optional[float] = None):
        """A distributed lock on `name` (etcdctl lock's keys: `<name>/<lease>`), with a
        session of its own (TTL `ttl_s`): `with client.lock("x") as lock:` holds it for the
        block; `lock.token` is the fencing token. See etcdlab.concurrency.Lock."""
        from .concurrency import Lock
        return Lock(self, name, ttl_s=ttl_s, timeout_s=timeout_s)

    def election(self, name, *, ttl_s: int = 60):
        """A leader election on `name` (etcdctl elect's keys): campaign, proclaim, leader,
        observe, resign. See etcdlab.election.Election."""
        from .election import Election
        return Election(self, name, ttl_s=ttl_s)

    # ---- cluster and maintenance
    def members(self, endpoint=None) -> list:
        return self.call("/v3/cluster/member/list", {}, endpoint).get("members", [])

    def member_add(self, peer_urls: list, learner: bool = False, endpoint=None) -> dict:
        """Adds a member (the answer has "member" with its "ID", and "members")."""
        body: dict[str, Any] = {"peerURLs": list(peer_urls)}
        if learner:
            body["isLearner"] = True
        return self.call("/v3/cluster/member/add", body, endpoint)

    def member_remove(self, member_id: int, endpoint=None) -> dict:
        return self.call("/v3/cluster/member/remove", {"ID": str(member_id)}, endpoint)

    def member_update(self, member_id: int, peer_urls: list, endpoint=None) -> dict:
        return self.call("/v3/cluster/member/update",
                         {"ID": str(member_id), "peerURLs": list(peer_urls)}, endpoint)

    def member_promote(self, member_id: int, endpoint=None) -> dict:
        return self.call("/v3/cluster/member/promote", {"ID": str(member_id)}, endpoint)

    def alarms(self, endpoint=None) -> list:
        return self.call("/v3/maintenance/alarm", {"action": "GET"}, endpoint,
                         idempotent=True).get("alarms", [])

    def alarm_disarm(self, member_id: int, alarm: str = "NOSPACE", endpoint=None) -> list:
        body = {"action": "DEACTIVATE", "memberID": str(member_id), "alarm": alarm}
        return self.call("/v3/maintenance/alarm", body, endpoint).get("alarms", [])

    def defragment(self, endpoint: str) -> dict:
        return self.call("/v3/maintenance/defragment", {}, endpoint)

    def set_failpoints(self, endpoint: str, drop_to=(), drop_from=(), delay_ms: int = 0) -> dict:
        """Drops (or delays) this member's peer traffic (servers run with --enable-failpoints)."""
        body = {"drop_to": [str(i) for i in drop_to], "drop_from": [str(i) for i in drop_from],
                "delay_ms": delay_ms}
        status, data = self.raw(endpoint, "POST", "/etcdlab/failpoints", json.dumps(body).encode())
        if status != 200:
            raise EtcdError(f"{endpoint}: failpoints: HTTP {status}: {data[:200]!r}",
                            status=status, endpoint=endpoint)
        return json.loads(data)

    def snapshot(self, path: str, endpoint: str) -> int:
        """Saves the member's database to `path` as etcdctl snapshot save does: the database,
        then its SHA-256 (checked here). Streams; returns the database's size."""
        import hashlib
        host, port = _bare(endpoint).rsplit(":", 1)
        conn = self._connection(host, int(port))
        try:
            if self.user is not None and not self._signed_in:
                self._sign_in()
            headers = {"Content-Type": "application/json"}
            if self.token:
                headers["Authorization"] = self.token
            conn.request("POST", "/v3/maintenance/snapshot", body=b"{}", headers=headers)
            resp = conn.getresponse()
            if resp.status != 200:
                data = resp.read()
                raise EtcdError(f"{endpoint}: snapshot: HTTP {resp.status}: {data[:200]!r}",
                                status=resp.status, endpoint=endpoint)
            sha = hashlib.sha256()
            size = 0
            pending = None  # the last message is the hash of the others: held back one step
            with open(path + ".part", "wb") as out:
                for line in resp:
                    if not line.strip():
                        continue
                    msg = json.loads(line)
                    if "error" in msg:
                        err = msg["error"]
                        raise EtcdError(err.get("message", str(err)), err.get("code", 0), 0,
                                        endpoint)
                    if pending is not None:
                        sha.update(pending)
                        size += len(pending)
                        out.write(pending)
                    pending = base64.b64decode(msg["result"].get("blob", ""))
                if pending is None or sha.digest() != pending:
                    raise EtcdError(f"{endpoint}: snapshot stream ended without a valid SHA-256",
                                    endpoint=endpoint)
                out.write(pending)
            os.replace(path + ".part", path)
            return size
        finally:
            conn.close()

    def status(self, endpoint: str) -> dict:
        return self.call("/v3/maintenance/status", {}, endpoint)

    def hash(self, endpoint: str) -> int:
        return self.call("/v3/maintenance/hash", {}, endpoint).get("hash", 0)

    def health(self, endpoint: str) -> bool:
        try:
            status, body = self.raw(endpoint, "GET", "/health")
        except OSError:
            return False
        return status == 200 and b'"true"' in body

    def wait(self, predicate, timeout: float = 10.0, every: float = 0.05):
        """Polls predicate() until it returns a truthy value or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = predicate()
                if value:
                    return value
            except (EtcdError, OSError, socket.timeout):
                pass
            if time.monotonic() > deadline:
                return None
            time.sleep(every)


def recorded_put(client: "Client", who: Any, key: str, value: str):
    """One put, timed and classified for the checkers: an ``Operation`` that is ``ok`` (with
    the revision), ``failed`` (surely not applied) or ``unknown`` (it may have applied: the
    caller must go on under a new client id, as a Jepsen process does, since an unknown
    operation never returns)."""
    from .checkers import Operation
    call = time.monotonic()
    try:
        rev = client.put(key, value)["header"]["revision"]
        outcome, ret = "ok", time.monotonic()
    except EtcdError as e:
        rev, ret = None, None
        outcome = "unknown" if e.indeterminate else "failed"
        if outcome == "failed":
            ret = time.monotonic()
    return Operation(client=who, kind="put", input={"key": key, "value": value},
                     output={"revision": rev}, call=call, ret=ret, outcome=outcome)
