"""etcdlabctl with auth prints what etcdctl 3.4 prints (issue 19): the same command lines, in
order, through etcdctl against a fresh etcd 3.4 and through etcdlabctl against a fresh server
(etcd 3.4 today; etcdlab once it serves auth: the `server` parameter), both started with
--bcrypt-cost 4 (fast hashes). Exit code, stdout and stderr must match once what differs
between two clusters is masked (test_cli_compat.mask: ids, ports, timings). On stderr,
etcdctl's own gRPC warnings (JSON lines) and the `stty` complaints of its password prompt
when stdin is not a terminal are left out: the `Error:` lines and everything else count.

The flow is the one of /work/notes/issue-19-etcd-answers/etcdctl.jsonl (the reviewed capture
of etcdctl 3.4.23): enable refused without root, users and roles made, enable, every user and
role command with its argument errors and every -w format, the permission matrix through
get/put/del/txn/watch/lease/lock, revocations, password change, disable.

Also here: etcdlabctl's sign-in rules against a scripted gateway (one re-authentication after
"invalid auth token" and "revision of auth store is old", none when auth is off, the raw token
in Authorization on every request and on the watch stream), and a token that dies during a
long command (lock) against the real server."""

import concurrent.futures
import os
import pty
import re
import select
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

import pytest

from auth_gateway import ScriptedGateway
from etcdlab.client import Client
from etcdlab.local import LocalCluster, find_binary
from suite_tls import ctl_environment
from test_cli_compat import mask, mask_protobuf

ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
FAST_HASHES = ["--bcrypt-cost", "4"]  # etcd 3.4's flag; etcdlab's design (issue 19 §0) too
SERVERS = [
    pytest.param("etcd", id="etcd"),
    pytest.param("etcdlab", id="etcdlab"),
]
TXN = b'value("r/1") = "one"\n\nput w/t x\n\nput b y\n\n'
# Kills every token: auth disable then enable (etcd 3.4, captured).
FLIP = "{ctl} --endpoints={ep} --user=root:rootpw auth disable; {ctl} --endpoints={ep} auth enable"


@dataclass
class Case:
    """A command line (bash words after the program and --endpoints=<the member>); `{tmp}` is
    the run's own folder."""
    cmd: str
    stdin: bytes = b""


def as_(user: str, cmd: str, stdin: bytes = b"") -> Case:
    return Case(f"--user={user} {cmd}", stdin)


ROOT, ALICE, BOB, CAROL, DAVE = (
    "root:rootpw", "alice:alicepw", "bob:bobpw", "carol:carolpw", "dave:davepw")
FORMATS = ("json", "fields", "protobuf", "table")

CASES = [
    # ---- before enable: refusals, users, roles, argument errors
    Case("auth enable"), Case("user add root:rootpw --interactive=false"),
    Case("user add"), Case("user add a b"), Case("user add :pw"), Case("user add :"),
    Case("user get"), Case("user list x"), Case("user delete"), Case("user passwd"),
    Case("user grant-role u1"), Case("user revoke-role u1"), Case("role add"),
    Case("role get"), Case("role list x"), Case("role delete"), Case("role grant-permission"),
    Case("role grant-permission ro rwx"), Case("role grant-permission ro rwx a"),
    Case("role grant-permission ro read x --from-key --prefix"),
    Case("role grant-permission ro read x y --prefix"),
    Case("role grant-permission ro read x y --from-key"),
    Case("role grant-permission ro read '' --from-key --prefix"),
    Case("role revoke-permission ro"), Case("role revoke-permission ro a b --prefix"),
    Case("auth enable x"), Case("auth disable x"),
    Case("user add nopw --interactive=false"), Case("user add nopw2 --interactive=false",
                                                    b"pw2 more\n"),
    Case("user add nopw3", b"pw3\n"), Case("user add nopw4", b"pw4\npw4\n"),
    Case("user add nopw5", b"pw4\npw5\n"), Case("user add nopw6"), Case("user add u7:"),
    Case("user add --new-user-password=np u8"), Case("user add --new-user-password=np u8b:x"),
    Case("user add u9:a:b"), Case("user add u10 --no-password"), Case("user add ''"),
    Case("role add ''"), Case("user get nobody"), Case("role get nope"),
    Case("user passwd u7 --interactive=false", b"x\n"), Case("user passwd u7", b"y\ny\n"),
    Case("user passwd u7", b"y\nz\n"), Case("user passwd nobody --interactive=false", b"x\n"),
    Case("user add alice:alicepw"), Case("user add bob:bobpw"),
    Case("user add carol:carolpw"), Case("user add dave:davepw"), Case("user add alice:x"),
    Case("role add reader"), Case("role add reader"),
    Case("role grant-permission reader read r/ --prefix"), Case("role add writer"),
    Case("role grant-permission writer write w/ --prefix"), Case("role add rw"),
    Case("role grant-permission rw readwrite a m"),
    Case("role grant-permission rw READWRITE z --from-key"),
    Case("role grant-permission rw rwx a"), Case("role grant-permission nope read a"),
    Case("user grant-role alice reader"), Case("user grant-role bob writer"),
    Case("user grant-role carol rw"), Case("user grant-role carol nope"),
    Case("user grant-role nobody rw"), Case("user get carol"), Case("role get rw"),
    Case("user list"), Case("role list"), Case("put r/1 one"), Case("put b bee"),
    # ---- enable (etcdctl makes the root role and grants it first), then tokens
    Case("auth enable"), as_(ROOT, "auth enable"),
    Case("user add x:y --interactive=false"), as_("root:wrong", "user add x:y"),
    as_("mallory:x", "user add x:y"), Case("--user=alice get r/1"),
    Case("--user=alice get r/1", b"alicepw\n"), Case("--user=alice --password=alicepw get r/1"),
    Case("--user=alice: get r/1"), Case("--password=alicepw get r/1"),
    # the prompts in etcdctl's order: the new user's password first, then the sign-in's
    Case("--user=root user add px", b"pp\npp\nrootpw\n"), Case("--user=root txn",
                                                                 b"rootpw\n" + TXN),
    Case("get r/1", ), as_("root:wrong", "get r/1"),
    # ---- permission matrix
    *[as_(who, cmd, stdin) for who in (DAVE, ALICE, BOB, CAROL, ROOT)
      for cmd, stdin in (("get r/1", b""), ("get --prefix r/", b""), ("get --prefix r", b""),
                         ("put w/1 x", b""), ("put r/2 x", b""), ("del w/1", b""),
                         ("get b", b""), ("put zz x", b""), ("get --from-key z", b""),
                         ("get --from-key ''", b""), ("txn", TXN),
                         ("endpoint health", b""))],
    Case("watch r/1"), as_(DAVE, "watch r/1"), as_(ALICE, "watch --prefix w/"),
    Case("endpoint health"), as_("root:wrong", "endpoint health"),
    Case("member add x --learner --peer-urls=http://127.0.0.1:1"),
    as_(ALICE, "member add x --learner --peer-urls=http://127.0.0.1:1"),
    as_(ROOT, "alarm list"),
    # ---- leases (keep-alive and revoke carry the token too)
    Case(f"--user={ROOT} lease grant 60 > {{tmp}}/L; rc=$?; cat {{tmp}}/L; exit $rc"),
    as_(ROOT, "put b3 x --lease=$(awk '{print $2}' {tmp}/L)"),
    as_(DAVE, "lease timetolive $(awk '{print $2}' {tmp}/L) --keys"),
    as_(DAVE, "lease keep-alive --once $(awk '{print $2}' {tmp}/L)"),
    as_(ALICE, "lease revoke $(awk '{print $2}' {tmp}/L)"),
    as_(CAROL, "lease revoke $(awk '{print $2}' {tmp}/L)"),
    # ---- lock (its session's lease, the lock keys, the unlock: all with the token)
    as_(DAVE, "lock lk echo held"), as_(CAROL, "lock lk echo held"),
    # ---- user and role administration, every format
    as_(ALICE, "user list"), as_(ALICE, "role list"), as_(ALICE, "user get alice"),
    as_(ALICE, "user get alice --detail"), as_(ALICE, "user get bob"),
    as_(ALICE, "role get reader"), as_(ALICE, "role get rw"),
    *[as_(ROOT, f"{cmd} -w {fmt}") for fmt in FORMATS
      for cmd in ("user list", "role list", "user get carol", "role get rw", "role get writer")],
    # (--detail -w protobuf too, but its messages follow a text line: not masked here)
    *[as_(ROOT, f"user get carol --detail -w {fmt}") for fmt in ("json", "fields", "table")],
    as_(ROOT, "user add f1:p -w json"), as_(ROOT, "user add f2:p -w fields"),
    as_(ROOT, "user add f3:p -w protobuf"), as_(ROOT, "user add f4:p -w table"),
    as_(ROOT, "role add fr -w fields"), as_(ROOT, "role add fr2 -w table"),
    as_(ROOT, "role grant-permission fr read a z -w json"),
    as_(ROOT, "role grant-permission fr readwrite k1 -w protobuf"),
    as_(ROOT, "role grant-permission fr write '' --prefix -w fields"),
    as_(ROOT, "role grant-permission fr write ''"),
    as_(ROOT, "role grant-permission fr read p --prefix"), as_(ROOT, "role get fr"),
    as_(ROOT, "role get fr -w json"), as_(ROOT, "role get fr -w fields"),
    as_(ROOT, "role revoke-permission fr k1 -w json"),
    as_(ROOT, "role revoke-permission fr '' --prefix"),
    as_(ROOT, "role revoke-permission fr '' --from-key"),
    as_(ROOT, "role revoke-permission fr ''"), as_(ROOT, "role revoke-permission fr p --prefix"),
    as_(ROOT, "role revoke-permission fr a z -w fields"),
    as_(ROOT, "role revoke-permission fr a --from-key"),
    as_(ROOT, "user grant-role f1 fr -w fields"), as_(ROOT, "user revoke-role f1 fr -w protobuf"),
    as_(ROOT, "user passwd f1 --interactive=false -w json", b"p2\n"),
    as_(ROOT, "user passwd f1 --interactive=false -w table", b"p3\n"),
    as_(ROOT, "role delete fr2 -w json"), as_(ROOT, "user delete f4 -w fields"),
    as_(ROOT, "user delete f3 -w table"), as_(ROOT, "role list"), as_(ROOT, "user list"),
    # ---- revocations (a revoked permission or role: the token lives, requests are refused)
    as_(ROOT, "role revoke-permission rw a m"), as_(ROOT, "role revoke-permission rw a m"),
    as_(ROOT, "role revoke-permission reader r/ --prefix"), as_(ALICE, "get r/1"),
    as_(ROOT, "user revoke-role carol rw"), as_(ROOT, "user revoke-role carol rw"),
    as_(CAROL, "get b"), as_(ALICE, "user passwd alice --interactive=false", b"alicepw2\n"),
    as_(ROOT, "user passwd alice --interactive=false", b"alicepw2\n"), as_(ALICE, "get r/1"),
    as_(ROOT, "role delete rw"), as_(ROOT, "role delete nope"), as_(ROOT, "user delete dave"),
    as_(ROOT, "user delete dave"), as_(DAVE, "get r/1"), as_(ROOT, "user revoke-role root root"),
    as_(ROOT, "role delete root"), as_(ROOT, "user delete root"),
    # ---- disable
    as_("alice:alicepw2", "auth disable"), Case("auth disable"), as_(ROOT, "auth disable"),
    as_(ROOT, "auth disable"), Case("get b"), as_("root:wrong", "get b"),
    as_(ROOT, "auth disable -w json"), Case("user list"), Case("role get reader"),
    # ---- a token that dies during a command (lock runs one): renewed once; a renewal that
    # fails is the error, as clientv3 3.4's; no token (auth was off at the sign-in), no renewal
    Case("auth enable"), as_(ROOT, f"lock lk1 -- sh -c '{FLIP}'"), as_(ROOT, "get lk --prefix"),
    as_(ROOT, "lock lk2 -- {ctl} --endpoints={ep} --user=root:rootpw auth disable"),
    Case("get lk2 --prefix --keys-only"),
    as_(ROOT, "lock lk3 -- {ctl} --endpoints={ep} auth enable"),
    as_(ROOT, "get lk3 --prefix --keys-only"),
]


def mask_ids(text: str) -> str:
    """test_cli_compat.mask, with the decimal ids in json and fields masked first (a member id
    of 16 digits or fewer would pass for hex there, and be masked another way)."""
    text = re.sub(r'"(cluster_id|member_id)":\d+', r'"\1":0', text)
    # A remaining TTL depends on when the command ran (etcdlab counts it in ticks: within the
    # first second after a grant it says the full TTL, etcd one less; test_cli_compat masks it).
    text = re.sub(r"remaining\(\d+s\)", "remaining(<ttl>)", text)
    return mask(re.sub(r'"(ClusterID|MemberID)" : \d+', r'"\1" : 0', text))


def _stderr(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").splitlines()
    return "\n".join(line for line in lines
                     if not line.startswith('{"level"') and not line.startswith("stty: "))


def run_all(ctl: str, endpoint: str) -> list:
    results = []
    tmp = tempfile.mkdtemp(prefix="etcdlab-cli-auth-")
    env = ctl_environment()
    env["ETCDCTL_API"] = "3"
    try:
        for case in CASES:
            cmd = case.cmd.replace("{tmp}", tmp).replace("{ctl}", ctl).replace("{ep}", endpoint)
            p = subprocess.run(["bash", "-c", f"{ctl} --endpoints={endpoint} {cmd}"],
                               input=case.stdin, capture_output=True, env=env, timeout=60)
            stdout = p.stdout.replace(tmp.encode(), b"{tmp}")
            if "-w protobuf" in cmd and p.returncode == 0 and stdout[:1] == b"\n":
                out = mask_protobuf(stdout)
            else:
                out = mask_ids(stdout.decode("utf-8", "replace"))
            results.append((p.returncode, out, mask(_stderr(p.stderr).replace(tmp, "{tmp}"))))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def need_etcd():
    if not (os.path.exists(ETCD) and os.path.exists(ETCDCTL)):
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            pytest.fail("etcd 3.4 is not installed (make deps installs etcd-server, etcd-client)")
        pytest.skip("etcd 3.4 is not installed")


def start(server: str) -> LocalCluster:
    # (Over TLS without --client-cert-auth: these compare token auth with etcd 3.4, whose
    # gateway, with --client-cert-auth, calls its own gRPC server as its member certificate's
    # CN, and whose gRPC takes any verified certificate as a user; test_tls_e2e.py tests the
    # CN rule. docs/tls.md.)
    return LocalCluster(n=1, binary=ETCD if server == "etcd" else None, extra_args=FAST_HASHES,
                        client_cert_auth=False)


@pytest.fixture(scope="module", params=SERVERS)
def outputs(request):
    need_etcd()

    def side(server, ctl):
        with start(server) as cluster:
            cluster.wait_leader()
            return run_all(ctl, cluster.endpoint(0))

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        theirs, ours = pool.map(side, ("etcd", request.param),
                                (ETCDCTL, find_binary("etcdlabctl")))
    return theirs, ours


# Known difference of etcdlab's server (not of etcdlabctl), checked to differ: the order of a
# role's permissions that share a key. etcd 3.4 re-sorts them on every grant with Go's
# insertion sort and a non-strict Less (key <=), so two equal keys swap places at each later
# grant; etcdlab's auth store keeps them by (key, range_end). Same permissions, another order
# (reported to the node's side in issue 19's contract notes, 08:18).
PERM_ORDER = {"role get fr", "role get fr -w json", "role get fr -w fields"}


def test_etcdlabctl_with_auth_prints_what_etcdctl_prints(outputs, request):
    theirs, ours = outputs
    etcdlab = "etcdlab" in request.node.callspec.id
    diffs, known = [], []
    for case, a, b in zip(CASES, theirs, ours):
        name = case.cmd.split("--user=root:rootpw ")[-1]
        if etcdlab and name in PERM_ORDER:
            known.append(name)
            # the same characters, in another order
            assert a != b and a[0] == b[0] and sorted(a[1]) == sorted(b[1]), (case.cmd, a, b)
            continue
        if a != b:
            diffs.append(f"$ {case.cmd}  (stdin {case.stdin!r})\n    etcdctl:    {a!r}\n"
                         f"    etcdlabctl: {b!r}")
    assert not diffs, f"{len(diffs)} of {len(CASES)} commands differ:\n" + "\n".join(diffs)
    assert not etcdlab or sorted(known) == sorted(PERM_ORDER)


def test_the_flow_meets_every_refusal_it_is_meant_to(outputs):
    """The flow is only worth its comparison if the server really refused and granted: the
    reference run says the texts the capture says (a sample, one per kind)."""
    theirs, _ = outputs
    errors = {line for _, _, err in theirs for line in err.splitlines()}
    for text in ("root user does not exist", "user name is empty", "permission denied",
                 "authentication failed, invalid user ID or password", "user name not found",
                 "role name already exists", "permission is not granted to the role",
                 "role is not granted to the user", "invalid auth management"):
        assert f"Error: etcdserver: {text}" in errors, text
    assert (0, "Authentication Enabled\n", "") in theirs


# ---- sign-in rules, against a scripted gateway (auth_gateway.py)

def ctl(gw: ScriptedGateway, *args: str, stdin: bytes = b""):
    return subprocess.run([find_binary("etcdlabctl"), f"--endpoints={gw.endpoint}", *args],
                          input=stdin, capture_output=True, timeout=30)


def test_signs_in_once_and_sends_the_raw_token_on_every_request():
    with ScriptedGateway() as gw:
        p = ctl(gw, "--user=root:rootpw", "put", "k", "v")
        assert (p.returncode, p.stdout, p.stderr) == (0, b"OK\n", b"")
        (auth_path, auth_header, auth_body), (put_path, put_header, _) = gw.requests
        assert (auth_path, auth_header, auth_body) == (
            "/v3/auth/authenticate", None, {"name": "root", "password": "rootpw"})
        # raw, as etcd's gateway wants it: "Bearer <token>" is an invalid token there
        assert (put_path, put_header) == ("/v3/kv/put", gw.tokens[0])


@pytest.mark.parametrize("args", [
    ["lease", "keep-alive", "--once", "1"], ["lease", "grant", "5"], ["lease", "revoke", "1"],
    ["member", "list"], ["endpoint", "status"], ["user", "list"], ["role", "get", "r"],
    ["auth", "disable"], ["compaction", "1"], ["del", "k"], ["txn"], ["lock", "l", "true"],
])
def test_every_request_carries_the_token(args):
    """Whatever the command makes of the scripted answers, each request after the sign-in has
    the token (the lease keep-alive and the lock's session and keys too)."""
    with ScriptedGateway() as gw:
        ctl(gw, "--user=root:rootpw", "--command-timeout=2s", *args, stdin=b"\n\n\n")
        assert gw.paths()[0] == "/v3/auth/authenticate" and len(gw.paths()) > 1, gw.paths()
        assert {h for _, h, _ in gw.requests[1:]} == {gw.tokens[0]}


def test_no_user_sends_no_token():
    with ScriptedGateway(enabled=False) as gw:
        p = ctl(gw, "--password=x", "put", "k", "v")
        assert p.returncode == 0, p.stderr
        assert gw.requests == [("/v3/kv/put", None, gw.requests[0][2])]


@pytest.mark.parametrize("refusal", ["etcdserver: invalid auth token",
                                     "etcdserver: revision of auth store is old"])
def test_a_refused_token_is_renewed_once_and_the_request_sent_again(refusal):
    """clientv3's retry interceptor: a new token, then the same request again (the refused one
    was not applied, so a write too)."""
    with ScriptedGateway() as gw:
        gw.refuse_next(refusal)
        p = ctl(gw, "--user=root:rootpw", "put", "k", "v")
        assert (p.returncode, p.stdout, p.stderr) == (0, b"OK\n", b"")
        assert gw.paths() == ["/v3/auth/authenticate", "/v3/kv/put", "/v3/auth/authenticate",
                              "/v3/kv/put"]
        assert gw.requests[2][1] is None  # the renewal sends no (dead) token
        assert [h for _, h, _ in gw.requests[1::2]] == gw.tokens


def test_a_second_refusal_is_the_error_and_not_retried_again():
    with ScriptedGateway() as gw:
        gw.refuse_next("etcdserver: invalid auth token", "etcdserver: invalid auth token")
        p = ctl(gw, "--user=root:rootpw", "get", "k")
        assert (p.returncode, p.stdout, p.stderr) == (
            1, b"", b"Error: etcdserver: invalid auth token\n")
        assert gw.paths().count("/v3/auth/authenticate") == 2
        assert gw.paths().count("/v3/kv/range") == 2


def test_a_failed_renewal_is_the_error():
    """clientv3 3.4 returns getToken's error when a renewal fails (etcdctl 3.4.23, measured:
    the lock cases at the end of CASES)."""
    with ScriptedGateway() as gw:
        gw.refuse_next("etcdserver: invalid auth token")
        gw.refuse_next_authenticate(
            None, "etcdserver: authentication failed, invalid user ID or password")
        p = ctl(gw, "--user=root:rootpw", "put", "k", "v")
        assert (p.returncode, p.stdout, p.stderr) == (
            1, b"", b"Error: etcdserver: authentication failed, invalid user ID or password\n")
        assert gw.paths() == ["/v3/auth/authenticate", "/v3/kv/put", "/v3/auth/authenticate"]


def test_authentication_not_enabled_goes_on_without_a_token():
    with ScriptedGateway(enabled=False) as gw:
        p = ctl(gw, "--user=root:wrong", "put", "k", "v")
        assert (p.returncode, p.stdout) == (0, b"OK\n"), p.stderr
        assert [(path, h) for path, h, _ in gw.requests] == [
            ("/v3/auth/authenticate", None), ("/v3/kv/put", None)]


def test_a_refused_sign_in_is_exit_2_before_any_request():
    with ScriptedGateway() as gw:
        p = ctl(gw, "--user=root:wrong", "put", "k", "v")
        assert (p.returncode, p.stdout, p.stderr) == (
            2, b"", b"Error: etcdserver: authentication failed, invalid user ID or password\n")
        assert gw.paths() == ["/v3/auth/authenticate"]


@pytest.mark.parametrize("args,stdin,signed_in", [
    (["--user=root"], b"rootpw\n", True),         # asked for: "Password: "
    (["--user=root"], b"  rootpw \r\n", True),    # trimmed as speakeasy trims
    (["--user=root"], b"", False),                # nothing typed: no sign-in (clientv3)
    (["--user=root:"], b"", False),               # an empty password: no sign-in
    (["--user=root", "--password=rootpw"], b"", True),
    (["--user=root:x", "--password=rootpw"], b"", False),  # the whole --user is the name
])
def test_user_and_password_flags(args, stdin, signed_in):
    with ScriptedGateway(users={"root": "rootpw", "root:x": "other"}) as gw:
        p = ctl(gw, *args, "put", "k", "v", stdin=stdin)
        asked = "--password=rootpw" not in args and ":" not in args[0]
        assert p.stdout == (b"Password: \n" if asked else b"") + (b"OK\n" if signed_in else b"")
        assert p.returncode == (0 if signed_in else 2 if "root:x" in args[0] else 1), p.stderr
        authenticated = [b for path, _, b in gw.requests if path == "/v3/auth/authenticate"]
        assert bool(authenticated) == (signed_in or "root:x" in args[0])


def test_the_password_prompt_on_a_terminal_does_not_echo():
    """--user without a password on a terminal: "Password: ", the typed line not echoed (the
    terminal's echo is off while it is read, and back on after), then the sign-in with it."""
    with ScriptedGateway() as gw:
        master, slave = pty.openpty()
        p = subprocess.Popen([find_binary("etcdlabctl"), f"--endpoints={gw.endpoint}",
                              "--user=root", "put", "k", "v"], stdin=slave, stdout=slave,
                             stderr=slave, close_fds=True)
        os.close(slave)
        seen = b""

        def read_until(text: bytes):
            nonlocal seen
            while text not in seen:
                ready, _, _ = select.select([master], [], [], 10)
                assert ready, f"no {text!r} within 10 s: {seen!r}"
                try:
                    seen += os.read(master, 1024)
                except OSError:  # the other side closed
                    break

        read_until(b"Password: ")
        os.write(master, b"rootpw\n")
        read_until(b"OK")
        assert p.wait(timeout=10) == 0
        os.close(master)
        assert b"rootpw" not in seen, seen
        assert gw.requests[0][2] == {"name": "root", "password": "rootpw"}


@pytest.mark.parametrize("server", SERVERS)
def test_a_token_that_dies_during_a_long_command_is_renewed(server):
    """lock runs a command while it holds the lock; that command disables and re-enables auth,
    which kills every token (etcd 3.4, captured); the unlock and the session's revoke after it
    get "invalid auth token", sign in again and succeed: no lock key is left. (The session's
    lease stays until it expires, as etcdctl leaves it.)"""
    need_etcd()
    with start(server) as cluster:
        cluster.wait_leader()
        ep = f"--endpoints={cluster.endpoint(0)}"
        ctl_path = find_binary("etcdlabctl")
        for args in (["user", "add", "root:rootpw"], ["auth", "enable"]):
            assert subprocess.run([ctl_path, ep, *args], capture_output=True).returncode == 0
        flip = f"{ctl_path} {ep} --user=root:rootpw auth disable && {ctl_path} {ep} auth enable"
        p = subprocess.run([ctl_path, ep, "--user=root:rootpw", "lock", "lk", "--", "sh", "-c", flip],
                           capture_output=True, timeout=30)
        assert (p.returncode, p.stdout) == (
            0, b"Authentication Disabled\nAuthentication Enabled\n"), p.stderr
        c = Client([cluster.endpoint(0)], user="root", password="rootpw")
        try:
            assert c.get("lk", prefix=True).get("kvs", []) == []
        finally:
            c.close()
