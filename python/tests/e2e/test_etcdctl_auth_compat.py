"""Auth through etcd's gRPC door: the real etcdctl 3.4 runs the command lines it was captured
running against etcd 3.4.23 with auth on (data/etcd-3.4.23-auth-etcdctl.jsonl: 185 steps —
enable, users and roles, a KV matrix per user, watch, leases, cluster and maintenance, lock and
election, user/role admin, disable) against a real etcd and against etcdlab in the same run,
both started empty with --bcrypt-cost 4. The exit code, the `Error:` lines and stdout must
match once what differs between any two runs is masked (lease and member ids, endpoints, the
snapshot path, a lease's remaining TTL); the commands whose stdout carries what differs by design (endpoint status:
version, sizes, indexes; member list/add: ids, URLs; hashkv) are compared by exit code and
errors only.

etcdctl authenticates with --user over gRPC (Auth.Authenticate), then sends its token in the
`token` metadata of every call: this is what the gRPC door's credentials and Auth service are
checked by. Commands that do not end (a permitted watch, a won election) must still be running
after 2 s on both."""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from etcdlab.local import LocalCluster

ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
DATA = os.path.join(os.path.dirname(__file__), "data", "etcd-3.4.23-auth-etcdctl.jsonl")
FLAGS = ["--bcrypt-cost", "4"]
STILL_RUNNING = "still running"
# Commands whose stdout differs by design or by run: compared by exit code and errors only.
UNCOMPARED_STDOUT = (("endpoint", "status"), ("endpoint", "hashkv"), ("member", "list"),
                     ("member", "add"), ("snapshot", "save"), ("lease", "list"))


def steps():
    with open(DATA) as f:
        return [s for s in map(json.loads, f) if "argv" in s]


def words(argv):
    return [a for a in argv[1:] if not a.startswith("--user") and not a.startswith("--password")]


def mask(text):
    text = re.sub(r"\b[0-9a-f]{16}\b", "<id>", text)  # lease and member ids in hex
    text = re.sub(r'"(cluster_id|member_id|raft_term)":[0-9]+', r'"\1":<id>', text)  # -w json
    text = re.sub(r"127\.0\.0\.1:[0-9]+", "<endpoint>", text)
    # A remaining TTL depends on when the command ran (and etcdlab counts it in ticks: within
    # the first second it says the full TTL, etcd one less; test_cli_compat.py masks it too).
    text = re.sub(r"remaining\([0-9]+s\)", "remaining(<ttl>)", text)
    return re.sub(r"/tmp/\S+?/", "<tmp>/", text)


class Run:
    def __init__(self, endpoint, tmp):
        self.endpoint, self.tmp = endpoint, tmp
        self.lease = None  # the last lease root granted (the capture's <lease>)

    def run(self, step):
        argv = [ETCDCTL, f"--endpoints={self.endpoint}"]
        for a in step["argv"][1:]:
            a = a.replace("<lease>", self.lease or "<lease>")
            a = re.sub(r"/tmp/etcd-auth-ctl-[^/]+/", self.tmp + "/", a)
            argv.append(a)
        try:
            p = subprocess.run(argv, input=step.get("stdin", "").encode(), capture_output=True,
                               timeout=2, env=dict(os.environ, ETCDCTL_API="3"))
        except subprocess.TimeoutExpired:
            return STILL_RUNNING, "", []
        out, err = p.stdout.decode(), p.stderr.decode()
        m = re.match(r"lease ([0-9a-f]+) granted", out)
        if m and "--user=root" in " ".join(argv):
            self.lease = m.group(1)
        return p.returncode, out, [ln for ln in err.splitlines() if ln.startswith("Error:")]


@pytest.fixture(scope="module")
def servers():
    if not os.path.exists(ETCD) or not os.path.exists(ETCDCTL):
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            pytest.fail("etcd 3.4 and etcdctl are not installed (make deps installs them)")
        pytest.skip("etcd 3.4 and etcdctl are not installed")
    # (Over TLS without --client-cert-auth: token auth is compared; with it, etcd 3.4's gateway
    # calls its own gRPC server as its member certificate's CN. docs/tls.md.)
    with LocalCluster(n=1, binary=ETCD, extra_args=FLAGS, client_cert_auth=False) as etcd, \
            LocalCluster(n=1, extra_args=FLAGS, client_cert_auth=False) as ours, \
            tempfile.TemporaryDirectory() as t1, tempfile.TemporaryDirectory() as t2:
        etcd.wait_leader()
        ours.wait_leader()
        yield Run(etcd.endpoint(0), t1), Run(ours.endpoint(0), t2)


def test_etcdctl_with_auth_answers_from_etcdlab_as_from_etcd(servers):
    theirs, mine = servers
    mismatches = []
    pool = concurrent.futures.ThreadPoolExecutor(2)  # each step on both servers at once
    for step in steps():
        both = [pool.submit(run.run, step) for run in (theirs, mine)]
        (rc1, out1, err1), (rc2, out2, err2) = both[0].result(), both[1].result()
        w = words(step["argv"])
        if tuple(w[:2]) in UNCOMPARED_STDOUT:
            out1 = out2 = ""
        if rc1 == STILL_RUNNING:
            out1 = out2 = ""  # (what it printed before the timeout cut it)
        if (rc1, mask(out1), err1) != (rc2, mask(out2), err2):
            mismatches.append(f"step {step['n']} ({step['step']}): {' '.join(step['argv'])}\n"
                              f"    etcd:    rc={rc1} {mask(out1)!r} {err1}\n"
                              f"    etcdlab: rc={rc2} {mask(out2)!r} {err2}")
    pool.shutdown()
    assert not mismatches, f"{len(mismatches)} etcdctl runs differ:\n" + "\n".join(mismatches)
