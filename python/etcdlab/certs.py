"""Certificates for TLS tests and local clusters, made at run time with the openssl CLI.

    ca = CertAuthority("/tmp/pki")                  # a fresh CA: ca.crt, ca.key
    server = ca.issue("m0")                           # serverAuth+clientAuth, SANs 127.0.0.1, localhost
    client = ca.issue("alice", server=False)          # clientAuth only: its CN is the user
    old = ca.issue("old", expired=True)               # valid in 2020 only (no clock tricks)
    server.cert, server.key, ca.cert                  # paths for --cert-file, --key-file, ...
    serving = server_context(ca.cert, server)         # ssl contexts that speak mutual TLS as a
    dialling = client_context(ca.cert, server)        # member's peer port does (both ways)

``TestPki`` is the CA of a test process's TLS clusters (LocalCluster(tls=True), ETCDLAB_TLS=1):
a client certificate (CN root), a certificate per member, ssl contexts for peer-protocol tests.

Keys are EC P-256 (quick to make; etcd 3.4's Go stack and OpenSSL both take them). Every
certificate is signed with ``openssl ca`` so its validity dates can be set in the past.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
from typing import Optional

from . import client as _client

__all__ = ["CertAuthority", "CertPair", "TestPki", "server_context", "client_context"]


@dataclasses.dataclass(frozen=True)
class CertPair:
    cert: str  # PEM certificate path
    key: str   # PEM private key path


def _openssl(*args: str, cwd: str) -> None:
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")


_CA_CONFIG = """[ ca ]
default_ca = ca_default
[ ca_default ]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/issued
serial = {dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = optional
organizationName = optional
[ req ]
distinguished_name = dn
[ dn ]
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""


class CertAuthority:
    """A CA in `directory` (created): ca.crt and ca.key, and the certificates it issues."""

    def __init__(self, directory: str, name: str = "etcdlab-test-ca") -> None:
        self.dir = os.path.abspath(directory)
        os.makedirs(os.path.join(self.dir, "issued"), exist_ok=True)
        self.cert = os.path.join(self.dir, "ca.crt")
        self.key = os.path.join(self.dir, "ca.key")
        self.config = os.path.join(self.dir, "ca.cnf")
        with open(self.config, "w") as f:
            f.write(_CA_CONFIG.format(dir=self.dir))
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("1000\n")
        _openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "3650",
                 "-subj", f"/CN={name}", "-config", self.config, "-extensions", "ca_ext",
                 cwd=self.dir)

    def issue(self, name: str, *, cn: str | None = None, server: bool = True,
              client: bool = True, hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
              expired: bool = False) -> CertPair:
        """A key and certificate `name`.crt/.key with subject CN `cn` (default: `name`; "": a
        subject with no CN, O=etcdlab-test alone). `server`/`client`: the extended key usages
        (serverAuth/clientAuth) it carries; `expired`: valid from 2020-01-01 to 2020-01-02
        only."""
        base = os.path.join(self.dir, name)
        usages = [u for u, on in (("serverAuth", server), ("clientAuth", client)) if on]
        if not usages:
            raise ValueError("a certificate needs server or client usage")
        sans = ",".join(("IP:" if _is_ip(h) else "DNS:") + h for h in hosts)
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("[ leaf ]\nbasicConstraints = CA:FALSE\n"
                    "keyUsage = critical, digitalSignature, keyEncipherment\n"
                    f"extendedKeyUsage = {', '.join(usages)}\n"
                    + (f"subjectAltName = {sans}\n" if sans else ""))
        subject = "/O=etcdlab-test" if cn == "" else f"/CN={cn or name}"
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", base + ".key", "-out", base + ".csr", "-subj", subject,
                 "-config", self.config, cwd=self.dir)
        dates = (["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"] if expired
                 else ["-days", "825"])
        _openssl("ca", "-batch", "-notext", "-config", self.config, "-cert", self.cert,
                 "-keyfile", self.key, "-in", base + ".csr", "-out", base + ".crt",
                 "-extfile", ext, "-extensions", "leaf", *dates, cwd=self.dir)
        return CertPair(cert=base + ".crt", key=base + ".key")


def _is_ip(host: str) -> bool:
    import ipaddress
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def server_context(ca: str, pair: CertPair) -> ssl.SSLContext:
    """A listener's context as a member's TLS port with client-certificate auth: serves `pair`,
    asks every client for a certificate and accepts only one that chains to `ca`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(pair.cert, pair.key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    # No TLS 1.3 session tickets: a client that only writes (a peer protocol dialler in a
    # test) never reads them, and a socket closed with unread data is reset, which loses what
    # it sent last.
    ctx.num_tickets = 0
    return ctx


def client_context(ca: str, pair: Optional[CertPair] = None) -> ssl.SSLContext:
    """A dialler's context as a member's when it dials a peer: checks the server's certificate
    against `ca` and the host it dials (pass server_hostname), presents `pair` if given."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if pair is not None:
        ctx.load_cert_chain(pair.cert, pair.key)
    return ctx


class TestPki:
    """The CA of this process's TLS clusters, its client certificates and one server certificate
    per member name (made on first use; removed at exit).

    ``client`` is what every client of the clusters presents: a certificate with no CN, so it
    names no user and tests written for plaintext keep their auth semantics over TLS (with
    --client-cert-auth a CN is the user of gRPC calls without a token; etcd 3.4's gateway
    refuses a certificate with a CN once auth is on). ``root`` has CN root, for tests of the CN
    rule. Member certificates have no CN either (issue_member gives one)."""

    __test__ = False  # (not a pytest class, though its name starts with Test)
    _shared: Optional["TestPki"] = None

    def __init__(self) -> None:
        import atexit
        self.dir = tempfile.mkdtemp(prefix="etcdlab-pki-")
        atexit.register(shutil.rmtree, self.dir, True)
        self.ca = CertAuthority(self.dir)
        self.client = self.ca.issue("client", cn="", server=False)
        self.root = self.ca.issue("client-root", cn="root", server=False)
        self._members: dict[str, CertPair] = {}
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> "TestPki":
        if cls._shared is None:
            cls._shared = cls()
            if os.environ.get("ETCDLAB_TLS") == "1":
                cls._shared.make_default()
        return cls._shared

    def make_default(self) -> None:
        """For a whole suite over TLS (ETCDLAB_TLS=1): Python clients made without TLS
        arguments, and etcdctl/etcdlabctl started from here on (ETCDCTL_CACERT, _CERT, _KEY),
        use this CA and its client certificate. Never in a mixed run: plaintext clusters'
        clients would then speak TLS."""
        _client.set_default_tls(self.ca.cert, self.client.cert, self.client.key)
        os.environ.update(ETCDCTL_CACERT=self.ca.cert, ETCDCTL_CERT=self.client.cert,
                          ETCDCTL_KEY=self.client.key)

    def member(self, name: str) -> CertPair:
        # (clusters started from several threads at once share member names: one issue each,
        # else one overwrites the other's key under its certificate)
        with self._lock:
            if name not in self._members:
                # (no CN: etcd 3.4's gateway calls its own gRPC server with the member's
                # certificate, so a CN there would be the user of its calls without a token)
                self._members[name] = self.ca.issue(f"member-{name}", cn="")
            return self._members[name]

    def issue_member(self, name: str, cn: str) -> CertPair:
        """Member `name`'s certificate made anew with subject CN `cn` (a test of
        --peer-cert-allowed-cn gives its members chosen CNs; default: member-<name>)."""
        with self._lock:
            self._members[name] = self.ca.issue(f"member-{name}", cn=cn)
            return self._members[name]

    def peer_tls(self, name: str) -> tuple:
        """(serving, dialling) ssl contexts that speak the members' peer TLS with certificate
        `name` of this CA (issued as a member's: serverAuth and clientAuth, for 127.0.0.1): for
        the link proxies and for tests that write peer frames themselves."""
        pair = self.member(name)
        return server_context(self.ca.cert, pair), client_context(self.ca.cert, pair)

    def flags(self, name: str, client_cert_auth: bool = True) -> list[str]:
        """Member `name`'s TLS flags: mutual TLS on both ports (`client_cert_auth` False: no
        --client-cert-auth, so a client certificate names no user)."""
        m = self.member(name)
        return ["--cert-file", m.cert, "--key-file", m.key, "--trusted-ca-file", self.ca.cert] + \
            (["--client-cert-auth"] if client_cert_auth else []) + \
            ["--peer-cert-file", m.cert, "--peer-key-file", m.key,
             "--peer-trusted-ca-file", self.ca.cert, "--peer-client-cert-auth"]
