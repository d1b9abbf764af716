#!/bin/bash
# Records the trace hash of every simulated cluster the lab 2 tests build, for seeds FROM..TO,
# into OUT (one line per cluster: seed, events, hash, in test order). Two builds that give the
# same file run the plain-log simulator identically.
#
#   tools/trace_hashes.sh OUT [FROM TO] [BINARY]
# e.g. tools/trace_hashes.sh /tmp/before.txt 1 200 && ... && diff /tmp/before.txt /tmp/after.txt
set -euo pipefail
out=$1
from=${2:-1}
to=${3:-200}
bin=${4:-build/bin/lab02-tests-reference}
: > "$out"
for seed in $(seq "$from" "$to"); do
  echo "# seed $seed" >> "$out"
  ETCDLAB_SEED=$seed ETCDLAB_TRACE_HASH_FILE="$out" "$bin" --gtest_brief=1 > /dev/null ||
    { echo "trace_hashes: $bin failed with ETCDLAB_SEED=$seed" >&2; exit 1; }
done
echo "trace_hashes: $(grep -vc '^#' "$out") clusters, seeds $from..$to, in $out"
