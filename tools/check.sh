#!/bin/bash
# `make check`: dependencies, the build (warnings are errors), every test (C++ under the default
# and the asan presets, Python), and the grader's self-check. Prints how long each phase took.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
declare -a PHASES=() TIMES=()
started=$(date +%s)

phase() {  # phase NAME COMMAND...
  local name=$1
  shift
  echo
  echo "=== $name: $*"
  local t0
  t0=$(date +%s)
  "$@"
  local rc=$?
  local dt=$(( $(date +%s) - t0 ))
  PHASES+=("$name")
  TIMES+=("$dt")
  if [ $rc -ne 0 ]; then
    echo "=== $name FAILED (exit $rc) after ${dt}s"
    summary
    exit $rc
  fi
}

summary() {
  echo
  echo "phase                      seconds"
  for i in "${!PHASES[@]}"; do
    printf '%-26s %7s\n' "${PHASES[$i]}" "${TIMES[$i]}"
  done
  printf '%-26s %7s\n' "total" "$(( $(date +%s) - started ))"
}

configure_default() {
  cmake --preset default -DETCDLAB_WERROR=ON -DETCDLAB_OWN_LABS= > build-configure.log 2>&1 ||
    { cat build-configure.log; return 1; }
}
configure_asan() {
  cmake --preset asan -DETCDLAB_WERROR=ON > build-asan-configure.log 2>&1 ||
    { cat build-asan-configure.log; return 1; }
}
python_tests() {
  local dirs=(grader/tests tools/tests)
  [ -d python/tests ] && dirs+=(python/tests)
  # e2e tests need the server and etcd 3.4: under make check their absence is an error.
  ETCDLAB_E2E_REQUIRED=1 PYTHONPATH=build/python $PY -m pytest -q -p no:cacheprovider \
    --ignore=python/tests/browser "${dirs[@]}"
}
# The cluster view in chromium (python/tests/browser), a phase of its own so that its time
# shows in the summary; chromium and playwright-core missing is an error here too.
browser_tests() {
  ETCDLAB_E2E_REQUIRED=1 PYTHONPATH=build/python $PY -m pytest -q -p no:cacheprovider \
    python/tests/browser
}
notebooks() {
  PYTHONPATH=build/python $PY python/notebooks/run_notebooks.py
}

phase deps tools/deps.sh
phase configure configure_default
phase build cmake --build --preset default
phase "tests (ctest -j2)" ctest --preset default
phase "asan configure" configure_asan
phase "asan build" cmake --build --preset asan
phase "asan tests" ctest --preset asan
phase "python tests" python_tests
[ -d python/tests/browser ] && phase "browser tests" browser_tests
[ -f python/notebooks/run_notebooks.py ] && phase "notebooks" notebooks
phase "grader self-check" $PY grader/grade --self-check --quiet
summary
rm -f build-configure.log build-asan-configure.log
echo "make check: all phases passed"
