"""Histories recorded from the simulated KV cluster, where the search used to time out.

Every operation is its own client, and partitions and retries leave dozens of operations on one
key overlapping for seconds. data/kvsim_seed{7,11,12}.json keep the keys where the search
needed more than 5 s or timed out (each operation keeps its index in the full recording as its
id). Every operation returned and every put value is unique; the search used to extend each
partial linearization that had already stranded an operation (a read whose value was
overwritten, a put whose revision the key had passed) in every order the overlap allowed, and
took millions of steps per key. It now cuts such a step at once (porcupine._Doom).

The bounds are generous: ``timeout=5`` turns a slow check into "unknown", which fails the
verdict assertion, and the step counts (deterministic, unlike time) are ~100x above today's.
"""

from pathlib import Path

from source_checkers import use_source_checkers

use_source_checkers()

import json  # noqa: E402

import pytest  # noqa: E402

from etcdlab.checkers import KV, KVRevision, check  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
RECORDED = ["kvsim_seed7.json", "kvsim_seed11.json", "kvsim_seed12.json"]
MODELS = {"kv": KV, "kv-revision": KVRevision}
MAX_STEPS = 50_000  # per key; the checks take 46 to 2,923 steps, and took millions before


def recorded(name, replace=None):
    """The recorded operations of ``name``; ``replace`` maps an op id to a new output."""
    ops = json.loads((DATA / name).read_text())
    for op in ops:
        if replace and op["id"] in replace:
            op["output"] = replace[op["id"]]
    return ops


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("name", RECORDED)
def test_recorded_history_is_ok_within_bounds(name, model):
    r = check(MODELS[model](), DATA / name, timeout=5)
    assert r.verdict == "ok", f"{name}, {model}:\n{r.explain()}"
    steps = {p.label: p.steps for p in r.partitions}
    assert max(steps.values()) <= MAX_STEPS, f"{name}, {model}: search steps per key {steps}"


# seed 11, op 98: get(b) called at 4040.711, inside a clique of ~30 operations on key b that all
# return after 4210. It read 12-559 (mod 41, header 42); make it read 0-310, the key's value
# at revision 2 (mod 2, create 2, version 1), with the same header. Op 2 put 0-310 returned at
# 1059.268, and op 7 deleted the key in [1355.711, 1397.125], both before op 98 was called;
# nothing else writes 0-310. So the read is stale under either model.
STALE_READ = {98: {"value": "0-310", "mod_revision": 2, "create_revision": 2, "version": 1, "revision": 42}}

# seed 11, op 96: get(c) in [3740.711, 4262.452] read 31-322 (mod 42, version 8, header 42);
# make it read 35-697, what key c held at revision 30 (mod 30, create 27, version 2), still
# with header 42. Values alone allow that (the puts around it overlap it), so KV says ok; but
# with revisions, the puts of key c at revisions 33 to 37 would have to come both before it
# (their revisions are below its header) and after it (they overwrite 35-697).
OLD_REVISION = {96: {"value": "35-697", "mod_revision": 30, "create_revision": 27, "version": 2, "revision": 42}}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_stale_read_in_recorded_history_is_illegal(model):
    r = check(MODELS[model](), recorded("kvsim_seed11.json", STALE_READ), timeout=5)
    assert r.verdict == "illegal", r.explain()
    (bad,) = r.illegal_partitions
    assert bad.label == "key 'b'"
    assert bad.failure["op"] == 98, bad.failure["message"]
    assert "no longer holds" in bad.failure["message"], bad.failure["message"]


def test_old_revision_in_recorded_history_is_illegal_only_with_revisions():
    h = recorded("kvsim_seed11.json", OLD_REVISION)
    r = check(KV(), h, timeout=5)
    assert r.verdict == "ok", r.explain()
    r = check(KVRevision(), h, timeout=5)
    assert r.verdict == "illegal", r.explain()
    (bad,) = r.illegal_partitions
    assert bad.label == "key 'c'"
    assert bad.failure["op"] == 96, bad.failure["message"]
