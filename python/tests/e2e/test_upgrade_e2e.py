"""Upgrades keep data: a data dir written by an earlier build (python/tests/data/upgrade/, made
by make_fixture.py there: one member, Raft snapshots and the WAL after them, overwrites and a
delete) is opened by this build, which serves what it held and takes new writes; and a data
dir this build wrote is opened again by this build."""

import glob
import json
import os
import tarfile
import tempfile

import pytest

from etcdlab.local import LocalCluster

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = sorted(glob.glob(os.path.join(HERE, "..", "data", "upgrade", "*-one-member.json")))


@pytest.mark.parametrize("fixture", FIXTURES, ids=[os.path.basename(f) for f in FIXTURES])
def test_a_data_dir_of_an_earlier_build_is_served(fixture):
    with open(fixture) as f:
        expected = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fixture.replace(".json", ".tar.gz")) as t:
            t.extractall(tmp)
        with LocalCluster(n=1, data_dir=tmp, token=expected["token"]) as c:
            c.wait_leader()
            client = c.client()
            r = client.get("/fixture/", prefix=True)
            got = {kv["key"].decode(): kv["value"].decode() for kv in r.get("kvs", [])}
            assert got == expected["keys"], f"written by {expected['commit']}"
            assert int(r["header"]["revision"]) == expected["revision"]
            client.put("/fixture/after-upgrade", "yes")
            assert client.value("/fixture/after-upgrade") == b"yes"
            client.close()
            c.restart(0)
            c.wait_leader()
            client = c.client()
            assert client.value("/fixture/key03") == b"overwritten"
            assert client.value("/fixture/after-upgrade") == b"yes"
            client.close()


def test_the_fixture_exists():
    assert FIXTURES, "python/tests/data/upgrade/ holds at least one earlier build's data dir"
