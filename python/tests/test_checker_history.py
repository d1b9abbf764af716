"""The history data model: loading, validation, dropping failures and indeterminate reads."""

from source_checkers import use_source_checkers

use_source_checkers()

import json  # noqa: E402
import math  # noqa: E402

import pytest  # noqa: E402

from etcdlab.checkers import INF, UNKNOWN, HistoryError, Operation, dump_history, load_history, validate_history  # noqa: E402
from etcdlab.checkers.history import drop_indeterminate  # noqa: E402


def test_load_from_dicts_assigns_ids_and_defaults():
    ops = load_history(
        [
            {"client": 1, "kind": "put", "input": ["k", "v"], "call": 0, "ret": 5},
            {"client": 2, "kind": "get", "input": ["k"], "output": "v", "call": 1, "ret": 6, "outcome": "ok"},
        ]
    )
    assert [op.id for op in ops] == [0, 1]
    assert ops[0].input == ("k", "v")  # lists are frozen to tuples (hashable)
    assert ops[1].ok and not ops[1].unknown


def test_load_simulator_field_names_and_never():
    # the simulator's Operation: id, kind propose/read, call_us, return_us (kNever), outcome
    never = 2**64 - 1
    ops = load_history(
        [
            {"id": 1, "kind": "propose", "input": "x", "call_us": 10, "return_us": 20, "outcome": "ok"},
            {"id": 2, "kind": "propose", "input": "y", "call_us": 12, "return_us": never, "outcome": "unknown"},
            {"id": 3, "kind": "read", "output": "1", "call_us": 30, "return_us": 40, "outcome": "failed"},
        ]
    )
    assert [op.client for op in ops] == [1, 2, 3]  # each operation its own client
    assert ops[1].ret == INF and ops[1].unknown
    assert ops[2].failed
    validate_history(ops)


def test_load_json_text_file_and_json_lines(tmp_path):
    data = [{"id": "a", "client": 0, "kind": "write", "input": 1, "call": 0, "ret": 1}]
    p = tmp_path / "h.json"
    p.write_text(json.dumps({"operations": data}))
    assert load_history(p)[0].id == "a"
    assert load_history(str(p))[0].id == "a"
    assert load_history(json.dumps(data))[0].id == "a"
    jl = tmp_path / "h.jsonl"
    jl.write_text("\n".join(json.dumps(d) for d in data * 1) + "\n")
    assert load_history(jl)[0].kind == "write"


def test_dump_round_trip():
    ops = load_history([{"id": 7, "client": 0, "kind": "write", "input": 1, "call": 0, "ret": None, "outcome": "unknown"}])
    again = load_history(dump_history(ops))
    assert again[0].ret is None or again[0].ret == INF
    assert again[0].unknown


def test_outcome_aliases_and_bool():
    assert Operation(0, "read", None, 1, 0, 1, True).outcome == "ok"
    assert Operation(0, "read", None, 1, 0, 1, False).outcome == "failed"
    assert Operation(0, "write", 1, None, 0, None, ":info").outcome == "unknown"
    with pytest.raises(HistoryError):
        Operation(0, "write", 1, None, 0, 1, "maybe")


def test_overlapping_ops_of_one_client_are_rejected():
    ops = load_history(
        [
            {"id": 1, "client": "c1", "kind": "write", "input": 1, "call": 0, "ret": 10},
            {"id": 2, "client": "c1", "kind": "read", "output": 1, "call": 5, "ret": 12},
        ]
    )
    with pytest.raises(HistoryError, match=r"client 'c1' has overlapping operations: op 1 .* op 2"):
        validate_history(ops)


def test_call_at_previous_return_is_allowed():
    ops = load_history(
        [
            {"id": 1, "client": 0, "kind": "write", "input": 1, "call": 0, "ret": 10},
            {"id": 2, "client": 0, "kind": "read", "output": 1, "call": 10, "ret": 12},
        ]
    )
    validate_history(ops)


def test_unknown_without_return_blocks_the_client():
    ops = load_history(
        [
            {"id": 1, "client": 0, "kind": "write", "input": 1, "call": 0, "ret": None, "outcome": "unknown"},
            {"id": 2, "client": 0, "kind": "read", "output": 1, "call": 50, "ret": 60},
        ]
    )
    with pytest.raises(HistoryError, match="never returned"):
        validate_history(ops)
    # with the time the client gave up recorded, it may go on
    ops[0].ret = 20
    validate_history(ops)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"id": 1, "client": 0, "kind": "write", "input": 1, "call": 5, "ret": 3}, "before it is called"),
        ({"id": 1, "client": 0, "kind": "write", "input": 1, "call": 5, "ret": None}, "must have a return time"),
        ({"id": 1, "client": 0, "kind": "write", "input": 1, "call": "soon", "ret": 6}, "not a number"),
        ({"id": 1, "client": 0, "input": 1, "call": 1, "ret": 6}, "no kind"),
    ],
)
def test_malformed_operations(bad, message):
    with pytest.raises(HistoryError, match=message):
        validate_history(load_history([bad]))


def test_duplicate_ids_rejected():
    ops = load_history(
        [
            {"id": 1, "client": 0, "kind": "write", "input": 1, "call": 0, "ret": 1},
            {"id": 1, "client": 1, "kind": "write", "input": 2, "call": 0, "ret": 1},
        ]
    )
    with pytest.raises(HistoryError, match="duplicate operation id"):
        validate_history(ops)


def test_drop_failures_and_indeterminate_reads():
    ops = load_history(
        [
            {"id": 1, "client": 0, "kind": "write", "input": 1, "call": 0, "ret": 4, "outcome": "failed"},
            {"id": 2, "client": 1, "kind": "read", "output": 7, "call": 0, "ret": 4, "outcome": "unknown"},
            {"id": 3, "client": 2, "kind": "write", "input": 3, "output": "junk", "call": 0, "ret": 9, "outcome": "unknown"},
            {"id": 4, "client": 3, "kind": "read", "output": 3, "call": 1, "ret": 2},
        ]
    )
    kept = drop_indeterminate(ops)
    assert [op.id for op in kept] == [3, 4]
    assert kept[0].ret == INF and kept[0].output is UNKNOWN  # returns at +infinity, output ignored
    assert ops[2].ret == 9  # the input is not modified
    assert math.isinf(kept[0].ret)
