"""The mutation operators: a fixed set of small edits applied to every eligible line of a source.

Each operator finds its sites by reading the code as clang-format writes it (binary operators
have a space on each side, template brackets have none), so it needs no C++ parser:

  ror        a relational operator moved across its boundary or negated:
             `<` <-> `<=`, `>` <-> `>=`, `==` <-> `!=`
  logic      `&&` <-> `||`
  drop-cond  one operand of a top-level `&&` / `||` of an `if` condition left out
             (a dropped term or index check)
  if-const   an `if` condition replaced by `true` or `false` (the other branch never runs),
             a `while` condition by `false`
  not        a `!` removed
  off-by-one `+ 1` or `- 1` removed
  minmax     `std::min` <-> `std::max`
  ternary    the two branches of `c ? a : b` swapped (the wrong branch returned)
  return     `return true;` <-> `return false;`
  delete     a statement that is a call or an assignment deleted (a `sync()`, a `sync_dir()`,
             a persist, a counter update, ...)
  swap       two consecutive calls swapped (two writes in the other order; two assignments to
             different variables are left alone: their order never matters)

What is never mutated: comments, string and character literals, preprocessor lines, and the
arguments of calls that only build messages or pick a broken variant (`fmt::format`, `note`,
`log_state`, `spdlog::*`, `ETCDLAB_BROKEN`): a mutant there changes a message, not behaviour.

A mutant is identified by its file, the text of the line it changes (not the line number, so
edits elsewhere keep ids stable), which occurrence of that text in the file it is, the
operator and the mutated text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Calls whose arguments are messages (or the broken-variant switch): never mutated inside.
_QUIET_CALLS = re.compile(r"\b(?:ETCDLAB_BROKEN|fmt::format|note|log_state|spdlog::\w+)\s*\(")

_KEYWORDS = {
    "return", "throw", "if", "for", "while", "switch", "case", "default", "break", "continue",
    "do", "else", "using", "namespace", "typedef", "struct", "class", "enum", "template",
    "static", "const", "constexpr", "auto", "inline", "virtual", "explicit", "delete", "new",
    "goto", "friend", "public", "private", "protected", "co_return", "co_await", "try", "catch",
    "static_assert", "unsigned", "signed", "bool", "char", "int", "long", "short", "double",
    "float", "void", "size_t",
}

# A statement that is a call or an assignment: an identifier chain (a.b, a->b, a::b, a[i],
# a(x).b) followed by `(`, an assignment or ++/--. A declaration has a second identifier (or
# `<`, `&`, `*`) after its type, so it does not match.
_EXPR_STATEMENT = re.compile(
    r"^\s*(?:\+\+|--)?\*?(?P<first>[A-Za-z_]\w*)"
    r"(?:(?:\.|->|::)[A-Za-z_]\w*|\[[^\]]*\]|\((?:[^()]|\([^()]*\))*\)(?=\s*(?:\.|->)))*"
    r"\s*(?:\((?!\))|\(\)|=(?!=)|\+=|-=|\*=|/=|\|=|&=|<<=|>>=|\+\+|--)")

_ROR = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
_REL = re.compile(r"(?<=\s)(<=|>=|==|!=|<|>)(?=\s)")
_LOGIC = re.compile(r"(?<=\s)(&&|\|\|)(?=\s)")
_NOT = re.compile(r"(?<![\w)\]!=<>])!(?=[A-Za-z_(*])")
_OFF_BY_ONE = re.compile(r" [+-] 1(?![\w.])")
_MINMAX = re.compile(r"\bstd::(min|max)\b")
_RETURN_BOOL = re.compile(r"\breturn (true|false);")
_IF = re.compile(r"\b(if|while) \(")


@dataclass(frozen=True)
class Mutant:
    id: str
    path: str  # relative to the repository root
    line: int  # 1-based, in the current source (for people; the id does not depend on it)
    op: str
    original: str  # the line(s) as written
    mutated: str  # the replacement text for those lines
    span: int = 1  # lines replaced (2 for a swap)

    def describe(self) -> str:
        before = " / ".join(s.strip() for s in self.original.splitlines())
        after = " / ".join(s.strip() for s in self.mutated.splitlines()) or "(deleted)"
        return f"{self.op}: `{before}` -> `{after}`"

    def apply(self, text: str) -> str:
        lines = text.split("\n")
        start = self.line - 1
        current = "\n".join(lines[start:start + self.span])
        if current != self.original:
            raise ValueError(f"{self.path}:{self.line} changed since the mutant was made")
        return "\n".join(lines[:start] + self.mutated.split("\n") + lines[start + self.span:])


def code_mask(text: str) -> list[bool]:
    """Per character of `text`: True where a mutation may touch it (code), False in comments,
    string and character literals, preprocessor lines and message-building calls."""
    n = len(text)
    ok = [True] * n
    i = 0
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c in " \t":
            i += 1
            continue
        if line_start and c == "#":  # a preprocessor line (with continuations)
            while i < n and not (text[i] == "\n" and text[i - 1] != "\\"):
                ok[i] = False
                i += 1
            continue
        line_start = c == "\n"
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                ok[i] = False
                i += 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            for k in range(i, end):
                ok[k] = False
            i = end
            continue
        if c in "\"'":
            if c == "'" and i > 0 and (text[i - 1].isalnum()):  # a digit separator: 1'000
                i += 1
                continue
            k = i + 1
            while k < n and text[k] != c:
                k += 2 if text[k] == "\\" else 1
            for j in range(i, min(n, k + 1)):
                ok[j] = False
            i = k + 1
            continue
        i += 1
    code = [ok[k] for k in range(n)]  # code as opposed to comments and literals
    dead = _dead_variant_code(text, code)
    for m in _QUIET_CALLS.finditer(text):
        if not code[m.start()]:
            continue
        k = _close(text, code, m.end() - 1)
        for j in range(m.start(), k + 1):
            ok[j] = False
    for lo, hi in dead:
        for j in range(lo, hi):
            ok[j] = False
    return ok


def _close(text: str, code: list[bool], at: int, opening: str = "(", closing: str = ")") -> int:
    """The index of the bracket that closes the one at `at` (or the end of the text)."""
    depth = 0
    for k in range(at, len(text)):
        if not code[k]:
            continue
        if text[k] == opening:
            depth += 1
        elif text[k] == closing:
            depth -= 1
            if depth == 0:
                return k
    return len(text) - 1


def _skip_space(text: str, k: int) -> int:
    while k < len(text) and text[k] in " \t\n":
        k += 1
    return k


def _operand_end(text: str, code: list[bool], k: int) -> int:
    """From k, the end of the current operand group: an unmatched closing bracket, or a `||`,
    `?`, `:`, `,` or `;` at depth 0."""
    depth = 0
    while k < len(text):
        if code[k]:
            ch = text[k]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                if depth == 0:
                    return k
                depth -= 1
            elif depth == 0 and (ch in ",;?" or text.startswith("||", k)
                                 or (ch == ":" and not text.startswith("::", k)
                                     and text[k - 1] != ":")):
                return k
        k += 1
    return k


_VARIANT_BLOCK = re.compile(r"^[ \t]*#\s*ifdef\s+ETCDLAB_BROKEN_VARIANTS\b.*?^[ \t]*#\s*endif\b",
                            re.MULTILINE | re.DOTALL)


def _dead_variant_code(text: str, code: list[bool]) -> list[tuple[int, int]]:
    """Spans that only a broken variant runs (ETCDLAB_BROKEN is false in the reference, so a
    mutant there cannot change anything): `#ifdef ETCDLAB_BROKEN_VARIANTS` blocks, the whole of
    `if (ETCDLAB_BROKEN(..) [&& ..]) body`, and X in `ETCDLAB_BROKEN(..) && X` and in
    `ETCDLAB_BROKEN(..) ? X : Y`."""
    spans = [(m.start(), m.end()) for m in _VARIANT_BLOCK.finditer(text)]
    for m in re.finditer(r"\bETCDLAB_BROKEN\s*\(", text):
        if not code[m.start()]:
            continue
        call_end = _close(text, code, m.end() - 1) + 1
        after = _skip_space(text, call_end)
        before = m.start() - 1
        while before >= 0 and text[before] in " \t\n":
            before -= 1
        if_at = text.rfind("if", 0, before)
        if (before >= 0 and text[before] == "(" and if_at >= 0
                and text[if_at:before].replace(" ", "") == "if"
                and (text.startswith(")", after) or text.startswith("&&", after))):
            cond_end = _close(text, code, before)
            body = _skip_space(text, cond_end + 1)
            if text.startswith("{", body):
                end = _close(text, code, body, "{", "}") + 1
            else:
                end = _statement_end(text, code, body) + 1  # up to and with the `;`
            spans.append((if_at, end))
        elif (text.startswith(")", after) and text[:before + 1].endswith("&&")
              and (stmt := _dead_if_ending_in(text, code, after)) is not None):
            spans.append(stmt)  # `if (X && ETCDLAB_BROKEN(..)) body`: never taken either
        elif text.startswith("&&", after) or text.startswith("?", after):
            end = _operand_end(text, code, after + 2 if text.startswith("&&", after) else after + 1)
            spans.append((m.start(), end))
        else:
            spans.append((m.start(), call_end))
    return spans


def _dead_if_ending_in(text: str, code: list[bool], close: int) -> tuple[int, int] | None:
    """The span of the `if` statement whose condition closes at `close`, if that condition is a
    chain of `&&` only (its last operand, a broken-variant switch, makes it false); else None."""
    depth = 0
    k = close
    while k >= 0:
        if code[k]:
            if text[k] == ")":
                depth += 1
            elif text[k] == "(":
                depth -= 1
                if depth == 0:
                    break
            elif depth == 1 and (text.startswith("||", k) or text[k] in "?;{}"):
                return None
        k -= 1
    if_at = text.rfind("if", 0, k)
    if k < 0 or if_at < 0 or text[if_at:k].replace(" ", "") != "if":
        return None
    body = _skip_space(text, close + 1)
    if text.startswith("{", body):
        return if_at, _close(text, code, body, "{", "}") + 1
    return if_at, _statement_end(text, code, body) + 1


def _statement_end(text: str, code: list[bool], k: int) -> int:
    """From k, the `;` that ends the statement (at bracket depth 0), or the end of the text."""
    depth = 0
    while k < len(text):
        if code[k]:
            if text[k] in "([{":
                depth += 1
            elif text[k] in ")]}":
                depth -= 1
            elif text[k] == ";" and depth == 0:
                return k
        k += 1
    return k


def _mutable_code(line: str, mask: list[bool]) -> str:
    """The line with everything that must not be mutated blanked out (same length)."""
    return "".join(ch if m else " " for ch, m in zip(line, mask))


def _matching_paren(code: str, open_at: int) -> int | None:
    depth = 0
    for k in range(open_at, len(code)):
        if code[k] == "(":
            depth += 1
        elif code[k] == ")":
            depth -= 1
            if depth == 0:
                return k
    return None


def _top_level_split(code: str, lo: int, hi: int, sep: str) -> list[tuple[int, int]]:
    """Spans of the operands of `sep` at paren depth 0 within code[lo:hi]."""
    spans, depth, start, k = [], 0, lo, lo
    while k < hi:
        ch = code[k]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and code.startswith(f" {sep} ", k):
            spans.append((start, k))
            start = k + len(sep) + 2
            k = start
            continue
        k += 1
    spans.append((start, hi))
    return spans


def _statement_lines(lines: list[str], codes: list[str]) -> list[bool]:
    """Which lines hold one whole statement that starts and ends on that line."""
    out = [False] * len(lines)
    previous_end = "{"
    for i, code in enumerate(codes):
        stripped = code.strip()
        if not stripped:
            continue
        starts_here = previous_end[-1:] in (";", "{", "}", ":") or previous_end.endswith(")")
        balanced = code.count("(") == code.count(")")
        out[i] = starts_here and balanced and stripped.endswith(";") and not stripped.startswith(
            ("}", ")"))
        previous_end = stripped
    return out


def _deletable(code: str) -> bool:
    m = _EXPR_STATEMENT.match(code)
    return bool(m) and m.group("first") not in _KEYWORDS


def _call(code: str) -> bool:
    """A statement that is a call (not an assignment, which may hold a call on its right)."""
    stripped = code.strip()
    depth = 0
    for i, ch in enumerate(stripped):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch == "=" and stripped[i - 1] not in "=!<>" and \
                stripped[i + 1:i + 2] != "=":
            return False
    return stripped.endswith(");") or stripped.endswith(")->commit();")


def mutants_of(path: str, text: str) -> list[Mutant]:
    """Every mutant of one source file, in line order."""
    lines = text.split("\n")
    mask = code_mask(text)
    codes, offset = [], 0
    for line in lines:
        codes.append(_mutable_code(line, mask[offset:offset + len(line)]))
        offset += len(line) + 1
    statement = _statement_lines(lines, codes)
    seen: dict[str, int] = {}
    out: list[Mutant] = []

    def add(i: int, op: str, mutated: str, span: int = 1) -> None:
        original = "\n".join(lines[i:i + span])
        if mutated == original:
            return
        key = original.strip()
        occurrence = seen_at[i]
        digest = hashlib.sha1(f"{path}\0{key}\0{occurrence}\0{op}\0{mutated.strip()}".encode())
        out.append(Mutant(digest.hexdigest()[:12], path, i + 1, op, original, mutated, span))

    seen_at = []
    for line in lines:
        key = line.strip()
        seen_at.append(seen.get(key, 0))
        seen[key] = seen.get(key, 0) + 1

    for i, (line, code) in enumerate(zip(lines, codes)):
        if not code.strip():
            continue

        def replace(lo: int, hi: int, new: str) -> str:
            return line[:lo] + new + line[hi:]

        for m in _REL.finditer(code):
            add(i, "ror", replace(m.start(), m.end(), _ROR[m.group(1)]))
        for m in _LOGIC.finditer(code):
            add(i, "logic", replace(m.start(), m.end(), "||" if m.group(1) == "&&" else "&&"))
        for m in _NOT.finditer(code):
            add(i, "not", replace(m.start(), m.end(), ""))
        for m in _OFF_BY_ONE.finditer(code):
            add(i, "off-by-one", replace(m.start(), m.end(), ""))
        for m in _MINMAX.finditer(code):
            add(i, "minmax", replace(m.start(1), m.end(1), "max" if m.group(1) == "min" else "min"))
        for m in _RETURN_BOOL.finditer(code):
            add(i, "return", replace(m.start(1), m.end(1),
                                     "false" if m.group(1) == "true" else "true"))
        for m in _IF.finditer(code):
            open_at = m.end() - 1
            close = _matching_paren(code, open_at)
            if close is None:
                continue  # a condition over several lines: only the token operators apply
            lo, hi = open_at + 1, close
            # `if (!ETCDLAB_BROKEN("x"))` is always true in the reference: making it so is no
            # mutant (and `if (ETCDLAB_BROKEN("x"))` is dead code, masked already).
            only_switch = not code[lo:hi].strip(" !()")
            if m.group(1) == "if":
                if not only_switch:
                    add(i, "if-const", replace(lo, hi, "true"))
                add(i, "if-const", replace(lo, hi, "false"))
                for sep in ("&&", "||"):
                    operands = _top_level_split(code, lo, hi, sep)
                    if len(operands) < 2:
                        continue
                    for k in range(len(operands)):
                        a, b = operands[k]
                        if not code[a:b].strip(" !()"):
                            continue  # a broken-variant switch: leaving it out changes nothing
                        kept = [line[a:b] for j, (a, b) in enumerate(operands) if j != k]
                        add(i, "drop-cond", replace(lo, hi, f" {sep} ".join(kept)))
            else:
                add(i, "if-const", replace(lo, hi, "false"))
        _ternaries(code, line, lambda new: add(i, "ternary", new))
        if statement[i] and _deletable(code):
            indent = line[:len(line) - len(line.lstrip())]
            add(i, "delete", indent + ";")
            j = i + 1
            while j < len(lines) and not codes[j].strip():
                j += 1
            if (j == i + 1 and j < len(lines) and statement[j] and _deletable(codes[j])
                    and _call(code) and _call(codes[j])
                    and _indent(lines[j]) == indent and lines[j].strip() != line.strip()):
                add(i, "swap", lines[j] + "\n" + line, span=2)
    return out


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


def _ternaries(code: str, line: str, emit) -> None:
    """Swaps the branches of each `c ? a : b` that sits on one line."""
    for q in [m.start() for m in re.finditer(r" \? ", code)]:
        depth, k, colon = 0, q + 3, None
        while k < len(code):
            ch = code[k]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and code.startswith(" : ", k):
                colon = k
                break
            elif depth == 0 and ch in ",;":
                break
            k += 1
        if colon is None:
            continue
        depth, end = 0, colon + 3
        while end < len(code):
            ch = code[end]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and ch in ",;":
                break
            end += 1
        a, b = line[q + 3:colon], line[colon + 3:end]
        if a.strip() and b.strip() and a != b:
            emit(line[:q + 3] + b + " : " + a + line[end:])
