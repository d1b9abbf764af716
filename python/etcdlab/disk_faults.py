"""Disk faults for a :class:`~etcdlab.local.LocalCluster`: a member whose data dir is a small
tmpfs that a test fills and empties when it chooses, and a slow disk.

    cluster = LocalCluster(3, failpoints=True,
                           extra_args=["--experimental-wal-segment-bytes", "1048576"])
    disks = DiskFaults(cluster)
    disks.small_disk(0, mib=16)      # before member 0 starts
    with disks, cluster:             # (the cluster stops first, then the disks go)
        disks.make_disk_full(0)      # a filler file takes every free byte of member 0's disk
        disks.free_disk(0)           # the filler goes: the space is back
        disks.slow_disk(1, 200)      # each sync of member 1's WAL and snapshots waits 200 ms
        disks.heal()                 # all of the above undone (the members keep running)

How the small disk is made. A helper process enters a private mount namespace, mounts a tmpfs
of the given size on the member's data dir there, and sleeps. The member starts inside that
namespace (``nsenter --target HELPER --mount``, put in front of its command through
``LocalCluster.launch_prefix``), and the test reaches the tmpfs through ``/proc/HELPER/root``,
the helper's view of the file system. The mount lives as long as the helper: a restarted member
finds its data; :meth:`DiskFaults.close` ends it, and since the mount was never in the host's
namespace nothing stays mounted even if the test dies.

What it needs: util-linux's ``unshare`` and ``nsenter`` (in every Debian), and either root (a
mount namespace alone: ``unshare -m``) or unprivileged user namespaces (``unshare -Urm``: the
helper is root of its own user namespace; Debian 12 allows them by default). When neither works,
:class:`DiskFaultsUnavailable` says why, and tests skip on it.

Slow disk: ``POST /etcdlab/failpoints/disk {"sync_delay_ms": N}`` on a member started with
``--enable-failpoints`` (``LocalCluster(failpoints=True)``), apart from the peer failpoints so a
partition and a slow disk do not clear each other.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess

from .client import Client, EtcdError

__all__ = ["DiskFaults", "DiskFaultsUnavailable", "SmallDisk"]


class DiskFaultsUnavailable(RuntimeError):
    """This machine cannot make a small disk for a member (the message says why)."""


class SmallDisk:
    """A tmpfs of ``mib`` MiB mounted on ``mount_point`` in a private mount namespace, held by
    a helper process. :meth:`path` is a file of it as this process reaches it."""

    def __init__(self, mount_point: str, mib: int):
        for tool in ("unshare", "nsenter"):
            if shutil.which(tool) is None:
                raise DiskFaultsUnavailable(f"{tool} (util-linux) is not installed")
        os.makedirs(mount_point, exist_ok=True)
        self.mount_point = os.path.realpath(mount_point)
        self.mib = mib
        self.root = os.geteuid() == 0
        # As root a mount namespace is enough; otherwise a user namespace makes us its root.
        flags = ["-m"] if self.root else ["-U", "-r", "-m"]
        script = 'mount -t tmpfs -o size="$1" tmpfs "$0" && echo ready && exec sleep infinity'
        self.helper = subprocess.Popen(
            ["unshare", *flags, "--propagation", "private", "sh", "-c", script,
             self.mount_point, f"{mib}m"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.helper.stdout.readline()  # "ready", or nothing once the helper has failed
        if line.strip() != "ready":
            self.helper.wait()
            why = self.helper.stderr.read().strip()
            raise DiskFaultsUnavailable(
                f"cannot mount a {mib} MiB tmpfs on {self.mount_point} in a private mount "
                f"namespace ({'root' if self.root else 'user namespaces'}): {why or 'no reason given'}")

    @property
    def prefix(self) -> list[str]:
        """What runs a command inside the helper's namespaces (the member sees the tmpfs)."""
        users = [] if self.root else ["--user", "--preserve-credentials"]
        return ["nsenter", "--target", str(self.helper.pid), *users, "--mount", "--"]

    def path(self, name: str = "") -> str:
        """``name`` inside the tmpfs, as this process reaches it."""
        return os.path.join(f"/proc/{self.helper.pid}/root{self.mount_point}", name)

    def free_bytes(self) -> int:
        st = os.statvfs(self.path())
        return st.f_bavail * st.f_frsize

    def fill(self, leave: int = 0) -> int:
        """Grows the filler file until only ``leave`` bytes are free (0: until the disk says
        ENOSPC). Returns the bytes written."""
        written = 0
        chunk = b"\0" * (1 << 20)
        with open(self.path("filler"), "ab", buffering=0) as f:
            while True:
                want = self.free_bytes() - leave
                if want <= 0:
                    break
                try:
                    written += f.write(chunk[:min(len(chunk), want)])
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
        return written

    def free(self) -> None:
        """Removes the filler: the space it took is back."""
        try:
            os.remove(self.path("filler"))
        except FileNotFoundError:
            pass

    def close(self) -> None:
        if self.helper.poll() is None:
            self.helper.kill()
        self.helper.wait()
        for f in (self.helper.stdout, self.helper.stderr):
            f.close()


class DiskFaults:
    """The disk faults of one cluster: small disks (set up before their members start), full
    and freed at chosen moments, and slow disks (members need ``failpoints=True``)."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.disks: dict[int, SmallDisk] = {}
        self.slowed: set[int] = set()

    def small_disk(self, i: int, mib: int = 16) -> SmallDisk:
        """Member i's data dir becomes a tmpfs of ``mib`` MiB. Call it before the member
        starts (a running member keeps the disk it has). Raises DiskFaultsUnavailable."""
        if self.cluster.running(i):
            raise RuntimeError(f"member {i} is running: give it a small disk before it starts")
        disk = SmallDisk(os.path.join(self.cluster.data_dir, self.cluster.names[i]), mib)
        self.disks[i] = disk
        self.cluster.launch_prefix[i] = disk.prefix
        return disk

    # ---- the faults (what a nemesis plugs in)
    def make_disk_full(self, i: int, leave: int = 0) -> int:
        """Member i's small disk is made full (``leave`` bytes free). Returns bytes written."""
        return self._disk(i).fill(leave)

    def free_disk(self, i: int) -> None:
        self._disk(i).free()

    def slow_disk(self, i: int, ms: int) -> None:
        """Every sync of member i's WAL and snapshot files waits ``ms`` first (0: none)."""
        c = Client([self.cluster.endpoint(i)], timeout=2.0)
        try:
            status, data = c.raw(self.cluster.endpoint(i), "POST", "/etcdlab/failpoints/disk",
                                 json.dumps({"sync_delay_ms": ms}).encode())
        finally:
            c.close()
        if status != 200:
            raise EtcdError(f"member {i}: disk failpoints: HTTP {status}: {data[:200]!r} (started "
                            f"with failpoints=True?)", status=status)
        if ms:
            self.slowed.add(i)
        else:
            self.slowed.discard(i)

    def heal(self) -> None:
        """Frees every small disk and makes every slowed disk fast again (members that are not
        running are skipped: a restarted member starts with a fast disk)."""
        for disk in self.disks.values():
            disk.free()
        for i in list(self.slowed):
            if self.cluster.running(i):
                self.slow_disk(i, 0)
            self.slowed.discard(i)

    # ---- lifecycle
    def __enter__(self) -> "DiskFaults":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Ends the helpers (their tmpfs go with them): stop the members first."""
        for i, disk in self.disks.items():
            disk.close()
            self.cluster.launch_prefix.pop(i, None)
        self.disks.clear()

    def _disk(self, i: int) -> SmallDisk:
        if i not in self.disks:
            raise KeyError(f"member {i} has no small disk (small_disk({i}) before it starts)")
        return self.disks[i]

