"""Benchmark-style: a 10,000-operation, 8-client, 10-key KV history checked by the search
checker, partitioned per key. The time is printed (target: under 5 s on the course machines),
not asserted: only the verdict is."""

from source_checkers import use_source_checkers

use_source_checkers()

import random  # noqa: E402
import time  # noqa: E402

from etcdlab.checkers import KV, KVRevision, check, check_revisions  # noqa: E402
from etcdlab.checkers import generate as gen  # noqa: E402


def test_10k_ops_8_clients_10_keys_kv(capsys):
    g = gen.generate("kv", random.Random(2026), n_ops=10_000, n_clients=8, n_keys=10)
    t0 = time.monotonic()
    r = check(KV(), g.ops, timeout=120)
    elapsed = time.monotonic() - t0
    with capsys.disabled():
        print(
            f"\n[bench] search checker, KV, 10,000 ops, 8 clients, 10 keys: {r.verdict} in "
            f"{elapsed:.2f} s ({len(r.partitions)} partitions, {sum(p.steps for p in r.partitions)} "
            f"search steps; target < 5 s)"
        )
    assert r.verdict == "ok", r.explain()
    assert len(r.partitions) == 10


def test_10k_ops_with_revisions_both_checkers(capsys):
    g = gen.generate("kv-revision", random.Random(2027), n_ops=10_000, n_clients=8, n_keys=10, unknown_ratio=0.02)
    t0 = time.monotonic()
    r = check(KVRevision(), g.ops, timeout=120)
    t1 = time.monotonic()
    rr = check_revisions(g.ops)
    t2 = time.monotonic()
    with capsys.disabled():
        print(
            f"\n[bench] 10,000 KV ops with revisions (2% indeterminate): search {r.verdict} in "
            f"{t1 - t0:.2f} s, revision witness {rr.verdict} in {t2 - t1:.2f} s"
        )
    assert r.verdict == "ok", r.explain()
    assert rr.verdict == "ok", rr.explain()
