"""Both doors of the client port answer alike (issue 17): the same script of requests, sent to
one fresh member through etcd's gRPC services and to another through the JSON gateway, gets
the same answers — each gRPC answer printed as etcd's gateway prints protobuf as JSON
(int64 as strings, bytes as base64, defaults left out), each gRPC error as the gateway's
{"error", "code"}. Both doors call the same function per RPC (server/rpc); this checks that the
translations on either side lose and add nothing. One port serves both: the test dials the
member's client URL for each. Over TLS (ETCDLAB_TLS=1) both doors are dialled over TLS with
the test CA's client certificate, and the first-bytes sniffing is tried inside TLS records."""

import base64
import pathlib

import pytest

from compat_script import run_script
from etcdlab.client import tls_context
from etcdlab.local import LocalCluster, find_binary

grpc = pytest.importorskip("grpc")
descriptor_pb2 = pytest.importorskip("google.protobuf.descriptor_pb2")
from google.protobuf import descriptor_pool, json_format, message_factory  # noqa: E402


def b64(s):
    return base64.b64encode(s.encode()).decode()


# (gRPC method, JSON path, request as the gateway takes it: the same fields as protobuf's JSON)
SCRIPT = [
    ("etcdserverpb.KV/Put", "/v3/kv/put", {"key": b64("a"), "value": b64("1")}),
    ("etcdserverpb.KV/Put", "/v3/kv/put", {"key": b64("a"), "value": b64("2"), "prev_kv": True}),
    ("etcdserverpb.KV/Put", "/v3/kv/put", {"key": b64("b"), "value": b64("3")}),
    ("etcdserverpb.KV/Range", "/v3/kv/range", {"key": b64("a")}),
    ("etcdserverpb.KV/Range", "/v3/kv/range", {"key": b64("a"), "range_end": b64("c"),
                                               "sort_order": "DESCEND", "limit": "1"}),
    ("etcdserverpb.KV/Range", "/v3/kv/range", {"key": b64("a"), "revision": "2"}),
    ("etcdserverpb.KV/Range", "/v3/kv/range", {"key": b64("a"), "range_end": b64("z"),
                                               "count_only": True, "serializable": True}),
    ("etcdserverpb.KV/Range", "/v3/kv/range", {"key": b64("a"), "revision": "99"}),
    ("etcdserverpb.KV/Range", "/v3/kv/range", {}),
    ("etcdserverpb.KV/Put", "/v3/kv/put", {"key": b64("a"), "value": b64("x"),
                                           "ignore_value": True}),
    ("etcdserverpb.KV/Txn", "/v3/kv/txn", {
        "compare": [{"key": b64("a"), "target": "VALUE", "result": "EQUAL", "value": b64("2")}],
        "success": [{"request_put": {"key": b64("c"), "value": b64("4")}},
                    {"request_range": {"key": b64("a"), "range_end": b64("z")}},
                    {"request_txn": {"success": [{"request_delete_range": {"key": b64("b")}}]}}],
        "failure": [{"request_range": {"key": b64("a")}}]}),
    ("etcdserverpb.KV/Txn", "/v3/kv/txn", {
        "compare": [{"key": b64("a"), "target": "VERSION", "result": "GREATER", "version": "5"}],
        "failure": [{"request_range": {"key": b64("c")}}]}),
    ("etcdserverpb.KV/Txn", "/v3/kv/txn", {
        "success": [{"request_put": {"key": b64("d")}}, {"request_put": {"key": b64("d")}}]}),
    ("etcdserverpb.KV/DeleteRange", "/v3/kv/deleterange", {"key": b64("a"), "range_end": b64("c"),
                                                           "prev_kv": True}),
    ("etcdserverpb.KV/Compact", "/v3/kv/compaction", {"revision": "3"}),
    ("etcdserverpb.KV/Range", "/v3/kv/range", {"key": b64("a"), "revision": "2"}),
    ("etcdserverpb.Lease/LeaseGrant", "/v3/lease/grant", {"ID": "1000", "TTL": "60"}),
    ("etcdserverpb.Lease/LeaseGrant", "/v3/lease/grant", {"ID": "1000", "TTL": "60"}),
    ("etcdserverpb.KV/Put", "/v3/kv/put", {"key": b64("l"), "value": b64("v"), "lease": "1000"}),
    ("etcdserverpb.Lease/LeaseLeases", "/v3/lease/leases", {}),
    ("etcdserverpb.Lease/LeaseRevoke", "/v3/lease/revoke", {"ID": "1000"}),
    ("etcdserverpb.Lease/LeaseRevoke", "/v3/lease/revoke", {"ID": "1000"}),
    ("etcdserverpb.KV/Range", "/v3/kv/range", {"key": b64("l")}),
    ("etcdserverpb.Maintenance/Alarm", "/v3/maintenance/alarm", {"action": "GET"}),
    ("etcdserverpb.Maintenance/Hash", "/v3/maintenance/hash", {}),
    ("etcdserverpb.Maintenance/Defragment", "/v3/maintenance/defragment", {}),
    ("etcdserverpb.Maintenance/Alarm", "/v3/maintenance/alarm", {"action": "ACTIVATE",
                                                                 "alarm": "CORRUPT"}),
    ("etcdserverpb.Maintenance/Alarm", "/v3/maintenance/alarm", {"action": 7}),
    ("v3lockpb.Lock/Lock", "/v3/lock/lock", {"name": b64("m")}),
    ("v3lockpb.Lock/Unlock", "/v3/lock/unlock", {"key": ""}),
    ("v3electionpb.Election/Leader", "/v3/election/leader", {"name": b64("e")}),
    ("v3electionpb.Election/Proclaim", "/v3/election/proclaim", {"value": b64("x")}),
]

# What differs between any two clusters: their ids; a lock's key names its session's lease,
# whose id is made from the member's.
IGNORED = {"cluster_id", "member_id", "raft_term"}


def normalize(value, path=""):
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()
                if k not in IGNORED and not (path == "/v3/lock/lock" and k == "key")}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def message_classes():
    path = pathlib.Path(find_binary()).parent.parent / "proto" / "etcd.desc"
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(path.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    factory = message_factory.MessageFactory(pool)  # (protobuf 3.21: GetPrototype)
    methods = {}
    for f in fds.file:
        for s in f.service:
            for m in s.method:
                methods[f"{f.package}.{s.name}/{m.name}"] = (
                    factory.GetPrototype(pool.FindMessageTypeByName(m.input_type[1:])),
                    factory.GetPrototype(pool.FindMessageTypeByName(m.output_type[1:])))
    return methods


def grpc_channel(member):
    """A gRPC channel to member 0's client URL: plaintext, or over TLS with the cluster's CA
    and its client certificate."""
    if member.pki is None:
        return grpc.insecure_channel(member.endpoint(0))
    pki = member.pki
    credentials = grpc.ssl_channel_credentials(
        root_certificates=pathlib.Path(pki.ca.cert).read_bytes(),
        private_key=pathlib.Path(pki.client.key).read_bytes(),
        certificate_chain=pathlib.Path(pki.client.cert).read_bytes())
    return grpc.secure_channel(member.endpoint(0), credentials)


def connect(member, timeout=10):
    """A raw connection to member 0's client port (TLS when the cluster's clients use it)."""
    import socket

    host, port = member.endpoint(0).rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    if member.pki is None:
        return s
    ctx = tls_context(member.pki.ca.cert, member.pki.client.cert, member.pki.client.key)
    return ctx.wrap_socket(s, server_hostname=host)


def grpc_answers(member, script):
    methods = message_classes()
    channel = grpc_channel(member)
    answers = []
    for method, _, body in script:
        req_cls, resp_cls = methods[method]
        call = channel.unary_unary("/" + method, request_serializer=req_cls.SerializeToString,
                                   response_deserializer=resp_cls.FromString)
        request = json_format.ParseDict(body, req_cls())
        try:
            resp = call(request, timeout=10)
            answers.append(json_format.MessageToDict(resp, preserving_proto_field_name=True))
        except grpc.RpcError as e:
            answers.append({"error": e.details(), "code": e.code().value[0]})
    channel.close()
    return answers


def json_answers(endpoint, script):
    steps = [("POST", path, body) for _, path, body in script]
    out = []
    for _, answer in run_script(endpoint, steps):
        if isinstance(answer, dict) and "error" in answer:
            answer = {"error": answer["error"], "code": answer["code"]}
        out.append(answer)
    return out


def test_the_grpc_door_and_the_json_door_answer_the_same_script_alike():
    with LocalCluster(n=1) as member:
        member.wait_leader()
        over_grpc = grpc_answers(member, SCRIPT)
    with LocalCluster(n=1) as member:
        member.wait_leader()
        over_json = json_answers(member.endpoint(0), SCRIPT)
    problems = []
    for (method, path, body), g, j in zip(SCRIPT, over_grpc, over_json):
        if normalize(g, path) != normalize(j, path):
            problems.append(f"{method} / {path} {body}\n    gRPC: {normalize(g, path)}"
                            f"\n    JSON: {normalize(j, path)}")
    assert not problems, "the doors disagree:\n" + "\n".join(problems)


def test_one_port_tells_http2_from_http1_by_the_first_bytes_even_when_they_trickle_in():
    """A request whose first bytes could begin HTTP/2's preface ("P", then "OST ...") is still
    served as HTTP/1.1 once the rest arrives; a connection stalled inside the preface holds up
    nobody else."""
    import socket
    import time

    with LocalCluster(n=1) as member:
        member.wait_leader()
        stalled = connect(member)
        stalled.sendall(b"PRI * HTTP/2.0\r\n")  # the first half of the preface, then nothing
        body = b'{"key": "Zm9v", "value": "YmFy"}'
        request = (b"POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        with connect(member) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(request[:1])  # (over TLS: a record of its own, passed on alone)
            time.sleep(0.05)  # (the server sees "P" alone first)
            s.sendall(request[1:])
            answer = s.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        read = ("etcdserverpb.KV/Range", "/v3/kv/range", {"key": b64("foo")})
        assert grpc_answers(member, [read])[0]["kvs"][0]["value"] == b64("bar")
        stalled.close()
