"""The on/off tables of bench/compare-etcd (--tls and --auth): their workloads and their table.

etcdlab and etcd 3.4, three members each, first with a feature off, then with it on with the
same settings on both, driven through etcd's gRPC service etcdserverpb.KV (`etcdlab-bench
put|range --protocol grpc`) against the leader: puts and ranges (linearizable and serializable)
with 16 and 64 clients, one HTTP/2 connection per 8 clients. Each row gives what the feature
costs each server (on ops/s ÷ off ops/s) and etcdlab against etcd with it on on both. Figures
are reported, never asserted.

TLS (--tls): https:// client and peer URLs, --client-cert-auth and --peer-client-cert-auth,
one CA made at run time with the openssl CLI by python/etcdlab/certs.py, EC P-256 keys; the
load tool dials with --cacert, --cert and --key. etcdlab ends TLS in its own front and pumps
the plaintext to gRPC through a socketpair (server/runtime/tls_pump.h): one more copy of every
byte each way, which etcd's Go stack does not pay.

Auth (--auth): users root and bench (role bench: READWRITE on the prefix every benchmark key
has), simple tokens, the same --bcrypt-cost on both, `auth enable`; the load tool runs as bench
(--user), signing in once per channel before the run, and sends the token with every request.
"""

from grpc_table import CLIENTS_PER_CONN, conns_for

CLIENTS = (16, 64)


def _load(kind, clients, common, extra=()):
    return [kind, "--protocol", "grpc", *extra, *common, "--clients", str(clients), "--conns",
            str(conns_for(clients))]


def workloads(timing, key_size, key_space, val_size):
    """(id, label, etcdlab-bench args) in run order; "fill" writes every key before the ranges."""
    common = ["--key-size", str(key_size), "--key-space", str(key_space), *timing]
    out = [(f"put-{c}", f"put, {c} clients", _load("put", c, common, ["--val-size", str(val_size)]))
           for c in CLIENTS]
    out.append(("fill", None, ["put", "--protocol", "grpc", "--val-size", str(val_size),
                               "--key-size", str(key_size), "--key-space", str(key_space),
                               "--sequential-keys", "--total", str(key_space), "--clients", "64",
                               "--conns", str(conns_for(64))]))
    for consistency, name in (("l", "linearizable"), ("s", "serializable")):
        for c in CLIENTS:
            out.append((f"range-{consistency}-{c}", f"range ({name}), {c} clients",
                        _load("range", c, common, ["--consistency", consistency])))
    return out


def _ops(r):
    return f"{r['ops_per_s']:,.0f}" if r else "—"


def _ratio(a, b):
    if not a or not b or not b["ops_per_s"]:
        return "—"
    return f"{a['ops_per_s'] / b['ops_per_s']:.2f}×"


TLS = {"key": "tls", "name": "TLS",
       "heading": "## TLS: throughput with TLS off and on (3 members, gRPC etcdserverpb.KV)",
       "note": "TLS: 1.2 or later as client and server negotiate (the version is not recorded), "
               "EC P-256 certificates, client certificates required on the client and peer "
               "ports; the plaintext and TLS clusters run one after the other in the same run."}

AUTH = {"key": "auth", "name": "auth",
        "heading": "## Auth: throughput with auth off and on (3 members, gRPC etcdserverpb.KV)",
        "note": "Auth: simple tokens, users root and bench, the load runs as bench (READWRITE on "
                "the benchmark's key prefix), signed in once per HTTP/2 connection before the "
                "run; the clusters without and with auth run one after the other in the same "
                "run."}


def tables(runs, feature):
    """The Markdown section of one feature's runs (TLS or AUTH; each run: target, the
    feature's key (on or off), workload, label, result)."""
    if not runs:
        return []
    key, name = feature["key"], feature["name"]
    by = {(r["target"], r[key], r["workload"]): r["result"] for r in runs}
    labels = {}
    for r in runs:
        labels.setdefault(r["workload"], r["label"])
    lines = [feature["heading"], "",
             f"| workload | etcd plain ops/s | etcd {name} ops/s | etcd {name}/plain | "
             f"etcdlab plain ops/s | etcdlab {name} ops/s | etcdlab {name}/plain | "
             f"etcdlab/etcd plain | etcdlab/etcd {name} | etcd {name} p50 ms | "
             f"etcdlab {name} p50 ms | etcd {name} p99 ms | etcdlab {name} p99 ms |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    errors = []
    for wid, label in labels.items():
        ep, et = by.get(("etcd", False, wid)), by.get(("etcd", True, wid))
        lp, lt = by.get(("etcdlab", False, wid)), by.get(("etcdlab", True, wid))

        def ms(r, q):
            return f"{r['latency_ms'][q]:.2f}" if r else "—"

        lines.append(f"| {label} | {_ops(ep)} | {_ops(et)} | {_ratio(et, ep)} | {_ops(lp)} | "
                     f"{_ops(lt)} | {_ratio(lt, lp)} | {_ratio(lp, ep)} | {_ratio(lt, et)} | "
                     f"{ms(et, 'p50')} | {ms(lt, 'p50')} | {ms(et, 'p99')} | {ms(lt, 'p99')} |")
        for who, on, r in (("etcd", False, ep), ("etcd", True, et), ("etcdlab", False, lp),
                           ("etcdlab", True, lt)):
            if r and r["errors"]:
                kinds = "; ".join(f"{n}× {k}" for k, n in r["errors_by_kind"].items())
                errors.append(f"- {who} {name if on else 'plain'}, {label}: {kinds}")
    out = [*lines, "",
           "16-byte keys uniform over 10,000 (all written before the ranges), 256-byte values; "
           f"one HTTP/2 connection per {CLIENTS_PER_CONN} clients. " + feature["note"], ""]
    out += (["Errors:", "", *errors, ""] if errors else ["No request failed.", ""])
    return out
