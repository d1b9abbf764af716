"""The lease API against etcd 3.4's JSON gateway: the same scripted requests go to a real etcd
(Debian's etcd-server) and to a single-member etcdlab, both started empty with the same flags
(heartbeat 50 ms, election 500 ms: a minimum TTL of 1 s on both), and every answer must match:
the HTTP status, the headers a client reads (Content-Type, Grpc-Metadata-Content-Type, the CORS
headers, chunked streams), and the body, line by line for the keep-alive stream.

What is ignored: what differs between any two clusters (cluster_id, member_id, raft_term), the
ids a server picks (steps marked ANY_ID), a remaining TTL (time passes: it must be within 2 s
of the granted TTL on both), the order of a lease list and of a lease's keys (etcd's is a Go
map's), and the wording of JSON syntax errors (SYNTAX: status and code only, as
test_compat_etcd.py does).

Known differences of etcdlab's gateway (server/gateway/lease_handlers.cc) are checked by strict
xfail tests (test_known_difference_*): each starts failing, on purpose, once it is fixed."""

import base64
import http.client
import json
import os
import shutil
import time

import pytest

from etcdlab.local import LocalCluster

ETCD = shutil.which("etcd") or "/usr/bin/etcd"

SYNTAX = "syntax"  # only the status and the error code are compared
ANY_ID = "any-id"  # the server picked the ID: its value is not compared
FIRST_BAD = "first-bad"  # known difference: a stream whose first object is malformed
LATER_BAD = "later-bad"  # known difference: a stream with a malformed object after a good one
KNOWN = {FIRST_BAD, LATER_BAD}
# The headers compared. Transfer-Encoding only for streams: etcd's error answers are chunked,
# etcdlab's have a Content-Length, which is the same body to any HTTP client.
HEADERS = ("Content-Type", "Grpc-Metadata-Content-Type", "Access-Control-Allow-Origin",
           "Access-Control-Allow-Methods", "Access-Control-Allow-Headers")
STREAM_HEADERS = HEADERS + ("Transfer-Encoding",)
PICKED = 2**32  # lease ids from here up were picked by the server (the script's are smaller)


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def post(path, body, *flags):
    return ("POST", path, body, set(flags))


def grant(ttl, lease_id=None, *flags):
    body = {"TTL": ttl}
    if lease_id is not None:
        body["ID"] = lease_id
    return post("/v3/lease/grant", body, *flags)


def put(key, lease=None, **extra):
    body = {"key": b64(key), "value": b64("v")}
    if lease is not None:
        body["lease"] = lease
    body.update(extra)
    return post("/v3/kv/put", body)


def lk_range():
    return post("/v3/kv/range", {"key": b64("lk"), "range_end": b64("ll")})


def keepalive(body, *flags):
    """A keep-alive stream: `body` is the raw request body (one or more JSON objects)."""
    return post("/v3/lease/keepalive", body, *flags)


def ttl(lease_id, keys=False, path="/v3/lease/timetolive"):
    body = {"ID": lease_id}
    if keys:
        body["keys"] = True
    return post(path, body)


def revoke_picked():
    """Revokes the lease the previous step's answer granted (a server-picked id, of a short
    TTL): a lease that expires during the run would make the lists depend on timing."""
    return ("REVOKE_PICKED", "/v3/lease/revoke", None, set())


def until_expired(lease_id):
    """Polls timetolive (10 s at most) until the lease has expired; its answer is the last
    poll's."""
    return ("WAIT", "/v3/lease/timetolive", {"ID": lease_id}, set())


REVOKE = post("/v3/lease/revoke", {"ID": 1000})

SCRIPT = [
    # grant: client ids (even negative ones), the minimum TTL, errors
    # (short leases are revoked at once, so that lists do not depend on timing)
    grant(60, 1000), grant(60, "1001"), grant(60, -7), grant(1, 1002), grant(0, 1003),
    grant(-5, 1004), *[post("/v3/lease/revoke", {"ID": i}) for i in (1002, 1003, 1004)],
    grant("30", "1005"), grant(60, 1000),  # lease already exists: 412
    grant(9000000001, 2000), grant(9000000000, 2001),  # too large: 400; the largest
    grant(60, None, ANY_ID), post("/v3/lease/grant", {}, ANY_ID), revoke_picked(),
    post("/v3/lease/grant", {"TTL": 10, "ID": 1006, "unknown": 1}),
    post("/v3/lease/grant", {"ttl": 10, "id": 1007}, ANY_ID),  # not the field names: TTL 0
    revoke_picked(),
    post("/v3/lease/grant", {"TTL": "abc"}), post("/v3/lease/grant", {"TTL": 1.5}, SYNTAX),
    post("/v3/lease/grant", {"TTL": True}, SYNTAX), post("/v3/lease/grant", "{bad", SYNTAX),
    post("/v3/lease/grant", "[1]", SYNTAX),
    # keys attached by puts, detached by a put without a lease, kept with ignore_lease
    put("lk1", 1000), put("lk2", "1000"), put("lk3", 1000), put("lk3"), put("lk9", 1001),
    put("lk1", ignore_lease=True), put("lk1", 1000, ignore_lease=True),  # lease is provided
    put("lk4", 999),  # requested lease not found: 404
    put("lk5", -3), lk_range(),
    # time to live: remaining, granted, keys; unknown leases are TTL -1
    ttl(1000), ttl(1000, keys=True), ttl("1000", keys=True, path="/v3/kv/lease/timetolive"),
    ttl(1001, keys=True), ttl(999), ttl(999, keys=True), ttl(0), ttl(-7),
    post("/v3/lease/timetolive", {}), post("/v3/lease/timetolive", {"ID": "zz"}),
    post("/v3/lease/timetolive", {"ID": 1000, "keys": "true"}),
    # lists
    post("/v3/lease/leases", {}), post("/v3/kv/lease/leases", {}),
    post("/v3/lease/leases", {"bogus": 1}), post("/v3/lease/leases", ""),
    post("/v3/lease/leases", "nope", SYNTAX),
    # keep-alive streams: one answer line per request object; unknown leases without TTL
    keepalive('{"ID":1000}'), keepalive('{"ID":"1000"}\n'), keepalive('{"ID":999}'),
    keepalive('{"ID":1000}\n{"ID":999}\n{"ID":-7}'), keepalive('{"ID":1000} {"ID":1001}'),
    keepalive('{"ID":1000}{"ID":1000}'), keepalive(""), keepalive('{"id":"1000"}'),
    keepalive("{}"), keepalive('{"ID":1000,"TTL":5}'),
    keepalive('{"ID":"x"}', FIRST_BAD), keepalive("[1]", FIRST_BAD),
    keepalive("{bad", FIRST_BAD), keepalive('{"ID":1000}\n{bad', LATER_BAD),
    keepalive('{"ID":1000}\n{"ID":"x"}', LATER_BAD),
    # revoke: every key of the lease at one revision; none when it has no key
    lk_range(), REVOKE, lk_range(), REVOKE, post("/v3/kv/lease/revoke", {"ID": "1001"}),
    post("/v3/kv/lease/revoke", {"ID": -7}), post("/v3/lease/revoke", {"ID": 1005}),
    post("/v3/lease/revoke", {}), post("/v3/lease/revoke", {"ID": 0}),
    post("/v3/lease/revoke", {"ID": "zz"}), post("/v3/lease/revoke", {"ID": 1006, "x": [1]}),
    lk_range(), ttl(1000), keepalive('{"ID":1000}'), post("/v3/lease/leases", {}),
    # expiry: a lease of the minimum TTL and its keys go; a keep-alive then finds nothing
    grant(1, 3000), put("ek", 3000), put("ek2", 3000), until_expired(3000),
    post("/v3/kv/range", {"key": b64("ek"), "range_end": b64("el")}), ttl(3000),
    keepalive('{"ID":3000}'), post("/v3/lease/revoke", {"ID": 3000}), put("ek", 3000),
    # methods and paths
    ("GET", "/v3/lease/grant", None, set()), ("GET", "/v3/lease/keepalive", None, set()),
    ("PUT", "/v3/lease/leases", "{}", set()), post("/v3/lease/bogus", {}),
    post("/v3beta/lease/leases", {}), post("/v3alpha/lease/leases", {}),
    post("/v3/kv/range", {"key": b64("\0"), "range_end": b64("\0")}),  # the end state
]


def exchange(endpoint: str, method: str, path: str, body) -> tuple:
    """One request on a fresh connection: (status, {header: value}, raw body)."""
    host, port = endpoint.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        data = None if body is None else (body if isinstance(body, str) else json.dumps(body))
        conn.request(method, path, body=None if data is None else data.encode(),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        headers = {h: resp.getheader(h) for h in STREAM_HEADERS if
                   h in HEADERS or path == "/v3/lease/keepalive"}
        return resp.status, headers, resp.read()
    finally:
        conn.close()


def parse(raw: bytes):
    """One JSON object, or a list of them for a stream (each line ends with a newline); the
    text itself otherwise."""
    text = raw.decode("utf-8", "replace")
    try:
        if text.endswith("\n") or not text:
            return [json.loads(line) for line in text.split("\n") if line.strip()]
        return json.loads(text)
    except ValueError:
        return text


def run(endpoint: str) -> list:
    answers = []
    for method, path, body, _ in SCRIPT:
        if method == "REVOKE_PICKED":
            method, body = "POST", {"ID": answers[-1][2]["ID"]}
        if method == "WAIT":
            method, deadline = "POST", time.monotonic() + 10
            while json.loads(exchange(endpoint, method, path, body)[2]).get("TTL") != "-1" and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
        status, headers, raw = exchange(endpoint, method, path, body)
        answers.append((status, headers, parse(raw)))
    return answers


def normalize(value, any_id=False):
    """Drops what differs between clusters; makes a remaining TTL, a list's order and the
    keys' order comparable."""
    if isinstance(value, list):
        return [normalize(v, any_id) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if k in ("cluster_id", "member_id", "raft_term") or (k == "ID" and any_id):
            continue
        out[k] = normalize(v, any_id)
    if "grantedTTL" in out and "TTL" in out:  # a remaining TTL: within 2 s of the granted one
        remaining, granted = int(out["TTL"]), int(out["grantedTTL"])
        out["TTL"] = "remaining" if 0 <= granted - remaining <= 2 else out["TTL"]
    if isinstance(out.get("keys"), list):
        out["keys"] = sorted(out["keys"])
    if isinstance(out.get("leases"), list):
        ids = [int(lease.get("ID", 0)) for lease in out["leases"]]
        out["leases"] = sorted(ids) if all(i < PICKED for i in ids) else \
            sorted(i for i in ids if i < PICKED) + ["picked"] * sum(i >= PICKED for i in ids)
    return out


def same(step, a, b, with_headers=True) -> bool:
    flags = step[3]
    (s1, h1, b1), (s2, h2, b2) = a, b
    if SYNTAX in flags:
        return s1 == s2 and isinstance(b1, dict) and isinstance(b2, dict) and \
            b1.get("code") == b2.get("code")
    any_id = ANY_ID in flags
    return s1 == s2 and normalize(b1, any_id) == normalize(b2, any_id) and \
        (not with_headers or h1 == h2)


def describe(step) -> str:
    method, path, body, _ = step
    return f"{method} {path} {body if isinstance(body, str) else json.dumps(body)}"


def differences(answers, steps, with_headers=True) -> list:
    etcd, ours = answers
    out = []
    for i, step in steps:
        if not same(step, etcd[i], ours[i], with_headers):
            out.append(f"{describe(step)}\n    etcd:    {etcd[i]}\n    etcdlab: {ours[i]}")
    return out


def is_stream(step) -> bool:
    return step[1] == "/v3/lease/keepalive"


@pytest.fixture(scope="module")
def answers():
    if not os.path.exists(ETCD):
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            pytest.fail("etcd 3.4 is not installed (make deps installs etcd-server)")
        pytest.skip("etcd 3.4 is not installed (make deps installs etcd-server)")
    result = []
    for binary in (ETCD, None):
        with LocalCluster(n=1, binary=binary) as member:
            member.wait_leader()
            result.append(run(member.endpoint(0)))
    return result


def test_every_lease_response_matches_etcd(answers):
    """Status and body of every step; the headers of every unary answer (a stream's: see
    test_known_differences)."""
    steps = [(i, s) for i, s in enumerate(SCRIPT) if not KNOWN & s[3]]
    diffs = differences(answers, [(i, s) for i, s in steps if not is_stream(s)])
    diffs += differences(answers, [(i, s) for i, s in steps if is_stream(s)], with_headers=False)
    assert not diffs, f"{len(diffs)} of {len(steps)} responses differ from etcd 3.4's:\n" + \
        "\n".join(diffs)


def test_the_script_covers_success_errors_and_streams(answers):
    etcd, _ = answers
    assert {200, 400, 404, 405, 412} <= {status for status, _, _ in etcd}
    streams = [body for (_, _, body), step in zip(etcd, SCRIPT) if is_stream(step)]
    assert any(isinstance(b, list) and len(b) == 3 for b in streams), "a 3-answer stream"
    assert any(isinstance(b, list) and b and "TTL" not in b[0]["result"]
               for b in streams), "a keep-alive of an unknown lease"


def test_revoke_deletes_every_key_at_one_revision(answers):
    """etcd's rule, seen on both: a revoke's keys go at ONE new revision; the key a put moved
    off the lease (lk3) and the other lease's key (lk9) stay."""
    first = SCRIPT.index(REVOKE)
    for run_answers in answers:
        before = run_answers[first - 1][2]
        after = run_answers[first + 1][2]
        assert int(run_answers[first][2]["header"]["revision"]) == \
            int(before["header"]["revision"]) + 1
        keys = [base64.b64decode(kv["key"]) for kv in after["kvs"]]
        assert keys == [b"lk3", b"lk9"], keys


# etcdlab's gateway differs from etcd 3.4's here, each checked by a strict xfail test that
# fails, on purpose, once the difference is fixed (server/gateway/lease_handlers.cc).
KNOWN_REASON = "a known difference of etcdlab's keep-alive stream"


@pytest.mark.xfail(strict=True, reason=KNOWN_REASON)
def test_known_difference_stream_headers(answers):
    """etcdlab's keep-alive stream has no CORS headers (its unary answers have them)."""
    streams = [(i, s) for i, s in enumerate(SCRIPT) if is_stream(s) and not KNOWN & s[3]]
    diffs = differences(answers, streams)
    assert not diffs, "\n".join(diffs)


@pytest.mark.xfail(strict=True, reason=KNOWN_REASON)
def test_known_difference_malformed_first_object(answers):
    """etcd's handler fails before its stream starts: 500 {"error", "message", "code": 2};
    etcdlab answers 200 and an error line."""
    diffs = differences(answers, [(i, s) for i, s in enumerate(SCRIPT) if FIRST_BAD in s[3]],
                        with_headers=False)
    assert not diffs, "\n".join(diffs)


@pytest.mark.xfail(strict=True, reason=KNOWN_REASON)
def test_known_difference_malformed_later_object(answers):
    """etcd ends the stream quietly after the answers so far; etcdlab adds an error line."""
    diffs = differences(answers, [(i, s) for i, s in enumerate(SCRIPT) if LATER_BAD in s[3]],
                        with_headers=False)
    assert not diffs, "\n".join(diffs)
