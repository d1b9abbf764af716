#!/bin/bash
# Gradescope runs this once, as root, when it builds the autograder image: the bundle
# (grader/release --gradescope) is unpacked in /autograder/source, the instructors' repository
# in /autograder/source/etcdlab.
#
#   1. the packages the grader's build needs, for the distribution found:
#        Debian 12      tested (the project's own system)
#        Ubuntu 22.04   Gradescope's base image: written for it, NOT run on it (see the
#                       instructor guide); C++ parts only: lab 2's Python part needs Boost.URL
#                       (Boost >= 1.81), which Ubuntu 22.04 does not package
#   2. the reference compiled for this image into etcdlab/prebuilt/, then solution/ deleted:
#      submissions run here, and none can read the reference's source;
#   3. a check that the image grades: the skeleton scores 0 and the reference full marks (the
#      builds also fill the compiler cache every submission's build then reuses).
#
# For a local run (grader/tests/test_release.py): ETCDLAB_SETUP_PACKAGES=skip,
# ETCDLAB_SETUP_PREBUILT=DIR (copy that prebuilt/, made on this machine from the same commit,
# instead of compiling), ETCDLAB_SETUP_VERIFY=skip, AUTOGRADER_ROOT (default /autograder).
set -euo pipefail
root=${AUTOGRADER_ROOT:-/autograder}
source_dir=$root/source
tree=$source_dir/etcdlab
config=$source_dir/autograder.json

# shellcheck disable=SC1091
. /etc/os-release
distro="${ID:-unknown} ${VERSION_ID:-}"
python_parts=$(grep -q '"python_parts": true' "$config" && echo yes || echo no)
env_file=$source_dir/etcdlab.env
: > "$env_file"

case "$distro" in
  "debian 12")
    packages="cmake g++ ninja-build pkg-config ccache python3 libboost1.81-dev libsqlite3-dev
      libssl-dev libgtest-dev libgmock-dev libspdlog-dev libfmt-dev"
    if [ "$python_parts" = yes ]; then
      # The Python package is built with the rest of the tree (server, gRPC): what a full
      # configure finds, and what the Python tests import.
      packages="$packages libboost-json1.81-dev libboost-url1.81-dev libcli11-dev libcrypt-dev
        pybind11-dev python3-dev python3-pytest python3-hypothesis python3-pytest-timeout
        libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libbenchmark-dev
        libabsl-dev"
    fi
    ;;
  "ubuntu 22.04")
    if [ "$python_parts" = yes ]; then
      echo "setup.sh: this bundle grades a lab with a Python part (lab 2's part P), whose build" >&2
      echo "needs Boost >= 1.81 (Boost.URL, Boost.JSON), gRPC and pybind11 as Debian 12 has" >&2
      echo "them. Ubuntu 22.04 has Boost 1.74 without them. Use a Debian 12 image (Gradescope's" >&2
      echo "manual Docker configuration), or a bundle of a lab without a Python part." >&2
      exit 1
    fi
    # g++ 12 (22.04's default is 11), Boost 1.74 (enough for the tests-only build), Python
    # 3.11 for the grader (tomllib), pip for CMake >= 3.25 (22.04 has 3.22).
    packages="g++-12 ninja-build pkg-config ccache python3.11 python3-pip libboost-dev
      libsqlite3-dev libssl-dev libgtest-dev libgmock-dev libspdlog-dev libfmt-dev"
    echo "CXX=g++-12" >> "$env_file"
    echo "CC=gcc-12" >> "$env_file"
    ;;
  *)
    echo "setup.sh: $PRETTY_NAME is not a system this autograder knows. It installs packages" >&2
    echo "for Debian 12 (tested) and Ubuntu 22.04 (Gradescope's base image). The grader needs:" >&2
    echo "g++ 12, CMake >= 3.25, Ninja, Boost >= 1.74 headers, GoogleTest and GoogleMock," >&2
    echo "spdlog, fmt, SQLite 3, OpenSSL, Python >= 3.11." >&2
    exit 1
    ;;
esac
echo "setup.sh: $PRETTY_NAME; Python part: $python_parts"

if [ "${ETCDLAB_SETUP_PACKAGES:-}" != skip ]; then
  missing=""
  for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "setup.sh: installing$missing"
    apt-get update -q
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
  fi
  cmake_version=$(cmake --version 2>/dev/null | sed -n 's/^cmake version \([0-9]*\.[0-9]*\).*/\1/p')
  if [ -z "$cmake_version" ] || [ "$(printf '%s\n3.25\n' "$cmake_version" | sort -V | head -1)" != 3.25 ]; then
    echo "setup.sh: CMake ${cmake_version:-none} < 3.25: installing CMake from PyPI"
    python3 -m pip install -q 'cmake>=3.25,<4'
  fi
fi

# The grader's Python: 3.11 or newer (tomllib).
python=""
for candidate in /usr/bin/python3 /usr/bin/python3.11 python3.11 python3; do
  if command -v "$candidate" > /dev/null && "$candidate" -c 'import tomllib' 2> /dev/null; then
    python=$(command -v "$candidate")
    break
  fi
done
[ -n "$python" ] || { echo "setup.sh: no Python >= 3.11 (the grader reads TOML)" >&2; exit 1; }
echo "PYTHON=$python" >> "$env_file"

if [ -n "${ETCDLAB_SETUP_PREBUILT:-}" ]; then
  rm -rf "$tree/prebuilt"
  cp -r "$ETCDLAB_SETUP_PREBUILT" "$tree/prebuilt"
  rm -rf "$tree/solution"
  echo "setup.sh: prebuilt/ copied from $ETCDLAB_SETUP_PREBUILT; solution/ removed"
else
  set -a
  # shellcheck disable=SC1090
  . "$env_file"
  set +a
  libs=$root/build-reference
  "$python" "$tree/grader/release" --prebuild-in-place "$tree" --lib-build-dir "$libs"
  rm -rf "$libs"
fi

if [ "${ETCDLAB_SETUP_VERIFY:-}" != skip ]; then
  "$python" "$tree/grader/gradescope/autograder.py" --verify
fi
echo "setup.sh: done"
