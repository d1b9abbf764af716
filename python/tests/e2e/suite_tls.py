"""What tests that open their own connections or start their own client processes use to follow
the suite's TLS mode (ETCDLAB_TLS=1, make check-tls: every LocalCluster serves clients over TLS,
and Python clients and etcdctl/etcdlabctl get the test CA and a client certificate).

- ctl_environment(): the environment for an etcdctl or etcdlabctl a test starts with settings of
  its own: none of the caller's ETCDCTL_* variables, except the TLS files (ETCDCTL_CACERT,
  ETCDCTL_CERT, ETCDCTL_KEY), so the same commands run over TLS against etcd 3.4 and etcdlab;
- http_connection(host, port, timeout): an http.client connection as etcdlab.Client would make
  one (HTTPS with the suite's CA and client certificate when it runs over TLS)."""

import http.client
import os

from etcdlab.client import Client

TLS_VARIABLES = ("ETCDCTL_CACERT", "ETCDCTL_CERT", "ETCDCTL_KEY")


def ctl_environment() -> dict:
    return {k: v for k, v in os.environ.items()
            if not k.startswith("ETCDCTL_") or k in TLS_VARIABLES}


def http_connection(host: str, port: int, timeout: float) -> http.client.HTTPConnection:
    tls = Client([f"{host}:{port}"]).ssl_context  # (no connection made: only its TLS choice)
    if tls is None:
        return http.client.HTTPConnection(host, port, timeout=timeout)
    return http.client.HTTPSConnection(host, port, timeout=timeout, context=tls)
