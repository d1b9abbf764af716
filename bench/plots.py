"""Pictures of benchmark results (matplotlib, the Agg backend: no display needed).

sustained(): the sustained workload (bench/sustained.py), one column per store on shared axes:
puts per second above, p99 (and max) per second below on a log scale, a vertical line where a
member finished a snapshot. A stall reads at a glance: a dip above, a spike below, on a line.

  /usr/bin/python3 bench/plots.py bench/results/<date>-<host>-sustained.json   # redraws its .png
"""

from math import nan

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import ticker  # noqa: E402

COLORS = {"etcd": "tab:blue", "etcdlab": "tab:orange"}


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


def main():
    import json
    import sys
    from pathlib import Path
    for name in sys.argv[1:]:
        path = Path(name)
        data = json.loads(path.read_text())
        sustained(data["sustained"], path.with_suffix(".png"), data["settings"])
        print(f"drew {path.with_suffix('.png')}")


if __name__ == "__main__":
    main()
