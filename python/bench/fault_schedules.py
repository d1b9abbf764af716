#!/usr/bin/python3
"""Benchmark: N random fault schedules of a 5-node simulated cluster, each `--seconds` of
virtual time, every invariant checked after every event. Prints the wall time (a figure, not
a pass/fail). Run from the repository root:

    PYTHONPATH=build/python /usr/bin/python3 python/bench/fault_schedules.py --schedules 1000
"""

import argparse
import random
import sys
import time

import etcdlab


def one_schedule(seed: int, seconds: float) -> int:
    rng = random.Random(seed)
    c = etcdlab.Cluster(n=5, seed=seed)
    while c.now_ms < seconds * 1000:
        node = rng.randrange(5)
        action = rng.randrange(8)
        if action == 0:
            c.crash(node)
        elif action == 1:
            c.restart(node)
        elif action == 2:
            c.isolate(node)
        elif action == 3:
            c.heal()
        elif action == 4:
            c.network(drop=0.1, delay_ms=(1, 26))
        elif action == 5:
            c.network()
        for k in range(3):
            c.propose(b"f%d" % k)
        c.run(rng.uniform(100, 1000))
    return c.events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    start = time.perf_counter()
    events = 0
    for seed in range(1, args.schedules + 1):
        events += one_schedule(seed, args.seconds)
    elapsed = time.perf_counter() - start
    print(f"{args.schedules} random fault schedules x {args.seconds:g} virtual s "
          f"(5 nodes, invariants on, driven from Python): {elapsed:.1f} s wall, "
          f"{events / elapsed:,.0f} events/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
