"""The table of bench/scale.py and how each figure grows with the number of keys.

Growth: between two sizes n1 < n2 a cost c (a latency, a time, a size; for a throughput, its
inverse) goes from c1 to c2; its exponent is log(c2/c1) / log(n2/n1): 0 when it does not grow,
1 when it grows as the data, 2 when as its square. The label reads the exponent over the whole
span of sizes (first to last): below 0.15 flat, below 0.5 sublinear (log-like), below 1.2
linear, above that worse than linear. A store whose exponent is larger than the other's by more
than 0.25 is marked: its cost grows faster with the data than the other store's does.

Small sizes are dominated by fixed costs (process start, an election, connection set-up), so
the exponents of a run at 20k and 50k keys understate what 1M and 5M show.
"""

import math

FLAT, SUBLINEAR, LINEAR = 0.15, 0.5, 1.2
WORSE_BY = 0.25


def _members(r, field):
    return max(m[field] for m in r["members"].values())


# (id, label, getter, unit, True when larger is better); a getter may return None (not measured).
FIGURES = [
    ("load_puts", "puts/s, last 10% of the load (64 clients)",
     lambda r: r["load"]["tail"]["ops_per_s"], "ops/s", True),
    ("load_p99", "put p99, last 10% of the load", lambda r: r["load"]["tail"]["p99_ms"], "ms",
     False),
    ("load_puts_whole", "puts/s over the whole load", lambda r: r["load"]["puts_per_s_whole"],
     "ops/s", True),
    ("range1_p50", "range of 1 key p50 (16 clients)",
     lambda r: r["ranges"]["keys_1"]["p50_ms"], "ms", False),
    ("range1_p99", "range of 1 key p99", lambda r: r["ranges"]["keys_1"]["p99_ms"], "ms", False),
    ("rangew_p50", "range of 1,000 keys p50 (16 clients)",
     lambda r: r["ranges"]["keys_wide"]["p50_ms"], "ms", False),
    ("rangew_p99", "range of 1,000 keys p99", lambda r: r["ranges"]["keys_wide"]["p99_ms"], "ms",
     False),
    ("rss", "RSS, largest member", lambda r: _members(r, "rss_mib"), "MiB", False),
    ("disk", "data dir, largest member", lambda r: _members(r, "disk_mib"), "MiB", False),
    ("snapshot_save", "`etcdctl snapshot save`",
     lambda r: r["snapshot_save"]["seconds"] if r["snapshot_save"]["ok"] else None, "s", False),
    ("snapshot_mib", "snapshot file", lambda r: r["snapshot_save"]["mib"], "MiB", False),
    ("restart", "restart of a follower to a linearizable read",
     lambda r: r["restart"]["seconds"], "s", False),
    ("catch_up", "new member: start to serving the leader's revision",
     lambda r: r["catch_up"]["seconds"], "s", False),
    ("catch_up_installed", "new member: start to snapshot installed (its log)",
     lambda r: r["catch_up"]["snapshot_installed_s"], "s", False),
    ("compaction_s", "compaction (physical; — when its request failed, see the notes)",
     lambda r: None if r["compaction"]["error"] else r["compaction"]["seconds"], "s", False),
    ("compaction_p99", "put worst 1-s p99 during the compaction (1,000 puts/s)",
     lambda r: r["compaction"]["during_worst_1s_p99_ms"], "ms", False),
    ("baseline_p99", "put median 1-s p99 before it", lambda r: r["compaction"][
        "baseline_median_1s_p99_ms"], "ms", False),
]


def value(record, getter):
    try:
        return getter(record)
    except (KeyError, TypeError, ValueError):
        return None


def exponent(n1, c1, n2, c2):
    if not c1 or not c2 or c1 <= 0 or c2 <= 0 or n2 <= n1:
        return None
    return math.log(c2 / c1) / math.log(n2 / n1)


CLASSES = ["flat", "sublinear", "linear", "worse than linear"]


def label(e):
    if e is None:
        return "—"
    if e < FLAT:
        return "flat"
    if e < SUBLINEAR:
        return "sublinear"
    if e < LINEAR:
        return "linear"
    return "worse than linear"


def growth(points, higher_better):
    """points: [(n, figure)] in size order. The cost's ratio at each step, the exponent over the
    whole span and its label."""
    pts = [(n, (1 / v if higher_better else v)) for n, v in points if v]
    steps = [round(c2 / c1, 2) for (_, c1), (_, c2) in zip(pts, pts[1:]) if c1]
    e = exponent(pts[0][0], pts[0][1], pts[-1][0], pts[-1][1]) if len(pts) > 1 else None
    return {"cost_ratios": steps, "exponent": round(e, 2) if e is not None else None,
            "label": label(e)}


def growth_all(records):
    """figure id -> store -> growth."""
    out = {}
    for fid, _, getter, _, better in FIGURES:
        out[fid] = {}
        for kind in sorted({r["target"] for r in records}):
            points = sorted((r["keys"], value(r, getter)) for r in records if r["target"] == kind)
            out[fid][kind] = growth(points, better)
        exps = {k: g["exponent"] for k, g in out[fid].items() if g["exponent"] is not None}
        if len(exps) == 2 and abs(exps["etcd"] - exps["etcdlab"]) > WORSE_BY:
            faster = max(exps, key=exps.get)
            slower = min(exps, key=exps.get)
            # Marked only when it is a class worse (flat < sublinear < linear < worse), so
            # that two flat figures a little apart, or noise below flat, are not a finding.
            if CLASSES.index(label(exps[faster])) > CLASSES.index(label(exps[slower])):
                out[fid]["grows_faster"] = faster
    return out


def _fmt(v, unit):
    if v is None:
        return "—"
    if unit == "ops/s" or v >= 100:
        return f"{v:,.0f}"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"


def _growth_cell(g):
    if g["exponent"] is None:
        return "—"
    steps = ", ".join(f"×{s:g}" for s in g["cost_ratios"])
    return f"{g['label']} (e={g['exponent']:.2f}; cost {steps})"


def table(records, settings, machine):
    sizes = sorted({r["keys"] for r in records})
    kinds = [k for k in ("etcd", "etcdlab") if any(r["target"] == k for r in records)]
    by = {(r["target"], r["keys"]): r for r in records}
    grow = growth_all(records)
    head = ["| figure | unit | " + " | ".join(f"{n:,} keys: {k}" for n in sizes for k in kinds)
            + " | " + " | ".join(f"growth: {k}" for k in kinds) + " |",
            "|---|---|" + "--:|" * (len(sizes) * len(kinds)) + "---|" * len(kinds)]
    rows = []
    for fid, text, getter, unit, _ in FIGURES:
        cells = [_fmt(value(by[(k, n)], getter) if (k, n) in by else None, unit)
                 for n in sizes for k in kinds]
        faster = grow[fid].get("grows_faster")
        growths = [_growth_cell(grow[fid][k]) + (" **grows faster**" if faster == k else "")
                   for k in kinds]
        rows.append(f"| {text} | {unit} | " + " | ".join(cells) + " | " + " | ".join(growths) +
                    " |")
    notes = []
    for r in records:
        where = f"{r['target']}, {r['keys']:,} keys"
        c, cu, s = r["compaction"], r["catch_up"], r["snapshot_save"]
        notes.append(f"- {where}: members (RSS / data dir MiB) " + ", ".join(
            f"{n}{' (leader)' if m['role'] == 'leader' else ''} {m['rss_mib']:.0f} / "
            f"{m['disk_mib']:.0f}" for n, m in sorted(r["members"].items())) +
            f"; new member caught up to revision {cu['revision']:,} "
            f"{'by a snapshot' if cu['by_snapshot'] else 'from the log (no snapshot sent)'}"
            f" (member add taken after {cu.get('member_add_wait_s', 0):g} s); "
            f"compaction at revision {c['revision']:,} removed {c['revisions_removed']:,} "
            f"overwritten revisions" + (f" (its request failed after {c['seconds']:g} s: "
                                        f"{c['error']})" if c["error"] else "") +
            (f", {c['steady_errors']} steady puts failed" if c.get("steady_errors") else "") +
            (f" ({c['snapshots_during']} Raft snapshot(s) written by the members while it ran)"
             if c.get("snapshots_during") else "") +
            ("; the new member served clients only after retrying its publish (its name "
             "and client URLs, proposed through Raft), which had timed out"
             if cu.get("publish_retried") else "") +
            (f"; snapshot save failed: {s.get('error')}" if not s["ok"] else "") +
            (f"; {r['load']['errors']} load errors" if r["load"]["errors"] else "") +
            (f"; **only {r['load']['keys_present']:,} keys present after the load**"
             if r["load"].get("keys_present", r["keys"]) != r["keys"] else ""))
    others = [(r["load"].get("cpu_percent_tail") or {}).get("others", 0) for r in records]
    busy = []
    if others and max(others) > 25:
        busy = [f"**The machine was busy with other work during this run** (other processes "
                f"used up to {max(others):.0f}% of one core during the loads' last 10%): the "
                f"figures are noisy; compare the stores within a size, not across runs.", ""]
    m = machine
    lines = [
        f"# bench/scale.py, {settings['started']} on {m['hostname']}", "",
        f"- run: `{settings['command']}`",
        f"- machine: {m['cpus']} × {m['cpu']}, {m['mem_gib']} GiB, kernel {m['kernel']}; data on "
        f"{m['data_fs']}; raw fdatasync {m['raw_fdatasync_per_s']:,}/s; load average at start "
        f"{' '.join(m['loadavg_at_start'])}",
        f"- {m['etcd']}; etcdlab {m['etcdlab_commit']}",
        f"- 3 members each, one cluster up at a time; keys {settings['key_size']} B, values "
        f"{settings['val_size']} B; quota {settings['quota_bytes'] / 2**30:g} GiB on both; "
        f"snapshot count {settings['snapshot_count'] or 'default (100,000 on both)'}", "",
        "## Scale", "", *busy, *head, *rows, "",
        "Growth: the cost (time, latency, size; for puts/s its inverse) from the smallest to the "
        "largest size as an exponent e of the data (0 flat, 1 linear), with the cost's ratio at "
        "each step; see bench/scale_report.py. Small sizes carry fixed costs (process start, "
        "elections), so their exponents understate what large sizes show.", "",
        "Per run:", "", *notes, ""]
    return "\n".join(lines)
