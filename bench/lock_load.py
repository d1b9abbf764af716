#!/usr/bin/python3
"""Lock acquire/release cycles under contention, for bench/compare-etcd (etcd 3.4 and
etcdlab alike, through the v3 JSON gateway's lock service).

Each of --clients contenders grants itself a lease (its session, before the run), then loops:
POST /v3/lock/lock {name, lease} (which answers once it holds the lock), POST /v3/lock/unlock
{key}. Every contender uses the same lock name, so at most one holds it at a time and each
release hands it to the next waiter: a cycle costs a few Raft rounds, a watch event and reads.
One cycle (lock answered + unlock answered) is one operation; its latency runs from the lock
request to the unlock answer (waiting included). Prints etcdlab-bench's JSON shape on the last
line with --json.

  bench/lock_load.py --endpoints 127.0.0.1:2379 --clients 16 --duration 10 --json
"""

import argparse
import base64
import http.client
import json
import threading
import time


def b64(s):
    return base64.b64encode(s.encode()).decode()


class Contender(threading.Thread):
    def __init__(self, host, port, name, stop_at, start_at, timeout):
        super().__init__(daemon=True)
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)
        self.name, self.stop_at, self.start_at = name, stop_at, start_at
        self.latencies, self.errors = [], {}

    def post(self, path, body):
        self.conn.request("POST", path, body=json.dumps(body),
                          headers={"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        data = json.loads(resp.read())
        if resp.status != 200:
            raise RuntimeError(data.get("error", f"HTTP {resp.status}"))
        return data

    def grant(self):
        self.lease = int(self.post("/v3/lease/grant", {"TTL": 600})["ID"])

    def run(self):
        while time.monotonic() < self.stop_at:
            t0 = time.monotonic()
            try:
                key = self.post("/v3/lock/lock", {"name": b64(self.name), "lease": self.lease})["key"]
                self.post("/v3/lock/unlock", {"key": key})
            except Exception as e:  # counted, then the contender carries on
                kind = str(e)[:80]
                self.errors[kind] = self.errors.get(kind, 0) + 1
                self.conn.close()
                continue
            if t0 >= self.start_at:
                self.latencies.append(time.monotonic() - t0)

    def revoke(self):
        try:
            self.post("/v3/lease/revoke", {"ID": self.lease})
        except Exception:
            pass


def percentile(sorted_ms, p):
    if not sorted_ms:
        return 0.0
    return sorted_ms[min(len(sorted_ms) - 1, int(p / 100 * len(sorted_ms)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoints", required=True, help="host:port of one member")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--name", default="bench-lock")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    host, port = args.endpoints.split(",")[0].rsplit(":", 1)
    now = time.monotonic()
    start_at = now + args.warmup
    stop_at = start_at + args.duration
    contenders = [Contender(host, int(port), args.name, stop_at, start_at, args.timeout)
                  for _ in range(args.clients)]
    for c in contenders:
        c.grant()
    for c in contenders:
        c.start()
    for c in contenders:
        c.join(timeout=args.timeout + args.duration + args.warmup)
    for c in contenders:
        c.revoke()
    lat = sorted(x * 1000 for c in contenders for x in c.latencies)
    errors = {}
    for c in contenders:
        for k, n in c.errors.items():
            errors[k] = errors.get(k, 0) + n
    result = {"workload": "lock-cycles", "clients": args.clients, "ok": len(lat),
              "errors": sum(errors.values()), "errors_by_kind": errors,
              "ops_per_s": len(lat) / args.duration,
              "latency_ms": {p: round(percentile(lat, q), 3) for p, q in
                             (("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9))}}
    result["latency_ms"]["max"] = round(lat[-1], 3) if lat else 0.0
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['ops_per_s']:.1f} lock cycles/s, p50 {result['latency_ms']['p50']} ms, "
              f"p99 {result['latency_ms']['p99']} ms, {result['errors']} errors")


if __name__ == "__main__":
    main()
