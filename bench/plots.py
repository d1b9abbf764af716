"""Pictures of benchmark results (matplotlib, the Agg backend: no display needed).

sustained(): the sustained workload (bench/sustained.py), one column per store on shared axes:
puts per second above, p99 (and max) per second below on a log scale, a vertical line where a
member finished a snapshot. A stall reads at a glance: a dip above, a spike below, on a line.

ratios(): a compare-etcd table (full, --quick or --smoke), one bar per row: etcdlab's throughput
over etcd's, with lines at 1x (etcd) and at issue 24's 5x target; beside it, each row's p99 for
both stores. latency(): the same rows, one panel each: latency by percentile for both stores,
through the load tool's histogram buckets where the run stored them (etcdlab-bench --json's
"latency_buckets_ns"), else through the quantiles it stores (min, p50, p90, p99, p99.9, max).

  /usr/bin/python3 bench/plots.py bench/results/<date>-<host>-sustained.json   # redraws its .png
  /usr/bin/python3 bench/plots.py bench/results/<date>-<host>.json   # .ratios.png, .latency.png
  /usr/bin/python3 bench/plots.py ratios|latency|sustained <the .json> ...   # one picture
"""

import json
import textwrap
from math import nan
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import ticker  # noqa: E402

COLORS = {"etcd": "tab:blue", "etcdlab": "tab:orange"}
NAMES = {"etcd": "etcd 3.4", "etcdlab": "etcdlab"}
TARGET_RATIO = 5.0  # issue 24: etcdlab >= 5x etcd on every row


def sustained(records, png_path, settings):
    """Draws `records` (sustained.summarize's, one per store) of the run `settings` describes
    (compare-etcd's: started, clients, snapshot_count) into png_path."""
    order = [r for k in ("etcd", "etcdlab") for r in records if r["target"] == k]
    fig, axes = plt.subplots(2, len(order), figsize=(6 * len(order), 7), sharex=True,
                             sharey="row", squeeze=False)
    for col, r in enumerate(order):
        color = COLORS.get(r["target"], "black")
        # One step per second, [i, i+1); the last one as wide as the run's last second.
        edges = [s["second"] for s in r["timeline"]]
        edges.append(edges[-1] + 1 if edges else 0)
        top, bottom = axes[0][col], axes[1][col]
        top.stairs([s["ops_per_s"] for s in r["timeline"]], edges, baseline=None, color=color,
                   linewidth=1.2)
        top.set_title(f"{r['target']}: {r['ops_per_s']:,.0f} puts/s, p99 {r['p99_ms']:.1f} ms, "
                      f"max {r['max_ms']:.0f} ms", fontsize=10)
        # Seconds without an answer have no quantiles: they break the line (and show as 0
        # above), rather than being bridged.
        def ms(key):
            return [nan if s[key] is None else s[key] for s in r["timeline"]]

        bottom.stairs(ms("max_ms"), edges, baseline=None, color=color, alpha=0.35, linewidth=0.8,
                      label="max")
        bottom.stairs(ms("p99_ms"), edges, baseline=None, color=color, linewidth=1.4,
                      label="p99")
        bottom.set_yscale("log")
        bottom.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1, 2, 3, 5)))
        bottom.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        bottom.yaxis.set_minor_formatter(ticker.NullFormatter())
        bottom.set_xlabel("seconds since the load began")
        for ax in (top, bottom):
            ax.grid(True, which="major", alpha=0.3)
            for name, m in r["members"].items():
                leader = m["role"] == "leader"
                for snap in m["snapshots"]:
                    # A line where the snapshot finished, shaded back to where it began.
                    ax.axvline(snap["at_s"], color="grey", alpha=0.6, linewidth=0.8,
                               linestyle="-" if leader else ":")
                    if snap.get("seconds"):
                        ax.axvspan(snap["at_s"] - snap["seconds"], snap["at_s"], color="grey",
                                   alpha=0.15 if leader else 0.07, linewidth=0)
        bottom.legend(loc="upper left", fontsize=8)
    axes[0][0].set_ylabel("puts per second")
    axes[0][0].set_ylim(bottom=0)
    axes[1][0].set_ylabel("latency per second, ms (log)")
    title = (f"compare-etcd --sustained, {settings['started']}: {settings['clients']} clients, "
             f"3 members, snapshot count {settings.get('snapshot_count') or 'default'}")
    fig.suptitle(title + "\n(grey: a member writing a snapshot, the line where it finished; "
                         "solid and darker: the leader)", fontsize=11)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------- compare-etcd's table

def table_rows(runs):
    """(label, etcd's result or None, etcdlab's result) per row of compare-etcd's table, in
    its order: 3 members, then 1, each in run order (as compare-etcd's table() pairs them)."""
    by = {(r["target"], r["members"], r["workload"]): r["result"] for r in runs}
    rows = []
    for size in (3, 1):
        for r in runs:
            if r["target"] == "etcdlab" and r["members"] == size:
                label = f"{size} member{'s' if size > 1 else ''}: {r['label']}"
                rows.append((label, by.get(("etcd", size, r["workload"])), r["result"]))
    return rows


def run_title(settings, machine):
    """One line naming the run: its kind, when, where, which commit, seconds per workload."""
    kind = "--smoke" if settings.get("smoke") else "--quick" if settings.get("quick") else "full"
    commit = (machine or {}).get("etcdlab_commit")
    host = (machine or {}).get("hostname")
    return (f"compare-etcd ({kind} run), {settings['started']}{f' on {host}' if host else ''}"
            f"{f', etcdlab {commit}' if commit else ''}, {settings['duration_s']:g} s per workload")


def _plain_log_axis(axis):
    """Log-scale ticks written as plain numbers (0.5, 2, 30) rather than powers of ten."""
    axis.set_major_locator(ticker.LogLocator(base=10, subs=(1, 2, 5)))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(ticker.NullFormatter())


def ratios(runs, png_path, settings, machine=None):
    """Draws compare-etcd's table (`runs`, its JSON's "runs") as bars into png_path: left, the
    etcdlab/etcd throughput ratio per row, with the table's figures beside each bar; right,
    each row's p99 for both stores. Rows without an etcd figure get no bar (the table's —)."""
    rows = table_rows(runs)
    if not rows:
        raise ValueError("no etcdlab rows in these runs (an --only-* run has no main table)")
    n = len(rows)
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 1.6 + 0.42 * n), sharey=True,
                                      gridspec_kw={"width_ratios": [3, 2]})
    ys = list(range(n))
    ratio = [mine["ops_per_s"] / theirs["ops_per_s"] if theirs and theirs["ops_per_s"] else 0
             for _, theirs, mine in rows]
    left.barh(ys, ratio, height=0.6, color=COLORS["etcdlab"])
    right_edge = max(TARGET_RATIO * 1.15, max(ratio) * 1.05)
    for y, r, (_, theirs, mine) in zip(ys, ratio, rows):
        text = (f"{r:.2f}×  ({mine['ops_per_s']:,.0f} vs {theirs['ops_per_s']:,.0f} ops/s)"
                if r else f"—  ({mine['ops_per_s']:,.0f} ops/s; no etcd figure)")
        # Inside the bar's end when the bar is long, so no label runs off the panel.
        inside = r > 0.55 * right_edge
        # Its box (the bar's colour) hides the target line where the label crosses it.
        left.text(r - 0.08 if inside else r + 0.08, y, text, va="center", fontsize=8,
                  ha="right" if inside else "left", zorder=3,
                  bbox=dict(boxstyle="square,pad=0.15", ec="none",
                            fc=COLORS["etcdlab"] if inside else "white"))
    left.axvline(1.0, color=COLORS["etcd"], linestyle="--", linewidth=1.2,
                 label="1× (as fast as etcd 3.4)")
    left.axvline(TARGET_RATIO, color="tab:red", linestyle="--", linewidth=1.2,
                 label=f"{TARGET_RATIO:g}× (issue 24's target)")
    left.set_xlim(0, right_edge)
    left.set_yticks(ys, [label for label, _, _ in rows], fontsize=9)
    left.invert_yaxis()  # the table's first row on top
    left.set_xlabel("etcdlab ops/s ÷ etcd 3.4 ops/s (×)")
    # Legends above the panels, where no bar is.
    left.set_title("throughput, etcdlab/etcd", fontsize=10, pad=22)
    left.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8,
                frameon=False)
    left.grid(True, axis="x", alpha=0.3)

    h = 0.38
    for offset, kind, pick in ((-h / 2, "etcd", lambda row: row[1]),
                               (h / 2, "etcdlab", lambda row: row[2])):
        values = [pick(row)["latency_ms"]["p99"] if pick(row) else 0 for row in rows]
        right.barh([y + offset for y in ys], values, height=h, color=COLORS[kind],
                   label=f"{NAMES[kind]} p99")
        for y, v in zip(ys, values):
            if v:
                right.text(v * 1.04, y + offset, f"{v:.3g}", va="center", fontsize=7)
    p99s = [v for _, theirs, mine in rows for v in
            (mine["latency_ms"]["p99"], theirs["latency_ms"]["p99"] if theirs else None) if v]
    if max(p99s) / min(p99s) > 20:  # one axis for 1 ms and 100 ms rows
        right.set_xscale("log")
        _plain_log_axis(right.xaxis)
        right.set_xlim(min(p99s) / 1.5, max(p99s) * 2)
        right.set_xlabel("p99 latency, ms (log scale; shorter is better)")
    else:
        right.set_xlim(0, max(p99s) * 1.15)
        right.set_xlabel("p99 latency, ms (shorter is better)")
    right.set_title("p99 latency per row", fontsize=10, pad=22)
    right.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8,
                 frameon=False)
    right.grid(True, axis="x", which="major", alpha=0.3)
    fig.suptitle(run_title(settings, machine), fontsize=11)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    plt.close(fig)


# The load tool's quantiles (bench/load/load_report.cc): q in [0, 1] by name. Each is the
# ceil(q * n)-th fastest of n answers.
QUANTILES = (("min", 0.0), ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999))
# Ticks at 1/(1-q) = 2, 10, 100, ...: 50%, 90%, 99%, ... (the fastest answer, at 1, is the
# first point and has no tick of its own: "0%" would sit on "50%").
NINES = (2, 10, 100, 1000, 10_000, 100_000, 1_000_000)


def percentile_points(result):
    """[(1/(1-q), ms)] of one run: its stored quantiles, then its max as the n-th of n answers
    (at 1/(1-q) = n). A quantile finer than 1/n is its max, so it is left out, not drawn."""
    lat, n = result["latency_ms"], result.get("ok") or 0
    out = []
    for name, q in QUANTILES:
        # The ceil(q * n)-th answer is not the last while n * (1 - q) >= 1 (float-tolerant).
        if lat.get(name) is not None and (n * (1 - q) >= 1 - 1e-9 or q == 0):
            out.append((1 / (1 - q), lat[name]))
    if lat.get("max") is not None and n > 1:
        out.append((float(n), lat["max"]))
    return out


def bucket_points(result):
    """[(1/(1-q), ms)] of one run through the load tool's own histogram buckets
    ("latency_buckets_ns": [lo, hi, count], each within ~3%), where it stored them (runs before
    December 8, 2026 did not: []). After a bucket, q = the share of answers below its hi, and
    the answer at that rank is in [lo, hi): the point is drawn at hi, at most ~3% high."""
    buckets = result.get("latency_buckets_ns")
    lat = result["latency_ms"]
    n = sum(count for _, _, count in buckets or [])
    if n < 2:
        return []
    out = [(1.0, lat["min"])] if lat.get("min") is not None else []
    below = 0
    for _, hi, count in buckets[:-1]:
        below += count
        out.append((1 / (1 - below / n), min(hi / 1e6, lat["max"])))
    out.append((float(n), lat["max"]))
    return out


def _nines_label(x, _):
    pct = 100 * (1 - 1 / x)
    return f"{pct:.{max(0, len(str(round(x))) - 3)}f}%"


def latency(runs, png_path, settings, machine=None):
    """Draws, per row of compare-etcd's table, latency by percentile for both stores into
    png_path: x is the percentile on a scale that gives each nine the same width (0%, 50%,
    90%, 99%, 99.9%), y the latency on a log scale; the curve ends at the slowest answer."""
    rows = table_rows(runs)
    if not rows:
        raise ValueError("no etcdlab rows in these runs (an --only-* run has no main table)")
    ncols = min(3, len(rows))
    nrows = -(-len(rows) // ncols)
    # Constrained layout: it leaves the (wrapped) title exactly the room it takes.
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 1.0 + 3.0 * nrows),
                             sharex=True, squeeze=False, layout="constrained")
    most = max(r.get("ok") or 1 for _, theirs, mine in rows for r in (theirs, mine) if r)
    for i, (label, theirs, mine) in enumerate(rows):
        ax = axes[i // ncols][i % ncols]
        for kind, result in (("etcd", theirs), ("etcdlab", mine)):
            dots = percentile_points(result) if result else []
            line = (bucket_points(result) if result else []) or dots
            if line:
                ax.plot(*zip(*line), linewidth=1.4, color=COLORS[kind], label=NAMES[kind])
            if dots:
                ax.plot(*zip(*dots), linestyle="none", marker="o", markersize=3.5,
                        color=COLORS[kind])
        ax.set_title(label, fontsize=9)
        ax.set_xscale("log")
        ax.set_yscale("log")
        _plain_log_axis(ax.yaxis)
        ax.grid(True, which="major", alpha=0.3)
    ticks = [x for x in NINES if x <= most * 1.01]
    for i in range(nrows * ncols):
        ax = axes[i // ncols][i % ncols]
        if i >= len(rows):
            ax.set_visible(False)
            continue
        ax.set_xlim(0.8, most * 1.6)
        ax.set_xticks(ticks)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(_nines_label))
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        if i % ncols == 0:
            ax.set_ylabel("latency, ms (log)")
        if i + ncols >= len(rows):
            ax.set_xlabel("percentile (each point to the right: one nine more)")
            ax.tick_params(axis="x", labelbottom=True)
    axes[0][0].legend(loc="upper left", fontsize=8)
    stored = [bool(r.get("latency_buckets_ns")) for _, theirs, mine in rows
              for r in (theirs, mine) if r]
    how = ("lines through the load tool's histogram buckets, within 3%)" if all(stored) else
           "lines from dot to dot)" if not any(stored) else
           "lines through the load tool's buckets where the run stored them, else dot to dot)")
    # Lines of about 12 characters per inch of figure (a one- or two-panel figure wraps more).
    width = int(12 * fig.get_figwidth())
    lines = [*textwrap.wrap(f"Latency by percentile, per row: {run_title(settings, machine)}",
                            width),
             *textwrap.wrap(f"(dots, left to right: the fastest answer, p50, p90, p99, p99.9, "
                            f"the slowest; {how}", width)]
    fig.suptitle("\n".join(lines), fontsize=11)
    fig.savefig(png_path, dpi=110)
    plt.close(fig)


def table_png_paths(json_path):
    """<results>.ratios.png and <results>.latency.png beside a compare-etcd <results>.json."""
    json_path = Path(json_path)
    return (json_path.with_name(json_path.stem + ".ratios.png"),
            json_path.with_name(json_path.stem + ".latency.png"))


def draw(json_path, which=None):
    """Draws the pictures of one stored result (`which`: "ratios", "latency" or "sustained";
    None: whatever it holds); returns the paths written."""
    data = json.loads(Path(json_path).read_text())
    settings, machine = data["settings"], data.get("machine")
    if which == "sustained" or (which is None and "sustained" in data):
        png = Path(json_path).with_suffix(".png")
        sustained(data["sustained"], png, settings)
        return [png]
    ratios_png, latency_png = table_png_paths(json_path)
    out = []
    if which in (None, "ratios"):
        ratios(data["runs"], ratios_png, settings, machine)
        out.append(ratios_png)
    if which in (None, "latency"):
        latency(data["runs"], latency_png, settings, machine)
        out.append(latency_png)
    return out


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("args", nargs="+", metavar="[ratios|latency|sustained] FILE.json",
                    help="stored results of bench/compare-etcd; the pictures go beside them")
    words = ap.parse_args().args
    which = words.pop(0) if words[0] in ("ratios", "latency", "sustained") else None
    if not words:
        ap.error("no .json named")
    for name in words:
        try:
            drawn = draw(name, which)
        except ValueError as e:  # a result without the table asked for
            raise SystemExit(f"plots.py: {name}: {e}")
        for png in drawn:
            print(f"drew {png}")


if __name__ == "__main__":
    main()
