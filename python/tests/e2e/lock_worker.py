"""One locker process for test_lock_faults_e2e.py: takes the lock `rounds` times with
etcdlab's Client.lock and, each time, writes its fencing token to the test's resource (a TCP
line server: "write <client> <token>" -> "ok" or "refused"). It prints one JSON line per hold
(stdout), with times on time.monotonic() (one clock for every process of the machine):

    {"event": "acquired", "client", "token", "time"}   as soon as it holds the lock
    {"event": "hold", "client", "token", "key", "acquired", "released", "expired",
     "acquired_revision", "writes": ["ok" | "refused", ...]}

`expired` is null if the lease was alive when the hold ended (asked of the server before the
release: a lease never comes back, so it was alive all along), else the last time it was
certainly alive (the sending of its last answered keep-alive). With --gate, the first hold
waits for a line on stdin before writing: the test pauses the process (SIGSTOP) there, as a GC
pause would, and lets it go on once the lock has passed to someone else."""

import argparse
import json
import os
import socket
import sys
import time

from etcdlab.client import Client, EtcdError
from etcdlab.concurrency import SessionExpired


def say(**record) -> None:
    print(json.dumps(record), flush=True)


def write(resource: int, client: str, token: int) -> str:
    with socket.create_connection(("127.0.0.1", resource), timeout=10) as s:
        s.sendall(f"write {client} {token}\n".encode())
        return s.makefile().readline().strip()


def lease_alive(client: Client, lease: int) -> bool:
    while True:
        try:
            return client.lease_time_to_live(lease).get("TTL", 0) != -1
        except EtcdError:  # members down: ask again (the question is harmless)
            time.sleep(0.1)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--endpoints", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--client", required=True)
    p.add_argument("--resource", type=int, required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--ttl", type=int, default=2)
    p.add_argument("--hold", type=float, default=0.05)
    p.add_argument("--gate", action="store_true")
    a = p.parse_args()
    # A cluster over TLS (ETCDLAB_TLS=1): the suite's CA and client certificate, which the
    # test process exports for etcdctl (LocalCluster's TestPki.make_default).
    tls = {k: os.environ[v] for k, v in (("ca", "ETCDCTL_CACERT"), ("cert", "ETCDCTL_CERT"),
                                         ("key", "ETCDCTL_KEY")) if os.environ.get(v)}
    client = Client(a.endpoints.split(","), timeout=2.0, **tls)
    done = 0
    while done < a.rounds:
        lock = client.lock(a.name, ttl_s=a.ttl)
        try:
            lock.acquire()
        except SessionExpired:  # the session died while waiting (members down): queue again
            lock.close()
            continue
        acquired = time.monotonic()
        say(event="acquired", client=a.client, token=lock.token, time=acquired)
        if a.gate and done == 0:
            sys.stdin.readline()  # paused here by the test
        outcomes = [write(a.resource, a.client, lock.token)]
        time.sleep(a.hold)  # work while holding the lock (not synchronisation)
        outcomes.append(write(a.resource, a.client, lock.token))
        alive = lease_alive(client, lock.session.lease)
        expired = None if alive else lock.session.last_alive_s
        released = time.monotonic()
        record = dict(event="hold", client=a.client, token=lock.token, key=lock.key.decode(),
                      acquired=acquired, released=released, expired=expired,
                      acquired_revision=lock.revision, writes=outcomes)
        lock.release()
        say(**record)
        done += 1
    client.close()


if __name__ == "__main__":
    main()
