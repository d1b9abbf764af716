#!/bin/bash
# `make cluster [OWN=1,2,3]`: builds etcdlab, starts a 3-member cluster on loopback (clients on
# 2379, 22379, 32379; peers on 2380, 22380, 32380) with the live view on (--enable-view: it is
# loopback only), prints commands to try, and stops the members cleanly on Ctrl-C. OWN runs it on your own labs (see docs/lab-map.md).
set -euo pipefail
cd "$(dirname "$0")/.."
own=${1:-}
data=${CLUSTER_DATA:-cluster-data}

tools/deps.sh
cmake --preset default -DETCDLAB_OWN_LABS="$own" > /dev/null
cmake --build --preset default --target etcdlab etcdlabctl

# Ports in use (a system etcd, or an earlier cluster): say which process holds them.
for port in 2379 2380 22379 22380 32379 32380; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    holder=$(/usr/bin/python3 tools/port_holder.py "$port" 2>/dev/null || true)
    echo "make cluster: port $port is already in use${holder:+ by $holder}." >&2
    echo "Stop it (for a system etcd: systemctl stop etcd) and try again." >&2
    exit 1
  fi
done

mkdir -p "$data"
cluster="n1=http://127.0.0.1:2380,n2=http://127.0.0.1:22380,n3=http://127.0.0.1:32380"
pids=()
for i in 1 2 3; do
  case $i in
    1) client=2379 peer=2380 ;;
    2) client=22379 peer=22380 ;;
    3) client=32379 peer=32380 ;;
  esac
  build/bin/etcdlab --name "n$i" --data-dir "$data/n$i" \
    --listen-client-urls "http://127.0.0.1:$client" \
    --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$cluster" --initial-cluster-state new \
    --initial-cluster-token etcdlab-cluster --enable-view > "$data/n$i.log" 2>&1 &
  pids+=($!)
done

stop() {
  echo
  echo "make cluster: stopping the members (SIGTERM)..."
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  echo "make cluster: stopped. Data is in $data/ (delete it for a fresh cluster)."
  exit 0
}
trap stop INT TERM

ctl="build/bin/etcdlabctl --endpoints=127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379"
for _ in $(seq 1 100); do
  if $ctl endpoint health > /dev/null 2>&1; then break; fi
  sleep 0.1
done
$ctl endpoint status -w table || true
cat <<TRY

etcdlab is running: 3 members, logs in $data/n{1,2,3}.log. Try:

  curl -L http://127.0.0.1:2379/v3/kv/put -X POST -d '{"key": "Zm9v", "value": "YmFy"}'
  curl -L http://127.0.0.1:22379/v3/kv/range -X POST -d '{"key": "Zm9v"}'
  build/bin/etcdlabctl --endpoints=127.0.0.1:2379 get foo
  build/bin/etcdlabctl --endpoints=127.0.0.1:2379 put greeting hello
  build/bin/etcdlabctl --endpoints=127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379 member list -w table
  build/bin/etcdlabctl --endpoints=127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379 endpoint status -w table

Watch it live (roles, terms, logs, members up or down; stop one member and see it):
  open http://127.0.0.1:2379/etcdlab/view/ in a browser

Press Ctrl-C to stop the cluster.
TRY
wait "${pids[@]}"
