"""The lock and election services against etcd 3.4's JSON gateway: the same scripted session
of /v3/lock and /v3/election requests (holding, queueing, releasing, proclaiming, resigning,
and every error) runs against a real etcd and a single-member etcdlab, both started empty, and
every answer must match field by field (compat_script.py's comparison). A request that must
wait (a second contender) is sent from a thread; the script checks it has not been answered
before the holder lets go, and answers once it does.

What is not compared: a key made from a lease the server picked (a lock or campaign without a
lease), whose shape is checked instead."""

import base64
import http.client
import json
import os
import socket
import threading
import time

import pytest

from compat_script import ETCD, b64, normalize
from etcdlab.client import Client
from etcdlab.local import LocalCluster
from suite_tls import http_connection

WAIT_S = 0.5  # how long a waiting request must stay unanswered before its holder lets go


def lease_keys(prefix):
    return {"key": b64(prefix), "range_end": b64(prefix[:-1] + chr(ord(prefix[-1]) + 1))}


def session(endpoint):
    """Runs the script on one server and returns its answers, in order."""
    client = Client([endpoint], timeout=10)
    answers = []

    def call(path, body):
        status, raw = client.raw(endpoint, "POST", path, json.dumps(body).encode())
        answer = (status, json.loads(raw))
        answers.append(answer)
        return answer

    def waiting_call(path, body, release):
        """Sends `body` from a thread, checks it waits, runs `release`, then collects it."""
        out = {}

        def run():
            c = Client([endpoint], timeout=10)
            status, raw = c.raw(endpoint, "POST", path, json.dumps(body).encode())
            out["answer"] = (status, json.loads(raw))
            c.close()

        t = threading.Thread(target=run)
        t.start()
        time.sleep(WAIT_S)
        answers.append(("answered before the release", "answer" in out))
        release()
        t.join(timeout=10)
        answers.append(out.get("answer", "never answered"))

    for lease in (1111, 2222, 3333):
        call("/v3/lease/grant", {"TTL": 600, "ID": lease})
    # locks
    status, held = call("/v3/lock/lock", {"name": b64("L"), "lease": 1111})
    call("/v3/lock/lock", {"name": b64("L"), "lease": 1111})  # the same session: its key
    call("/v3/kv/range", {"key": b64("L/"), "range_end": b64("L0")})
    waiting_call("/v3/lock/lock", {"name": b64("L"), "lease": 2222},
                 lambda: call("/v3/lock/unlock", {"key": held["key"]}))
    call("/v3/lock/lock", {"lease": 3333})  # an empty name: the prefix "/"
    call("/v3/lock/unlock", {"key": b64("no/such/key")})
    call("/v3/lock/unlock", {})
    call("/v3/lock/lock", {"name": b64("L"), "lease": 999999})
    call("/v3/lock/unlock", {"key": b64("L/8ae")})
    # elections
    call("/v3/election/leader", {"name": b64("E")})
    status, won = call("/v3/election/campaign", {"name": b64("E"), "lease": 1111, "value": b64("one")})
    call("/v3/election/leader", {"name": b64("E")})
    me = won["leader"]
    call("/v3/election/proclaim", {"leader": me, "value": b64("uno")})
    call("/v3/election/leader", {"name": b64("E")})
    call("/v3/election/proclaim", {"leader": dict(me, rev=str(int(me["rev"]) - 1)), "value": b64("x")})
    call("/v3/election/proclaim", {"value": b64("x")})
    call("/v3/election/campaign", {"name": b64("E"), "lease": 1111, "value": b64("again")})
    call("/v3/election/leader", {"name": b64("E")})
    waiting_call("/v3/election/campaign", {"name": b64("E"), "lease": 2222, "value": b64("two")},
                 lambda: call("/v3/election/resign", {"leader": me}))
    call("/v3/election/leader", {"name": b64("E")})
    call("/v3/election/resign", {"leader": me})  # no longer the leader: nothing to do
    call("/v3/election/resign", {})
    call("/v3/election/campaign", {"name": b64("E2"), "lease": 999999, "value": b64("v")})
    # observe: the leader when it starts (none yet here), each proclaim, a new leader after a
    # resignation; every line compared
    observed = Observer(endpoint, "O")
    status, first = call("/v3/election/campaign", {"name": b64("O"), "lease": 1111, "value": b64("a")})
    call("/v3/election/proclaim", {"leader": first["leader"], "value": b64("b")})
    waiting_call("/v3/election/campaign", {"name": b64("O"), "lease": 2222, "value": b64("c")},
                 lambda: call("/v3/election/resign", {"leader": first["leader"]}))
    answers.append(("observed", observed.lines(3)))
    call("/v3/kv/range", {"key": b64("\0"), "range_end": b64("\0")})
    # without a lease, the server makes a session of its own (its id is not compared)
    lone = call("/v3/lock/lock", {"name": b64("free")})
    answers.pop()
    client.close()
    return answers, lone


class Observer(threading.Thread):
    """Reads a /v3/election/observe stream line by line in the background."""

    def __init__(self, endpoint, name):
        super().__init__(daemon=True)
        host, port = endpoint.replace("http://", "").rsplit(":", 1)
        self.conn = http_connection(host, int(port), timeout=30)
        self.conn.request("POST", "/v3/election/observe", body=json.dumps({"name": b64(name)}))
        self.got = []
        self.start()

    def run(self):
        try:
            resp = self.conn.getresponse()
            while True:
                line = resp.readline()
                if not line:
                    return
                if line.strip():
                    self.got.append(json.loads(line))
        except (OSError, ValueError, http.client.HTTPException):
            return  # closed by lines()

    def lines(self, n, timeout=10):
        """The first n lines, each line's header revision left out: it is the store's
        revision when the line was sent, and etcd's observer re-watches after each line, so
        a later write may come first (etcd itself answers 13 or 14 for the same history)."""
        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.conn.sock is not None:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        self.join(timeout=5)
        return [{"kv": line.get("result", {}).get("kv"), "error": line.get("error")}
                for line in self.got[:n]]


def start_and_run(binary):
    with LocalCluster(n=1, binary=binary) as member:
        member.wait_leader()
        return session(member.endpoint(0))


@pytest.fixture(scope="module")
def runs():
    if not os.path.exists(ETCD):
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            pytest.fail("etcd 3.4 is not installed (make deps installs etcd-server)")
        pytest.skip("etcd 3.4 is not installed (make deps installs etcd-server)")
    return start_and_run(ETCD), start_and_run(None)


def test_every_lock_and_election_answer_matches_etcd(runs):
    (etcd, _), (ours, _) = runs
    assert len(etcd) == len(ours)
    differ = [f"step {i}:\n    etcd:    {json.dumps(normalize(list(a)), default=str)}\n"
              f"    etcdlab: {json.dumps(normalize(list(b)), default=str)}"
              for i, (a, b) in enumerate(zip(etcd, ours))
              if normalize(list(a)) != normalize(list(b))]
    assert not differ, f"{len(differ)} of {len(etcd)} answers differ:\n" + "\n".join(differ)


def test_a_waiting_contender_waited(runs):
    (etcd, _), _ = runs
    assert ("answered before the release", False) in etcd


def test_a_lock_without_a_lease_gets_a_session_of_its_own(runs):
    for _, (status, lone) in runs:
        assert status == 200
        key = base64.b64decode(lone["key"]).decode()
        assert key.startswith("free/") and int(key[5:], 16) > 0, key
