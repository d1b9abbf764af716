"""The mutation operators (tools/mutation/operators.py): what each changes, and what none may."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mutation.operators import mutants_of  # noqa: E402


def mutated(source: str, op: str | None = None) -> list[str]:
    return [m.apply(source) for m in mutants_of("x.cc", source) if op is None or m.op == op]


def test_relational_operators_move_across_their_boundary_or_flip():
    out = mutated("bool f(int a, int b) { return a < b && a == b; }\n", "ror")
    assert "bool f(int a, int b) { return a <= b && a == b; }\n" in out
    assert "bool f(int a, int b) { return a < b && a != b; }\n" in out
    assert len(out) == 2


def test_templates_streams_and_arrows_are_not_comparisons():
    src = "std::vector<int> v; out << x; p->next = q >> 2;\n"
    assert mutated(src, "ror") == []


def test_if_conditions_are_made_constant_and_lose_each_operand():
    src = "  if (a && b) return;\n"
    out = mutated(src)
    assert "  if (true) return;\n" in out
    assert "  if (false) return;\n" in out
    assert "  if (b) return;\n" in out
    assert "  if (a) return;\n" in out


def test_statements_that_call_or_assign_are_deleted_and_swapped():
    src = "void f() {\n  file->sync();\n  fs.sync_dir(dir);\n  int x = 1;\n}\n"
    deletes = mutated(src, "delete")
    assert "void f() {\n  ;\n  fs.sync_dir(dir);\n  int x = 1;\n}\n" in deletes
    assert "void f() {\n  file->sync();\n  ;\n  int x = 1;\n}\n" in deletes
    assert len(deletes) == 2, "a declaration is not deleted"
    assert mutated(src, "swap") == ["void f() {\n  fs.sync_dir(dir);\n  file->sync();\n"
                                    "  int x = 1;\n}\n"]


def test_off_by_one_min_max_ternary_and_returns():
    assert mutated("x = y + 1;\n", "off-by-one") == ["x = y;\n"]
    assert mutated("x = std::min(a, b);\n", "minmax") == ["x = std::max(a, b);\n"]
    assert mutated("x = c ? a : b;\n", "ternary") == ["x = c ? b : a;\n"]
    assert mutated("  return true;\n", "return") == ["  return false;\n"]


def test_comments_strings_and_messages_are_never_mutated():
    src = ('// if (a < b) x = y + 1;\n'
           'const char* s = "a < b";\n'
           'note("node {} < {}", a + 1, b);\n'
           'throw X(fmt::format("{}", i < j));\n')
    assert mutants_of("x.cc", src) == []


def test_code_only_a_broken_variant_runs_is_never_mutated():
    src = ('void f() {\n'
           '  if (ETCDLAB_BROKEN("v") && a < b) {\n'
           '    x = y + 1;\n'
           '  }\n'
           '  z = ETCDLAB_BROKEN("w") ? p + 1 : q;\n'
           '#ifdef ETCDLAB_BROKEN_VARIANTS\n'
           '  w = v < 3;\n'
           '#endif\n'
           '}\n')
    for m in mutants_of("x.cc", src):
        assert m.line == 5 and m.op in ("delete",), m.describe()


def test_dropping_a_broken_switch_from_a_condition_is_not_a_mutant():
    src = "  if (a && !ETCDLAB_BROKEN(\"v\")) return;\n"
    drops = mutated(src, "drop-cond")
    assert drops == ['  if (!ETCDLAB_BROKEN("v")) return;\n']


def test_ids_depend_on_the_line_not_its_position():
    a = {m.id for m in mutants_of("x.cc", "x = y + 1;\n")}
    b = {m.id for m in mutants_of("x.cc", "// a new comment\n\nx = y + 1;\n")}
    assert a == b
    twice = mutants_of("x.cc", "x = y + 1;\nx = y + 1;\n")
    assert len({m.id for m in twice}) == len(twice) == 4, "equal lines are told apart"


def test_an_if_whose_and_chain_ends_in_a_broken_switch_is_dead_code():
    # ETCDLAB_BROKEN is false in the reference: `X && ETCDLAB_BROKEN("y")` is never true.
    src = ('  if (lease == kNoLease && ETCDLAB_BROKEN("keeps-it")) return;\n'
           '  if (a < b && ETCDLAB_BROKEN("z")) {\n    x = y + 1;\n  }\n')
    assert mutants_of("x.cc", src) == []
    # `||` before it: the condition can still be true; the other operand is mutated.
    assert mutated('  if (a < b || ETCDLAB_BROKEN("z")) f();\n', "ror") == [
        '  if (a <= b || ETCDLAB_BROKEN("z")) f();\n']


def test_the_whole_statement_an_if_on_a_broken_switch_guards_is_dead_code():
    # The body's own `||` or `?:` does not end it: the statement runs to its `;`.
    src = ('  if (ETCDLAB_BROKEN("x")) synced = start == 0 || start >= current;\n'
           '  if (ETCDLAB_BROKEN("y")) n = a < b ? a : b;\n')
    assert mutants_of("x.cc", src) == []
