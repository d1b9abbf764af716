"""Checking the checkers: generated good histories pass; each injected fault is flagged.

Good histories come from a simulated sequential execution with random concurrency
(etcdlab.checkers.generate, seeded with random.Random(seed)); the mutations inject a stale read,
a lost acknowledged write, a duplicated write and (with revisions) a revision regression, each
chosen so that the result is provably not linearizable. Seeds: ETCDLAB_SEED replays one (as
printed on failure), ETCDLAB_SEED_BASE picks others; by default a fixed list.
"""

from source_checkers import use_source_checkers

use_source_checkers()

import seeding  # noqa: E402

import random  # noqa: E402

import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from etcdlab.checkers import KV, CountingLog, KVRevision, Register, check, check_revisions  # noqa: E402
from etcdlab.checkers import generate as gen  # noqa: E402

MODELS = {"register": Register, "kv": KV, "counting-log": CountingLog, "kv-revision": KVRevision}
MUTATIONS = {
    (m, mut)
    for m in MODELS
    for mut in ("stale_read", "lost_write", "duplicate_write", "revision_regression")
    if mut != "revision_regression" or m == "kv-revision"
}


def seeds(count=6):
    return seeding.seeds(count, default=[11, 22, 33, 44, 55, 66][:count])


def replay_line(seed, name):
    return f"ETCDLAB_SEED={seed} /usr/bin/python3 -m pytest python/tests/test_checker_mutations.py -k '{name}'"


def make(model, seed, attempt=0, **kw):
    """A good history for ``model`` from ``seed`` (the attempt number varies it when a
    mutation finds no target)."""
    rng = random.Random(seed * 1000 + attempt)
    params = dict(n_ops=rng.randint(80, 160), n_clients=rng.randint(2, 5), n_keys=rng.randint(1, 3),
                  unknown_ratio=0.05 if attempt < 2 else 0.0, failed_ratio=0.05, seed=seed)
    params.update(kw)
    return gen.generate(model, rng, **params)


def assert_ok(model, g, context):
    r = check(MODELS[model](), g.ops, timeout=20)
    assert r.verdict == "ok", f"{context}: a good history was judged {r.verdict}\n{r.explain()}"
    if model == "kv-revision":
        rr = check_revisions(g.ops)
        assert rr.verdict == "ok", f"{context}: the revision checker judged a good history {rr.verdict}\n{rr.explain()}"


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("seed", seeds())
def test_good_histories_pass(model, seed, request):
    replay = replay_line(seed, request.node.name)
    print(f"seed {seed}; replay: {replay}")
    for attempt in range(2):
        assert_ok(model, make(model, seed, attempt), f"{model} seed {seed} attempt {attempt}; replay: {replay}")


@pytest.mark.parametrize("model, mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("seed", seeds())
def test_mutation_is_flagged(model, mutation, seed, request):
    replay = replay_line(seed, request.node.name)
    print(f"seed {seed}; replay: {replay}")
    mutate = gen.MUTATIONS[mutation]
    for attempt in range(6):
        good = make(model, seed, attempt)
        assert_ok(model, good, f"{model} seed {seed}; replay: {replay}")
        bad = mutate(good, random.Random(seed + attempt))
        if bad is not None:
            break
    else:
        pytest.fail(f"{mutation} found no target in 6 {model} histories (seed {seed}); replay: {replay}")
    context = f"{mutation} on {model}, seed {seed}: {bad.reason}\nreplay: {replay}"
    r = check(MODELS[model](), bad.ops, timeout=20)
    assert r.verdict == "illegal", f"search checker said {r.verdict} for {context}\n{r.explain()}"
    if model == "kv-revision":
        rr = check_revisions(bad.ops)
        assert rr.verdict == "illegal", f"revision checker said {rr.verdict} for {context}"
    # the report points at an operation the mutation touched, or at one forced to see it
    assert r.illegal_partitions[0].failure["op"] is not None


@given(
    model=st.sampled_from(sorted(MODELS)),
    seed=st.integers(min_value=0, max_value=2**32),
    n_ops=st.integers(min_value=0, max_value=60),
    n_clients=st.integers(min_value=1, max_value=6),
    n_keys=st.integers(min_value=1, max_value=3),
    unknown_ratio=st.sampled_from([0.0, 0.1, 0.3]),
    failed_ratio=st.sampled_from([0.0, 0.1]),
    max_latency=st.sampled_from([0, 3, 30]),
)
@settings(derandomize=True, deadline=None, database=None, max_examples=80)
def test_random_good_histories_are_never_flagged(model, seed, n_ops, n_clients, n_keys, unknown_ratio, failed_ratio, max_latency):
    g = gen.generate(model, random.Random(seed), n_ops=n_ops, n_clients=n_clients, n_keys=n_keys,
                     unknown_ratio=unknown_ratio, failed_ratio=failed_ratio, max_latency=max_latency)
    r = check(MODELS[model](), g.ops, timeout=20)
    assert r.verdict == "ok", r.explain()
    if model == "kv-revision":
        rr = check_revisions(g.ops)
        assert rr.verdict == "ok", rr.explain()


def test_generation_is_deterministic():
    a = gen.generate("kv-revision", random.Random(5), n_ops=50, unknown_ratio=0.2)
    b = gen.generate("kv-revision", random.Random(5), n_ops=50, unknown_ratio=0.2)
    assert [op.to_dict() for op in a.ops] == [op.to_dict() for op in b.ops]
