"""Auth on a 3-member cluster, and bcrypt kept off the node's thread.

Rules checked (issue 19; design §5): a token is good on every member (the Authenticate entry
registers it on each as it applies); a permission change takes effect at once on every member
(writes are decided at apply from replicated state: a revoke made through member 2 refuses the
next write through member 3); a revoked role leaves the token valid but refused; a password
change invalidates the user's tokens on every member. And: bcrypt (cost 12, ~0.3 s a hash
here) runs on a worker thread, so 20 authentications in a row neither lose the leader nor
delay the node's ticks by half an election timeout (etcdlab_node_tick_lag_seconds)."""

import base64
import json
import re
import time

from etcdlab.local import LocalCluster
from suite_tls import http_connection

FAST = ["--bcrypt-cost", "4"]


def b64(s):
    return base64.b64encode(s.encode()).decode()


def call(endpoint, path, body, token=None, timeout=10):
    host, port = endpoint.split(":")
    conn = http_connection(host, int(port), timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = token
    try:
        conn.request("POST", path, json.dumps(body).encode(), headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def ok(endpoint, path, body, token=None):
    status, answer = call(endpoint, path, body, token)
    assert status == 200, f"{path} {body}: {status} {answer}"
    return answer


def error(endpoint, path, body, token=None):
    status, answer = call(endpoint, path, body, token)
    assert status != 200, f"{path} {body} was not refused: {answer}"
    return status, answer["error"]


def setup_auth(endpoint):
    """root (root role), alice with role rw = READWRITE on prefix a/; auth on."""
    ok(endpoint, "/v3/auth/user/add", {"name": "root", "password": "rootpw"})
    ok(endpoint, "/v3/auth/role/add", {"name": "root"})
    ok(endpoint, "/v3/auth/user/grant", {"user": "root", "role": "root"})
    ok(endpoint, "/v3/auth/user/add", {"name": "alice", "password": "alicepw"})
    ok(endpoint, "/v3/auth/role/add", {"name": "rw"})
    ok(endpoint, "/v3/auth/role/grant", {"name": "rw", "perm": {
        "permType": "READWRITE", "key": b64("a/"), "range_end": b64("a0")}})
    ok(endpoint, "/v3/auth/user/grant", {"user": "alice", "role": "rw"})
    ok(endpoint, "/v3/auth/enable", {})


def token(endpoint, name, password):
    return ok(endpoint, "/v3/auth/authenticate", {"name": name, "password": password})["token"]


def until(what, check, timeout=10.0):
    """Polls `check` (True when done) until `timeout`, then fails naming `what`."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def put(endpoint, key, tok):
    return call(endpoint, "/v3/kv/put", {"key": b64(key), "value": b64("v")}, tok)


def test_tokens_and_permission_changes_hold_on_every_member():
    with LocalCluster(n=3, extra_args=FAST) as c:
        c.wait_leader()
        e = c.endpoints
        setup_auth(e[0])
        alice = token(e[0], "alice", "alicepw")
        assert re.fullmatch(r"[A-Za-z]{16}\.[0-9]+", alice), alice
        root = token(e[0], "root", "rootpw")
        # A token from member 1 works on 2 and 3, once each has applied its entry.
        for i in (1, 2):
            until(f"alice's token to work on member {i + 1}",
                  lambda i=i: put(e[i], f"a/{i}", alice)[0] == 200)
        assert error(e[2], "/v3/kv/put", {"key": b64("b"), "value": b64("v")}, alice) == \
            (403, "etcdserver: permission denied")
        # Revoke through member 2: the next write through member 3 is refused (decided at
        # apply, from the replicated state, on every member).
        ok(e[1], "/v3/auth/user/revoke", {"name": "alice", "role": "rw"}, root)
        assert put(e[2], "a/x", alice)[0] == 403
        assert put(e[0], "a/x", alice)[0] == 403
        # ...and her token is still valid (etcd 3.4: permissions are read live): grant back.
        ok(e[1], "/v3/auth/user/grant", {"user": "alice", "role": "rw"}, root)
        assert put(e[2], "a/y", alice)[0] == 200
        # A password change kills her tokens on every member.
        ok(e[2], "/v3/auth/user/changepw", {"name": "alice", "password": "new"}, root)
        for i in range(3):
            until(f"alice's old token to be refused on member {i + 1}",
                  lambda i=i: put(e[i], "a/z", alice)[0] == 401)
            assert error(e[i], "/v3/kv/range", {"key": b64("a/1")}, alice) == \
                (401, "etcdserver: invalid auth token")
        fresh = token(e[1], "alice", "new")
        until("the new token to work on member 1", lambda: put(e[0], "a/w", fresh)[0] == 200)


def tick_lag(endpoint):
    """(observations, observations over 0.256 s) of etcdlab_node_tick_lag_seconds."""
    host, port = endpoint.split(":")
    conn = http_connection(host, int(port), timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    count = re.search(r"^etcdlab_node_tick_lag_seconds_count (\S+)$", text, re.M)
    under = re.search(r'^etcdlab_node_tick_lag_seconds_bucket\{le="0.256"\} (\S+)$', text, re.M)
    assert count and under, "etcdlab_node_tick_lag_seconds is not exported"
    return float(count.group(1)), float(count.group(1)) - float(under.group(1))


def test_bcrypt_runs_off_the_node_thread():
    """20 authentications at cost 12 (a verify takes ~0.4 s here, eight heartbeats) on the
    leader: the leader never changes and no tick of any member runs more than 0.256 s late (a
    verify on the node thread would hold a tick back by the whole hash)."""
    with LocalCluster(n=3, extra_args=["--bcrypt-cost", "12"]) as c:
        leader = c.wait_leader()
        e = c.endpoint(leader)
        ok(e, "/v3/auth/user/add", {"name": "root", "password": "rootpw"})
        ok(e, "/v3/auth/role/add", {"name": "root"})
        ok(e, "/v3/auth/user/grant", {"user": "root", "role": "root"})
        ok(e, "/v3/auth/enable", {})
        before = [tick_lag(c.endpoint(i)) for i in range(3)]
        started = time.monotonic()
        for _ in range(20):
            token(e, "root", "rootpw")
            assert c.leader() == leader, "the leader changed while bcrypt ran"
        took = time.monotonic() - started
        after = [tick_lag(c.endpoint(i)) for i in range(3)]
        for i in range(3):
            assert after[i][0] > before[i][0], "no tick observed"
            assert after[i][1] == before[i][1], \
                f"member {i}: a tick ran over 0.256 s late while authenticating ({took:.1f} s)"


def test_auth_flags_are_checked_at_start(tmp_path):
    """--auth-token takes only etcd's default, "simple" (jwt is not built): anything else stops
    the member at start with a line naming the flag; --bcrypt-cost outside [4, 31] too."""
    import subprocess
    from etcdlab.local import find_binary, free_ports
    client, peer = free_ports(2)
    base = [find_binary(), "--data-dir", str(tmp_path / "d"),
            "--listen-client-urls", f"http://127.0.0.1:{client}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer}"]
    for flags, says in ((["--auth-token", "jwt,pub-key=k.pub"], "--auth-token"),
                        (["--bcrypt-cost", "3"], "--bcrypt-cost")):
        p = subprocess.run(base + flags, capture_output=True, text=True, timeout=30)
        assert p.returncode != 0, f"{flags} was accepted"
        assert says in p.stdout + p.stderr, p.stdout + p.stderr
