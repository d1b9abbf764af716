#!/bin/bash
# `make check` in a student release: the build and the tests of what is provided, against the
# reference libraries (prebuilt/). Your own lab's tests are `make labN`. Prints how long each
# phase took.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

PY=/usr/bin/python3
started=$(date +%s)

phase() {  # phase NAME COMMAND...
  local name=$1
  shift
  echo
  echo "=== $name: $*"
  local t0
  t0=$(date +%s)
  if ! "$@"; then
    echo "=== $name FAILED after $(( $(date +%s) - t0 ))s"
    exit 1
  fi
  echo "=== $name: $(( $(date +%s) - t0 ))s"
}

python_tests() {
  PYTHONPATH=build/python $PY -m pytest -q -p no:cacheprovider python/tests
}
notebooks() {
  PYTHONPATH=build/python $PY python/notebooks/run_notebooks.py
}

phase deps tools/deps.sh
phase configure cmake --preset default -DETCDLAB_OWN_LABS=
phase build cmake --build --preset default
phase "tests (ctest)" ctest --preset default
phase "python tests" python_tests
[ -f python/notebooks/run_notebooks.py ] && phase notebooks notebooks
echo
echo "make check: all phases passed in $(( $(date +%s) - started ))s"
