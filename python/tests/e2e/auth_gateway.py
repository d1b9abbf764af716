"""A scripted v3 JSON gateway for the clients' sign-in rules (etcdlabctl's and the Python
client's): it answers /v3/auth/authenticate and the KV calls as etcd 3.4's gateway words them,
records every request with its Authorization header, and refuses what a test tells it to. No
Raft, no store: it checks what a client sends, not what a server does.

    with ScriptedGateway() as gw:
        gw.refuse_next("etcdserver: invalid auth token")
        ... run a client against gw.endpoint ...
        gw.requests  # [(path, authorization or None, body), ...]

When the suite runs over TLS (ETCDLAB_TLS=1) it serves over TLS too, with a certificate of the
suite's CA, so the clients under test speak to it as they do to the clusters.
"""

import http.server
import json
import os
import threading

from etcdlab.certs import TestPki, server_context

# etcd 3.4's gateway: message -> (gRPC code, HTTP status)
ERRORS = {
    "etcdserver: invalid auth token": (16, 401),
    "etcdserver: revision of auth store is old": (3, 400),
    "etcdserver: authentication is not enabled": (9, 412),
    "etcdserver: authentication failed, invalid user ID or password": (3, 400),
    "etcdserver: user name is empty": (3, 400),
    "etcdserver: permission denied": (7, 403),
}
HEADER = {"cluster_id": "1", "member_id": "2", "revision": "5", "raft_term": "3"}


class ScriptedGateway:
    """`users`: name -> password. With `enabled` False, authenticate answers "authentication is
    not enabled" and a request with a token is refused as etcd refuses it."""

    def __init__(self, users=None, enabled=True):
        self.users = dict(users or {"root": "rootpw"})
        self.enabled = enabled
        self.requests = []
        self.tokens = []          # issued, in order ("<16 letters>.<n>", as etcd's simple tokens)
        self._refusals = []       # messages for the next non-auth requests
        self._auth_refusals = []  # messages for the next authenticate requests
        self._lock = threading.Lock()
        gateway = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, answer = gateway._answer(self.path, self.headers.get("Authorization"),
                                                 body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if os.environ.get("ETCDLAB_TLS") == "1":
            pki = TestPki.shared()
            tls = server_context(pki.ca.cert, pki.member("scripted-gateway"))
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.endpoint = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02}, daemon=True)

    def refuse_next(self, *messages):
        """The next requests other than authenticate are refused with these messages."""
        with self._lock:
            self._refusals.extend(messages)

    def refuse_next_authenticate(self, *messages):
        """The same for authenticate; None answers that one as usual."""
        with self._lock:
            self._auth_refusals.extend(messages)

    def paths(self):
        return [path for path, _, _ in self.requests]

    def _answer(self, path, authorization, body):
        with self._lock:
            self.requests.append((path, authorization, body))
            if path == "/v3/auth/authenticate":
                refusal = self._auth_refusals.pop(0) if self._auth_refusals else None
                if refusal:
                    return self._error(refusal)
                if not self.enabled:
                    return self._error("etcdserver: authentication is not enabled")
                if self.users.get(body.get("name")) != body.get("password") or not body.get(
                        "name"):
                    return self._error(
                        "etcdserver: authentication failed, invalid user ID or password")
                token = "abcdefghijklmnop." + str(len(self.tokens) + 10)
                self.tokens.append(token)
                return 200, {"header": HEADER, "token": token}
            if self._refusals:
                return self._error(self._refusals.pop(0))
            if authorization is not None and (not self.enabled or self.tokens[-1:] != [authorization]):
                return self._error("etcdserver: invalid auth token")
            if self.enabled and authorization is None:
                return self._error("etcdserver: user name is empty")
            if path == "/v3/kv/range":
                return 200, {"header": HEADER, "count": "0"}
            return 200, {"header": HEADER}

    @staticmethod
    def _error(message):
        code, status = ERRORS[message]
        return status, {"error": message, "message": message, "code": code}

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
