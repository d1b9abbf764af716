"""etcdlabctl against etcdlab answers as etcdctl (3.4, ETCDCTL_API=3) against etcd does: the
same command lines run, in order, on a fresh single-member etcd and etcdlab (both at once, each
with its own folder for files, {tmp}, whose path is masked), and the exit code, stdout and
stderr must match once what differs between any two clusters is masked (member and cluster
ids, ports, timings, capnslog timestamps) and what differs by design (docs/api.md,
"Differences": the version, the db size, the Raft indexes). etcdctl's own gRPC warnings on
stderr (JSON lines) are ignored, and the program's name is read as one name.

Help texts are compared by exit code and stderr only: etcdctl's lists its other commands and
its TLS and auth flags. Protobuf output is compared decoded as far as the ids, which are
masked.

Leases: the ids a server picks differ, so a grant saves its line in the run's folder ({tmp})
and later commands read the id from there; ids are masked wherever they are printed. A
remaining TTL depends on when the command runs (etcdlab also counts it in ticks: within the
first tick after a grant it says the full TTL, etcd one second less), so `timetolive` cases
mask it (kind "ttl"), and etcd lists a lease's keys in no fixed order, so they are sorted."""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

import pytest

from etcdlab.local import LocalCluster, find_binary
from suite_tls import ctl_environment

ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
DEAD = "127.0.0.1:1"  # nothing listens on port 1
BINARY_KEY = r"$'k\xff\x01\t\"q\\'"
# é, a zero-width space (not printable), U+FFFD, DEL, a no-break space, an emoji, a private-use
# character, an unassigned code point
BINARY_VALUE = (r"$'v\xc3\xa9\xe2\x80\x8b\xef\xbf\xbd\x7f\xc2\xa0\xf0\x9f\x98\x80"
                r"\xee\x80\x80\xcd\xb8'")


@dataclass
class Case:
    """A command line (bash words after the program; --endpoints=<the member> is added unless
    it names endpoints itself, with {ep} standing for the member's endpoint)."""
    cmd: str
    stdin: bytes = b""
    env: dict = field(default_factory=dict)
    stdout: bool = True  # compare stdout (not for help texts)
    kind: str = ""       # "status" or "health": mask those commands' by-design differences


def help_case(cmd: str) -> Case:
    """A help text, or a flag error (which prints the command's help on stdout)."""
    return Case(cmd, stdout=False)


T1 = "--command-timeout=1s"  # for the cases that wait on an unreachable endpoint
# The id of the cluster's learner, read by the program under test itself.
LEARNER = "$({ctl} --endpoints={ep} member list | awk -F', ' '$6 == \"true\" { print $1 }')"


def saved(cmd: str, name: str, then: str = "") -> str:
    """`cmd` (a lease grant, simple output), its output kept in {tmp}/name for lease(name);
    then `then`, a command line run with the program under test, output discarded."""
    after = f"{{ctl}} --endpoints={{ep}} {then} > /dev/null 2>&1; " if then else ""
    return (f"--endpoints={{ep}} {cmd} > {{tmp}}/{name}; rc=$?; cat {{tmp}}/{name}; {after}"
            f"exit $rc")


def lease(name: str) -> str:
    """The hex id of the lease that the grant saved as `name` printed."""
    return "$(awk '{print $2}' {tmp}/" + name + ")"


def short_grant(ttl: str) -> Case:
    """A grant of a lease that expires within the run: revoked at once, so that `lease list`
    finds the same leases on both however fast each server expires it."""
    return Case(saved(f"lease grant {ttl}", "short", then=f"lease revoke {lease('short')}"))


# The pipe's reader revokes the lease after the first answer; the next keep-alive (a third of
# the TTL later) finds it gone. Exit code: keep-alive's.
KEEP_ALIVE_UNTIL_REVOKED = (
    "--endpoints={ep} lease keep-alive " + lease("ka") + " | while IFS= read -r line; do "
    "echo \"$line\"; {ctl} --endpoints={ep} lease revoke " + lease("ka") +
    " > /dev/null 2>&1; done; exit ${PIPESTATUS[0]}")
# Polls (at most 10 s) until the 1 s lease has expired, then prints what is left of it.
UNTIL_EXPIRED = (
    "--endpoints={ep} lease timetolive " + lease("exp") + " > /dev/null; for i in $(seq 100); do "
    "{ctl} --endpoints={ep} lease timetolive " + lease("exp") + " | grep -q expired && break; "
    "sleep 0.1; done; {ctl} --endpoints={ep} lease timetolive " + lease("exp"))

CASES = [
    # ---- put
    Case("put foo bar"), Case("put foo baz --prev-kv"), Case("put foo baz2 --prev-kv -w json"),
    Case("put foo baz3 --prev-kv -w fields"), Case("put foo baz4 -w fields"),
    Case("put foo baz5 --prev-kv -w protobuf"),
    Case("put a 1"), Case("put b 2"), Case("put ab 3"), Case("put c ''"), Case("put x -- -dash"),
    Case("put 'sp ace' 'v a l'"), Case("put nl", stdin=b"l1\nl2\n"), Case("put nl2"),
    Case(f"put {BINARY_KEY} {BINARY_VALUE}"), Case("put '' x"), Case("put k v extra"),
    Case("put k --lease zz v"), Case("put k v --lease ffffffffffffffffff"),
    Case("put k v --lease 0x12"), Case("put k v --lease=12"), Case("put k v --lease=0"),
    Case("put k v --lease -5"), Case("put k v --ignore-value"), Case("put foo --ignore-value"),
    Case("put missing --ignore-value"), Case("put foo v --ignore-lease"),
    Case("put t1 v -w table"), Case("get t1"), Case("put t2 v -w bogus"), Case("get t2"),
    Case("put"), Case("put --prev-kv"), Case("put big", stdin=b"a" * 1_600_000),
    # ---- get
    Case("get foo"), Case("get nope"), Case("get a b"), Case("get a ''"), Case("get a --prefix"),
    Case("get a --from-key"), Case("get a --from-key --limit 2"),
    Case("get '' --prefix --keys-only"), Case("get '' --prefix --print-value-only"),
    Case("get '' --prefix --keys-only --print-value-only"),
    Case("get a --prefix --order DESCEND"), Case("get '' --prefix --order descend"),
    Case("get '' --prefix --sort-by MODIFY --order DESCEND"),
    Case("get '' --prefix --sort-by MODIFY --limit 2"), Case("get '' --prefix --sort-by value"),
    Case("get '' --prefix --sort-by=version --order=ascend"),
    Case("get '' --prefix --sort-by create -w fields --limit 1"),
    Case("get foo --rev 2"), Case("get foo --rev=0x3"), Case("get foo --rev -1"),
    Case("get foo --consistency s"), Case("get foo --consistency x"),
    Case("get foo --consistency=S"), Case("get foo --rev 100000"),
    Case("get '' --prefix --limit -1 --keys-only"), Case("get '' --prefix --limit 2 -w json"),
    Case("get foo -w json"), Case("get '' --prefix -w json"), Case("get nope -w json"),
    Case("get foo -w fields"), Case("get nope -w fields"), Case("get '' --prefix -w fields"),
    Case("get '' --from-key --limit 2 -w fields"), Case("get foo -w protobuf"),
    Case("get '' --prefix -w protobuf"),
    Case("get foo -w table"), Case("get foo -w bogus"), Case("get -wjson foo"),
    Case("get '' --prefix --hex"), Case("get '' --prefix --hex -w fields"),
    Case("get '' --prefix --hex -w json"), Case("--hex get foo --print-value-only"),
    Case("get '' --prefix --print-value-only -w json"),
    Case("get foo --print-value-only -w table"), Case("get foo --print-value-only -w fields"),
    Case(f"get {BINARY_KEY} -w fields"), Case(f"get {BINARY_KEY} --hex"),
    Case("get nl -w fields"), Case("get 'sp ace' -w fields"),
    Case("get"), Case("get -w json"), Case("get a b c"), Case("get a --prefix --from-key"),
    Case("get a b --prefix"), Case("get a b --from-key"),
    Case("get foo --order SIDEWAYS"), Case("get foo --sort-by nope"),
    help_case("get foo --rev x"), help_case("get foo --rev"), help_case("get foo --limit=1.5"),
    Case("get foo --prefix=false"), help_case("get foo --prefix=maybe"), help_case("get --bogus foo"),
    help_case("get -x"), Case("get -- -x"), help_case("get foo -w"), help_case("get --=x foo"),
    # (more keys only now: etcd sorts ties in non-key sorts unstably past 12 keys)
    Case("put -- -k kv"), Case("get -- -k"), Case("put pct '100%d %% %'"),
    Case("get pct -w protobuf"), Case("get pct -w fields"), Case("get pct -w json"),
    # ---- del
    Case("del nope"), Case("del nope -w fields"), Case("del a --prefix --prev-kv"),
    Case("del b -w fields --prev-kv"), Case("del ab -w json --prev-kv"), Case("del c -w protobuf"),
    Case("put d1 v"), Case("del d1 -w table"), Case("get d1"), Case("put d2 v"),
    Case("del d2 --hex --prev-kv"), Case("del"), Case("del a b c"),
    Case("del a --prefix --from-key"), Case("del a b --prefix"), Case("del x --from-key"),
    Case("put e1 v"), Case("put e2 v"), Case("put e3 v"), Case("del e1 e3 --prev-kv"),
    Case("get e --prefix"), Case("del '' --prefix -w json"),
    # ---- compaction
    Case("put r1 v"), Case("put r1 v"), Case("put r1 v"), Case("compaction 3"),
    Case("compaction 3"), Case("compaction 5 --physical"), Case("get foo --rev 2"),
    Case("compaction 6 -w table"), Case("compaction 7 -w json"), Case("compaction 8 -w fields"),
    Case("compaction 9 -w protobuf"), Case("compaction 10 -w bogus"), Case("compaction"),
    Case("compaction x"), Case("compaction 1 2"), Case("compaction 0"),
    Case("compaction 100000"), Case("compaction 99999999999999999999"),
    Case("compaction -- -1"), help_case("compaction -1"), Case("compaction x -w bogus"),
    # ---- member list
    Case("member list"), Case("member list -w table"), Case("member list -w json"),
    Case("member list -w fields"), Case("member list -w protobuf"),
    Case("member list -w bogus"), Case("member list --hex -w json"), Case("member list extra"),
    # ---- endpoint status / health
    Case("endpoint status", kind="status"), Case("endpoint status -w table", kind="status"),
    Case("endpoint status -w json", kind="status"),
    Case("endpoint status -w fields", kind="status"),
    Case("endpoint status -w protobuf", kind="status"),
    Case("endpoint status --cluster", kind="status"),
    Case("--endpoints={ep},{ep} endpoint status -w table", kind="status"),
    Case(f"--endpoints={DEAD} {T1} endpoint status", kind="status"),
    Case(f"--endpoints={DEAD} {T1} endpoint status -w table", kind="status"),
    Case("--endpoints=http://{ep} endpoint status -w fields", kind="status"),
    Case(f"--endpoints={DEAD},{{ep}} {T1} endpoint status -w json", kind="status"),
    Case("endpoint health", kind="health"), Case("endpoint health -w table", kind="health"),
    Case("endpoint health -w json", kind="health"), Case("endpoint health -w fields", kind="health"),
    Case("endpoint health -w protobuf", kind="health"),
    Case("endpoint health --cluster -w table", kind="health"),
    Case(f"--endpoints={{ep}},{DEAD} {T1} endpoint health", kind="health"),
    Case(f"--endpoints={{ep}},{DEAD} {T1} endpoint health -w table", kind="health"),
    Case(f"--endpoints={{ep}},{DEAD} {T1} endpoint health -w fields", kind="health"),
    # ---- endpoints, timeouts, environment
    Case(f"--endpoints={DEAD},{{ep}} put k v"), Case(f"--endpoints={DEAD} {T1} get foo"),
    Case(f"--endpoints={DEAD} {T1} member list"), Case("--endpoints= get foo"),
    Case("--endpoints={ep} --endpoints={ep} get foo"),
    Case("--command-timeout 5s get foo"), Case("--command-timeout=500ms get foo"),
    Case("--command-timeout=1m30s get foo"), Case("--dial-timeout=1s get foo"),
    help_case("--command-timeout 5 get foo"), help_case("--command-timeout=abc get foo"),
    help_case("--command-timeout=1x get foo"), help_case("--dial-timeout=abc get foo"),
    Case("-w JSON get foo"), Case("put foo bar"), Case("get foo", env={"ETCDCTL_WRITE_OUT": "json"}),
    Case("get foo", env={"ETCDCTL_ENDPOINTS": "{ep}", "ETCDCTL_DIAL_TIMEOUT": "1s"}),
    Case("get foo -w simple", env={"ETCDCTL_WRITE_OUT": "json"}),
    Case("get foo", env={"ETCDCTL_HEX": "true", "ETCDCTL_COMMAND_TIMEOUT": "abc"}),
    Case("get foo", env={"ETCDCTL_BOGUS": "1"}),
    Case("endpoint status", env={"ETCDCTL_CLUSTER": "true"}, kind="status"),
    # ---- commands and help
    Case("bogus"), Case("gte"), Case("membr list"), Case("--bogus get foo"),
    help_case(""), help_case("--help"), help_case("get --help"), help_case("put -h"),
    help_case("member"), help_case("member bogus"), help_case("endpoint"),
    help_case("endpoint status --help"), help_case("help get"), help_case("help get bogus"),
    help_case("help bogus x"),
    # ---- member changes (a learner that never starts: the cluster keeps its quorum)
    Case("member add"), Case("member add x"), Case("member add x y http://a"),
    Case("member remove"), Case("member remove zz"), Case("member remove 12345678901234567"),
    Case("member remove 1234"), Case("member promote 1234"), Case("member update 1234"),
    Case("member update 1234 --peer-urls=http://127.0.0.1:9"),
    Case("member add l1 --peer-urls=http://127.0.0.1:9 --learner", kind="unordered"),
    Case("member list", kind="unordered"),
    Case("member add l2 --peer-urls=http://127.0.0.1:8 --learner"),
    Case(f"member promote {LEARNER}"),
    # (no `member update` of the learner: etcd 3.4.23 then lists it as a voter, an etcd bug)
    Case(f"member remove {LEARNER}", kind="spaces"), Case("member list", kind="unordered"),
    Case("member add l3 --peer-urls=http://127.0.0.1:6 --learner -w json"),
    Case(f"member remove {LEARNER} -w json"),
    Case("member add l4 --peer-urls=http://127.0.0.1:5 --learner -w table"),
    Case(f"member remove {LEARNER} -w protobuf"),
    # ---- alarms, defrag, snapshots
    Case("alarm list"), Case("alarm list x"), Case("alarm disarm"), Case("alarm disarm x"),
    Case("alarm list -w json"), Case("alarm list -w table"), help_case("alarm"),
    Case("defrag"), Case("defrag -w json"), Case("--endpoints={ep},{ep} defrag"),
    Case(f"--endpoints={DEAD} {T1} defrag"),
    Case("snapshot save"), Case("snapshot save a b"),
    Case("--endpoints={ep},{ep} snapshot save {tmp}/compat.db"),
    Case("snapshot save {tmp}/compat.db"), Case("snapshot status"),
    Case("snapshot status /nonexistent.db"), Case("snapshot status {tmp}/compat.db -w protobuf"),
    Case("snapshot restore"),
    Case("snapshot restore {tmp}/compat.db --name zz --data-dir {tmp}/compat-dir"),
    Case("snapshot restore {tmp}/compat.db --data-dir /tmp"),
    # ---- leases (last: their puts move the revision)
    Case(saved("lease grant 100", "L1")), Case("lease grant 100 -w json"),
    Case("lease grant 100 -w fields"), Case("lease grant 100 -w protobuf"),
    Case("lease grant 100 -w table"), Case("lease grant 100 -w bogus"),
    short_grant("0"), short_grant("-- -5"), short_grant("1"), Case("lease grant 9000000001"),
    Case("lease grant 9000000000 -w fields"), Case("lease grant"), Case("lease grant x"),
    Case("lease grant 1 2"), Case("lease grant 0x10"), Case("lease grant 99999999999999999999"),
    Case("lease grant 1.5"), Case("lease grant 5 -w bogus"),
    Case(f"put lk1 v --lease={lease('L1')}"), Case(f"put lk2 v --lease={lease('L1')} -w json"),
    Case("get lk1 -w json"), Case("get lk1 -w fields"), Case("get lk1 -w protobuf"),
    Case(f"put lk3 v --lease={lease('L1')}"), Case("put lk3 v2"),  # a put without one detaches
    Case("put lk1 v3 --ignore-lease"), Case("get lk1 -w json"),  # keeps its lease
    Case(f"put lk1 v --ignore-lease --lease={lease('L1')}"), Case("put lk4 v --lease=abcdef"),
    Case(f"lease timetolive {lease('L1')}", kind="ttl"),
    Case(f"lease timetolive {lease('L1')} --keys", kind="ttl"),
    Case(f"lease timetolive --keys {lease('L1')} -w json", kind="ttl"),
    Case(f"lease timetolive {lease('L1')} -w json", kind="ttl"),
    Case(f"lease timetolive {lease('L1')} --keys -w fields", kind="ttl"),
    Case(f"lease timetolive {lease('L1')} --keys -w protobuf"),
    Case(f"lease timetolive {lease('L1')} -w table"),
    Case("lease timetolive abcdef"), Case("lease timetolive abcdef --keys -w json"),
    Case("lease timetolive abcdef -w fields"), Case("lease timetolive 0"),
    Case("lease timetolive -- -1"), Case("lease timetolive 7fffffffffffffff --keys"),
    Case("lease timetolive"), Case("lease timetolive zz"), Case("lease timetolive 1 2"),
    Case("lease timetolive 0x12"), Case("lease timetolive -- -1 -w json"),
    Case("lease list"), Case("lease list -w json"), Case("lease list -w fields"),
    Case("lease list -w protobuf"), Case("lease list -w table"), Case("lease list extra"),
    Case(f"lease keep-alive --once {lease('L1')}"),
    Case(f"lease keep-alive --once {lease('L1')} -w json"),
    Case(f"lease keep-alive --once {lease('L1')} -w fields"),
    Case(f"lease keep-alive --once {lease('L1')} -w protobuf"),
    Case(f"lease keep-alive --once {lease('L1')} -w table"),
    Case("lease keep-alive --once abcdef"), Case("lease keep-alive --once abcdef -w json"),
    Case("lease keep-alive abcdef"), Case("lease keep-alive abcdef -w json"),
    Case("lease keep-alive abcdef -w table"), Case("lease keep-alive --once=false abcdef"),
    Case("lease keep-alive"), Case("lease keep-alive zz"), Case("lease keep-alive --once"),
    Case("lease keep-alive 1 2"), Case("lease keep-alive -- -1"),
    Case(saved("lease grant 6", "ka")), Case(KEEP_ALIVE_UNTIL_REVOKED),
    Case(saved("lease grant 6", "ka")), Case(KEEP_ALIVE_UNTIL_REVOKED.replace(" | ", " -w json | ")),
    Case(f"lease revoke {lease('ka')}"),
    Case(f"lease revoke {lease('L1')}"), Case("get lk --prefix"),  # lk1, lk2 at one revision
    Case(f"lease revoke {lease('L1')}"), Case(f"lease timetolive {lease('L1')}"),
    Case(saved("lease grant 100", "r1")), Case(f"lease revoke {lease('r1')} -w json"),
    Case(saved("lease grant 100", "r2")), Case(f"lease revoke {lease('r2')} -w fields"),
    Case(saved("lease grant 100", "r3")), Case(f"lease revoke {lease('r3')} -w protobuf"),
    Case(saved("lease grant 100", "r4")), Case(f"lease revoke {lease('r4')} -w table"),
    Case(f"lease revoke {lease('r4')} -w json"), Case("lease list"),
    Case("lease revoke"), Case("lease revoke zz"), Case("lease revoke 1 2"), Case("lease revoke 0"),
    Case("lease revoke ffffffffffffffffff"), Case("lease revoke -- -1"),
    Case("lease revoke 0x12"),
    # expiry: a lease of the minimum TTL (1 s with a 500 ms election timeout) and its key
    Case(saved("lease grant 1", "exp")), Case(f"put ek v --lease={lease('exp')}"),
    Case(UNTIL_EXPIRED), Case("get ek"), Case(f"lease keep-alive --once {lease('exp')}"),
    Case(f"lease keep-alive {lease('exp')}"), Case(f"lease revoke {lease('exp')}"),
    Case(f"--endpoints={DEAD} {T1} lease grant 5"), Case(f"--endpoints={DEAD} {T1} lease revoke 1"),
    Case(f"--endpoints={DEAD} --dial-timeout=500ms lease keep-alive 1"),
    Case(f"--endpoints={DEAD},{{ep}} lease list"),
    Case("lease list", env={"ETCDCTL_WRITE_OUT": "fields"}),
    help_case("lease"), help_case("lease bogus"), help_case("lease grant --help"),
    help_case("lease keep-alive -h"), help_case("lease grant --bogus 5"),
    help_case("lease timetolive --keys=maybe 1"), help_case("help lease keep-alive"),
]


def mask(text: str) -> str:
    text = re.sub(r"\betcd(lab)?ctl\b", "CTL", text)
    text = re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} ", "<ts> ", text, flags=re.M)
    text = re.sub(r"\b[0-9a-f]{12,16}\b", "<id>", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "<addr>", text)
    # durations, but not a lease's TTL ("TTL(60s)"; a remaining one is masked by mask_ttl)
    text = re.sub(r"(?<![\d.])(?<!TTL\()(?<!remaining\()\d+(\.\d+)?(ns|µs|ms|s)\b", "<took>",
                  text)
    text = re.sub(r'"(cluster_id|member_id|ID|id|leader|lease)":\d+', r'"\1":0', text)
    text = re.sub(r'"(ClusterID|MemberID|ID|Leader|Lease)" : \d+', r'"\1" : 0', text)
    text = re.sub(r"\b(cluster_id|member_id):\d+", r"\1:0", text)  # protobuf's text form
    return text


def mask_ttl(text: str) -> str:
    """A lease's remaining TTL (timing), and its keys in sorted order (etcd's are not)."""
    text = re.sub(r"remaining\(\d+s\)", "remaining(<n>s)", text)
    text = re.sub(r'"ttl":\d+', '"ttl":<n>', text)
    text = re.sub(r'"TTL" : \d+', '"TTL" : <n>', text)
    text = re.sub(r"attached keys\(\[(.*)\]\)",
                  lambda m: "attached keys([" + " ".join(sorted(m[1].split(" "))) + "])", text)
    text = re.sub(r'"keys":\[([^]]*)\]',
                  lambda m: '"keys":[' + ",".join(sorted(m[1].split(","))) + "]", text)
    lines = text.split("\n")
    keys = sorted(line for line in lines if line.startswith('"Key" : '))
    return "\n".join(keys.pop(0) if line.startswith('"Key" : ') else line for line in lines)


def mask_status(text: str) -> str:
    """The version, db size and Raft indexes differ by design (docs/api.md)."""
    text = re.sub(r"3\.4\.\d+", "<version>", text)
    text = re.sub(r'"(dbSize|dbSizeInUse|raftIndex|raftAppliedIndex)":\d+,?', "", text)
    text = re.sub(r'"(DBSize|RaftIndex|RaftAppliedIndex)" : \d+', r'"\1" : *', text)
    out = []
    for line in text.splitlines():
        cells = line.split("|")
        if len(cells) == 12 and "ENDPOINT" not in line:  # a table row
            cells = [cells[i] if i in (0, 1, 2, 5, 6, 7, 10, 11) else "*" for i in range(12)]
            line = "|".join(cells)
        parts = line.split(", ")
        if len(parts) == 10:  # a simple row
            parts = [parts[i] if i in (0, 1, 4, 5, 6, 9) else "*" for i in range(10)]
            line = ", ".join(parts)
        out.append(re.sub(r"-+", "-", re.sub(r" +", " ", line)))
    return "\n".join(out)


def collapse(text: str) -> str:
    """Tables with ids or timings: a column's width varies with them (an id may have 15 hex
    digits or 16, a duration any number)."""
    return re.sub(r" +", " ", re.sub(r"-+", "-", text))


def unordered(text: str) -> str:
    """Lines, and the items of ETCD_INITIAL_CLUSTER, in sorted order."""
    lines = []
    for line in text.splitlines():
        if line.startswith('ETCD_INITIAL_CLUSTER="'):
            items = sorted(line[len('ETCD_INITIAL_CLUSTER="'):-1].split(","))
            line = 'ETCD_INITIAL_CLUSTER="' + ",".join(items) + '"'
        lines.append(line)
    return "\n".join(sorted(lines))


def varint(data: bytes, i: int):
    value, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def pb_fields(data: bytes) -> list:
    out, i = [], 0
    while i < len(data):
        key, i = varint(data, i)
        if key & 7 == 0:
            value, i = varint(data, i)
        elif key & 7 == 2:
            n, i = varint(data, i)
            value = data[i:i + n]
            i += n
        else:
            raise ValueError("unexpected wire type")
        out.append([key >> 3, value])
    return out


def _kv_without_lease(value):
    """A key-value (a range's kvs, a put's prev_kv, a delete's prev_kvs) with its lease id
    zeroed: lease ids differ by nature. Anything else as it is."""
    if not isinstance(value, bytes):
        return value
    try:
        return [[n, 0 if n == 6 else v] for n, v in pb_fields(value)]
    except (ValueError, IndexError):
        return value


def mask_protobuf(data: bytes) -> str:
    """The header decoded with its ids zeroed, then the rest of the message as bytes (a member
    list's members decoded, their ids zeroed and the URLs' ports masked). etcdctl 3.4 prints a
    lease response as its header alone (fields 1-4, starting with the cluster id's tag)."""
    if data[:1] == b"\x08":
        return repr([[f, 0 if f in (1, 2) else v] for f, v in pb_fields(data)])
    if data[:1] != b"\n":
        raise ValueError("no header")
    n, i = varint(data, 1)
    header = [[f, 0 if f in (1, 2) else v] for f, v in pb_fields(data[i:i + n])]
    rest = data[i + n:]
    if b"http://" not in rest and b"https://" not in rest:  # (members' URLs: https over TLS)
        return repr(header) + repr([[f, _kv_without_lease(v) if f in (2, 3) else v]
                                    for f, v in pb_fields(rest)])
    members = [[f, [[n, 0 if n == 1 else re.sub(rb":\d+", b":<port>", v) if n in (3, 4) else v]
                    for n, v in pb_fields(v)]] for f, v in pb_fields(rest)]
    return repr(header) + repr(members)


def run_all(ctl: str, endpoint: str) -> list:
    results = []
    tmp = tempfile.mkdtemp(prefix="etcdlab-cli-compat-")
    for case in CASES:
        cmd = case.cmd.replace("{ctl}", ctl).replace("{ep}", endpoint).replace("{tmp}", tmp)
        if "--endpoints" not in cmd and "ETCDCTL_ENDPOINTS" not in case.env:
            cmd = f"--endpoints={endpoint} {cmd}"
        env = ctl_environment()
        env.update({k: v.replace("{ep}", endpoint) for k, v in case.env.items()})
        env["ETCDCTL_API"] = "3"
        p = subprocess.run(["bash", "-c", f"{ctl} {cmd}"], input=case.stdin, capture_output=True,
                           env=env, timeout=60)
        stderr = "\n".join(line for line in p.stderr.decode("utf-8", "replace").splitlines()
                           if not line.startswith('{"level"'))
        stdout = p.stdout.replace(tmp.encode(), b"{tmp}")  # each side has its own folder
        stderr = stderr.replace(tmp, "{tmp}")
        if "-w protobuf" in cmd and p.returncode == 0 and stdout:
            try:
                out = mask_protobuf(stdout)
            except (ValueError, IndexError):  # not protobuf (compaction prints its line)
                out = mask(stdout.decode("utf-8", "replace"))
        else:
            out = mask(stdout.decode("utf-8", "replace"))
        err = mask(stderr)
        if case.kind == "status":
            out, err = mask_status(out), mask_status(err)
        elif case.kind == "ttl":
            out = mask_ttl(out)
        elif case.kind == "unordered":
            # members are listed by id, and a new member's id is random
            out = unordered(collapse(out))
        elif case.kind in ("health", "spaces") or "-w table" in cmd:
            # "%16x" pads an id of 15 hex digits with a space
            out, err = collapse(out), collapse(err)
        results.append((p.returncode, out if case.stdout else "", err))
    shutil.rmtree(tmp, ignore_errors=True)
    return results


@pytest.fixture(scope="module")
def outputs():
    if not (os.path.exists(ETCD) and os.path.exists(ETCDCTL)):
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            pytest.fail("etcd 3.4 is not installed (make deps installs etcd-server, etcd-client)")
        pytest.skip("etcd 3.4 is not installed")

    def side(binary, ctl):
        with LocalCluster(n=1, binary=binary) as cluster:
            cluster.wait_leader()
            return run_all(ctl, cluster.endpoint(0))

    # Both sides at once: each mostly waits on its processes (about 40 s each, one after the
    # other 80 s).
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        theirs, ours = pool.map(side, (ETCD, None), (ETCDCTL, find_binary("etcdlabctl")))
    return theirs, ours


def test_etcdlabctl_prints_what_etcdctl_prints(outputs):
    theirs, ours = outputs
    diffs = []
    for case, a, b in zip(CASES, theirs, ours):
        if a != b:
            diffs.append(f"$ {case.cmd}\n    etcdctl:    {a!r}\n    etcdlabctl: {b!r}")
    assert not diffs, f"{len(diffs)} of {len(CASES)} commands differ:\n" + "\n".join(diffs)


def ctl(cluster: LocalCluster, *args: str, stdin: Optional[bytes] = None, timeout: float = 30):
    return subprocess.run([find_binary("etcdlabctl"), f"--endpoints={cluster.endpoint(0)}", *args],
                          input=stdin, capture_output=True, timeout=timeout)


def test_count_only_is_an_extension_that_counts():
    """etcdctl 3.4 has no --count-only (3.5 does, for -w fields only); ours counts in every
    format."""
    with LocalCluster(n=1) as c:
        c.wait_leader()
        for k in ("a", "b", "c"):
            assert ctl(c, "put", k, "v").returncode == 0
        p = ctl(c, "get", "", "--prefix", "--count-only", "-w", "json")
        assert p.returncode == 0 and json.loads(p.stdout)["count"] == 3
        p = ctl(c, "get", "", "--prefix", "--count-only")
        assert (p.returncode, p.stdout) == (0, b"3\n")
        p = ctl(c, "get", "", "--prefix", "--count-only", "-w", "fields")
        assert p.returncode == 0 and b'"Count" : 3\n' in p.stdout and b'"Key"' not in p.stdout
        p = ctl(c, "get", "", "--prefix", "--count-only", "--keys-only")
        assert p.returncode == 128 and p.stderr == (
            b"Error: `--keys-only` and `--count-only` cannot be set at the same time, "
            b"choose one\n")


def test_failover_to_the_next_endpoint():
    with LocalCluster(n=1) as c:
        c.wait_leader()
        ctl_path = find_binary("etcdlabctl")
        p = subprocess.run([ctl_path, f"--endpoints={DEAD},{c.endpoint(0)}", "put", "k", "v"],
                           capture_output=True, text=True)
        assert p.returncode == 0 and p.stdout == "OK\n", p.stderr
        p = subprocess.run([ctl_path, f"--endpoints={DEAD}", "--command-timeout=300ms", "get",
                            "k"], capture_output=True, text=True)
        assert (p.returncode, p.stderr) == (1, "Error: context deadline exceeded\n")


def test_protobuf_output_encodes_the_json_response():
    """-w protobuf against -w json of the same read, field by field (independent of etcd)."""
    with LocalCluster(n=1) as c:
        c.wait_leader()
        assert ctl(c, "put", "pk", "p%dv").returncode == 0
        doc = json.loads(ctl(c, "get", "pk", "-w", "json").stdout)
        fields = pb_fields(ctl(c, "get", "pk", "-w", "protobuf").stdout)
        assert [f for f, _ in fields] == [1, 2, 4]
        header = dict(pb_fields(fields[0][1]))
        assert header[1] == doc["header"]["cluster_id"]
        assert header[2] == doc["header"]["member_id"]
        assert header[3] == doc["header"]["revision"]
        assert fields[2][1] == doc["count"] == 1
        kv = dict(pb_fields(fields[1][1]))
        assert (kv[1], kv[5], kv[4]) == (b"pk", b"p%dv", 1)


def test_command_timeout_bounds_requests_without_a_quorum():
    """The server holds a request it cannot serve for its own timeout before answering 503;
    --command-timeout ends the wait first, read or write, as etcdctl's context does."""
    with LocalCluster(n=3) as c:
        c.wait_leader()
        c.kill(1)
        c.kill(2)
        for args in (["get", "k"], ["put", "k", "v"]):
            p = ctl(c, "--command-timeout=1s", *args, timeout=4)
            assert (p.returncode, p.stdout, p.stderr) == (
                1, b"", b"Error: context deadline exceeded\n"), args


@pytest.mark.parametrize("dial_timeout,expected_s", [("500ms", 1.5), ("0s", 5.0)])
def test_keep_alive_gives_up_on_an_unreachable_lease_as_clientv3_does(dial_timeout, expected_s):
    """clientv3's firstKeepAliveTimeout: a keep-alive that never gets a first answer ends after
    the dial timeout plus one second, or after 5 s when the dial timeout is 0 (clientv3 turns
    the 1 s it would get into its default TTL). etcdctl 3.4 measured on this machine: 1.5 s and
    5.0 s, then `lease 0000000000000001 expired or revoked.` and exit 0."""
    started = time.monotonic()
    p = subprocess.run([find_binary("etcdlabctl"), f"--endpoints={DEAD}",
                        f"--dial-timeout={dial_timeout}", "lease", "keep-alive", "1"],
                       capture_output=True, text=True, timeout=20)
    took = time.monotonic() - started
    assert (p.returncode, p.stdout) == (0, "lease 0000000000000001 expired or revoked.\n"), p.stderr
    assert expected_s - 0.1 <= took <= expected_s + 1.5, f"gave up after {took:.2f} s"
