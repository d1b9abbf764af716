#!/bin/bash
# `make labN [OWN=1,2,N] [TEST=Suite.Name]`: builds lab N's tests against the student's code in
# labs/NN-*/src (and the reference for every other lab, unless OWN lists it) and runs them. OWN
# takes lab numbers or layer names: lab 4 has two layers, and OWN=lease takes only its lessor.
set -euo pipefail
cd "$(dirname "$0")/.."
lab=$1
own=${2:-}
filter=${3:-}
nn=$(printf '%02d' "$lab")
if ! ls -d labs/${nn}-*/tests >/dev/null 2>&1; then
  echo "lab $lab has no tests yet: see $(ls -d labs/${nn}-* 2>/dev/null)/README.md"
  exit 1
fi
cmake --preset default -DETCDLAB_OWN_LABS="$own" > /dev/null
cmake --build --preset default --target "lab${nn}-tests"
args=()
if [ -n "$filter" ]; then
  case "$filter" in
    *.*|*\**) args+=("--gtest_filter=$filter") ;;
    *) args+=("--gtest_filter=*$filter*") ;;
  esac
fi
exec build/bin/lab${nn}-tests "${args[@]}"
