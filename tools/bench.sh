#!/bin/bash
# `make bench`: the benchmarks, with the command behind each figure printed first.
set -euo pipefail
cd "$(dirname "$0")/.."
run() {
  echo
  echo "\$ $*"
  "$@"
}
run build/bin/etcdlab-bench wal
