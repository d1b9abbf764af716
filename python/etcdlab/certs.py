"""Certificates for TLS tests and local clusters, made at run time with the openssl CLI.

    ca = CertAuthority("/tmp/pki")                  # a fresh CA: ca.crt, ca.key
    server = ca.issue("m0")                           # serverAuth+clientAuth, SANs 127.0.0.1, localhost
    client = ca.issue("alice", server=False)          # clientAuth only: its CN is the user
    old = ca.issue("old", expired=True)               # valid in 2020 only (no clock tricks)
    server.cert, server.key, ca.cert                  # paths for --cert-file, --key-file, ...

Keys are EC P-256 (quick to make; etcd 3.4's Go stack and OpenSSL both take them). Every
certificate is signed with ``openssl ca`` so its validity dates can be set in the past.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess

__all__ = ["CertAuthority", "CertPair"]


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
commonName = supplied
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
        """A key and certificate `name`.crt/.key with subject CN `cn` (default: `name`).
        `server`/`client`: the extended key usages (serverAuth/clientAuth) it carries;
        `expired`: valid from 2020-01-01 to 2020-01-02 only."""
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
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", base + ".key", "-out", base + ".csr", "-subj", f"/CN={cn or name}",
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
