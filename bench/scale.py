#!/usr/bin/python3
"""bench/scale.py: how etcdlab's and etcd 3.4's costs grow with the data (issue 24, item 4).

For each size N (default 100,000, 1,000,000 and 5,000,000 keys) and each store, one cluster up
at a time: start 3 members on loopback with compare-etcd's settings (bench/compare-etcd's
Cluster: heartbeat 100 ms, election 1000 ms) and an 8 GiB backend quota on both stores, then

  load      N distinct keys of 16 B with 256-byte values, 64 clients (etcdlab-bench put), in
            two runs: the first 90% of the keys, then the last 10% alone, whose puts/s and p99
            are "at the end of the load" (--key-offset: the second run writes fresh keys);
  ranges    linearizable ranges of 1 key and of 1,000 consecutive keys (--range-keys), 16
            clients, a few seconds each, p50 and p99;
  footprint RSS and data-dir size (allocated bytes, as du counts them) of every member;
  snapshot  `etcdctl snapshot save` from the leader (etcd's own etcdctl against both stores);
  restart   a follower stopped (SIGTERM) and started again: seconds from the process start to
            its first answered linearizable range;
  catch-up  a 4th member added (member add, then started with an empty data dir and
            --initial-cluster-state existing): seconds from its process start until its
            revision equals the leader's, and whether it got there by a snapshot (its log);
            it is then removed, so the cluster is 3 members again;
  compaction min(N, 1,000,000) keys overwritten (64 clients), then a physical compaction at the
            head revision, which removes the overwritten revisions, while a steady load of 1,000
            puts/s (16 clients) runs: how long the compaction took and the puts' latency in the
            seconds it ran, beside the seconds before it.

Then it stops the cluster and deletes its data. The table puts both stores side by side per
size, and per figure how it grows with N (bench/scale_report.py): the ratio between sizes and
its exponent, labelled flat, sublinear, linear or worse than linear; a store whose figure grows
faster than the other's is marked.

Outputs: <out>.json (every measurement) and <out>.md (the table); --out defaults to
bench/results/<date>-<host>-scale. Ports 23000-23999. Figures are reported, never asserted.

  bench/scale.py                          # 100k, 1M, 5M keys (hours; 2 cores: start it at night)
  bench/scale.py --sizes 20000,50000      # a quick look, a few minutes
  bench/scale.py --sizes 2000 --short     # the smallest path (python/tests/test_bench_scale.py)
  bench/scale.py --report bench/results/<stem>.json   # rewrites <stem>.md from the stored run
"""

import argparse
import base64
import datetime
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
from pathlib import Path

import scale_report
import sustained

BENCH = Path(__file__).resolve().parent
KEY_SIZE, VAL_SIZE = 16, 256
QUOTA_BYTES = 8 * 2**30
LOAD_CLIENTS, TAIL_SHARE = 64, 0.1
RANGE_CLIENTS, WIDE_RANGE = 16, 1000
COMPACT_MAX = 1_000_000
STEADY_RATE, STEADY_CLIENTS = 1000, 16
DEFAULT_SIZES = "100000,1000000,5000000"
# What a member logs once it has installed a snapshot from the leader (catch-up by snapshot),
# with the log's timestamp (local time; bench/sustained.py reads the same stamps).
SNAPSHOT_INSTALLED = {
    "etcd": re.compile(sustained.STAMP + r".*etcdserver: finished applying incoming snapshot"),
    "etcdlab": re.compile(sustained.STAMP + r".*: installed snapshot \d+ from the leader")}


def load_compare_etcd():
    """bench/compare-etcd as a module (it has no .py name): its Cluster, process bookkeeping,
    load runner and machine note are what this script builds on."""
    sys.path.insert(0, str(BENCH))
    loader = importlib.machinery.SourceFileLoader("compare_etcd", str(BENCH / "compare-etcd"))
    spec = importlib.util.spec_from_loader("compare_etcd", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    # Its own port range, so a scale run and a compare-etcd run on one machine do not race.
    module.PORT_LO, module.PORT_HI = 23000, 23999
    return module


ce = load_compare_etcd()


def say(msg):
    print(f"scale: {msg}", file=sys.stderr, flush=True)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def key(k):
    return str(k).zfill(KEY_SIZE)  # as etcdlab-bench writes key k (request_source.h)


def status(port, timeout=2.0):
    return ce.post(port, "/v3/maintenance/status", timeout=timeout)


def latency(r):
    lat = r["latency_ms"]
    return {"ops_per_s": r["ops_per_s"], "p50_ms": lat["p50"], "p99_ms": lat["p99"],
            "max_ms": lat["max"], "errors": r["errors"]}


def put_args(first, count, clients=LOAD_CLIENTS):
    return ["put", "--val-size", str(VAL_SIZE), "--key-size", str(KEY_SIZE), "--key-space",
            str(count), "--key-offset", str(first), "--sequential-keys", "--total", str(count),
            "--clients", str(clients)]


# ---------------------------------------------------------------- the measurements

def load(cluster, n):
    """N distinct keys in two runs; the second (the last 10%) is the end of the load."""
    tail = max(1, int(n * TAIL_SHARE))
    t0 = time.monotonic()
    head = ce.bench(cluster, put_args(0, n - tail)) if n > tail else None
    end = ce.bench(cluster, put_args(n - tail, tail))
    seconds = time.monotonic() - t0
    errors = (head["errors"] if head else 0) + end["errors"]
    out = {"keys": n, "keys_present": count(cluster, 0, n - 1), "seconds": round(seconds, 2),
           "puts_per_s_whole": round(n / seconds),
           "tail_keys": tail, "tail": latency(end), "errors": errors,
           "cpu_percent_tail": end.get("cpu_percent")}
    say(f"  loaded {n:,} keys in {seconds:.1f} s; last {tail:,}: {end['ops_per_s']:,.0f} puts/s, "
        f"p99 {end['latency_ms']['p99']:.1f} ms" + (f"; {errors} errors" if errors else ""))
    return out


def count(cluster, first, last):
    """How many keys [key(first), key(last)] holds, asked of the leader (count_only)."""
    body = json.dumps({"key": b64(key(first)), "range_end": b64(key(last) + "\0"),
                       "count_only": True})
    return int(ce.post(cluster.leader[1], "/v3/kv/range", body, timeout=300).get("count", 0))


def ranges(cluster, n, seconds):
    out = {}
    for width in (1, min(WIDE_RANGE, n)):
        r = ce.bench(cluster, ["range", "--consistency", "l", "--key-size", str(KEY_SIZE),
                               "--key-space", str(n), "--range-keys", str(width), "--clients",
                               str(RANGE_CLIENTS), "--duration", str(seconds), "--warmup", "0.5"])
        # what one such range reads (the load tool does not look into the answers)
        out[f"keys_{width}" if width == 1 else "keys_wide"] = dict(
            latency(r), keys=width, keys_read=count(cluster, 0, width - 1))
        say(f"  range of {width} key(s): {r['ops_per_s']:,.0f}/s, p50 "
            f"{r['latency_ms']['p50']:.2f} ms, p99 {r['latency_ms']['p99']:.2f} ms")
    return out


def dir_bytes(path):
    """Allocated bytes under `path` (st_blocks, as du counts them: preallocated WAL files
    count whole, sparse holes do not)."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return total


def footprint(cluster):
    time.sleep(1)  # let a member that is still applying the last puts settle
    out = {}
    for name, _, p in cluster.members:
        out[name] = {"role": "leader" if name == cluster.leader[0] else "follower",
                     "rss_mib": round(ce.vm_rss_kib(p.pid) / 1024, 1),
                     "disk_mib": round(dir_bytes(cluster.dir / name) / 2**20, 1)}
    say("  footprint: " + ", ".join(f"{n} RSS {m['rss_mib']:.0f} MiB, disk {m['disk_mib']:.0f} MiB"
                                    for n, m in out.items()))
    return out


def snapshot_save(cluster, workdir):
    """etcd's etcdctl (3.4) against either store: `snapshot save` from the leader."""
    path = Path(workdir) / f"snapshot-{cluster.kind}.db"
    cmd = ["/usr/bin/etcdctl", "--endpoints", f"127.0.0.1:{cluster.leader[1]}",
           "--command-timeout", "600s", "snapshot", "save", str(path)]
    t0 = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ,
                                                                        ETCDCTL_API="3"))
    seconds = time.monotonic() - t0
    out = {"tool": "etcdctl 3.4", "ok": done.returncode == 0, "seconds": round(seconds, 3),
           "mib": round(path.stat().st_size / 2**20, 1) if path.exists() else None}
    if not out["ok"]:
        out["error"] = (done.stderr or done.stdout).strip()[-300:]
        say(f"  snapshot save failed: {out['error']}")
    else:
        say(f"  snapshot save: {seconds:.2f} s, {out['mib']} MiB")
    path.unlink(missing_ok=True)
    return out


def wait_for(what, check, timeout, procs=()):
    """Polls check() every 20 ms until it returns true (OSError, ValueError and KeyError count
    as not yet); stops the run if one of `procs` exits or `timeout` seconds pass. The caller
    times it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise SystemExit(f"scale: {what}: the process exited ({p.returncode})")
        try:
            if check():
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.02)
    raise SystemExit(f"scale: {what}: not done in {timeout:.0f} s")


def restart_follower(cluster):
    """A follower stopped with SIGTERM and started again: process start to its first answered
    linearizable range (which needs the leader's read index, so it is back in the cluster)."""
    i, (name, port, p) = next((i, m) for i, m in enumerate(cluster.members)
                              if m is not cluster.leader)
    ce.PROCS.stop([p])
    body = json.dumps({"key": b64(key(0))})
    t0 = time.monotonic()
    q = ce.PROCS.start(p.args, cluster.dir / f"{name}-restart.log")
    cluster.members[i] = (name, port, q)
    wait_for(f"{cluster.kind} {name} restart",
             lambda: "header" in ce.post(port, "/v3/kv/range", body, timeout=1.0), 1800, [q])
    seconds = time.monotonic() - t0
    cluster.leader = cluster.find_leader()
    say(f"  restart of follower {name}: {seconds:.2f} s to a linearizable read")
    return {"member": name, "seconds": round(seconds, 3)}


def catch_up(cluster):
    """A 4th member added and started empty; seconds until its revision is the leader's."""
    leader_port = cluster.leader[1]
    client, peer = ce.free_port(), ce.free_port()
    url = f"{cluster.scheme}://127.0.0.1:{peer}"
    added = {}

    def add():
        # etcd refuses (503, "unhealthy cluster") until every member has been connected for
        # 5 s, which the restart just before broke; so ask again until it takes it.
        try:
            added.update(ce.post(leader_port, "/v3/cluster/member/add",
                                 json.dumps({"peerURLs": [url]}), timeout=30))
        except urllib.error.HTTPError as e:
            if e.code != 503:
                raise SystemExit(f"scale: member add answered {e.code}: {e.read()!r}")
            raise OSError(e) from e
        return True

    asked = time.monotonic()
    wait_for(f"{cluster.kind} member add", add, 120)
    add_wait = time.monotonic() - asked
    member_id = added["member"]["ID"]
    name = "m9"
    initial = ",".join(f"{n}={u}" for n, u in {**cluster.peer_urls, name: url}.items())
    target = int(status(leader_port)["header"]["revision"])
    wall0 = datetime.datetime.now()
    t0 = time.monotonic()
    p = ce.PROCS.start(cluster.member_args(name, client, peer, initial, "existing"),
                       cluster.dir / f"{name}.log")
    try:
        wait_for(f"{cluster.kind} new member", lambda: int(
            status(client, timeout=1.0)["header"]["revision"]) >= target, 3600, [p])
        seconds = time.monotonic() - t0
        log = (cluster.dir / f"{name}.log").read_text(errors="replace")
        installed = SNAPSHOT_INSTALLED[cluster.kind].search(log)
        installed_s = ((sustained.stamp(installed.group(1)) - wall0).total_seconds()
                       if installed else None)
        disk_mib = round(dir_bytes(cluster.dir / name) / 2**20, 1)
    finally:
        ce.post(leader_port, "/v3/cluster/member/remove", json.dumps({"ID": member_id}),
                timeout=30)
        ce.PROCS.stop([p])
        shutil.rmtree(cluster.dir / name, ignore_errors=True)
    say(f"  member add taken after {add_wait:.1f} s; new member served revision {target:,} "
        f"{seconds:.2f} s after its start (" + (f"snapshot installed at {installed_s:.2f} s)"
                                                 if installed else "from the log, no snapshot)"))
    return {"seconds": round(seconds, 3), "revision": target, "by_snapshot": bool(installed),
            "snapshot_installed_s": round(installed_s, 3) if installed else None,
            # etcd serves clients only once its publish (name, client URLs) has gone through
            # Raft; a publish lost during the snapshot install is retried after 7 s.
            "publish_retried": "publish error" in log,
            "disk_mib": disk_mib, "member_add_wait_s": round(add_wait, 2)}


def compaction(cluster, n, workdir, short):
    """min(N, 1M) keys overwritten, then a physical compaction at the head revision (removing
    the overwritten revisions) while steady puts run in chunks until it has finished."""
    count = min(n, COMPACT_MAX)
    t0 = time.monotonic()
    over = ce.bench(cluster, put_args(0, count))
    overwrite_s = time.monotonic() - t0
    revision = int(status(cluster.leader[1])["header"]["revision"])
    say(f"  overwrote {count:,} keys in {overwrite_s:.1f} s; compacting at revision {revision:,} "
        f"under {STEADY_RATE} puts/s")
    baseline_s, chunk_s = (1.0, 3.0) if short else (3.0, 10.0)
    window = {}

    def compact():
        time.sleep(baseline_s)
        window["start"], window["start_wall"] = time.monotonic(), datetime.datetime.now()
        try:
            ce.post(cluster.leader[1], "/v3/kv/compaction",
                    json.dumps({"revision": str(revision), "physical": True}), timeout=3600)
        except Exception as e:  # reported in the table; the steady load stops all the same
            window["error"] = repr(e)
        window["end"], window["end_wall"] = time.monotonic(), datetime.datetime.now()

    thread = threading.Thread(target=compact, daemon=True)
    seconds, chunks = [], []  # (wall start, wall end, the second's record)
    i = 0
    while True:
        path = Path(workdir) / f"steady-{cluster.kind}-{i}.jsonl"
        started = time.monotonic()
        if i == 0:
            thread.start()
        r = ce.bench(cluster, ["put", "--val-size", str(VAL_SIZE), "--key-size", str(KEY_SIZE),
                               "--key-space", str(n), "--key-offset", str(n), "--rate",
                               str(STEADY_RATE), "--clients", str(STEADY_CLIENTS), "--duration",
                               str(chunk_s), "--timeline", str(path)])
        chunks.append(latency(r))
        for s in (json.loads(line) for line in path.read_text().splitlines() if line.strip()):
            seconds.append((started + s["second"], started + s["second"] + 1, s))
        i += 1
        if not thread.is_alive():
            break
    thread.join()
    out = summarize_compaction(count, revision, overwrite_s, over, window, seconds, chunks)
    out["snapshots_during"] = snapshots_between(cluster, window["start_wall"], window["end_wall"])
    return out


def snapshots_between(cluster, start, end):
    """Raft snapshots the members wrote while [start, end] (wall clock) ran, from their logs
    (bench/sustained.py reads them): a stall in those seconds may be theirs, not the
    compaction's."""
    count = 0
    for log in cluster.dir.glob("*.log"):
        for snap in sustained.snapshots(cluster.kind, log):
            began = snap["done"] - datetime.timedelta(seconds=snap["seconds"] or 0)
            count += began <= end and snap["done"] >= start
    return count


def summarize_compaction(count, revision, overwrite_s, over, window, seconds, chunks):
    start, end = window["start"], window["end"]
    before = [s for a, b, s in seconds if b <= start and s["ok"]]
    during = [s for a, b, s in seconds if a < end and b > start]

    def p99s(records):
        return sorted(s["p99_ms"] for s in records if s["ok"] and s["p99_ms"] is not None)

    def median(values):
        return values[len(values) // 2] if values else None

    out = {"revisions_removed": count, "revision": revision,
           "overwrite_s": round(overwrite_s, 2), "overwrite_puts_per_s": over["ops_per_s"],
           "seconds": round(end - start, 3), "error": window.get("error"),
           "baseline_median_1s_p99_ms": median(p99s(before)),
           "during_worst_1s_p99_ms": max(p99s(during), default=None),
           "during_median_1s_p99_ms": median(p99s(during)),
           "during_max_ms": max((s["max_ms"] for s in during if s["ok"]), default=None),
           "during_puts_per_s": round(sum(s["ok"] for s in during) / max(len(during), 1)),
           "steady_errors": sum(c["errors"] for c in chunks),
           "steady_runs": chunks}
    say(f"  compaction of {count:,} revisions: {out['seconds']:.2f} s; puts' worst 1-s p99 "
        f"during it {out['during_worst_1s_p99_ms'] or 0:.1f} ms (before: median "
        f"{out['baseline_median_1s_p99_ms'] or 0:.1f} ms)" +
        (f"; {out['error']}" if out["error"] else ""))
    return out


# ---------------------------------------------------------------- one store at one size

def run_store(kind, n, root, args):
    extra = ["--quota-backend-bytes", str(QUOTA_BYTES)]
    if args.snapshot_count:
        extra += ["--snapshot-count", str(args.snapshot_count)]
    say(f"{kind}, {n:,} keys: starting 3 members")
    cluster = ce.Cluster(kind, 3, root, extra=extra)
    record = {"target": kind, "keys": n}
    try:
        record["load"] = load(cluster, n)
        record["ranges"] = ranges(cluster, n, 1.0 if args.short else 3.0)
        record["members"] = footprint(cluster)
        record["snapshot_save"] = snapshot_save(cluster, root)
        record["restart"] = restart_follower(cluster)
        record["catch_up"] = catch_up(cluster)
        record["compaction"] = compaction(cluster, n, root, args.short)
    finally:
        cluster.stop()
        if not args.keep_data:
            shutil.rmtree(cluster.dir, ignore_errors=True)
    return record


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=DEFAULT_SIZES,
                    help=f"comma-separated key counts (default {DEFAULT_SIZES})")
    ap.add_argument("--out", help="output stem: <out>.md and <out>.json (default "
                                  "bench/results/<date>-<host>-scale)")
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--etcdlab-only", action="store_true", help="etcdlab alone")
    only.add_argument("--etcd-only", action="store_true", help="etcd alone")
    ap.add_argument("--short", action="store_true",
                    help="1 s per range run and short compaction chunks (tests)")
    ap.add_argument("--snapshot-count", type=int, default=0,
                    help="--snapshot-count for both stores (default: theirs, 100,000), e.g. to "
                         "make a new member catch up by snapshot at small sizes")
    ap.add_argument("--no-build", action="store_true", help="use build/bin as it is")
    ap.add_argument("--keep-data", action="store_true", help="keep the data dirs and logs")
    ap.add_argument("--tmp", default=None, help="where the data dirs go (default: $TMPDIR)")
    ap.add_argument("--report", metavar="JSON",
                    help="no run: rewrite the .md beside a stored .json from its measurements")
    args = ap.parse_args()
    if args.report:
        stored = json.loads(Path(args.report).read_text())
        text = scale_report.table(stored["records"], stored["settings"], stored["machine"])
        stored["growth"] = scale_report.growth_all(stored["records"])
        ce.write_atomically(Path(args.report), json.dumps(stored, indent=1) + "\n")
        ce.write_atomically(Path(args.report).with_suffix(".md"), text)
        print(text)
        return
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    kinds = ["etcdlab"] if args.etcdlab_only else ["etcd"] if args.etcd_only else ["etcd",
                                                                                   "etcdlab"]
    import atexit
    atexit.register(ce.PROCS.stop_all)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    ce.ensure_etcd_and_build(not args.no_build)
    root = tempfile.mkdtemp(prefix="scale-", dir=args.tmp)
    ce.PROCS.dirs.append(root)
    ce.PROCS.keep_data = args.keep_data
    started = datetime.datetime.now()
    settings = {"started": started.strftime("%Y-%m-%d %H:%M"),
                "command": " ".join(["bench/scale.py", *sys.argv[1:]]), "sizes": sizes,
                "stores": kinds, "short": args.short, "key_size": KEY_SIZE,
                "val_size": VAL_SIZE, "quota_bytes": QUOTA_BYTES,
                "snapshot_count": args.snapshot_count, "load_clients": LOAD_CLIENTS,
                "tail_share": TAIL_SHARE, "range_clients": RANGE_CLIENTS,
                "wide_range_keys": WIDE_RANGE, "compact_max": COMPACT_MAX,
                "steady_rate": STEADY_RATE, "steady_clients": STEADY_CLIENTS,
                "heartbeat_ms": 100, "election_ms": 1000}
    machine = ce.machine_note(root)
    say(f"sizes {', '.join(f'{n:,}' for n in sizes)}; stores {', '.join(kinds)}; data under {root}")
    if args.out:
        md, js = Path(args.out + ".md"), Path(args.out + ".json")
        md.parent.mkdir(parents=True, exist_ok=True)
    else:
        ce.RESULTS.mkdir(parents=True, exist_ok=True)
        md, js = ce.result_paths(started.strftime("%Y-%m-%d"), "scale")
    records = []
    for n in sizes:
        for kind in kinds:  # one cluster up at a time
            records.append(run_store(kind, n, root, args))
            # Stored after each store and size, so that hours of a long run survive a failure
            # at the largest size (the table says which sizes it has).
            text = scale_report.table(records, settings, machine)
            ce.write_atomically(md, text)
            ce.write_atomically(js, json.dumps({"settings": settings, "machine": machine,
                                                "records": records,
                                                "growth": scale_report.growth_all(records)},
                                               indent=1) + "\n")
            say(f"stored {md} and {js} ({len(records)} of {len(sizes) * len(kinds)} runs)")
    print(text)


if __name__ == "__main__":
    main()
