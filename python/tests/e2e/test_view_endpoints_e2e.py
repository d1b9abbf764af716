"""The live cluster view's endpoints on real members (--enable-view; docs/api.md, "The live
view"; issue 20's contract, section 6).

Rules checked: every member's /etcdlab/state agrees on the leader and the term, and numbers
the members 1..n alike; when the leader dies the others show a new leader at a higher term;
/etcdlab/events sends an event at once and another after a write, and at most
--view-max-streams are open at once (429 past it); the answers carry CORS headers and an
OPTIONS preflight allows Authorization; with auth on, state and events need a root user's
token (header or ?token=), else 401 in etcd's error shape; the page is served from the binary
at /etcdlab/view/; without the flag the paths are 404; an open stream does not delay a
shutdown; and no key's value ever appears in what the view sends. Over TLS too
(ETCDLAB_TLS=1: the members serve https and these requests use the test CA)."""

import base64
import http.client
import json
import pathlib
import socket
import time
import uuid

import pytest

from etcdlab.local import LocalCluster
from etcdlab.txn import put as put_op

STATIC = pathlib.Path(__file__).resolve().parents[2] / "etcdlab" / "view" / "static"
FAST = ["--bcrypt-cost", "4"]


# ---- HTTP on a member's client port (plain or TLS, as the cluster serves it)

def connect(cluster, i, timeout=5.0):
    host, port = cluster.endpoint(i).split(":")
    context = cluster.client().ssl_context
    if context is not None:
        return http.client.HTTPSConnection(host, int(port), timeout=timeout, context=context)
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def request(cluster, i, method, path, headers=None, body=None):
    """(status, headers as a dict with lower-case names, body bytes)."""
    conn = connect(cluster, i)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def state(cluster, i, token=None):
    status, _, body = request(cluster, i, "GET", "/etcdlab/state",
                              {"Authorization": token} if token else None)
    assert status == 200, f"member {i}: {status} {body!r}"
    return json.loads(body)


def post(cluster, i, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = token
    status, _, answer = request(cluster, i, "POST", path, headers, json.dumps(body).encode())
    assert status == 200, f"{path}: {status} {answer!r}"
    return json.loads(answer)


def b64(s):
    return base64.b64encode(s.encode()).decode()


class EventStream:
    """GET /etcdlab/events, read one event at a time (each within a deadline)."""

    def __init__(self, cluster, i, path="/etcdlab/events", headers=None):
        self.conn = connect(cluster, i, timeout=10)
        self.conn.request("GET", path, headers=headers or {})
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self.raw = b""  # everything read, to look for what must not be there

    def next(self, timeout=5.0):
        """The next event's data, parsed; None when the stream ended."""
        self.conn.sock.settimeout(timeout)
        data = []
        while True:
            line = self.resp.readline()
            self.raw += line
            if not line:
                return None
            line = line.rstrip(b"\r\n")
            if not line:
                if data:
                    return json.loads(b"\n".join(data))
                continue
            if line.startswith(b"data:"):
                data.append(line[5:].lstrip())

    def close(self):
        self.conn.close()


def wait_for(what, predicate, timeout=15.0, every=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, http.client.HTTPException, AssertionError) as e:
            last = e
        time.sleep(every)
    raise AssertionError(f"{what} not within {timeout} s (last: {last!r})")


def agreed_leader(cluster, members):
    """(leader id, term) if every one of `members` shows the same leader and term, else None."""
    states = [state(cluster, i) for i in members]
    leaders = {s["node"]["leader"] for s in states}
    terms = {s["node"]["term"] for s in states}
    if len(leaders) == 1 and None not in leaders and len(terms) == 1:
        return leaders.pop(), terms.pop()
    return None


@pytest.fixture(scope="module")
def viewed():
    with LocalCluster(n=3, enable_view=True, extra_args=["--view-max-streams", "3"]) as c:
        c.wait_leader()
        yield c


# ---- state

def test_every_member_agrees_on_the_leader_and_term_and_numbers_members_alike(viewed):
    leader, term = wait_for("an agreed leader", lambda: agreed_leader(viewed, viewed.members))
    assert leader in (1, 2, 3) and term >= 2
    # A member learns another's name when that member's publish entry applies on it: until
    # then it lists the member with name "". So the lists agree eventually, not at once.
    def lists_agree():
        states = [state(viewed, i) for i in viewed.members]
        lists = {json.dumps(s["members"], sort_keys=True) for s in states}
        published = all(m["name"] for m in states[0]["members"])
        return states if len(lists) == 1 and published else None
    states = wait_for("every member listing the members alike (all names published)", lists_agree)
    ids = sorted(s["node"]["id"] for s in states)
    assert ids == [1, 2, 3]
    assert len({s["cluster_id"] for s in states}) == 1
    for i, s in zip(viewed.members, states):
        node = s["node"]
        assert node["member_id"] == f"{viewed.member_id(i):x}"
        assert node["name"] == viewed.names[i]
        # Its number is its place in the member list, sorted by id.
        assert s["members"][node["id"] - 1]["member_id"] == node["member_id"]
        assert node["up"] is True and node["member"] is True
        assert node["voters"] == [1, 2, 3] and node["learners"] == []
        assert node["role"] == ("leader" if node["id"] == leader else "follower")
        assert node["last_index"] - node["log_from"] + 1 == len(node["log_terms"])
        assert len(node["log_terms"]) <= 64
        assert node["commit"] <= node["last_index"]
        assert isinstance(s["t_ms"], (int, float)) and s["revision"] >= 1


def test_answers_carry_cors_headers_and_a_preflight_allows_authorization(viewed):
    status, headers, _ = request(viewed, 0, "GET", "/etcdlab/state",
                                 {"Origin": "http://elsewhere.example"})
    assert status == 200
    assert headers.get("access-control-allow-origin") == "*"
    status, headers, _ = request(viewed, 0, "OPTIONS", "/etcdlab/events", {
        "Origin": "null", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert status == 200
    assert headers.get("access-control-allow-origin") == "*"
    assert "authorization" in headers.get("access-control-allow-headers", "").lower()
    assert "GET" in headers.get("access-control-allow-methods", "")


# ---- events

def test_events_come_at_once_and_after_a_write(viewed):
    stream = EventStream(viewed, 1)
    try:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers.get("access-control-allow-origin") == "*"
        t0 = time.monotonic()
        first = stream.next(timeout=2.0)
        assert first is not None and time.monotonic() - t0 < 1.0, "the first event is at once"
        assert first["node"]["id"] in (1, 2, 3)
        c = viewed.client([1])
        revision = int(c.put("view/after", "x")["header"]["revision"])
        c.close()

        def shows_the_put():
            event = stream.next(timeout=3.0)
            assert event is not None, "the stream ended"
            return any(r["kind"] == "put" and r["outcome"] == "ok" and r["revision"] == revision
                       for r in event["clients"])
        wait_for("an event with the put", shows_the_put, timeout=5.0, every=0)
    finally:
        stream.close()


def test_a_quiet_stream_still_sends_a_heartbeat_every_2_s(viewed):
    stream = EventStream(viewed, 2)
    try:
        assert stream.next(timeout=2.0) is not None
        for _ in range(2):
            t0 = time.monotonic()
            assert stream.next(timeout=3.0) is not None
            assert time.monotonic() - t0 < 2.6
    finally:
        stream.close()


def test_streams_past_the_limit_are_refused_with_429(viewed):
    streams = [EventStream(viewed, 0) for _ in range(3)]
    try:
        assert [s.status for s in streams] == [200, 200, 200]
        for s in streams:
            assert s.next(timeout=2.0) is not None
        status, _, body = request(viewed, 0, "GET", "/etcdlab/events")
        assert status == 429
        error = json.loads(body)
        assert error["code"] == 8 and "--view-max-streams" in error["error"]
        # Another member counts its own.
        other = EventStream(viewed, 1)
        assert other.status == 200
        other.close()
    finally:
        for s in streams:
            s.close()

    # Closed streams give their places back (the member notices at its next event).
    def opens():
        s = EventStream(viewed, 0)
        try:
            return s.status == 200
        finally:
            s.close()
    wait_for("a stream after the others closed", opens, timeout=10.0, every=0.5)


# ---- no values

def test_values_never_appear_in_state_or_events(viewed):
    secret = f"view-secret-{uuid.uuid4().hex}"
    stream = EventStream(viewed, 0)
    try:
        assert stream.next(timeout=2.0) is not None
        c = viewed.client()
        c.put("view/secret", secret)
        c.txn(success=[put_op("view/secret2", secret)])
        c.close()
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            stream.next(timeout=3.0)
        bodies = [request(viewed, i, "GET", "/etcdlab/state")[2] for i in viewed.members]
        for body in bodies + [stream.raw]:
            assert secret.encode() not in body
            assert b64(secret).encode()[:20] not in body
            assert b"view/secret" not in body, "not even the key"
        assert b'"put"' in stream.raw
    finally:
        stream.close()


# ---- the page

def test_the_page_is_served_from_the_binary(viewed):
    status, headers, _ = request(viewed, 0, "GET", "/etcdlab/view")
    assert status == 301 and headers["location"] == "/etcdlab/view/"
    status, headers, body = request(viewed, 0, "GET", "/etcdlab/view/nothing-here.js")
    assert status == 404
    index = STATIC / "index.html"
    assert index.exists(), f"{index} is missing: the page the binary embeds"
    status, headers, body = request(viewed, 0, "GET", "/etcdlab/view/?members=x")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert body == index.read_bytes()
    for f in sorted(STATIC.iterdir()):
        if f.is_file() and not f.name.startswith("."):
            status, _, body = request(viewed, 0, "GET", f"/etcdlab/view/{f.name}")
            assert status == 200 and body == f.read_bytes(), f.name


# ---- a leader's death (last in the module: it kills one)

def test_the_others_show_a_new_leader_at_a_higher_term_when_the_leader_dies(viewed):
    leader, term = wait_for("an agreed leader", lambda: agreed_leader(viewed, viewed.members))
    by_id = {state(viewed, i)["node"]["id"]: i for i in viewed.members}
    dead = by_id[leader]
    viewed.kill(dead)
    others = [i for i in viewed.members if i != dead]

    def new_leader():
        got = agreed_leader(viewed, others)
        return got if got and got[0] != leader and got[1] > term else None
    new, new_term = wait_for("a new leader", new_leader, timeout=15.0)
    for i in others:
        s = state(viewed, i)
        assert s["node"]["leader"] == new and s["node"]["term"] == new_term
        assert len(s["members"]) == 3, "the dead member is still a member"


def test_an_open_stream_does_not_delay_a_shutdown(viewed):
    running = [i for i in viewed.members if viewed.running(i)]
    i = running[0]
    stream = EventStream(viewed, i)
    try:
        assert stream.next(timeout=2.0) is not None
        t0 = time.monotonic()
        assert viewed.stop(i, timeout=10) == 0
        assert time.monotonic() - t0 < 3.0, "the stream held the shutdown up"
        end = None
        try:
            while True:
                end = stream.next(timeout=3.0)
                if end is None:
                    break
        except (OSError, http.client.HTTPException, socket.timeout):
            end = None  # (reset rather than ended: ended all the same)
        assert end is None
    finally:
        stream.close()


# ---- without the flag; with auth

def test_without_the_flag_the_view_paths_are_404():
    with LocalCluster(n=1) as c:
        c.wait_leader()
        for path in ("/etcdlab/state", "/etcdlab/events", "/etcdlab/view/", "/etcdlab/view"):
            status, _, _ = request(c, 0, "GET", path)
            assert status == 404, path


def test_with_auth_on_only_a_root_token_sees_the_cluster():
    with LocalCluster(n=1, enable_view=True, extra_args=FAST) as c:
        c.wait_leader()
        post(c, 0, "/v3/auth/user/add", {"name": "root", "password": "rootpw"})
        post(c, 0, "/v3/auth/role/add", {"name": "root"})
        post(c, 0, "/v3/auth/user/grant", {"user": "root", "role": "root"})
        post(c, 0, "/v3/auth/user/add", {"name": "alice", "password": "alicepw"})
        post(c, 0, "/v3/auth/enable", {})
        root = post(c, 0, "/v3/auth/authenticate", {"name": "root", "password": "rootpw"})["token"]
        alice = post(c, 0, "/v3/auth/authenticate",
                     {"name": "alice", "password": "alicepw"})["token"]

        for path in ("/etcdlab/state", "/etcdlab/events"):
            for who, headers in (("no token", {}), ("alice", {"Authorization": alice}),
                                 ("a bad token", {"Authorization": "nope.1"})):
                status, _, body = request(c, 0, "GET", path, headers)
                assert status == 401, f"{path}, {who}: {status}"
                error = json.loads(body)
                assert set(error) == {"error", "message", "code"}, error
                assert error["error"].startswith("etcdserver: ")
            status, _, body = request(c, 0, "GET", f"{path}?token={alice}")
            assert status == 401, f"{path}?token=<alice's>"

        assert state(c, 0, root)["node"]["role"] == "leader"
        stream = EventStream(c, 0, f"/etcdlab/events?token={root}")
        try:
            assert stream.status == 200
            assert stream.next(timeout=2.0)["node"]["id"] == 1
        finally:
            stream.close()
        stream = EventStream(c, 0, headers={"Authorization": root})
        try:
            assert stream.status == 200 and stream.next(timeout=2.0) is not None
        finally:
            stream.close()
        # The page holds no data: it needs no token.
        status, _, _ = request(c, 0, "GET", "/etcdlab/view/")
        assert status == (200 if (STATIC / "index.html").exists() else 404)
