"""The sustained workload of bench/compare-etcd (--sustained): puts for a minute or more, long
enough to cross Raft snapshots, each store's run recorded second by second.

Issue 24: the 10 s workloads of the main table rarely cross a snapshot (every 100,000 applied
entries by default on both stores), so they cannot show a store that stalls while it writes one.
Here 64 clients put distinct keys (sequential over a space no run reaches, so the database grows
all along) with 256-byte values into a 3-member cluster of etcdlab, then of etcd 3.4 (one
cluster up at a time, the same flags for both), through the leader's JSON gateway, with
`etcdlab-bench put --timeline`: one JSON line per second with its answers and its p50/p90/p99/max
(bench/load/timeline.h). Each member's log says when it wrote a snapshot; the table counts them
per member and the pictures (bench/plots.py) mark them.

Outputs, beside the main table's: bench/results/<date>-<host>-sustained.json (settings, machine,
each store's summary, timeline and snapshots), .md (the table) and .png (the pictures).
Figures are reported, never asserted.
"""

import datetime
import json
import re
import socket
from pathlib import Path

CLIENTS = 64
KEY_SIZE = 16
KEY_SPACE = 10**15  # sequential keys: every put writes a key not written before
VAL_SIZE = 256
DEFAULT_DURATION = 60.0
WARMUP = 1.0
STALL_MS = 100  # a second whose p99 is above this counts as a stall in the table

# When a member finished writing a snapshot, as its log says it (timestamps in local time).
#   etcd 3.4 (capnslog): 2026-12-07 18:21:13.317408 I | etcdserver: saved snapshot at index 11
#   etcdlab (spdlog):    [2026-12-07 18:21:13.317] [info] etcdlab m0: snapshot at index 11
#                        (0.004 s, of which 0.002 s on the node thread, making the store
#                        durable)
# etcd also logs when it starts one ("start to snapshot (applied: N, ...)"): the duration.
STAMP = r"\[?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\]?"
SNAPSHOT_DONE = {
    "etcd": re.compile(STAMP + r".*etcdserver: saved snapshot at index (\d+)"),
    "etcdlab": re.compile(STAMP + r".*: snapshot at index (\d+) \(([\d.]+) s"),
}
ETCD_SNAPSHOT_START = re.compile(STAMP + r".*etcdserver: start to snapshot \(applied: (\d+)")


def cluster_flags(snapshot_count):
    """Server flags both stores take alike: --snapshot-count when one is asked for (else each
    store's default, 100,000 on both)."""
    return ["--snapshot-count", str(snapshot_count)] if snapshot_count else []


def load_args(duration, timeline_path):
    """The etcdlab-bench arguments of one store's run (compare-etcd adds --endpoints, --json)."""
    return ["put", "--clients", str(CLIENTS), "--val-size", str(VAL_SIZE), "--key-size",
            str(KEY_SIZE), "--key-space", str(KEY_SPACE), "--sequential-keys",
            "--duration", str(duration), "--warmup", str(WARMUP), "--timeline", str(timeline_path)]


def stamp(text):
    """A log line's timestamp (STAMP's group) as a datetime (also bench/scale.py's)."""
    return datetime.datetime.strptime(text[:26], "%Y-%m-%d %H:%M:%S.%f")


def snapshots(kind, log_path):
    """The snapshots a member's log reports, in order: {"done": datetime, "index": n,
    "seconds": how long it took, or None when the log does not say}."""
    out, starts = [], {}
    try:
        text = Path(log_path).read_text(errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        if kind == "etcd" and (m := ETCD_SNAPSHOT_START.search(line)):
            starts[int(m.group(2))] = stamp(m.group(1))
        elif m := SNAPSHOT_DONE[kind].search(line):
            done, index = stamp(m.group(1)), int(m.group(2))
            if kind == "etcdlab":
                took = float(m.group(3))
            else:
                took = (done - starts[index]).total_seconds() if index in starts else None
            out.append({"done": done, "index": index, "seconds": took})
    return out


def read_timeline(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def run(kinds, start_cluster, bench, workdir, duration, say):
    """Each store in `kinds` in turn: start_cluster(kind) (a 3-member compare-etcd Cluster, its
    leader found), the load through bench(cluster, args) (compare-etcd's: etcdlab-bench's JSON
    plus CPU shares), then the snapshots its members logged during the load; the cluster is
    stopped before the next starts. Returns one record per store."""
    out = []
    for kind in kinds:
        say(f"sustained: starting {kind} with 3 members")
        cluster = start_cluster(kind)
        try:
            logs = {name: cluster.dir / f"{name}.log" for name, _, _ in cluster.members}
            before = {name: len(snapshots(kind, log)) for name, log in logs.items()}
            timeline_path = Path(workdir) / f"sustained-{kind}.jsonl"
            say(f"sustained: {kind}, leader {cluster.leader[0]}: {duration:g} s of puts, "
                f"{CLIENTS} clients")
            started = datetime.datetime.now()
            result = bench(cluster, load_args(duration, timeline_path))
            leader = cluster.leader[0]
            members = {}
            for name, log in logs.items():
                taken = snapshots(kind, log)[before[name]:]
                members[name] = {
                    "role": "leader" if name == leader else "follower",
                    # seconds since measuring began (the load tool's clock started about when
                    # bench() ran it; within tens of milliseconds)
                    "snapshots": [{"at_s": round((s["done"] - started).total_seconds() - WARMUP,
                                                 3),
                                   "index": s["index"], "seconds": s["seconds"]}
                                  for s in taken]}
        finally:
            cluster.stop()
        record = summarize(kind, result, read_timeline(timeline_path), members)
        say(f"sustained: {kind}: {record['ops_per_s']:,.0f} puts/s, p99 {record['p99_ms']:.1f} ms, "
            f"max {record['max_ms']:.1f} ms, worst 1-s p99 {record['worst_second_p99_ms']:.1f} ms; "
            f"snapshots per member {record['snapshots_per_member']}")
        out.append(record)
    return out


def summarize(kind, result, timeline, members):
    """One store's record: the whole run's figures, the worst seconds, snapshots per member."""
    with_answers = [s for s in timeline if s["ok"] > 0]
    worst = max(with_answers, key=lambda s: s["p99_ms"], default=None)
    slowest = min(timeline, key=lambda s: s["ops_per_s"], default=None)
    lat = result["latency_ms"]
    return {
        "target": kind,
        "ops_per_s": result["ops_per_s"], "ok": result["ok"], "errors": result["errors"],
        "errors_by_kind": result["errors_by_kind"],
        "p50_ms": lat["p50"], "p99_ms": lat["p99"], "max_ms": lat["max"],
        "worst_second_p99_ms": worst["p99_ms"] if worst else None,
        "worst_second": worst["second"] if worst else None,
        "lowest_second_ops_per_s": slowest["ops_per_s"] if slowest else None,
        "lowest_second": slowest["second"] if slowest else None,
        "seconds_over_stall_ms": sum(1 for s in with_answers if s["p99_ms"] > STALL_MS),
        "silent_seconds": sum(1 for s in timeline if s["ok"] == 0),
        "snapshots_per_member": {name: len(m["snapshots"]) for name, m in members.items()},
        "longest_snapshot_s": max((s["seconds"] for m in members.values() for s in m["snapshots"]
                                   if s["seconds"] is not None), default=None),
        "members": members,
        "cpu_percent": result.get("cpu_percent"),
        "busiest_others": result.get("busiest_others"),
        "command": result.get("command"),
        "timeline": timeline,
    }


def _ms(v):
    return f"{v:,.1f}" if v is not None else "—"


def table(records, settings, machine, png_name):
    """The Markdown of the sustained run: the table, each store's CPU, the picture."""
    by = {r["target"]: r for r in records}
    order = [k for k in ("etcd", "etcdlab") if k in by]

    def row(label, get):
        return f"| {label} | " + " | ".join(get(by[k]) for k in order) + " |"

    def snaps(r):
        per = r["snapshots_per_member"]
        leader = next((n for n, m in r["members"].items() if m["role"] == "leader"), None)
        return ", ".join(f"{n}{' (leader)' if n == leader else ''}: {c}"
                         for n, c in sorted(per.items()))

    def at(value, second):
        return f"{value} (second {second})" if second is not None else value

    lines = [
        f"# compare-etcd --sustained, {settings['started']} on {machine['hostname']}", "",
        f"- run: `{settings['command']}`: {settings['duration_s']:g} s of puts per store after "
        f"{WARMUP:g} s of warmup, {CLIENTS} clients (one connection each) on the leader's JSON "
        f"gateway, distinct keys of {KEY_SIZE} B (sequential), values {VAL_SIZE} B, 3 members "
        f"each, one cluster up at a time (etcdlab first); snapshot count "
        f"{settings['snapshot_count'] or 'default (100,000 on both)'}",
        f"- machine: {machine['cpus']} × {machine['cpu']}, {machine['mem_gib']} GiB, kernel "
        f"{machine['kernel']}; data on {machine['data_fs']}; raw fdatasync "
        f"{machine['raw_fdatasync_per_s']:,}/s; load average at start "
        f"{' '.join(machine['loadavg_at_start'])}",
        f"- {machine['etcd']}; etcdlab {machine['etcdlab_commit']}", "",
        "## Sustained puts", "",
        "| measure | " + " | ".join(order) + " |", "|---|" + "--:|" * len(order),
        row("puts/s over the run", lambda r: f"{r['ops_per_s']:,.0f}"),
        row("p50 ms over the run", lambda r: _ms(r["p50_ms"])),
        row("p99 ms over the run", lambda r: _ms(r["p99_ms"])),
        row("max ms over the run", lambda r: _ms(r["max_ms"])),
        row("worst 1-second p99 ms", lambda r: at(_ms(r["worst_second_p99_ms"]),
                                                  r["worst_second"])),
        row("lowest 1-second puts/s", lambda r: at(f"{r['lowest_second_ops_per_s']:,.0f}"
                                                   if r["lowest_second_ops_per_s"] is not None
                                                   else "—", r["lowest_second"])),
        row(f"seconds with p99 over {STALL_MS} ms", lambda r: str(r["seconds_over_stall_ms"])),
        row("seconds without an answer", lambda r: str(r["silent_seconds"])),
        row("snapshots written per member during the run", snaps),
        row("longest snapshot s (from the logs)", lambda r: (f"{r['longest_snapshot_s']:.3f}"
                                                          if r["longest_snapshot_s"] is not None
                                                          else "—")),
        row("errors", lambda r: str(r["errors"])), "",
        f"![puts/s and p99 per second, both stores]({png_name})", "",
        "Per second: the answers that arrived in that second and the latency quantiles of "
        "those answers alone (`etcdlab-bench put --timeline`); grey marks a member writing a "
        "snapshot, from its log: shaded from start to end, a line where it finished (solid and "
        "darker: the leader). Latency is measured "
        "from when a request was due, so a stall shows both as a dip in puts/s and as the "
        "p99 of the second after it.", ""]
    errors = [f"- {r['target']}: " + "; ".join(f"{n}× {k}" for k, n in
                                               r["errors_by_kind"].items())
              for r in records if r["errors"]]
    if errors:
        lines += ["Errors:", "", *errors, ""]
    lines += ["## CPU during each run (% of one core)", "",
              "| store | leader | followers | load tool | other processes (busiest) | "
              "irq+softirq | steal |", "|---|--:|--:|--:|--:|--:|--:|"]
    for r in records:
        c = r["cpu_percent"] or {}
        followers = " + ".join(f"{v:.0f}" for k, v in c.items() if k.startswith("follower"))
        busiest = ", ".join(f"{b['name']} {b['cpu_percent']:.0f}"
                            for b in r["busiest_others"] or [] if b["cpu_percent"] >= 5)
        lines.append(f"| {r['target']} | {c.get('leader', 0):.0f} | {followers or '—'} | "
                     f"{c.get('load_tool', 0):.0f} | {c.get('others', 0):.0f}"
                     f"{f' ({busiest})' if busiest else ''} | {c.get('irq', 0):.0f} | "
                     f"{c.get('steal', 0):.0f} |")
    others = [(r["cpu_percent"] or {}).get("others", 0) for r in records]
    if others and max(others) > 25:
        lines += ["", f"**The machine was busy with other work during this run** (other "
                      f"processes used up to {max(others):.0f}% of one core): the figures are "
                      f"noisy and are not the stores' speed."]
    return "\n".join(lines) + "\n"


def result_paths(results_dir, date):
    """<date>-<host>-sustained[-n].{md,json,png}: the first stem not taken."""
    host = socket.gethostname()
    n = 1
    while True:
        stem = f"{date}-{host}-sustained" + (f"-{n}" if n > 1 else "")
        paths = [Path(results_dir) / f"{stem}.{ext}" for ext in ("md", "json", "png")]
        if not any(p.exists() for p in paths):
            return paths
        n += 1
