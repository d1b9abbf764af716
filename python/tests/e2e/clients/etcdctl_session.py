"""A scripted etcdctl 3.4 session (ETCDCTL_API=3) against the cluster whose client endpoints are
given (comma list). Prints one raw JSON line per step (what the user saw: stdout lines, the
"Error: ..." lines, the gRPC status etcdctl logged, the exit code); normalize.py makes two runs
comparable. Plain output where users read it, -w json where it is what the step checks.

    python3 etcdctl_session.py 127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379 [--etcdctl PATH]
"""

import argparse
import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recorder import Recorder, Streaming, poll  # noqa: E402

GRPC_ERROR = re.compile(r"rpc error: code = \w+ desc = .*")


class Ctl:
    def __init__(self, etcdctl: str, endpoints: list[str]):
        self.etcdctl = etcdctl
        self.endpoints = endpoints
        self.env = dict(os.environ, ETCDCTL_API="3")

    def argv(self, args, endpoints=None) -> list[str]:
        eps = ",".join(endpoints or self.endpoints)
        return [self.etcdctl, f"--endpoints={eps}", "--command-timeout=10s", *args]

    def run(self, *args, stdin=None, endpoints=None) -> dict:
        p = subprocess.run(self.argv(args, endpoints), input=stdin, capture_output=True,
                           text=True, env=self.env, timeout=60)
        return answer(p.returncode, p.stdout.splitlines(), p.stderr.splitlines())

    def stream(self, *args, endpoints=None) -> Streaming:
        return Streaming(self.argv(args, endpoints), env=self.env)


def sha256_trailer_ok(path):
    """Whether a saved snapshot ends with the SHA-256 of what precedes it (as etcd's Snapshot
    stream ends, and as `snapshot restore` checks)."""
    with open(path, "rb") as f:
        data = f.read()
    return len(data) > 32 and hashlib.sha256(data[:-32]).digest() == data[-32:]


def answer(rc: int, out: list[str], err: list[str]) -> dict:
    """What a user sees: the exit code, stdout, stderr's plain lines ("Error: ..."), and the
    gRPC statuses etcdctl's JSON logger printed (each once: how often it retried is timing)."""
    grpc = []
    for line in err:
        m = GRPC_ERROR.search(line)
        if m:
            text = m.group(0).rstrip('"}')
            if text not in grpc:
                grpc.append(text)
    return {"rc": rc, "out": out, "error": [l for l in err if l and not l.startswith("{")],
            "grpc": grpc}


def revision(result: dict) -> int:
    doc = json.loads("\n".join(result["out"]))
    return int(doc["header"]["revision"]) if "header" in doc else int(doc["revision"])


def kvs(doc: dict) -> list:
    return [{"key": b64d(kv["key"]), "value": b64d(kv.get("value", "")),
             "create_revision": kv.get("create_revision", 0),
             "mod_revision": kv.get("mod_revision", 0), "version": kv.get("version", 0),
             "lease": kv.get("lease", 0)} for kv in doc.get("kvs", [])]


def count(ctl: Ctl, prefix: str) -> int:
    got = ctl.run("get", prefix, "--prefix", "--keys-only", "-w", "json")
    return json.loads("\n".join(got["out"])).get("count", 0) if got["rc"] == 0 else -1


def b64d(s: str) -> str:
    return base64.b64decode(s).decode(errors="replace")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def session(ctl: Ctl, rec: Recorder, tmp: str) -> None:
    rec.step("endpoints", _ids={"endpoint": ctl.endpoints})

    # ---- put / get / del, prefixes, revisions
    rec.step("put a/1", **ctl.run("put", "a/1", "v1"))
    first = ctl.run("put", "a/2", "v2", "-w", "json")
    doc = json.loads("\n".join(first["out"]))
    rec.step("put a/2 -w json", _ids={"cluster": [doc["header"]["cluster_id"]]},
             rc=first["rc"], revision=doc["header"]["revision"])
    rev_a2 = doc["header"]["revision"]
    rec.step("put a/3", **ctl.run("put", "a/3", "v3"))
    rec.step("put b", **ctl.run("put", "b", "x"))
    rec.step("get a/ --prefix", **ctl.run("get", "a/", "--prefix"))
    got = ctl.run("get", "a/", "--prefix", "-w", "json")
    doc = json.loads("\n".join(got["out"]))
    rec.step("get a/ --prefix -w json", revision=doc["header"]["revision"], kvs=kvs(doc),
             count=doc.get("count", 0), more=doc.get("more", False))
    rec.step("get a/1 a/3 (range)", **ctl.run("get", "a/1", "a/3"))
    rec.step("get --prefix --keys-only --limit 2",
             **ctl.run("get", "a/", "--prefix", "--keys-only", "--limit", "2"))
    rec.step("get a/ --prefix --keys-only --order=DESCEND",
             **ctl.run("get", "a/", "--prefix", "--keys-only", "--order=DESCEND"))
    rec.step("put a/2 again --prev-kv", **ctl.run("put", "a/2", "v2b", "--prev-kv"))
    rec.step("get a/2 now", **ctl.run("get", "a/2"))
    old = ctl.run("get", "a/2", f"--rev={rev_a2}", "-w", "json")
    rec.step("get a/2 at its first revision -w json", rc=old["rc"],
             kvs=kvs(json.loads("\n".join(old["out"]))))
    rec.step("get a/2 at its first revision", **ctl.run("get", "a/2", f"--rev={rev_a2}"))
    rec.step("get a/ --prefix --rev=1 (before any key)", **ctl.run("get", "a/", "--prefix",
                                                                   "--rev=1"))
    rec.step("del a/2", **ctl.run("del", "a/2"))
    rec.step("del missing", **ctl.run("del", "nothing-here"))
    rec.step("del a/ --prefix --prev-kv", **ctl.run("del", "a/", "--prefix", "--prev-kv"))
    rec.step("get a/ --prefix after del", **ctl.run("get", "a/", "--prefix"))
    rec.step("put empty key", **ctl.run("put", "", "v"))

    # ---- txn
    rec.step("txn success branch", **ctl.run(
        "txn", stdin='value("b") = "x"\n\nput t/1 yes\nget b\n\nput t/1 no\n\n'))
    rec.step("txn failure branch", **ctl.run(
        "txn", stdin='mod("b") > "1000"\n\nput t/2 yes\n\nput t/2 no\nget t/1\n\n'))
    answer_json = ctl.run("txn", "-w", "json",
                          stdin='version("t/1") = "1"\n\ndel t/1\n\n\n')
    rec.step("txn -w json", rc=answer_json["rc"],
             answer=json.loads("\n".join(answer_json["out"])) if answer_json["rc"] == 0 else None,
             error=answer_json["error"])
    rec.step("txn with duplicate keys", **ctl.run(
        "txn", stdin='value("b") = "x"\n\nput d 1\nput d 2\n\n\n'))
    rec.step("txn with a bad compare", **ctl.run("txn", stdin='bogus("b") = "x"\n\n\n\n'))

    # ---- watch: live (from the next revision, so no event can be missed), then resumed
    now = revision(ctl.run("get", "b", "-w", "json"))
    live = ctl.stream("watch", "w/", "--prefix", f"--rev={now + 1}")
    rec.step("put w/1", **ctl.run("put", "w/1", "one"))
    rec.step("put w/1 again", **ctl.run("put", "w/1", "two"))
    rec.step("del w/1", **ctl.run("del", "w/1"))
    rec.step("watch w/ --prefix (live)", lines=live.read(9))
    live.interrupt()
    resumed = ctl.stream("watch", "w/", "--prefix", f"--rev={now + 1}", "--prev-kv")
    rec.step("watch w/ --prefix --prev-kv from a past revision", lines=resumed.read(13))
    resumed.interrupt()
    one = ctl.stream("watch", "w/1", f"--rev={now + 2}")
    rec.step("watch w/1 from its second put", lines=one.read(6))
    one.interrupt()

    # ---- leases
    granted = ctl.run("lease", "grant", "60")
    lease_hex = granted["out"][0].split()[1] if granted["rc"] == 0 else "0"
    rec.step("lease grant 60", _ids={"lease": [int(lease_hex, 16)]}, **granted)
    as_json = ctl.run("lease", "grant", "90", "-w", "json")
    second = json.loads("\n".join(as_json["out"]))
    rec.step("lease grant 90 -w json", _ids={"lease": [second["ID"]]}, rc=as_json["rc"],
             ID=second["ID"], TTL=second["TTL"], revision=second.get("revision"))
    rec.step("put l/1 --lease", **ctl.run("put", "l/1", "x", f"--lease={lease_hex}"))
    rec.step("put l/2 --lease", **ctl.run("put", "l/2", "y", f"--lease={lease_hex}"))
    rec.step("lease keep-alive --once", **ctl.run("lease", "keep-alive", "--once", lease_hex))
    ttl = ctl.run("lease", "timetolive", lease_hex, "--keys")
    rec.step("lease timetolive --keys", **remaining(ttl, 60))
    ttl_json = ctl.run("lease", "timetolive", lease_hex, "--keys", "-w", "json")
    doc = json.loads("\n".join(ttl_json["out"]))
    rec.step("lease timetolive --keys -w json", id=doc["id"], granted_ttl=doc["granted-ttl"],
             ttl_within_granted=0 < doc["ttl"] <= doc["granted-ttl"],
             keys=sorted(b64d(k) for k in doc.get("keys") or []))
    listed = ctl.run("lease", "list")
    rec.step("lease list", rc=listed["rc"], out=listed["out"], _sort=["out"])
    rec.step("lease revoke", **ctl.run("lease", "revoke", lease_hex))
    rec.step("get l/ --prefix after revoke", **ctl.run("get", "l/", "--prefix"))
    rec.step("lease timetolive after revoke", **ctl.run("lease", "timetolive", lease_hex))
    rec.step("lease revoke again", **ctl.run("lease", "revoke", lease_hex))
    rec.step("lease keep-alive --once after revoke",
             **ctl.run("lease", "keep-alive", "--once", lease_hex))
    rec.step("put with a revoked lease", **ctl.run("put", "l/3", "z", f"--lease={lease_hex}"))
    rec.step("lease revoke the second", **ctl.run("lease", "revoke", format(second["ID"], "x")))

    # ---- compaction and the errors around it
    now = revision(ctl.run("get", "b", "-w", "json"))
    rec.step("compaction", **ctl.run("compaction", str(now - 2)))
    rec.step("get at a compacted revision", **ctl.run("get", "b", f"--rev={now - 3}"))
    rec.step("get at a future revision", **ctl.run("get", "b", f"--rev={now + 100}"))
    rec.step("compaction again at the same revision", **ctl.run("compaction", str(now - 2)))
    gone = ctl.stream("watch", "w/", "--prefix", f"--rev={now - 3}")
    rc, rest = gone.finish(15)
    rec.step("watch from a compacted revision",
             **answer(rc, rest, [l for l in gone.err if l is not None]))

    # ---- lock and election (v3lockpb, v3electionpb)
    rec.step("lock with a command", **ctl.run(
        "lock", "s/lock", "--", "sh", "-c", 'echo "key=$ETCD_LOCK_KEY rev=$ETCD_LOCK_REV"'))
    holder = ctl.stream("lock", "s/lock")
    rec.step("lock (holder) prints its key", lines=holder.read(1))
    waiter = ctl.stream("lock", "s/lock", "--", "echo", "waiter got it")
    poll("the waiter's key", lambda: count(ctl, "s/lock") == 2)
    rec.step("both keys under the lock", **ctl.run("get", "s/lock", "--prefix", "--keys-only"),
             _sort=["out"])
    rec.step("the waiter has not run yet", running=waiter.proc.poll() is None)
    rec.step("holder interrupted", rc=holder.interrupt())
    rc, rest = waiter.finish()
    rec.step("waiter ran after the release", rc=rc, out=rest)
    rec.step("no lock key left", count=count(ctl, "s/lock"))

    observer = ctl.stream("elect", "-l", "s/elect")
    first = ctl.stream("elect", "s/elect", "alpha")
    rec.step("elect alpha: elected", lines=first.read(2))
    rec.step("observer sees alpha", lines=observer.read(2))
    second = ctl.stream("elect", "s/elect", "beta")
    poll("beta's campaign key", lambda: count(ctl, "s/elect") == 2)
    rec.step("beta waits", running=second.proc.poll() is None)
    rec.step("alpha resigns (interrupted)", rc=first.interrupt())
    rec.step("elect beta: elected", lines=second.read(2))
    rec.step("observer sees beta", lines=observer.read(2))
    rec.step("beta resigns (interrupted)", rc=second.interrupt())
    rec.step("observer interrupted", rc=observer.interrupt())
    rec.step("no election key left", count=count(ctl, "s/elect"))

    # ---- snapshot (one endpoint, as etcdctl requires)
    path = os.path.join(tmp, "snap.db")
    saved = ctl.run("snapshot", "save", path, endpoints=ctl.endpoints[:1])
    saved["out"] = [l.replace(tmp, "<tmp>") for l in saved["out"]]
    rec.step("snapshot save", size_positive=os.path.exists(path) and os.path.getsize(path) > 0,
             **saved)
    rec.step("snapshot save with all endpoints", **ctl.run("snapshot", "save", path + "2"))
    # (not `snapshot status`: it reads bbolt files, and etcdlab's database is SQLite; both
    # stores end the stream with the SHA-256 of the database, which restore checks)
    rec.step("snapshot ends with its SHA-256", digest_ok=sha256_trailer_ok(path))

    # ---- cluster and endpoints
    members = ctl.run("member", "list", "-w", "json")
    doc = json.loads("\n".join(members["out"]))
    ids = {m["name"]: m["ID"] for m in doc["members"]}
    peers = {m["name"]: m["peerURLs"][0] for m in doc["members"]}
    rec.step("member list -w json", _ids={"member": ids, "peer": peers},
             members=sorted((m["name"], m["ID"], m.get("isLearner", False),
                             len(m["clientURLs"])) for m in doc["members"]))
    listed = ctl.run("member", "list")
    rec.step("member list", rc=listed["rc"], out=listed["out"], _sort=["out"])
    new_peer = f"http://127.0.0.1:{free_port()}"
    added = poll("member add (etcd refuses it until every peer has been connected 5 s)",
                 lambda: (lambda a: a if "unhealthy cluster" not in " ".join(a["error"]) else
                          None)(ctl.run("member", "add", "new", f"--peer-urls={new_peer}")),
                 timeout=20, every=0.2)
    new_id = int(added["out"][0].split()[1], 16) if added["rc"] == 0 else 0
    added["out"] = [sorted_cluster(l) for l in added["out"]]
    rec.step("member add (unstarted)", _ids={"member": {"new": new_id},
                                             "peer": {"new": new_peer}}, **added)
    rec.step("member list with the new member", **sorted_out(ctl.run("member", "list")))
    rec.step("member add a second while one is unstarted",
             **ctl.run("member", "add", "other", f"--peer-urls=http://127.0.0.1:{free_port()}"))
    rec.step("member remove the new member", **ctl.run("member", "remove", format(new_id, "x")))
    rec.step("member remove it again", **ctl.run("member", "remove", format(new_id, "x")))
    rec.step("member list after remove", **sorted_out(ctl.run("member", "list")))
    learner_peer = f"http://127.0.0.1:{free_port()}"
    added = ctl.run("member", "add", "lrn", "--learner", f"--peer-urls={learner_peer}")
    learner = int(added["out"][0].split()[1], 16) if added["rc"] == 0 else 0
    added["out"] = [sorted_cluster(l) for l in added["out"]]
    rec.step("member add --learner (unstarted)",
             _ids={"member": {"lrn": learner}, "peer": {"lrn": learner_peer}}, **added)
    rec.step("member promote the unstarted learner",
             **ctl.run("member", "promote", format(learner, "x")))
    rec.step("member list with the learner", **sorted_out(ctl.run("member", "list")))
    moved_peer = f"http://127.0.0.1:{free_port()}"
    rec.step("member update the learner's peer URL", _ids={"peer": {"lrn moved": moved_peer}},
             **ctl.run("member", "update", format(learner, "x"), f"--peer-urls={moved_peer}"))
    # (the peer URLs only: etcd 3.4 lists an updated learner as a voter, a bug of its update,
    # which keeps the member's learner flag out of the new attributes; etcdlab keeps it a
    # learner — docs/api.md)
    doc = json.loads("\n".join(ctl.run("member", "list", "-w", "json")["out"]))
    rec.step("member list after the update: peer URLs",
             peers=[u for m in doc["members"] for u in m["peerURLs"]], _sort=["peers"])
    rec.step("member remove the learner", **ctl.run("member", "remove", format(learner, "x")))

    # ---- maintenance: move-leader (to a follower, then to the leader itself), defrag, alarms
    status = json.loads("\n".join(ctl.run("endpoint", "status", "-w", "json")["out"]))
    leader = status[0]["Status"]["leader"]
    target = next(s["Status"]["header"]["member_id"] for s in status
                  if s["Status"]["header"]["member_id"] != leader)
    moved = ctl.run("move-leader", format(target, "x"))
    roles = {format(leader, "x"): "<leader>", format(target, "x"): "<target>"}
    moved["out"] = [re.sub(r"\b[0-9a-f]+\b", lambda m: roles.get(m.group(0), m.group(0)), l)
                    for l in moved["out"]]
    rec.step("move-leader to a follower", **moved)
    after = json.loads("\n".join(ctl.run("endpoint", "status", "-w", "json")["out"]))
    rec.step("the follower leads", leads=all(s["Status"]["leader"] == target for s in after))
    again = ctl.run("move-leader", format(target, "x"))
    again["out"] = [l.replace(format(target, "x"), "<target>") for l in again["out"]]
    rec.step("move-leader to the leader itself", **again)
    rec.step("defrag", **sorted_out(ctl.run("defrag")))
    rec.step("alarm list", **ctl.run("alarm", "list"))

    status = ctl.run("endpoint", "status", "-w", "json")
    doc = json.loads("\n".join(status["out"]))
    leaders = {s["Status"]["leader"] for s in doc}
    rec.step("endpoint status -w json", rc=status["rc"],
             endpoints=[s["Endpoint"] for s in doc],
             one_leader_all_agree=len(leaders) == 1 and
             any(s["Status"]["leader"] == s["Status"]["header"]["member_id"] for s in doc))
    plain = ctl.run("endpoint", "status")
    rec.step("endpoint status (columns: endpoint, id, is learner, errors)", rc=plain["rc"],
             out=[[[c.strip() for c in l.split(",")][i] for i in (0, 1, 5, 9)]
                  for l in plain["out"]])
    rec.step("endpoint health", **sorted_out(ctl.run("endpoint", "health")))
    health = ctl.run("endpoint", "health", "-w", "json")
    rec.step("endpoint health -w json", rc=health["rc"],
             health=[(h["endpoint"], h["health"], h.get("error", ""))
                     for h in json.loads("\n".join(health["out"]))], _sort=["health"])
    hashes = ctl.run("endpoint", "hashkv", "-w", "json")
    doc = json.loads("\n".join(hashes["out"]))
    rec.step("endpoint hashkv -w json", rc=hashes["rc"], answers=len(doc),
             same_hash=len({h["HashKV"]["hash"] for h in doc}) == 1,
             compact_revision=sorted({h["HashKV"]["compact_revision"] for h in doc}))
    rec.step("end")


def remaining(result: dict, granted: int) -> dict:
    """timetolive's remaining(Ns) is timing: replaced by whether it is within (0, granted]."""
    def fix(line):
        m = re.search(r"remaining\((-?\d+)s\)", line)
        if not m:
            return line
        ok = 0 < int(m.group(1)) <= granted
        line = line.replace(m.group(0), "remaining(<within TTL>)" if ok else m.group(0))
        keys = re.search(r"attached keys\(\[(.*)\]\)", line)  # in the lease's map order
        if keys:
            line = line.replace(keys.group(1), " ".join(sorted(keys.group(1).split())))
        return line
    return dict(result, out=[fix(l) for l in result["out"]])


def sorted_cluster(line: str) -> str:
    """ETCD_INITIAL_CLUSTER lists members in map order: sorted here."""
    m = re.match(r'ETCD_INITIAL_CLUSTER="(.*)"$', line)
    return f'ETCD_INITIAL_CLUSTER="{",".join(sorted(m.group(1).split(",")))}"' if m else line


def sorted_out(result: dict) -> dict:
    """Lines printed in member-id order or as concurrent answers come (endpoint health prints
    on stderr): sorted once normalized."""
    return dict(result, _sort=["out", "error"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("endpoints", help="comma list of host:port")
    parser.add_argument("--etcdctl", default="/usr/bin/etcdctl")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="etcdctl-session-") as tmp:
        session(Ctl(opts.etcdctl, opts.endpoints.split(",")), Recorder(), tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
