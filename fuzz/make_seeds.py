#!/usr/bin/python3
"""Writes the seed corpora (fuzz/corpus/<target>/): a few small inputs per target that reach
past the first checks, so a fuzzing run starts from real shapes. Run it again after a format
changes; the files are small and kept in the repository (make check replays them)."""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def blob(b):
    return varint(len(b)) + b


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def length_prefixed(b):  # FuzzInput.take(): a 2-byte length, then the bytes
    return struct.pack("<H", len(b)) + b


# wal_record: byte 0 even = framed records: (type, take(payload), gap byte)...
write("wal_record", "entries", b"\x00" + b"".join(
    bytes([2]) + length_prefixed(varint(1) + varint(i) + varint(1) + varint(0) + blob(b"x")) + b"\x00"
    for i in range(1, 4)))
write("wal_record", "raw_header", b"\x01" + bytes(12) + b"\x05\x00\x00\x00\x02")
write("wal_record", "hard_state", b"\x00\x03" + length_prefixed(varint(1) * 4) + b"\x00")

# wal_segment: segments, first index, header bytes, record count, records...
write("wal_segment", "one_segment", bytes([0, 0, 0, 4]) + bytes([0, 0, 0, 1, 5, 0, 0, 0, 2, 0]) +
      bytes([1, 3, 1, 5]) + bytes([2, 2, 0, 1, 0]))
write("wal_segment", "two_segments", bytes([1, 0, 0, 2]) + bytes([0, 0, 0, 1, 5, 0, 0, 0]) +
      bytes([0, 0, 1, 2, 0, 0, 3]) + bytes([0, 0, 0, 1, 5, 0, 0, 0]))

# snapshot_file: meta kind, fields, payload, framing choices
write("snapshot_file", "good", bytes([1, 7, 0, 2, 2, 1, 2, 0]) + length_prefixed(b"payload" * 10) +
      bytes(8))
write("snapshot_file", "raw_meta", bytes([0]) + length_prefixed(b"\x01\x05\x02\x00\x00") +
      length_prefixed(b"p") + bytes(8))

# request_codec: encoded requests (server/node/requests.cc)
head = varint(1) + varint(0x1234)
write("request_codec", "put", head + varint(1) + blob(b"foo") + blob(b"bar") + varint(0) +
      varint(1) + varint(0) + varint(0))
write("request_codec", "delete", head + varint(2) + blob(b"a") + blob(b"z") + varint(0))
write("request_codec", "compaction", head + varint(3) + varint(5) + varint(1))
write("request_codec", "attributes", head + varint(4) + varint(9) + blob(b"m1") + varint(1) +
      blob(b"http://127.0.0.1:2379"))
write("request_codec", "alarm", head + varint(5) + varint(1) + varint(9) + varint(1))
write("request_codec", "lease_grant", head + varint(6) + varint(0x7777) + varint(60))
write("request_codec", "lease_revoke", head + varint(7) + varint(0x7777))
# a txn (server/node/txn_codec.h): one compare, a put and a nested txn that ranges, a delete
compare = varint(0) + varint(3) + blob(b"k") + blob(b"") + varint(4) + varint(0) + blob(b"v")
put_op = varint(2) + blob(b"k") + blob(b"v2") + varint(0) + varint(1) + varint(0) + varint(0)
range_op = varint(1) + blob(b"a") + blob(b"z") + varint(0) * 8 + varint(0) * 3
nested = varint(4) + varint(0) + varint(1) + range_op + varint(0)
write("request_codec", "txn", head + varint(8) + varint(1) + compare + varint(2) + put_op + nested +
      varint(1) + varint(3) + blob(b"k") + blob(b"") + varint(1))
# version 2 (server/node/auth_codec.cc): the auth kinds 9-20, then a stamp (bool present,
# bytes user, u64 auth revision); a version-1 kind may carry a stamp too
head2 = varint(2) + varint(0x1234)
no_stamp = varint(0)
stamp = varint(1) + blob(b"alice") + varint(7)
write("request_codec", "v2_put_stamped", head2 + varint(1) + blob(b"foo") + blob(b"bar") +
      varint(0) + varint(1) + varint(0) + varint(0) + stamp)
write("request_codec", "v2_auth_enable", head2 + varint(9) + no_stamp)
write("request_codec", "v2_user_add", head2 + varint(11) + blob(b"alice") +
      blob(b"$2b$10$abcdefghijklmnopqrstuu") + stamp)
write("request_codec", "v2_user_grant", head2 + varint(14) + blob(b"alice") + blob(b"reader") +
      stamp)
write("request_codec", "v2_role_grant", head2 + varint(18) + blob(b"rw") + varint(2) + blob(b"a") +
      blob(b"\x00") + stamp)
write("request_codec", "v2_role_revoke", head2 + varint(19) + blob(b"rw") + blob(b"a") +
      blob(b"m") + stamp)
write("request_codec", "v2_authenticate", head2 + varint(20) + blob(b"root") +
      blob(b"ABCDEFGHIJKLMNOP") + varint(4) + no_stamp)

# node_snapshot_header: the header after its length (fixed up by the target)
member = varint(1) + blob(b"m1") + varint(1) + blob(b"http://127.0.0.1:2380") + varint(0) + varint(0)
write("node_snapshot_header", "v3", b"\x00" + varint(3) + varint(1) + member + varint(1) +
      varint(1) + varint(1) + varint(1) + varint(4) + varint(2) + varint(7) + varint(8))
write("node_snapshot_header", "v2", b"\x00" + varint(2) + varint(0) + varint(0) + varint(0))


# peer_frames: limit (2 bytes), mode byte, then (kind, take(payload))...
def frame_item(kind, payload):
    return bytes([kind]) + length_prefixed(payload)


hello = blob(b"etcdlab-peer") + varint(2) + varint(7) + varint(5) + varint(1) + varint(2)
message = varint(1) + varint(2) + varint(2) + varint(1) + varint(3) + varint(1) + varint(4) + \
    varint(1) + varint(5) + varint(3) + varint(0) + blob(b"e") + varint(3) + varint(0) + \
    varint(0) + varint(0) + varint(0) + varint(0) + varint(0) + blob(b"")
write("peer_frames", "hello_message", b"\xff\x0f\x80" + frame_item(1, hello) + frame_item(2, message))
write("peer_frames", "members_request", b"\xff\x0f\x80" + frame_item(5, blob(b"etcdlab-peer") +
      varint(2) + varint(5) + varint(1) + blob(b"http://127.0.0.1:2380")))
write("peer_frames", "snapshot_begin", b"\xff\x0f\x80" + frame_item(3, varint(100) + varint(1) +
      varint(10) + message[2:]) + frame_item(4, b"chunk"))
# a node message (kv_node_leases.cc): version, kind, from, to, request, lease, with_keys,
# not_leader, ttl, granted ttl, keys; a keep-alive question and a time-to-live answer
keep_alive = varint(1) + varint(1) + varint(1) + varint(2) + varint(9) + varint(0x70) + \
    varint(0) + varint(0) + varint(0) + varint(0) + varint(0)
ttl_answer = varint(1) + varint(4) + varint(2) + varint(1) + varint(9) + varint(0x70) + \
    varint(0) + varint(0) + varint(30) + varint(60) + varint(2) + blob(b"a") + blob(b"b")
write("peer_frames", "node_messages", b"\xff\x0f\x80" + frame_item(1, hello) +
      frame_item(8, varint(1) + varint(2) + blob(keep_alive)) +
      frame_item(8, varint(2) + varint(1) + blob(ttl_answer)))

# gateway_json: path index, method byte, body
write("gateway_json", "put", b"\x01\x00" + b'{"key":"Zm9v","value":"YmFy","lease":"0"}')
write("gateway_json", "range", b"\x00\x00" + b'{"key":"Zm9v","range_end":"AA==","limit":10,'
      b'"sort_order":"DESCEND","sort_target":"KEY","revision":"0"}')
write("gateway_json", "delete", b"\x02\x00" + b'{"key":"YQ==","range_end":"eg==","prev_kv":true}')
write("gateway_json", "compaction", b"\x03\x00" + b'{"revision":"1","physical":true}')
write("gateway_json", "member_add", b"\x06\x00" + b'{"peerURLs":["http://127.0.0.1:2390"]}')
write("gateway_json", "lease_grant", b"\x0e\x00" + b'{"TTL":"60","ID":"0"}')
write("gateway_json", "lease_revoke", b"\x0f\x00" + b'{"ID":"7"}')
write("gateway_json", "lease_keepalive", b"\x10\x00" + b'{"ID":"7"}\n{"ID":7} {"ID":"x"}')
write("gateway_json", "lease_timetolive", b"\x11\x00" + b'{"ID":"7","keys":true}')
write("gateway_json", "lease_leases", b"\x12\x00" + b'{}')
write("gateway_json", "alarm", b"\x0a\x00" + b'{"action":"GET","alarm":"NOSPACE","memberID":"1"}')
write("gateway_json", "txn", b"\x04\x00" + b'{"compare":[{"key":"Zm9v","target":"VALUE","result":'
      b'"EQUAL","value":"YmFy","range_end":"AA=="}],"success":[{"request_put":{"key":"Zm9v",'
      b'"value":"YmF6","prev_kv":true}},{"request_txn":{"compare":[{"key":"YQ==","target":"MOD",'
      b'"mod_revision":"3"}],"success":[{"request_range":{"key":"YQ==","serializable":true}}],'
      b'"failure":[{"request_delete_range":{"key":"YQ==","range_end":"eg=="}},{}]}}],'
      b'"failure":[{"request_range":{"key":"Zm9v","revision":"-1"}}]}')
write("gateway_json", "lock", b"\x16\x00" + b'{"name":"bG9jaw==","lease":"0"}')
write("gateway_json", "unlock", b"\x17\x00" + b'{"key":"bG9jay8x"}')
write("gateway_json", "campaign", b"\x18\x00" + b'{"name":"ZQ==","lease":"0","value":"dg=="}')
write("gateway_json", "proclaim", b"\x19\x00" + b'{"leader":{"name":"ZQ==","key":"ZS8x","rev":"2",'
      b'"lease":"1"},"value":"dw=="}')
write("gateway_json", "observe", b"\x1c\x00" + b'{"name":"ZQ=="}')

# cli_args: NUL-separated words
for name, words in {
    "get": ["get", "foo", "--prefix", "--rev=3", "-w", "json"],
    "put": ["--endpoints=127.0.0.1:1", "put", "k", "v", "--lease", "0x10", "--prev-kv"],
    "member_add": ["member", "add", "m4", "--peer-urls=http://127.0.0.1:2390", "--learner"],
    "timeouts": ["--command-timeout=3s", "--dial-timeout", "1m30s", "del", "a", "z"],
    "watch_exec": ["watch", "a", "--rev=3", "--prev-kv", "--", "echo", "a"],
    "watch_prefix": ["--endpoints=127.0.0.1:1", "watch", "--prefix", "p/", "-i"],
    "lease_grant": ["lease", "grant", "60"],
}.items():
    write("cli_args", name, b"\0".join(w.encode() for w in words))

# watch_session: piece size byte, options byte (1: the body ends, 2: compact), the body
WATCH_BODIES = {
    "mixed": (7, 1, b'{"create_request":{"key":"YQ==","prev_kv":true}}\n'
              b'  {"create_request" : {"key":"Yg==", "watch_id":"5"}}{"progress_request":{}}\r\n'
              b'{"create_request":{"key":"Yw==","range_end":"ZA==","watch_id":7,'
              b'"filters":["NOPUT"]}}\n{"cancel_request":{"watch_id":"5"}}\nnull {} {"x":[1]}\n'
              b'{"create_request":{"key":"","range_end":"AA==","start_revision":"1"}}'),
    "catch_up": (3, 2, b'{"create_request":{"key":"AA==","range_end":"AA==","start_revision":"1",'
                 b'"prev_kv":true,"fragment":true,"progress_notify":true}}\n'
                 b'{"create_request":{"key":"YQ==","range_end":"eg==","start_revision":"2",'
                 b'"filters":[1,"NOPUT"]}}{"progress_request":{}}'
                 b'{"cancel_request":{"watch_id":1}}'),
    "ids": (1, 0, b'{"create_request":{"key":"YQ==","watch_id":"-1"}}{"create_request":'
            b'{"key":"YQ==","watch_id":"-1"}}{"create_request":{"key":"Yg==","range_end":"YQ=="}}'
            b'{"cancel_request":{"watch_id":"-1"}}{"cancel_request":{}}'),
    "bad_first": (2, 1, b'[1]'),
    "bad_later": (5, 1, b'{"create_request":{"key":"YQ=="}}\n{"create_request":{"key":5}}\n'
                  b'{"create_request":{"key":"Yg=="}}'),
    "number_at_the_end": (4, 1, b'{"progress_request":{}} 5'),
    "cut_short": (9, 1, b'{"create_request":{"key":"YQ==","start_revision":"1"'),
}
for name, (piece, options, body) in WATCH_BODIES.items():
    write("watch_session", name, bytes([piece - 1, options]) + body)

# watch_lines: environment byte (1: ETCDCTL_WATCH_KEY, 2: _RANGE_END, each length-prefixed),
# then a watch -i line
WATCH_LINES = {
    "rev_prev_kv": (0, [], "watch a --rev 5 --prev-kv"),
    "quoted_exec": (0, [], 'watch "k\\x00\\xff" "z" -- sh -c "echo $ETCD_WATCH_KEY"'),
    "prefix": (0, [], "watch --prefix p/ --progress-notify"),
    "single_quotes": (0, [], "watch 'b c' --rev 1"),
    "escapes": (0, [], 'watch "\\u00e9\\U0001F600\\101\\a\\t\\"" --prefix'),
    "progress": (0, [], "progress"),
    "env": (3, [b"a", b"z"], "watch --rev 3 -- echo hi"),
    "help": (0, [], "watch -h"),
    "bad_flag": (0, [], "watch --bogus a"),
    "separator_only": (0, [], "watch a --"),
}
for name, (env, values, line) in WATCH_LINES.items():
    write("watch_lines", name, bytes([env]) + b"".join(length_prefixed(v) for v in values) +
          line.encode())
