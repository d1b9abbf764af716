"""Tests against real etcdlab processes on loopback. They poll with deadlines (no fixed
sleeps) and run one cluster at a time. They need build/bin/etcdlab (make builds it)."""

import os
import pathlib
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))

from etcdlab.local import LocalCluster, find_binary  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Without a built server the e2e tests are skipped, except under make check
    (ETCDLAB_E2E_REQUIRED=1), where a missing binary is an error rather than a quiet pass.
    The hook sees the whole session's items: only those in this folder are touched."""
    here = pathlib.Path(__file__).resolve().parent
    ours = [item for item in items if here in pathlib.Path(str(item.fspath)).resolve().parents]
    if not ours:
        return
    try:
        find_binary()
    except FileNotFoundError as e:
        if os.environ.get("ETCDLAB_E2E_REQUIRED") == "1":
            raise pytest.UsageError(f"e2e tests need the server: {e}") from e
        skip = pytest.mark.skip(reason="build/bin/etcdlab is not built")
        for item in ours:
            item.add_marker(skip)


@pytest.fixture
def cluster():
    with LocalCluster(n=3) as c:
        c.wait_leader()
        yield c


@pytest.fixture
def single():
    with LocalCluster(n=1) as c:
        c.wait_leader()
        yield c
