#!/bin/sh
# Installs the Debian packages etcdlab needs (idempotent). Run as root, or it prints the exact
# command to run and stops. The real etcd 3.4 (etcd-server, etcd-client) is among them: the
# compatibility tests and the benchmarks run it as a peer. Its package is kept from starting
# a service on 2379/2380, where `make cluster` runs. Debian's chromium runs the browser tests
# of the cluster view. Then the npm packages the tests drive, each pinned by its
# package-lock.json (npm's registry): the etcd3 client of the compatibility tests and
# playwright-core (which drives /usr/bin/chromium; it downloads no browser).
set -eu
cd "$(dirname "$0")/.."

PACKAGES="cmake g++ ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libssl-dev libcrypt-dev openssl libgtest-dev libgmock-dev libbenchmark-dev
  libspdlog-dev libfmt-dev libcli11-dev pybind11-dev python3-dev
  python3-pytest python3-hypothesis python3-pytest-timeout python3-pytest-xdist
  python3-matplotlib python3-nbclient python3-nbformat python3-ipykernel
  clang-14 libfuzzer-14-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  python3-protobuf python3-grpcio python3-etcd3
  chromium"
ETCD_PACKAGES="etcd-server etcd-client"

missing=""
check() {
  for p in $1; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
      *"install ok installed"*) ;;
      *) missing="$missing $p" ;;
    esac
  done
}
check "$PACKAGES"
check "$ETCD_PACKAGES"
# Node and npm (the npm etcd3 client in the compatibility tests): Debian's, unless this machine
# already has them from elsewhere.
command -v npm > /dev/null 2>&1 || missing="$missing nodejs npm"

# The npm packages the tests drive, each installed beside its scripts (again only when its
# lock file changed): npm_ci DIR MODULE.
npm_ci() {
  dir=$1
  [ -d "$dir" ] || return 0
  if [ ! -d "$dir/node_modules/$2" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "deps: npm ci in $dir"
    npm ci --ignore-scripts --no-audit --no-fund --prefix "$dir" > /dev/null || return 1
    touch "$dir/node_modules"
  fi
}
node_packages() {
  npm_ci python/tests/e2e/clients/node etcd3 &&
    npm_ci python/tests/browser playwright-core
}

if [ -z "$missing" ]; then
  node_packages || exit 1
  echo "deps: all packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages:$missing"
  echo "deps: run this, then try again:"
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing"
  exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
case "$missing" in
  *etcd-server*)
    # The etcd-server package starts etcd on 2379/2380 where systemd runs. Mask the unit and
    # forbid service starts during the install, so the ports stay free for `make cluster`.
    mkdir -p /etc/systemd/system
    ln -sf /dev/null /etc/systemd/system/etcd.service
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    ;;
esac
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
node_packages
