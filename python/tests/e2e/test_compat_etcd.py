"""Compatibility with etcd 3.4: the same scripted requests go to a real etcd (Debian's
etcd-server, on loopback) and to a single-member etcdlab, and every response must match field
by field: the HTTP status and the JSON body, ignoring only what differs between any two
clusters (cluster_id, member_id, raft_term) and what is documented as ours in docs/api.md
(the hash value, the server version, the wording of JSON syntax errors).

Both start empty, so revisions must agree exactly. The script covers puts (prev_kv,
ignore_value, ignore_lease, leases), ranges with every option, deletes, compaction, historical
reads and the error cases."""

import pytest

from compat_script import SYNTAX, answers_of_both, b64, mismatches


def put(key, value="", **extra):
    body = {"key": b64(key)}
    if value:
        body["value"] = b64(value)
    body.update(extra)
    return ("POST", "/v3/kv/put", body)


def rng(key, range_end=None, **extra):
    body = {"key": b64(key)}
    if range_end is not None:
        body["range_end"] = b64(range_end)
    body.update(extra)
    return ("POST", "/v3/kv/range", body)


def delete(key, range_end=None, **extra):
    body = {"key": b64(key)}
    if range_end is not None:
        body["range_end"] = b64(range_end)
    body.update(extra)
    return ("POST", "/v3/kv/deleterange", body)


SCRIPT = [
    # puts and the revisions they take
    put("foo", "bar"),
    put("foo", "baz", prev_kv=True),
    put("new", "x", prev_kv=True),  # no prev_kv field: there was none
    put("a", "1"), put("b", "2"), put("c", "3"), put("ab", "4"), put("b", "22"),
    put("\xff", "top"), put("d", "ddd"), put("e", ""),  # an empty value is omitted
    put("foo", ignore_value=True, prev_kv=True),  # keeps baz, a new revision
    put("foo", ignore_lease=True, value="qux"),
    put("missing", ignore_value=True),  # key not found
    put("foo", "v", ignore_value=True),  # value is provided
    put("foo", "v", lease="7"),  # lease not found (404)
    put("", "v"),  # key is not provided
    # ranges: single key, absent key, prefix, [key, end), from-key, everything
    rng("foo"), rng("nope"), rng("a", "b"), rng("a", "c"), rng("b", "\x00"), rng("\x00", "\x00"),
    rng("c", "a"),  # an empty interval
    rng("\x00", "\x00", limit="2"), rng("\x00", "\x00", limit=3),
    rng("\x00", "\x00", keys_only=True), rng("\x00", "\x00", count_only=True),
    rng("\x00", "\x00", count_only=True, limit="1"),
    rng("\x00", "\x00", serializable=True),
    *[rng("\x00", "\x00", sort_order=o, sort_target=t, limit="4")
      for o in ("NONE", "ASCEND", "DESCEND") for t in ("KEY", "VERSION", "CREATE", "MOD", "VALUE")],
    rng("\x00", "\x00", sort_order=2, sort_target=3),  # enums as numbers
    rng("\x00", "\x00", min_mod_revision="5"), rng("\x00", "\x00", max_mod_revision="6"),
    rng("\x00", "\x00", min_create_revision="6", max_create_revision="9"),
    rng("\x00", "\x00", min_mod_revision="5", limit="1"),
    # history: reads at old revisions, then compaction
    rng("foo", revision="2"), rng("foo", revision="3"), rng("b", revision="6"),
    rng("\x00", "\x00", revision="4"), rng("foo", revision="1000"), rng("foo", revision="-1"),
    ("POST", "/v3/kv/compaction", {"revision": "4"}),
    rng("foo", revision="3"), rng("foo", revision="4"), rng("\x00", "\x00", revision="4"),
    ("POST", "/v3/kv/compaction", {"revision": "4"}),  # already compacted
    ("POST", "/v3/kv/compaction", {"revision": "1000"}),  # a future revision
    ("POST", "/v3/kv/compaction", {"revision": "6", "physical": True}),
    # deletes
    delete("nope"), delete("a", prev_kv=True), delete("a", "b", prev_kv=True),
    delete("b", "\x00"), rng("\x00", "\x00"), delete("\x00", "\x00", prev_kv=True),
    rng("\x00", "\x00"), delete(""),
    # after the deletes a key starts a new generation
    put("foo", "again"), rng("foo"),
    # bad input: each answered with etcd's error, nothing changed
    ("POST", "/v3/kv/put", "{bad json", SYNTAX),
    ("POST", "/v3/kv/put", "", SYNTAX),
    ("POST", "/v3/kv/put", {"key": "!!!notb64"}),
    ("POST", "/v3/kv/put", {"key": 5}),
    ("POST", "/v3/kv/put", {"key": b64("k"), "value": ["x"]}),
    ("POST", "/v3/kv/range", {"key": b64("a"), "limit": "abc"}),
    ("POST", "/v3/kv/range", {"key": b64("a"), "limit": True}),
    ("POST", "/v3/kv/range", {"key": b64("a"), "serializable": "true"}),
    ("POST", "/v3/kv/range", {"key": b64("a"), "sort_order": "BOGUS"}),
    ("POST", "/v3/kv/range", {"key": b64("a"), "sort_target": "NOPE"}),
    ("POST", "/v3/kv/compaction", {"revision": "x"}),
    # Go quotes the literal ("2.0"); etcdlab the parsed value ("2"): same status and code.
    ("POST", "/v3/kv/range", {"key": b64("a"), "limit": 2.0}, SYNTAX),
    ("POST", "/v3/kv/range", {"key": b64("a"), "limit": 1.5}),
    ("POST", "/v3/kv/range", {"key": b64("a"), "limit": 9223372036854775808}),
    ("POST", "/v3/kv/range", {"key": b64("a"), "limit": " 2"}),
    ("POST", "/v3/kv/range", {"key": b64("a"), "limit": "02"}),
    ("POST", "/v3/kv/range", {"key": b64("a"), "limit": "null"}),
    ("POST", "/v3/kv/range", {"key": b64("a"), "limit": "12abc"}),
    ("POST", "/v3/kv/range", {"key": b64("a"), "limit": ""}),
    ("POST", "/v3/kv/put", {"key": b64("k"), "value": [104, 105]}),
    ("POST", "/v3/kv/put", {"key": b64("k"), "value": [300]}),
    ("POST", "/v3/kv/range", {"key": b64("zz"), "rangeEnd": b64("zzz"), "range_end": ""}),
    ("POST", "/v3/kv/put", "[1, 2]"),
    ("POST", "/v3/kv/put", {"key": b64("u"), "value": b64("v"), "unknown_field": 1}),
    ("POST", "/v3/kv/range", {}),
    ("GET", "/v3/kv/range", None),
    ("POST", "/v3/kv/nonsense", {}),
    ("GET", "/health", None),
    ("POST", "/v3/maintenance/status", {}),
    ("POST", "/v3/maintenance/hash", {}),
    ("POST", "/v3/cluster/member/list", {}),
    rng("\x00", "\x00"),  # the end state
]

@pytest.fixture(scope="module")
def answers():
    return answers_of_both(SCRIPT)


def test_every_response_matches_etcd(answers):
    differ = mismatches(SCRIPT, *answers)
    assert not differ, (f"{len(differ)} of {len(SCRIPT)} responses differ from etcd 3.4's:\n"
                        + "\n".join(differ))


def test_the_script_exercised_both_success_and_errors(answers):
    etcd, _ = answers
    statuses = {status for status, _ in etcd}
    assert {200, 400, 404, 405} <= statuses, f"the script should cover errors too: {statuses}"
