"""The HTML report: self-contained, marks the failing operations and the failing point."""

from source_checkers import use_source_checkers

use_source_checkers()

import json  # noqa: E402
from html import escape as html_escape  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402

from etcdlab.checkers import KV, CountingLog, KVRevision, check, check_revisions, render_html  # noqa: E402
from etcdlab.checkers import generate as gen  # noqa: E402

EXTERNAL = re.compile(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}|\b(src|href)\s*=|@import|<link\b", re.I)


def stale_kv():
    return [
        {"id": 1, "client": 0, "kind": "put", "input": ["a", "x"], "call": 0, "ret": 5},
        {"id": 2, "client": 1, "kind": "put", "input": ["a", "y"], "call": 6, "ret": 10},
        {"id": 3, "client": 2, "kind": "get", "input": ["a"], "output": "y", "call": 7, "ret": 9},
        {"id": 4, "client": 2, "kind": "get", "input": ["a"], "output": "x", "call": 11, "ret": 12},
        {"id": 5, "client": 3, "kind": "put", "input": ["b", "z"], "call": 0, "ret": None, "outcome": "unknown"},
        {"id": 6, "client": 4, "kind": "get", "input": ["b"], "output": None, "call": 1, "ret": 2},
    ]


def test_illegal_report_marks_the_failing_op_and_is_self_contained(tmp_path):
    h = stale_kv()
    r = check(KV(), h, stop_on_illegal=False)
    assert r.verdict == "illegal"
    path = tmp_path / "history.html"
    html = render_html(KV(), h, r, path)
    assert path.read_text(encoding="utf-8") == html
    assert html.startswith("<!DOCTYPE html>")
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert 'class="op bad" data-op="4"' in html  # the failing op, in red
    assert "failline" in html  # the failing point on the timeline
    assert "Linearization fails" in html and "op 4" in html
    assert "Longest partial linearization" in html
    # the longest linearization is listed with the state after each step
    assert re.search(r"<code>op 1</code>.*<code>op 2</code>.*<code>op 3</code>", html, re.S)
    # hover text carries inputs and outputs
    assert "get(&#x27;a&#x27;) -&gt; &#x27;x&#x27;" in html
    # the indeterminate put runs to the right edge, hatched
    assert re.search(r'class="op (lin|nolin) unk" data-op="5"|class="op unk" data-op="5"', html)
    # the data behind it, machine-readable
    blob = re.search(r'<script type="application/json" id="etcdlab-check-data">(.*?)</script>', html, re.S).group(1)
    data = json.loads(blob)
    assert data["verdict"] == "illegal"
    assert any(p["failure"] and p["failure"]["op"] == 4 for p in data["partitions"])


def test_ok_report_renders(tmp_path):
    g = gen.generate("counting-log", random.Random(3), n_ops=60, n_clients=3, unknown_ratio=0.1)
    r = check(CountingLog(), g.ops)
    assert r.verdict == "ok"
    html = render_html(CountingLog(), g.ops, r, tmp_path / "ok.html")
    assert "verdict-ok" in html and not EXTERNAL.search(html)


def test_revision_report_lists_violations(tmp_path):
    g = gen.generate("kv-revision", random.Random(4), n_ops=120, n_clients=4, n_keys=2)
    bad = gen.stale_read(g, random.Random(4))
    rr = check_revisions(bad.ops)
    assert rr.verdict == "illegal"
    html = render_html(KVRevision(), bad.ops, rr, tmp_path / "rev.html")
    assert "First violation" in html and html_escape(rr.first.message) in html
    offending = rr.first.ops[0]
    assert f'class="op bad" data-op="{offending}"' in html
    assert not EXTERNAL.search(html)


def test_many_clients_are_packed_into_lanes(tmp_path):
    # simulator style: every operation its own client
    g = gen.generate("counting-log", random.Random(5), n_ops=200, n_clients=6)
    ops = [op.to_dict() | {"client": op.id} for op in g.ops]
    bad = list(ops) + [{"id": 999, "client": 999, "kind": "read", "output": 10**6, "call": 0, "ret": 1}]
    r = check(CountingLog(), bad)
    html = render_html(CountingLog(), bad, r, tmp_path / "lanes.html")
    assert ">lane 0</text>" in html and ">client 999</text>" not in html
    assert 'data-op="999"' in html
