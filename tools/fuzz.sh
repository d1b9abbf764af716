#!/bin/bash
# `make fuzz`: builds the libFuzzer targets (fuzz/targets/, clang 14 with ASan and UBSan) into
# build-fuzz/ and runs each for FUZZ_SECONDS (default 60) seconds, from the seed corpus in
# fuzz/corpus/<target> plus what earlier runs found (build-fuzz/corpus/<target>, not kept in
# the repository). A crash is written to fuzz/regressions/<target>/ (make check replays it)
# and fails the run. FUZZ_TARGETS picks targets (default: all). FUZZ_RUNS=N runs each target
# for N executions instead of a time (the long run: FUZZ_RUNS=10000000); with FUZZ_SECONDS as
# well, a target stops at whichever comes first (a shared machine may not reach N). Prints,
# per target, the executions, the seconds and the edges covered as libFuzzer counts them.
set -uo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${FUZZ_SECONDS:-60}
RUNS=${FUZZ_RUNS:-}
if [ -n "$RUNS" ]; then
  limit=(-runs="$RUNS" -max_total_time="${FUZZ_SECONDS:-0}")
  what="$RUNS executions${FUZZ_SECONDS:+ or ${FUZZ_SECONDS}s}"
else
  limit=(-max_total_time="$SECONDS_EACH")
  what="${SECONDS_EACH}s"
fi
ALL="wal_record wal_segment snapshot_file request_codec node_snapshot_header peer_frames
     gateway_json cli_args watch_session watch_lines"
TARGETS=${FUZZ_TARGETS:-$ALL}

command -v clang++-14 > /dev/null || { echo "fuzz: clang++-14 is missing (make deps)"; exit 1; }
cmake --preset fuzz -DCMAKE_CXX_COMPILER_LAUNCHER=ccache > build-fuzz-configure.log 2>&1 ||
  { cat build-fuzz-configure.log; exit 1; }
rm -f build-fuzz-configure.log
nice cmake --build --preset fuzz --target fuzzers || exit 1

failed=0
summary=()
for t in $TARGETS; do
  work=build-fuzz/corpus/$t
  mkdir -p "$work" "fuzz/regressions/$t"
  log=build-fuzz/fuzz-$t.log
  echo "=== fuzz $t for $what (log: $log)"
  t0=$(date +%s)
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "build-fuzz/bin/fuzz-$t" "${limit[@]}" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="fuzz/regressions/$t/" "$work" "fuzz/corpus/$t" > "$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - t0 ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  counters=$(sed -nE 's/.*\(([0-9]+) inline 8-bit counters\).*/\1/p' "$log" | head -1)
  line=$(printf '%-22s %12s execs %6ss  %-22s of %s edges  %s' "$t" "${execs:-?}" "$took" \
         "${cov:-cov: ?}" "${counters:-?}" \
         "$([ $rc -eq 0 ] && echo ok || echo "FINDING (exit $rc)")")
  summary+=("$line")
  if [ $rc -ne 0 ]; then
    failed=1
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -5
  fi
done
echo
printf '%s\n' "${summary[@]}"
exit $failed
