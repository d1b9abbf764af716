"""bench/compare-etcd --smoke (`make bench-smoke`) without processes: the rows it runs are rows
of the full table, so a renamed workload cannot drop out of the smoke run unnoticed, and its
results get a name of their own."""

import importlib.machinery
import importlib.util
import pathlib
import sys

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))


def load_compare_etcd():
    loader = importlib.machinery.SourceFileLoader("compare_etcd", str(BENCH / "compare-etcd"))
    spec = importlib.util.spec_from_loader("compare_etcd", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_every_smoke_workload_is_a_row_of_the_three_member_table():
    ce = load_compare_etcd()
    ids = [wid for wid, _, _ in ce.workloads(3, ["--duration", "2", "--warmup", "0.5"])]
    assert set(ce.SMOKE_WORKLOADS) <= set(ids)
    # The fill comes before the ranges, as in the full table, so they read keys that exist.
    order = [wid for wid in ids if wid in ce.SMOKE_WORKLOADS]
    assert order.index("fill") < order.index("range-l-64")


def test_smoke_results_are_named_apart_from_the_full_table(tmp_path, monkeypatch):
    ce = load_compare_etcd()
    monkeypatch.setattr(ce, "RESULTS", tmp_path)
    md, js = ce.result_paths("2026-12-07", "smoke")
    assert md.name.endswith("-smoke.md") and js.name.endswith("-smoke.json")
    md.write_text("x")
    again, _ = ce.result_paths("2026-12-07", "smoke")
    assert again.name.endswith("-smoke-2.md")
    full, _ = ce.result_paths("2026-12-07")
    assert "smoke" not in full.name
