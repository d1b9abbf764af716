"""The disk fault kinds of the nemesis, plugged into its table from disk_faults.py (a member's
data dir on a small tmpfs that is made full, and a slow-disk failpoint). They apply only when
run_nemesis is given a DiskFaults (``disks=``) whose small disks were set up before the members
started, and whose members run with failpoints (slow disk): otherwise they say "not possible"
and the round picks nothing.

What a full disk does (disk_faults.py, test_disk_full_e2e.py): the member stops at once, exit
code 2, having acknowledged nothing it did not persist; the heal frees the space and the
nemesis's heal restarts it, and it must catch up like any member that was away."""

from __future__ import annotations

from .client import EtcdError
from .nemesis import Fault, fault_kind


@fault_kind("disk-full", 1.0)
def _disk_full(nem, rng):
    if nem.disks is None:
        return None
    small = [i for i in nem.up() if i in nem.disks.disks]
    if not small:
        return None
    i = rng.choice(small)
    written = nem.disks.make_disk_full(i)
    return Fault("disk-full", f"disk of {i} full ({written >> 20} MiB filler)",
                 lambda: nem.disks.free_disk(i))


@fault_kind("slow-disk", 1.0)
def _slow_disk(nem, rng):
    if nem.disks is None:
        return None
    up = nem.up()
    leader = nem.cluster.leader()
    i = leader if leader is not None and rng.random() < 0.5 else rng.choice(up)
    ms = rng.randint(20, 300)
    try:
        nem.disks.slow_disk(i, ms)
    except (EtcdError, OSError):
        return None  # (members without failpoints, or this one just went away)

    def heal():
        try:
            if nem.cluster.running(i):
                nem.disks.slow_disk(i, 0)
        except (EtcdError, OSError):
            pass  # it stopped meanwhile: a restart starts with a fast disk
        nem.disks.slowed.discard(i)
    return Fault("slow-disk", f"every sync of {i} waits {ms} ms", heal)
