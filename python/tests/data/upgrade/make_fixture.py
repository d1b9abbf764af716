#!/usr/bin/python3
"""Writes the upgrade fixture: a one-member data dir written by an older build, which
test_upgrade_e2e.py opens with this one.

    git worktree add /tmp/old <commit> && cd /tmp/old && cmake --preset default &&
    cmake --build --preset default --target etcdlab
    PYTHONPATH=build/python python/tests/data/upgrade/make_fixture.py /tmp/old/build/bin/etcdlab <commit>

It runs the old server with --snapshot-count 5 (so the data dir holds Raft snapshots and a
WAL after them), writes, overwrites and deletes keys, stops it cleanly, and stores the data dir
as <commit>-one-member.tar.gz with what a reader must find in <commit>-one-member.json."""

import json
import os
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "build",
                                "python"))
from etcdlab.local import LocalCluster  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main(binary: str, commit: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        c = LocalCluster(n=1, binary=binary, data_dir=data, snapshot_count=5,
                         token="upgrade-fixture")
        c.start()
        c.wait_leader()
        client = c.client()
        for i in range(12):
            client.put(f"/fixture/key{i:02d}", f"value {i}")
        client.put("/fixture/key03", "overwritten")
        client.delete("/fixture/key07")
        r = client.get("/fixture/", prefix=True)
        expected = {kv["key"].decode(): kv["value"].decode() for kv in r["kvs"]}
        revision = int(r["header"]["revision"])
        client.close()
        c.close(keep_data=True)
        name = f"{commit}-one-member"
        with tarfile.open(os.path.join(HERE, name + ".tar.gz"), "w:gz") as t:
            t.add(os.path.join(data, "m0"), arcname="m0")
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            json.dump({"commit": commit, "name": "m0", "token": "upgrade-fixture",
                       "revision": revision, "keys": expected}, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
