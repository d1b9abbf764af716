"""The Python client with auth (issue 19): user=/password= sign in on the first request, the
token goes raw in Authorization on every request and watch, a refused token is renewed once,
"authentication is not enabled" means no token; the admin calls answer and refuse as etcd 3.4
does. The sign-in rules against a scripted gateway (auth_gateway.py); the rest against a real
server: etcd 3.4 today, etcdlab once it serves auth (test_cli_auth_compat.SERVERS)."""

import pytest

from auth_gateway import ScriptedGateway
from etcdlab.client import Client, EtcdError
from test_cli_auth_compat import SERVERS, need_etcd, start


def test_signs_in_on_the_first_request_and_sends_the_raw_token():
    with ScriptedGateway() as gw:
        c = Client([gw.endpoint], user="root", password="rootpw")
        c.put("k", "v")
        c.get("k")
        assert [(path, h) for path, h, _ in gw.requests] == [
            ("/v3/auth/authenticate", None), ("/v3/kv/put", gw.tokens[0]),
            ("/v3/kv/range", gw.tokens[0])]
        assert c.token == gw.tokens[0]


@pytest.mark.parametrize("refusal", ["etcdserver: invalid auth token",
                                     "etcdserver: revision of auth store is old"])
def test_a_refused_token_is_renewed_once(refusal):
    with ScriptedGateway() as gw:
        c = Client([gw.endpoint], user="root", password="rootpw")
        gw.refuse_next(refusal)
        c.put("k", "v")
        assert gw.paths() == ["/v3/auth/authenticate", "/v3/kv/put", "/v3/auth/authenticate",
                              "/v3/kv/put"]
        assert gw.requests[-1][1] == gw.tokens[1] == c.token
        gw.refuse_next(refusal, refusal)
        with pytest.raises(EtcdError) as e:
            c.put("k", "v")
        assert e.value.message == refusal
        assert gw.paths().count("/v3/auth/authenticate") == 3


def test_a_failed_renewal_raises_its_own_error():
    """As clientv3 3.4 (and etcdlabctl): the renewal's refusal is the error."""
    with ScriptedGateway() as gw:
        c = Client([gw.endpoint], user="root", password="rootpw")
        gw.refuse_next("etcdserver: invalid auth token")
        gw.refuse_next_authenticate(
            None, "etcdserver: authentication failed, invalid user ID or password")
        with pytest.raises(EtcdError) as e:
            c.put("k", "v")
        assert (e.value.message, e.value.code, e.value.status) == (
            "etcdserver: authentication failed, invalid user ID or password", 3, 400)


def test_auth_off_means_no_token_and_a_refused_sign_in_raises():
    with ScriptedGateway(enabled=False) as gw:
        c = Client([gw.endpoint], user="root", password="wrong")
        c.put("k", "v")
        assert [(path, h) for path, h, _ in gw.requests] == [
            ("/v3/auth/authenticate", None), ("/v3/kv/put", None)]
    with ScriptedGateway() as gw:
        c = Client([gw.endpoint], user="root", password="wrong")
        with pytest.raises(EtcdError) as e:
            c.put("k", "v")
        assert (e.value.message, e.value.code, e.value.status) == (
            "etcdserver: authentication failed, invalid user ID or password", 3, 400)
        assert gw.paths() == ["/v3/auth/authenticate"]
    with pytest.raises(ValueError):
        Client(["127.0.0.1:1"], user="root")


def refusal(call):
    with pytest.raises(EtcdError) as e:
        call()
    return e.value.message, e.value.code, e.value.status


@pytest.mark.parametrize("server", SERVERS)
def test_admin_calls_and_permissions_as_etcd_answers_them(server):
    need_etcd()
    with start(server) as cluster:
        cluster.wait_leader()
        ep = [cluster.endpoint(0)]
        anyone = Client(ep)
        root = Client(ep, user="root", password="rootpw")
        alice = Client(ep, user="alice", password="alicepw")
        try:
            assert refusal(anyone.auth_enable) == ("etcdserver: root user does not exist", 9, 412)
            anyone.user_add("root", "rootpw")
            assert refusal(anyone.auth_enable) == (
                "etcdserver: root user does not have root role", 9, 412)
            anyone.role_add("root")
            anyone.user_grant_role("root", "root")
            anyone.user_add("alice", "alicepw")
            anyone.role_add("reader")
            anyone.role_grant_permission("reader", "READ", "r/", prefix=True)
            anyone.role_grant_permission("reader", "READWRITE", "z", b"\0")
            anyone.user_grant_role("alice", "reader")
            anyone.put("r/1", "one")
            anyone.auth_enable()

            assert refusal(lambda: anyone.get("r/1")) == ("etcdserver: user name is empty", 3, 400)
            assert alice.value("r/1") == b"one"
            assert alice.token and alice.token.count(".") == 1
            assert refusal(lambda: alice.put("r/1", "x")) == (
                "etcdserver: permission denied", 7, 403)
            assert refusal(alice.user_list) == ("etcdserver: permission denied", 7, 403)
            assert alice.user_get("alice") == ["reader"]
            assert root.user_list() == ["alice", "root"]
            assert root.role_list() == ["reader", "root"]
            assert root.role_get("reader") == [
                {"permType": "READ", "key": b"r/", "range_end": b"r0"},
                {"permType": "READWRITE", "key": b"z", "range_end": b"\0"}]
            assert refusal(lambda: root.user_get("nobody")) == (
                "etcdserver: user name not found", 9, 412)
            assert refusal(lambda: root.role_revoke_permission("reader", "a")) == (
                "etcdserver: permission is not granted to the role", 9, 412)
            assert refusal(lambda: root.user_delete("root")) == (
                "etcdserver: invalid auth management", 3, 400)

            # the token on the watch stream: alice's watch of r/ is accepted and sees a put
            with alice.watch("r/", prefix=True) as w:
                root.put("r/2", "two")
                events = next(r for r in w if r.get("events"))["events"]
                assert events[0]["kv"]["key"] == b"r/2"
            with pytest.raises(EtcdError) as e:
                alice.watch("w/", prefix=True)
            assert "permission denied" in e.value.message

            # disable + enable kills every token (etcd 3.4): root and alice sign in again
            root.auth_disable()
            assert refusal(root.auth_enable) == (  # auth is off: the renewal is refused
                "etcdserver: authentication is not enabled", 9, 412)
            anyone.auth_enable()
            assert alice.value("r/1") == b"one"
            assert root.user_list() == ["alice", "root"]

            root.user_change_password("alice", "alicepw2")  # her token dies, her password too
            assert refusal(lambda: alice.value("r/1")) == (
                "etcdserver: authentication failed, invalid user ID or password", 3, 400)
            root.role_revoke_permission("reader", "r/", prefix=True)
            root.role_delete("reader")
            root.user_delete("alice")
            root.auth_disable()
            assert anyone.user_list() == ["root"]
        finally:
            for c in (anyone, root, alice):
                c.close()
