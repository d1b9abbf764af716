"""The servers the txn, lock and election client tests run against: a real etcd 3.4 and
etcdlab, started the same way (LocalCluster, free ports), so one test body checks both."""

import os
import shutil

import pytest

from etcdlab.local import LocalCluster

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"
SERVERS = ["etcd", "etcdlab"]


def need(path: str, what: str) -> None:
    """Under make check a missing etcd is an error, elsewhere a skip."""
    if not os.path.exists(path):
        message = f"{what} is not installed (make deps installs etcd-server and etcd-client)"
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)


def serves_txn(cluster: LocalCluster) -> bool:
    """Whether member 0 answers an empty txn; through the cluster's own client, so in its
    scheme (https:// and the test CA under ETCDLAB_TLS=1)."""
    client = cluster.client([0])
    try:
        status, _ = client.raw(cluster.endpoint(0), "POST", "/v3/kv/txn", b"{}",
                               {"Content-Type": "application/json"})
        return status == 200
    except OSError:
        return False
    finally:
        client.close()


def start(server: str, n: int = 1) -> LocalCluster:
    """A started cluster of `server` ("etcd" or "etcdlab") with a leader; the caller closes
    it. One that does not serve /v3/kv/txn is a failure, not a skip."""
    if server == "etcd":
        need(ETCD, "etcd 3.4")
    cluster = LocalCluster(n=n, binary=ETCD if server == "etcd" else None)
    cluster.start()
    try:
        cluster.wait_leader()
        if not serves_txn(cluster):
            pytest.fail(f"{server} does not serve /v3/kv/txn")
    except BaseException:
        cluster.close()
        raise
    return cluster
