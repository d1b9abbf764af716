"""Transactions against etcd 3.4's JSON gateway: the same scripted /v3/kv/txn requests (every
compare target and operator, ranges of keys, nested txns, the read-only path, the sub-response
shapes, and every validation and execution error) go to a real etcd and to a single-member
etcdlab, both started empty, and every answer must match field by field (compat_script.py)."""

import pytest

from compat_script import SYNTAX, answers_of_both, b64, mismatches

TARGETS = {"VERSION": "version", "CREATE": "create_revision", "MOD": "mod_revision",
           "VALUE": "value", "LEASE": "lease"}


def cmp(key, target, result, operand, range_end=None, field=None):
    body = {"key": b64(key), "target": target, "result": result}
    name = field or TARGETS[target]
    body[name] = b64(operand) if name == "value" else operand
    if range_end is not None:
        body["range_end"] = b64(range_end)
    return body


def put(key, value="v", **extra):
    return {"request_put": {"key": b64(key), "value": b64(value), **extra}}


def get(key, range_end=None, **extra):
    body = {"key": b64(key), **extra}
    if range_end is not None:
        body["range_end"] = b64(range_end)
    return {"request_range": body}


def delete(key, range_end=None, **extra):
    body = {"key": b64(key), **extra}
    if range_end is not None:
        body["range_end"] = b64(range_end)
    return {"request_delete_range": body}


def nested(compare=(), success=(), failure=()):
    return {"request_txn": {"compare": list(compare), "success": list(success),
                            "failure": list(failure)}}


def txn(compare=(), success=(), failure=(), *flags):
    body = {}
    if compare:
        body["compare"] = list(compare)
    if success:
        body["success"] = list(success)
    if failure:
        body["failure"] = list(failure)
    return ("POST", "/v3/kv/txn", body, *flags)


def plain(path, body):
    return ("POST", path, body)


ZERO = "\x00"

SCRIPT = [
    # a store to compare against: foo (version 2), bar, and keys k1..k3
    plain("/v3/kv/put", {"key": b64("foo"), "value": b64("bar")}),              # 2
    plain("/v3/kv/put", {"key": b64("foo"), "value": b64("bar2")}),             # 3
    plain("/v3/kv/put", {"key": b64("k1"), "value": b64("a")}),                 # 4
    plain("/v3/kv/put", {"key": b64("k2"), "value": b64("b")}),                 # 5
    plain("/v3/kv/put", {"key": b64("k3"), "value": b64("c")}),                 # 6
    plain("/v3/lease/grant", {"TTL": 600, "ID": 4242}),
    plain("/v3/kv/put", {"key": b64("leased"), "value": b64("l"), "lease": 4242}),  # 7
    # every target and operator
    *[txn([cmp("foo", "VERSION", r, 2)], [get("foo")], [get("k1")])
      for r in ("EQUAL", "GREATER", "LESS", "NOT_EQUAL")],
    *[txn([cmp("foo", "CREATE", r, 2)]) for r in ("EQUAL", "GREATER", "LESS", "NOT_EQUAL")],
    *[txn([cmp("foo", "MOD", r, 2)]) for r in ("EQUAL", "GREATER", "LESS", "NOT_EQUAL")],
    *[txn([cmp("foo", "VALUE", r, "bar")]) for r in ("EQUAL", "GREATER", "LESS", "NOT_EQUAL")],
    *[txn([cmp("leased", "LEASE", r, 4242)]) for r in ("EQUAL", "GREATER", "LESS", "NOT_EQUAL")],
    txn([cmp("foo", "VALUE", "EQUAL", "bar2"), cmp("k1", "VALUE", "EQUAL", "a")], [get("k1", "k4")]),
    # missing keys: zeros, but a value compare is always false
    txn([cmp("nokey", "CREATE", "EQUAL", 0)], [put("nokey", "created")], [get("nokey")]),  # 8
    txn([cmp("missing", "VALUE", "EQUAL", "")], [get("foo")]),
    txn([cmp("missing", "VALUE", "NOT_EQUAL", "x")], [get("foo")]),
    txn([cmp("missing", "VERSION", "LESS", 1)]),
    # ranges of keys: every key must satisfy it; an empty range is one missing key
    txn([cmp("k1", "VERSION", "EQUAL", 1, range_end="k4")], [get("k1", "k4", count_only=True)]),
    txn([cmp("k1", "MOD", "GREATER", 4, range_end="k4")]),
    txn([cmp("k", "VALUE", "GREATER", "", range_end=ZERO)]),
    txn([cmp("x", "VERSION", "EQUAL", 0, range_end="y")]),
    txn([cmp("x", "VALUE", "EQUAL", "", range_end="y")]),
    # the operand is a oneof: a field of another target compares as 0
    txn([cmp("foo", "VERSION", "EQUAL", 2, field="mod_revision")]),
    # (Two operands in one compare are left out: etcd 3.4's jsonpb keeps one picked in Go's
    # random map order, so the same request answers differently from one call to the next;
    # etcdlab keeps the one of the highest field number: docs/api.md.)
    txn([cmp("foo", "LEASE", "EQUAL", 0, field="version")]),
    txn([{"key": b64("foo"), "target": "MOD", "result": "GREATER"}]),  # no operand at all
    # one revision for the whole txn, later ops see earlier ones, sub-response headers
    txn([], [get("foo"), put("foo", "new", prev_kv=True), get("foo"), delete("k3", prev_kv=True),
             get("k1", "k4"), delete("none")]),                                     # 9
    txn([], [get("foo"), delete("none")]),  # read-only: no revision
    txn([], [delete("none")]),  # writes nothing: no revision either
    txn([], [put("p1", "1"), put("p2", "2"), put("p3", "3")]),                      # 10
    txn([], [get("p", "q", sort_order="DESCEND", sort_target="MOD", limit=2, keys_only=True)]),
    # nested txns: their compares see the store before the txn; empty headers
    txn([], [put("n", "x"), nested([cmp("n", "CREATE", "GREATER", 0)], [put("m", "seen")],
                                   [put("m", "unseen")])]),                         # 11
    txn([cmp("foo", "VALUE", "EQUAL", "new")],
        [nested([cmp("m", "VALUE", "EQUAL", "unseen")], [get("m"), nested([], [get("n")])])],
        [put("never", "1")]),
    txn([], [nested()]),
    # leases: only the branch that runs is checked
    txn([], [put("lk", "1", lease=4242)]),                                          # 12
    txn([], [put("lk2", "1", lease=999)]),
    txn([], [get("foo")], [put("lk2", "1", lease=999)]),
    txn([], [put("leased", ignore_lease=True), get("leased")]),                     # 13
    # ignore_value needs the key before the txn
    txn([], [put("ghost", ignore_value=True)]),
    txn([], [put("foo", ignore_value=True, prev_kv=True)]),                         # 14
    # validation: the longest list over 128, not the sum
    txn([], [put(f"many{i}") for i in range(129)]),
    txn([cmp(f"c{i}", "VERSION", "EQUAL", 0) for i in range(100)],
        [put(f"sum{i}") for i in range(100)]),                                      # 15
    txn([], [get(f"g{i}") for i in range(99)] + [nested([], [get(f"h{i}") for i in range(29)])]),
    txn([], [get(f"g{i}") for i in range(99)] + [nested([], [get(f"h{i}") for i in range(28)])]),
    # duplicate keys, nested ones included; what etcd allows
    txn([], [put("d"), put("d")]),
    txn([], [delete("a", "z"), put("d")]),
    txn([], [put("d"), nested([], [delete("a", "z")])]),
    txn([], [nested([], [put("d")]), put("d")]),
    txn([], [nested([], [], [put("d")]), nested([], [put("d")])]),
    txn([], [nested([], [put("d1")], [put("d1")])]),                               # 16
    txn([], [delete("a", ZERO), put("b1")]),  # a delete to the end: etcd's tree misses it  # 17
    txn([], [put("d2")], [put("d2")]),                                             # 18
    txn([], [get("d"), get("d"), delete("a", "b"), delete("a", "c")]),
    # empty operations and missing keys
    txn([], [{}]),
    txn([], [], [{}]),
    txn([{"target": "VERSION"}]),
    txn([], [{"request_put": {"value": b64("v")}}]),
    txn([], [nested([], [], [get("")])]),
    txn([], [put("iv", "x", ignore_value=True)]),
    txn([], [put("il", lease=5, ignore_lease=True)]),
    # revisions in ranges: future, compacted, and etcd's negative-revision quirk
    txn([], [get("foo", revision=100)]),
    txn([], [get("foo")], [get("foo", revision=100)]),
    txn([], [get("foo", revision=-1)]),
    plain("/v3/kv/compaction", {"revision": 5}),
    txn([], [get("foo", revision=4)]),
    txn([], [get("foo", revision=5)]),
    txn([], [get("foo", revision=-1)]),
    txn([], [put("after"), get("foo", revision=3)]),
    # serializable reads, lowerCamel names, enums by number
    txn([], [get("foo", serializable=True)]),
    ("POST", "/v3/kv/txn", {"compare": [{"key": b64("foo"), "target": 2, "result": 1,
                                         "modRevision": 1}],
                            "success": [{"requestRange": {"key": b64("k1"), "rangeEnd": b64("k9"),
                                                          "countOnly": True}}]}),
    ("POST", "/v3/kv/txn", {"success": [{"requestDeleteRange": {"key": b64("p1"), "prevKv": True}}]}),
    # syntax errors
    ("POST", "/v3/kv/txn", {"compare": [{"key": b64("foo"), "target": "NOPE"}]}, SYNTAX),
    ("POST", "/v3/kv/txn", {"success": [{"request_put": {"key": "not base64!"}}]}, SYNTAX),
    ("POST", "/v3/kv/txn", "{not json", SYNTAX),
    plain("/v3/kv/range", {"key": b64(ZERO), "range_end": b64(ZERO)}),  # the end state
]


@pytest.fixture(scope="module")
def answers():
    return answers_of_both(SCRIPT)


def test_every_txn_answer_matches_etcd(answers):
    differ = mismatches(SCRIPT, *answers)
    assert not differ, (f"{len(differ)} of {len(SCRIPT)} answers differ from etcd 3.4's:\n"
                        + "\n".join(differ))


def test_the_script_covers_success_failure_and_errors(answers):
    etcd, _ = answers
    txns = [a for step, (_, a) in zip(SCRIPT, etcd) if step[1] == "/v3/kv/txn"]
    assert len(txns) >= 40
    assert any(a.get("succeeded") for a in txns)
    assert any("header" in a and not a.get("succeeded") for a in txns)
    assert {a.get("error") for a in txns} >= {
        "etcdserver: too many operations in txn request",
        "etcdserver: duplicate key given in txn request", "etcdserver: key not found",
        "etcdserver: requested lease not found",
        "etcdserver: mvcc: required revision has been compacted",
        "etcdserver: mvcc: required revision is a future revision"}
