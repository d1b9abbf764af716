#!/bin/bash
# `make bench`: the benchmarks, with the command behind each figure printed first. Figures are
# reported, never asserted (see the issues' notes and docs for what they are compared with).
set -euo pipefail
cd "$(dirname "$0")/.."
run() {
  echo
  echo "\$ $*"
  "$@"
}
run build/bin/etcdlab-bench wal
run build/bin/etcdlab-bench mvcc
run build/bin/etcdlab-bench watch-catch-up --range all
run build/bin/etcdlab-bench watch-catch-up --range prefix --prev-kv --watchers 100
run build/bin/etcdlab-bench sim --seconds 60
run build/bin/etcdlab-bench sim-faults --schedules 1000 --seconds 10
run env PYTHONPATH=build/python /usr/bin/python3 python/bench/fault_schedules.py --schedules 1000
run env ETCDLAB_SOAK_SEEDS=300 build/bin/lab02-tests-reference --gtest_filter=PersistenceScenario.RandomizedSoak
echo
echo "\$ time build/bin/lab02-tests-reference   (the whole lab 2 suite, one process)"
TIMEFORMAT='lab 2 suite (reference): %R s'
time build/bin/lab02-tests-reference > /dev/null
echo
echo "etcdlab against etcd 3.4 (not run here: it takes minutes; see docs/performance.md):"
echo "  bench/compare-etcd [--quick] [--memory] [--grpc | --only-grpc] [--tls | --only-tls] [--auth | --only-auth]"
