"""Scripted compatibility runs shared by the compat tests: the same requests go to a real etcd
3.4 and to a single-member etcdlab, both started empty, and the answers are compared field by
field, ignoring only what differs between any two clusters and what docs/api.md documents as
ours."""

import base64
import json
import os
import shutil

import pytest

from etcdlab.client import Client
from etcdlab.local import LocalCluster

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
SYNTAX = "syntax"  # only status and code compared: Go's wording is not reproduced there

# Fields that differ between any two clusters, or that are ours by design (docs/api.md).
IGNORED = {"cluster_id", "member_id", "raft_term", "hash", "ID", "leader", "version",
           "dbSize", "dbSizeInUse", "raftIndex", "raftAppliedIndex", "raftTerm", "peerURLs",
           "clientURLs", "name"}


def b64(s) -> str:
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def normalize(value):
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items() if k not in IGNORED}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def run_script(endpoint, script):
    client = Client([endpoint], timeout=10)
    answers = []
    for step in script:
        method, path, body = step[:3]
        data = None if body is None else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        status, raw = client.raw(endpoint, method, path, data)
        try:  # (plain-text bodies are compared byte for byte, newline included)
            parsed = json.loads(raw) if raw.strip().startswith(b"{") else raw.decode()
        except ValueError:
            parsed = raw.decode(errors="replace")
        answers.append((status, parsed))
    client.close()
    return answers


def start_and_run(binary, script):
    with LocalCluster(n=1, binary=binary) as member:
        member.wait_leader()
        return run_script(member.endpoint(0), script)


def answers_of_both(script):
    """(etcd's answers, etcdlab's answers); skips (or fails under ETCDLAB_E2E_REQUIRED=1)
    without etcd."""
    if not os.path.exists(ETCD):
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            pytest.fail("etcd 3.4 is not installed (make deps installs etcd-server)")
        pytest.skip("etcd 3.4 is not installed (make deps installs etcd-server)")
    return start_and_run(ETCD, script), start_and_run(None, script)


def describe(step):
    method, path, body = step[:3]
    return f"{method} {path} {json.dumps(body) if not isinstance(body, str) else body!r}"


def mismatches(script, etcd, ours):
    """The steps whose answers differ, each described with both answers."""
    out = []
    for step, (s1, a1), (s2, a2) in zip(script, etcd, ours):
        if len(step) > 3 and step[3] == SYNTAX:
            same = s1 == s2 and isinstance(a1, dict) and isinstance(a2, dict) and \
                a1.get("code") == a2.get("code")
        else:
            same = s1 == s2 and normalize(a1) == normalize(a2)
        if not same:
            out.append(f"{describe(step)}\n    etcd:    {s1} {json.dumps(normalize(a1))}"
                       f"\n    etcdlab: {s2} {json.dumps(normalize(a2))}")
    return out
