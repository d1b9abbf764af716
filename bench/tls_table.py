"""The TLS comparison of bench/compare-etcd (--tls, --only-tls): its workloads and its table.

etcdlab and etcd 3.4, three members each, first in plaintext, then with the same TLS settings
on both (https:// client and peer URLs, --client-cert-auth and --peer-client-cert-auth, one CA
made at run time with the openssl CLI by python/etcdlab/certs.py, EC P-256 keys), driven through
etcd's gRPC service etcdserverpb.KV (`etcdlab-bench put|range --protocol grpc`, with --cacert,
--cert and --key over TLS) against the leader: puts and ranges (linearizable and serializable)
with 16 and 64 clients, one HTTP/2 connection per 8 clients.

The figure each row is for: what TLS costs each server (TLS ops/s ÷ plaintext ops/s), and
etcdlab against etcd with TLS on both. etcdlab ends TLS in its own front and pumps the
plaintext to gRPC through a socketpair (server/runtime/tls_pump.h): one more copy of every
byte each way, which etcd's Go stack does not pay. Figures are reported, never asserted.
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


def tables(runs):
    """The Markdown section of the TLS runs (each run: target, tls, workload, label, result)."""
    if not runs:
        return []
    by = {(r["target"], r["tls"], r["workload"]): r["result"] for r in runs}
    labels = {}
    for r in runs:
        labels.setdefault(r["workload"], r["label"])
    lines = ["## TLS: throughput with TLS off and on (3 members, gRPC etcdserverpb.KV)", "",
             "| workload | etcd plain ops/s | etcd TLS ops/s | etcd TLS/plain | "
             "etcdlab plain ops/s | etcdlab TLS ops/s | etcdlab TLS/plain | "
             "etcdlab/etcd plain | etcdlab/etcd TLS | etcd TLS p50 ms | etcdlab TLS p50 ms | "
             "etcd TLS p99 ms | etcdlab TLS p99 ms |",
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
        for who, tls, r in (("etcd", False, ep), ("etcd", True, et), ("etcdlab", False, lp),
                            ("etcdlab", True, lt)):
            if r and r["errors"]:
                kinds = "; ".join(f"{n}× {k}" for k, n in r["errors_by_kind"].items())
                errors.append(f"- {who} {'TLS' if tls else 'plain'}, {label}: {kinds}")
    out = [*lines, "",
           "16-byte keys uniform over 10,000 (all written before the ranges), 256-byte values; "
           f"one HTTP/2 connection per {CLIENTS_PER_CONN} clients. TLS: 1.2 or later as "
           "client and server negotiate (the version is not recorded), EC P-256 certificates, "
           "client certificates required on the client and peer ports; the plaintext and TLS "
           "clusters run one after the other in the same run.", ""]
    out += (["Errors:", "", *errors, ""] if errors else ["No request failed.", ""])
    return out
