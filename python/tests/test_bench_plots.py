"""bench/plots.py's pictures of a compare-etcd table, without processes: the rows they draw are
the table's rows with the table's numbers; both pictures are drawn from a small result (the
sustained picture is tested in test_bench_sustained.py), by compare-etcd's report step too; the
pictures docs/performance.md shows exist."""

import importlib.machinery
import importlib.util
import json
import pathlib
import re
import struct
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import plots  # noqa: E402

SETTINGS = {"started": "2026-12-07 21:00", "duration_s": 2.0, "quick": True, "smoke": False}
MACHINE = {"hostname": "test", "etcdlab_commit": "abc1234"}


def result(ops, p50, p99, n, with_min=True):
    lat = {"p50": p50, "p90": p50 * 1.5, "p99": p99, "p99.9": p99 * 1.5, "max": p99 * 2}
    if with_min:
        lat["min"] = p50 / 4
    return {"ops_per_s": ops, "ok": n, "errors": 0, "errors_by_kind": {}, "latency_ms": lat,
            "cpu_percent": {"leader": 100.0, "load_tool": 10.0, "others": 0.0, "irq": 5.0,
                            "steal": 0.0},
            "busiest_others": []}


def run(target, members, workload, label, res):
    return {"target": target, "members": members, "workload": workload, "label": label,
            "result": res}


def runs():
    """A --quick table in run order: etcd, etcdlab, ceiling per workload; a row whose etcd run
    is missing (the table's —); the lock row as bench/lock_load.py reports it (no min, few
    answers); one single-member row."""
    return [
        run("etcd", 3, "put-64", "put, 64 clients", result(4000, 15.0, 37.0, 8000)),
        run("etcdlab", 3, "put-64", "put, 64 clients", result(10000, 5.0, 11.0, 20000)),
        run("ceiling", 0, "put-64", "put-shaped, 64 clients", result(80000, 0.8, 2.0, 160000)),
        run("etcdlab", 3, "range-s-64", "range (serializable), 64 clients",
            result(35000, 1.7, 3.9, 70000)),
        run("etcd", 3, "lock-16", "lock + unlock cycles, 16 contenders on one lock",
            result(160, 100.0, 113.0, 320, with_min=False)),
        run("etcdlab", 3, "lock-16", "lock + unlock cycles, 16 contenders on one lock",
            result(492, 31.0, 47.0, 984, with_min=False)),
        run("etcd", 1, "put-64", "put, 64 clients", result(7400, 8.0, 21.0, 14800)),
        run("etcdlab", 1, "put-64", "put, 64 clients", result(18400, 3.2, 9.8, 36800)),
    ]


def load_compare_etcd():
    loader = importlib.machinery.SourceFileLoader("compare_etcd", str(REPO / "bench" /
                                                                      "compare-etcd"))
    spec = importlib.util.spec_from_loader("compare_etcd", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def png_size(path):
    """(width, height) of a PNG, from its signature and IHDR chunk; fails on anything else."""
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def assert_picture(path, min_width, min_height):
    width, height = png_size(path)
    assert width >= min_width and height >= min_height, (path, width, height)
    # A blank canvas of that size compresses to a few KB; bars, curves and text do not.
    assert path.stat().st_size > 20_000, (path, path.stat().st_size)


def colour_counts(path, kind, rows, cols, top_inches=0.0):
    """Pixels of `kind`'s colour (plots.COLORS) in each cell of a rows x cols grid laid over the
    picture below its top `top_inches` (the title), row by row: where each store was drawn."""
    import numpy as np
    from matplotlib import image
    from matplotlib.colors import to_rgb
    img = image.imread(str(path))[:, :, :3]
    img = img[int(top_inches * 110):]  # plots draw at 110 dpi
    hit = (np.abs(img - np.array(to_rgb(plots.COLORS[kind]))) < 0.04).all(axis=2)
    h, w = hit.shape
    return [int(hit[r * h // rows:(r + 1) * h // rows, c * w // cols:(c + 1) * w // cols].sum())
            for r in range(rows) for c in range(cols)]


def test_rows_are_the_tables_rows_in_its_order_with_its_ratios():
    ce = load_compare_etcd()
    table = ce.table(runs(), {"hostname": "test", "cpus": 2, "cpu": "x", "mem_gib": 1,
                              "kernel": "k", "data_fs": "d", "raw_fdatasync_per_s": 1,
                              "loadavg_at_start": ["0", "0", "0"], "etcd": "etcd 3.4",
                              "etcdlab_commit": "abc1234"},
                     dict(SETTINGS, command="bench/compare-etcd --quick", warmup_s=0.5), [])
    table_rows = [line for line in table.splitlines()
                  if re.match(r"\| \d members?: ", line)]
    rows = plots.table_rows(runs())
    assert [label for label, _, _ in rows] == [line.split(" | ")[0][2:] for line in table_rows]
    for (label, theirs, mine), line in zip(rows, table_rows):
        ratio = line.split(" | ")[3]
        if theirs is None:
            assert ratio == "—", label
        else:
            assert ratio == f"{mine['ops_per_s'] / theirs['ops_per_s']:.2f}×", label


def test_percentiles_finer_than_one_answer_are_not_drawn_and_max_is_the_last_answer():
    # 984 answers: p99.9 would be the 984th, the max itself, so it gets no point of its own.
    points = plots.percentile_points(result(492, 31.0, 47.0, 984, with_min=False))
    assert [round(x) for x, _ in points] == [2, 10, 100, 984]
    assert points[-1][1] == 94.0
    points = plots.percentile_points(result(10000, 5.0, 11.0, 20000))
    assert [round(x) for x, _ in points] == [1, 2, 10, 100, 1000, 20000]
    # 1,000 answers: p99.9 is the 999th, not the max, so it stays.
    assert [round(x) for x, _ in plots.percentile_points(result(1, 1.0, 2.0, 1000))][-2:] == \
        [1000, 1000]


def test_curve_through_stored_buckets_puts_each_bucket_at_its_share_of_answers_below_hi():
    r = result(100, 1.5, 9.0, 100)
    r["latency_ms"].update(min=1.0, max=9.1)
    r["latency_buckets_ns"] = [[1_000_000, 1_031_250, 50], [2_000_000, 2_062_500, 40],
                               [9_000_000, 9_250_000, 10]]
    points = plots.bucket_points(r)
    # 50 of 100 below 1.03 ms: q = 0.5, x = 2; 90 below 2.06 ms: x = 10; the slowest at x = n.
    assert [(round(x, 6), ms) for x, ms in points] == [(1, 1.0), (2, 1.03125), (10, 2.0625),
                                                       (100, 9.1)]
    assert plots.bucket_points(result(100, 1.5, 9.0, 100)) == []  # an older run: no buckets


def test_both_pictures_are_drawn_from_a_stored_result(tmp_path):
    js = tmp_path / "2026-12-07-test.json"
    js.write_text(json.dumps({"settings": SETTINGS, "machine": MACHINE, "runs": runs()}))
    drawn = plots.draw(js)
    ratios_png, latency_png = tmp_path / "2026-12-07-test.ratios.png", \
        tmp_path / "2026-12-07-test.latency.png"
    assert drawn == [ratios_png, latency_png]
    assert_picture(ratios_png, 1200, 300)
    assert_picture(latency_png, 1200, 600)  # four rows: two rows of panels
    # The ratio bars (left, etcdlab's colour, the table's rows but one without etcd); the p99
    # bars of both stores (right).
    left, right = colour_counts(ratios_png, "etcdlab", 1, 2)
    assert left > 10_000 and right > 2_000, (left, right)
    left, right = colour_counts(ratios_png, "etcd", 1, 2)
    assert right > 2_000, right
    # Four panels of curves (3 + 1 in a 3-column grid), both stores in each but the second
    # (no etcd run); the last two cells left empty.
    drawn = {"etcd": [True, False, True, True, False, False],
             "etcdlab": [True, True, True, True, False, False]}
    for kind, expected in drawn.items():
        cells = colour_counts(latency_png, kind, 2, 3, top_inches=0.7)
        assert [n > 100 for n in cells] == expected and min(cells) == 0, (kind, cells)


def test_compare_etcd_draws_the_pictures_and_links_them_from_its_table(tmp_path):
    ce = load_compare_etcd()
    js = tmp_path / "2026-12-07-test.json"
    lines = ce.draw_table_pictures(js, runs(), SETTINGS, MACHINE)
    assert "![etcdlab/etcd throughput and the p99 of both stores, per row]" \
           "(2026-12-07-test.ratios.png)" in lines
    assert "![latency by percentile per row, both stores](2026-12-07-test.latency.png)" in lines
    assert_picture(tmp_path / "2026-12-07-test.ratios.png", 1200, 300)
    assert_picture(tmp_path / "2026-12-07-test.latency.png", 1200, 600)
    # An --only-grpc (or --only-tls, ...) run has no main table and so no pictures.
    assert ce.draw_table_pictures(tmp_path / "other.json", [], SETTINGS, MACHINE) == []
    assert not (tmp_path / "other.ratios.png").exists()


def test_every_picture_docs_performance_shows_is_stored():
    doc = REPO / "docs" / "performance.md"
    images = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", doc.read_text())
    assert any(i.endswith(".ratios.png") for i in images)
    assert any(i.endswith(".latency.png") for i in images)
    for image in images:
        path = (doc.parent / image).resolve()
        png_size(path)  # exists and is a PNG
