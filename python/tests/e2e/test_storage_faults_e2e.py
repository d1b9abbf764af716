"""Damage a stopped member's files the way disks and crashes do, and start it again: a bit
flipped in the middle of a WAL segment or in the SQLite file, a record or entry type this
build does not know, files a crash left behind. The member must refuse damaged data at start,
naming the file and the offset, and clean up after a crash by itself."""

import os
import struct
import subprocess
import time

import pytest

from etcdlab.local import LocalCluster

from wal_bytes import entry_payload, flip_bit, member_dir, record, records, segments


def wait_exit(cluster, i: int, within: float = 20) -> int:
    try:
        return cluster.procs[i].wait(within)
    except subprocess.TimeoutExpired:
        pytest.fail(f"member {i} kept running on damaged data; log {cluster.log_path(i)}")


def log_of(cluster, i: int) -> str:
    with open(cluster.log_path(i)) as f:
        return f.read()


@pytest.fixture
def stopped():
    """A one-member cluster that wrote a few keys and was stopped cleanly."""
    with LocalCluster(n=1) as c:
        c.wait_leader()
        client = c.client()
        for i in range(20):
            client.put(f"key{i}", f"value{i}" * 10)
        client.close()
        assert c.stop(0) == 0
        yield c


def test_a_bit_flip_in_the_middle_of_a_wal_segment_stops_the_start(stopped):
    path = segments(stopped, 0)[-1]
    with open(path, "rb") as f:
        recs = records(f.read())
    assert len(recs) > 10
    at, _, length = recs[len(recs) // 2]
    flip_bit(path, at + 12 + length // 2, 3)
    stopped.start_member(0)
    assert wait_exit(stopped, 0) != 0
    log = log_of(stopped, 0)
    assert f"{path} at offset {at}" in log, log[-1500:]


def test_a_damaged_sqlite_page_stops_the_start(stopped):
    db = os.path.join(member_dir(stopped, 0), "db")
    with open(db, "rb") as f:
        head = f.read(100)
    page_size = struct.unpack(">H", head[16:18])[0] or 65536
    assert os.path.getsize(db) >= 2 * page_size
    with open(db, "r+b") as f:  # page 2's type byte: no b-tree page is of type 0xff
        f.seek(page_size)
        f.write(b"\xff")
    stopped.start_member(0)
    assert wait_exit(stopped, 0) != 0
    log = log_of(stopped, 0)
    assert f"{db} at offset {page_size}" in log and "damaged" in log, log[-1500:]


@pytest.mark.parametrize("what", ["record type", "entry type"])
def test_a_type_this_build_does_not_know_is_refused_by_name(stopped, what):
    """An entry or record type from a newer version is refused, never misread."""
    path = segments(stopped, 0)[-1]
    with open(path, "rb") as f:
        recs = records(f.read())
    end = recs[-1][0] + 12 + recs[-1][2]
    if what == "record type":
        rec = record(9, b"from the future")
    else:
        rec = record(2, entry_payload(10000, 99, 7, b"from the future"))
    with open(path, "r+b") as f:
        f.seek(end)
        f.write(rec)
    stopped.start_member(0)
    assert wait_exit(stopped, 0) != 0
    log = log_of(stopped, 0)
    words = "unknown record type 9" if what == "record type" else "unknown value of entry.type"
    assert f"{path} at offset {end}" in log and words in log, log[-1500:]


def test_files_a_crash_left_behind_are_removed_at_start(stopped):
    """Defect 5: a half-received snapshot and a snapshot download's database copy, left by a
    crash, stayed forever."""
    member = member_dir(stopped, 0)
    os.makedirs(os.path.join(member, "snap-incoming"), exist_ok=True)
    staged = os.path.join(member, "snap-incoming", "2-1.snap.part")
    copy = os.path.join(member, "snapshot-out-3.db")
    for path in (staged, copy):
        with open(path, "wb") as f:
            f.write(b"x" * 4096)
    stopped.start_member(0)
    stopped.wait_leader()
    deadline = time.monotonic() + 10
    while (os.path.exists(staged) or os.path.exists(copy)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(staged) and not os.path.exists(copy)
    client = stopped.client()
    assert client.value("key3") == b"value3" * 10
    client.close()
