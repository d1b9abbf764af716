"""A scripted session of Debian's python3-etcd3 (0.12) against the cluster whose client endpoints
are given (comma list). The library talks to one host: the session's client uses the first
endpoint, and one client per endpoint asks each member's status. Prints one raw JSON line per
step; normalize.py makes two runs comparable.

    /usr/bin/python3 python_etcd3_session.py 127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379
"""

import base64
import hashlib
import os
import queue
import socket
import sys
import tempfile
import threading
import time

import etcd3
import grpc
from google.protobuf import json_format

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recorder import Recorder  # noqa: E402

TIMEOUT = 5  # seconds, per request (the library's default is none: a hang would hang the test)


def failure(e: BaseException) -> dict:
    """What the library raised: its class, and the gRPC status under it (python-etcd3 turns
    UNAVAILABLE, DEADLINE_EXCEEDED, FAILED_PRECONDITION and INTERNAL into its own classes and
    lets the others through as grpc.RpcError)."""
    out = {"raised": type(e).__name__}
    cause = e if isinstance(e, grpc.RpcError) else (e.__context__ or e.__cause__)
    if isinstance(cause, grpc.RpcError) and hasattr(cause, "code"):
        out["code"] = cause.code().name
        out["details"] = cause.details()
    elif not isinstance(e, etcd3.exceptions.Etcd3Exception):
        out["message"] = str(e)  # not from the server: a bug of the session or the library
    if isinstance(e, etcd3.exceptions.RevisionCompactedError):
        out["compacted_revision"] = e.compacted_revision
    return out


def attempt(fn) -> dict:
    try:
        return {"ok": fn()}
    except Exception as e:  # the step records what a user would have caught
        return {"error": failure(e)}


def text(b) -> str:
    return b.decode(errors="replace") if isinstance(b, bytes) else b


def meta(value, md) -> dict:
    return {"key": text(md.key), "value": text(value), "create_revision": md.create_revision,
            "mod_revision": md.mod_revision, "version": md.version, "lease": md.lease_id}


def message(m) -> dict:
    """A protobuf answer as a dict (as protobuf's JSON mapping spells it: int64 as strings),
    with keys and values as text rather than base64."""
    def readable(v):
        if isinstance(v, dict):
            return {k: (base64.b64decode(x).decode(errors="replace")
                        if k in ("key", "value") and isinstance(x, str) else readable(x))
                    for k, x in v.items()}
        if isinstance(v, list):
            return [readable(x) for x in v]
        return v
    return readable(json_format.MessageToDict(m, preserving_proto_field_name=True))


def event(e) -> dict:
    out = {"type": type(e).__name__, "key": text(e.key), "value": text(e.value),
           "mod_revision": e.mod_revision, "version": e.version}
    prev = getattr(e, "prev_value", None)
    if prev is not None:
        out["prev_value"] = text(prev)
    return out


def responses(rs) -> list:
    out = []
    for r in rs:
        if isinstance(r, list):  # a get: (value, metadata) pairs
            out.append([meta(v, m) for v, m in r])
        else:
            out.append(message(r))
    return out


def at_revision(c, key: str, revision: int, range_end: str = "") -> dict:
    """A read at a past revision. python-etcd3 0.12's get/get_prefix/get_range accept
    revision= and drop it (as they drop limit=), so this goes through the library's own KV stub,
    as a user of 0.12 must."""
    request = etcd3.etcdrpc.RangeRequest(key=key.encode(), range_end=range_end.encode(),
                                         revision=revision)
    return attempt(lambda: {"count": (r := c.kvstub.Range(request, TIMEOUT)).count,
                            "kvs": [message(kv) for kv in r.kvs]})


class Events:
    """A watch through the library's callback API, read with deadlines."""

    def __init__(self, client, prefix, **kwargs):
        self.q = queue.Queue()
        self.id = client.add_watch_prefix_callback(prefix, self.q.put, **kwargs)
        self.client = client

    def take(self, n: int, timeout: float = 10.0) -> list:
        got = []
        while len(got) < n:
            try:
                item = self.q.get(timeout=timeout)
            except queue.Empty:
                break
            if isinstance(item, Exception):
                got.append({"error": failure(item)})
                break
            got.extend(event(e) for e in item.events)
        return got

    def cancel(self):
        self.client.cancel_watch(self.id)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tls_files() -> dict:
    """python-etcd3's TLS arguments when the suite runs over TLS (ETCDLAB_TLS=1 gives every
    client the test CA and a client certificate as etcdctl's ETCDCTL_CACERT, _CERT, _KEY)."""
    ca = os.environ.get("ETCDCTL_CACERT")
    if not ca:
        return {}
    return {"ca_cert": ca, "cert_cert": os.environ.get("ETCDCTL_CERT"),
            "cert_key": os.environ.get("ETCDCTL_KEY")}


def connect(endpoint: str):
    host, port = endpoint.rsplit(":", 1)
    return etcd3.client(host=host, port=int(port), timeout=TIMEOUT, **tls_files())


def session(endpoints: list[str], rec: Recorder, tmp: str) -> None:
    c = connect(endpoints[0])
    tx = c.transactions
    rec.step("endpoints", _ids={"endpoint": endpoints})

    # ---- put / get / delete, prefixes, revisions
    r = c.put("a/1", "v1")
    rec.step("put a/1", revision=r.header.revision,
             _ids={"cluster": [r.header.cluster_id]})
    rev_a2 = c.put("a/2", "v2").header.revision
    rec.step("put a/2", revision=rev_a2)
    rec.step("put a/3", revision=c.put("a/3", "v3").header.revision)
    rec.step("put b", revision=c.put("b", "x").header.revision)
    rec.step("get a/1", **(lambda v, m: {"value": text(v), "meta": m and meta(v, m)})(
        *c.get("a/1")))
    rec.step("get missing", value=c.get("nothing-here")[0])
    rec.step("get_prefix a/", kvs=[meta(v, m) for v, m in c.get_prefix("a/")])
    rec.step("get_prefix a/ keys_only, descending by key",
             keys=[text(m.key) for _, m in c.get_prefix("a/", keys_only=True,
                                                        sort_order="descend")])
    rec.step("get_range a/1 .. a/3", kvs=[meta(v, m) for v, m in c.get_range("a/1", "a/3")])
    rec.step("get_prefix a/ limit 2 (0.12 drops the limit)", kvs=[meta(v, m) for v, m in c.get_prefix("a/", limit=2)])
    prev = c.put("a/2", "v2b", prev_kv=True)
    rec.step("put a/2 again with prev_kv", revision=prev.header.revision,
             prev=message(prev.prev_kv))
    old = at_revision(c, "a/2", rev_a2)
    rec.step("get a/2 at its first revision (KV stub)", **old)
    rec.step("get a/ .. a0 at revision 1 (before any key)", **at_revision(c, "a/", 1, "a0"))
    rec.step("delete a/2", deleted=c.delete("a/2"))
    rec.step("delete missing", deleted=c.delete("nothing-here"))
    rec.step("delete a/2 prev_kv (missing now)",
             answer=message(c.delete("a/2", prev_kv=True, return_response=True)))
    rec.step("delete_prefix a/", answer=message(c.delete_prefix("a/")))
    rec.step("put an empty key", **attempt(lambda: c.put("", "v").header.revision))

    # ---- transactions
    ok, rs = c.transaction(compare=[tx.value("b") == "x"],
                           success=[tx.put("t/1", "yes"), tx.get("b")],
                           failure=[tx.put("t/1", "no")])
    rec.step("txn success branch", succeeded=ok, responses=responses(rs))
    ok, rs = c.transaction(compare=[tx.mod("b") > 1000],
                           success=[tx.put("t/2", "yes")],
                           failure=[tx.put("t/2", "no"), tx.get("t/1")])
    rec.step("txn failure branch", succeeded=ok, responses=responses(rs))
    ok, rs = c.transaction(compare=[tx.version("t/1") == 1, tx.create("t/2") > 0],
                           success=[tx.delete("t/1")], failure=[])
    rec.step("txn two compares, a delete", succeeded=ok, responses=responses(rs))
    rec.step("txn with duplicate keys", **attempt(lambda: c.transaction(
        compare=[tx.value("b") == "x"], success=[tx.put("d", "1"), tx.put("d", "2")],
        failure=[])))

    # ---- watch: live from the next revision, then resumed from a past one
    now = c.get_response("b").header.revision
    live = Events(c, "w/", start_revision=now + 1)
    c.put("w/1", "one")
    c.put("w/1", "two")
    c.delete("w/1")
    rec.step("watch w/ (live)", events=live.take(3))
    live.cancel()
    resumed = Events(c, "w/", start_revision=now + 1, prev_kv=True)
    rec.step("watch w/ prev_kv from a past revision", events=resumed.take(3))
    resumed.cancel()
    rec.step("watch_once w/1 from its second put",
             event=event(c.watch_once("w/1", timeout=TIMEOUT, start_revision=now + 2)))

    # ---- leases
    lease = c.lease(60)
    second = c.lease(90)
    rec.step("lease 60 and lease 90", _ids={"lease": [lease.id, second.id]}, ids=[lease.id,
             second.id], ttl=[lease.ttl, second.ttl])
    c.put("l/1", "x", lease=lease)
    c.put("l/2", "y", lease=lease)
    rec.step("keepalive once (refresh: one request, then the client closes its side)",
             **attempt(lambda: [{"ID": a.ID, "TTL": a.TTL} for a in lease.refresh()]))
    info = c.get_lease_info(lease.id)
    rec.step("time to live with keys", id=info.ID, granted_ttl=info.grantedTTL,
             ttl_within_granted=0 < info.TTL <= info.grantedTTL,
             keys=sorted(text(k) for k in info.keys))
    rec.step("lease.keys", keys=sorted(text(k) for k in lease.keys))
    rec.step("revoke", answer=lease.revoke())
    rec.step("get_prefix l/ after revoke", kvs=[meta(v, m) for v, m in c.get_prefix("l/")])
    info = c.get_lease_info(lease.id)
    rec.step("time to live after revoke", id=info.ID, ttl=info.TTL, granted_ttl=info.grantedTTL)
    rec.step("revoke again", **attempt(lambda: c.revoke_lease(lease.id)))
    rec.step("refresh after revoke", **attempt(
        lambda: [{"ID": a.ID, "TTL": a.TTL} for a in c.refresh_lease(lease.id)]))
    rec.step("put with a revoked lease", **attempt(
        lambda: c.put("l/3", "z", lease=lease.id).header.revision))
    second.revoke()

    # ---- compaction and the errors around it
    now = c.get_response("b").header.revision
    rec.step("compact", **attempt(lambda: c.compact(now - 2)))
    rec.step("get at a compacted revision (KV stub)", **at_revision(c, "b", now - 3))
    rec.step("get at a future revision (KV stub)", **at_revision(c, "b", now + 100))
    rec.step("compact again at the same revision", **attempt(lambda: c.compact(now - 2)))
    rec.step("watch from a compacted revision", **attempt(
        lambda: Events(c, "w/", start_revision=now - 3).take(1, timeout=5)))

    # ---- lock (the library's own recipe over txn and leases)
    holder = c.lock("s/lock", ttl=60)
    rec.step("lock acquire", acquired=holder.acquire(timeout=5), held=holder.is_acquired())
    waiter = c.lock("s/lock", ttl=60)
    rec.step("a second lock, no wait", acquired=waiter.acquire(timeout=0))
    rec.step("release", released=holder.release(), held=holder.is_acquired())
    rec.step("the second lock now", acquired=waiter.acquire(timeout=5),
             held=waiter.is_acquired())
    rec.step("release the second", released=waiter.release())
    rec.step("release again", released=waiter.release())

    # ---- snapshot
    path = os.path.join(tmp, "snap.db")
    with open(path, "wb") as f:
        c.snapshot(f)
    rec.step("snapshot", size_positive=os.path.getsize(path) > 0)
    # (not `etcdctl snapshot status`: it reads bbolt files, and etcdlab's database is SQLite;
    # both stores end the stream with the database's SHA-256, which a restore checks)
    with open(path, "rb") as f:
        data = f.read()
    rec.step("snapshot ends with its SHA-256",
             digest_ok=len(data) > 32 and hashlib.sha256(data[:-32]).digest() == data[-32:])

    # ---- members and status
    members = list(c.members)
    rec.step("members", _ids={"member": {m.name: m.id for m in members},
                              "peer": {m.name: m.peer_urls[0] for m in members}},
             members=sorted((m.name, m.id, list(m.peer_urls), list(m.client_urls))
                            for m in members))
    peer = f"http://127.0.0.1:{free_port()}"
    added = add_member(c, peer)
    if isinstance(added, dict):
        rec.step("add_member (unstarted)", **added)
        new_id = 0
    else:
        new_id = added.id
        rec.step("add_member (unstarted)", _ids={"member": {"new": new_id}, "peer": {"new": peer}},
                 id=new_id, name=added.name, peer_urls=list(added.peer_urls),
                 client_urls=list(added.client_urls))
    rec.step("members with the new one", names=sorted(
        (m.name, m.id, list(m.peer_urls)) for m in c.members))
    rec.step("add a second while one is unstarted", **attempt(
        lambda: c.add_member([f"http://127.0.0.1:{free_port()}"]).name))
    moved = f"http://127.0.0.1:{free_port()}"
    rec.step("update_member the new one's peer URL", _ids={"peer": {"new moved": moved}},
             **attempt(lambda: c.update_member(new_id, [moved])))
    rec.step("members after the update", names=sorted(
        (m.name, m.id, list(m.peer_urls)) for m in c.members))
    rec.step("remove_member the new one", **attempt(lambda: c.remove_member(new_id)))
    rec.step("remove_member it again", **attempt(lambda: c.remove_member(new_id)))
    rec.step("members after remove", names=sorted(m.name for m in c.members))

    statuses = []
    for endpoint in endpoints:
        each = connect(endpoint)
        try:
            s = each.status()
            statuses.append({"version_set": bool(s.version), "db_size_positive": s.db_size > 0,
                             "leader": s.leader.id if s.leader else None,
                             "raft_index_positive": s.raft_index > 0})
        finally:
            each.close()
    rec.step("status of each member",
             one_leader=len({s["leader"] for s in statuses}) == 1 and bool(statuses[0]["leader"]),
             statuses=[dict(s, leader="<a member>") for s in statuses])
    rec.step("hash", hash_is_int=isinstance(c.hash(), int))
    rec.step("defragment", **attempt(lambda: c.defragment()))
    rec.step("list_alarms", alarms=[(a.alarm_type, a.member_id) for a in c.list_alarms()])
    c.close()
    rec.step("end")


def add_member(c, peer: str):
    """etcd refuses a member add until every peer has been connected for 5 s (strict reconfig
    check): retried on that one answer, with a deadline."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return c.add_member([peer])
        except Exception as e:
            f = failure(e)
            if "unhealthy cluster" not in f.get("details", "") or time.monotonic() > deadline:
                return {"error": f}
            time.sleep(0.2)


def quiet_watch_thread(args) -> None:
    """The library's watch thread outlives close() and raises on the closed channel: noise."""
    if not (args.thread and args.thread.name.startswith("etcd3_watch_")):
        sys.__excepthook__(args.exc_type, args.exc_value, args.exc_traceback)


def main() -> int:
    threading.excepthook = quiet_watch_thread
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="python-etcd3-session-") as tmp:
        session(sys.argv[1].split(","), Recorder(), tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
