"""Bad input, each answered as etcd's gateway answers it, while the server keeps serving and
loses nothing."""

import base64
import json
import socket
import time

import pytest

from etcdlab.client import Client
from etcdlab.local import LocalCluster


@pytest.fixture(scope="module")
def member():
    with LocalCluster(n=1, extra_args=["--client-read-timeout", "1000",
                                       "--max-request-bytes", "65536"]) as c:
        c.wait_leader()
        client = c.client()
        client.put("keep", "me")
        yield c


def post(member, path, body, headers=None):
    c = Client([member.endpoint(0)])
    try:
        status, data = c.raw(member.endpoint(0), "POST", path, body,
                             headers or {"Content-Type": "application/json"})
    finally:
        c.close()
    return status, data


def error_of(data):
    body = json.loads(data)
    assert body["error"] == body["message"], "the 3.4 gateway repeats the message"
    return body["message"], body["code"]


def still_serving(member):
    c = member.client()
    try:
        assert c.value("keep") == b"me", "nothing was lost and the server still answers"
    finally:
        c.close()


def test_malformed_json(member):
    status, data = post(member, "/v3/kv/put", b'{"key": "Zm9v",')
    assert status == 400
    assert error_of(data)[1] == 3
    still_serving(member)


def test_bad_base64(member):
    status, data = post(member, "/v3/kv/put", b'{"key": "Zm9v!!!!"}')
    assert status == 400
    assert error_of(data) == ("illegal base64 data at input byte 4", 3)
    still_serving(member)


def test_wrong_types(member):
    status, data = post(member, "/v3/kv/range", b'{"key": "Zm9v", "limit": "lots"}')
    assert status == 400 and error_of(data)[1] == 3
    status, data = post(member, "/v3/kv/put", b'{"key": 12}')
    assert status == 400 and error_of(data)[1] == 3
    still_serving(member)


def test_unknown_fields_are_ignored(member):
    status, data = post(member, "/v3/kv/range", b'{"key": "a2VlcA==", "bogus": [1, 2, 3]}')
    assert status == 200
    assert json.loads(data)["kvs"][0]["value"] == "bWU="


def test_empty_key(member):
    status, data = post(member, "/v3/kv/put", b'{"value": "YmFy"}')
    assert status == 400
    assert error_of(data) == ("etcdserver: key is not provided", 3)


def test_wrong_method_and_unknown_path(member):
    c = Client([member.endpoint(0)])
    status, data = c.raw(member.endpoint(0), "GET", "/v3/kv/range")
    assert (status, data) == (405, b"Method Not Allowed\n")
    status, data = c.raw(member.endpoint(0), "POST", "/v3/kv/nonsense", b"{}")
    assert (status, data) == (404, b"Not Found\n")
    status, _ = c.raw(member.endpoint(0), "GET", "/nowhere")
    assert status == 404
    c.close()
    still_serving(member)


def test_request_over_the_size_limit(member):
    # --max-request-bytes is 65536 here; the limit is on the request, not its JSON.
    value = base64.b64encode(b"v" * 70000).decode()
    body = json.dumps({"key": "Zm9v", "value": value}).encode()
    status, data = post(member, "/v3/kv/put", body)
    assert status == 400
    assert error_of(data) == ("etcdserver: request is too large", 3)
    still_serving(member)


def test_a_request_over_the_receive_cap_is_refused_unread(member):
    """Past max-request-bytes + 512 KiB (gRPC's receive cap in etcd) the request is refused
    with 429; a body too big to decode under that cap is not even read into memory."""
    value = base64.b64encode(b"v" * (600 * 1024)).decode()  # decodes past 64 KiB + 512 KiB
    body = json.dumps({"key": "Zm9v", "value": value}).encode()
    status, data = post(member, "/v3/kv/put", body)
    assert status == 429
    message, code = error_of(data)
    assert code == 8 and message.startswith("grpc: received message larger than max")
    # A body far past what could decode under the cap (here: padding) is refused unread.
    body = b'{"key": "Zm9v"' + b" " * (1200 * 1024) + b"}"
    status, data = post(member, "/v3/kv/put", body)
    assert status == 429 and error_of(data)[1] == 8
    still_serving(member)


def test_a_slow_client_is_cut_off_and_others_are_served(member):
    """A client that sends one byte at a time never finishes its request: the read deadline
    (1 s here, --client-read-timeout) covers the whole request, so the dribble does not keep
    the connection open, and others are served meanwhile."""
    host, port = member.endpoint(0).split(":")
    s = socket.create_connection((host, int(port)))
    request = b"POST /v3/kv/range HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
    start = time.monotonic()
    closed = False
    try:
        for n, byte in enumerate(request):
            s.sendall(bytes([byte]))
            time.sleep(0.1)
            if n == 3:
                still_serving(member)  # served while the slow one dribbles
            if time.monotonic() - start > 6:
                break
        s.settimeout(5)
        while s.recv(1024):
            pass
        closed = True
    except OSError:
        closed = True  # reset by the server: also cut off
    finally:
        s.close()
    assert closed and time.monotonic() - start < 8, "the read deadline must close the connection"
    still_serving(member)


def test_a_thousand_idle_connections(member):
    host, port = member.endpoint(0).split(":")
    socks = []
    try:
        for _ in range(1000):
            socks.append(socket.create_connection((host, int(port))))
        still_serving(member)
    finally:
        for s in socks:
            s.close()
    still_serving(member)
