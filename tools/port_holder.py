#!/usr/bin/python3
"""Prints which process listens on a TCP port (for make cluster's message), from /proc."""
import os
import sys


def inodes_listening(port):
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.split(":")[1], 16) == port:
                found.add(inode)
    return found


def main():
    port = int(sys.argv[1])
    inodes = inodes_listening(port)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    cmd = open(f"/proc/{pid}/cmdline").read().replace("\0", " ").strip()
                    print(f"pid {pid} ({cmd})")
                    return 0
        except OSError:
            continue
    return 1


if __name__ == "__main__":
    sys.exit(main())
