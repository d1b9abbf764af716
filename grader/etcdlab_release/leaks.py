"""The release's one promise, checked: nothing of solution/ is in it.

Three checks over every text file of an exported tree, against the instructor's solution/:

  files   no file whose bytes are a solution/ file's, and no path with a `solution` folder;
  lines   no line of solution/ at least MIN_LINE characters long (indentation aside), which
          catches a copied comment as well as code. A solution line may also be a *given* line:
          one of the API headers (the reference defines what they declare), the head of a
          definition (`Status Wal::sync() {`: the skeleton has the same heads), or a line listed
          in ALLOWED_LINES with the reason;
  bodies  no body of a function of solution/ (whitespace aside), however its lines are laid out.
          Bodies shorter than MIN_BODY characters (`return impl_->meta;`) are what any pimpl
          says and are not searched; ALLOWED_BODIES are the skeleton's on purpose.

Binary files (the prebuilt libraries, images) are not read: they hold compiled code, not source.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

MIN_LINE = 60
MIN_BODY = 40

# Lines of solution/ that the release holds on purpose, each with its reason.
ALLOWED_LINES = {
    # labs/03-mvcc/tests/mvcc_model.h: the tests' model of a range restates etcd's ordering
    # rule (a sort by another field than the key is ascending unless told), as the handout does.
    "if (order == SortOrder::kNone && o.sort_target != SortTarget::kKey) "
    "order = SortOrder::kAscend;",
}

# Functions of solution/ whose body the skeleton gives on purpose, by their head.
ALLOWED_BODIES = {
    # labs/02-raft/src/raft.cc: the role names, for logs and test output; no lab part asks for it.
    "std::string to_string(Role role) {",
}

_SOURCE_SUFFIXES = {".cc", ".h", ".hpp", ".cpp"}
_CONTROL = re.compile(r"^(if|for|while|switch|else|do|try|catch|return|case|namespace|struct|"
                      r"class|enum|union|extern|template|using|static_assert)\b|^[}\[]")
# The head of a definition: `T Class::name(args) const {`, a constructor with its initializer
# list `... : impl_(std::move(impl)) {}`, or a defaulted special member.
_HEAD = re.compile(r"^[^;{}]*\)\s*(const\s*)?(noexcept\s*)?(override\s*)?"
                   r"(->\s*[^;{}]+)?(:\s*[^;{}]+)?\{\s*\}?$|=\s*default;$")


_DECLARATOR = re.compile(r"[\w:<>,&*~ \[\]]+")


@dataclass(frozen=True)
class Leak:
    path: str  # in the exported tree
    kind: str  # "file", "line" or "body"
    source: str  # where in solution/ it comes from
    text: str  # the line, or the body's first line

    def __str__(self) -> str:
        return f"{self.path}: {self.kind} from {self.source}: {self.text[:100]}"


@dataclass
class Fingerprint:
    """What of solution/ must not appear: file hashes, long lines, function bodies."""
    file_hashes: dict[str, str] = field(default_factory=dict)  # sha256 -> solution path
    lines: dict[str, str] = field(default_factory=dict)  # stripped line -> "path:line"
    # (where, the body normalized, its longest line: what a report shows)
    bodies: list[tuple[str, str, str]] = field(default_factory=list)
    short_bodies: int = 0  # bodies under MIN_BODY, not searched


@dataclass
class Report:
    leaks: list[Leak]
    files: int  # text files read
    lines: int  # solution lines searched for
    bodies: int  # solution bodies searched for
    short_bodies: int

    @property
    def clean(self) -> bool:
        return not self.leaks

    def summary(self) -> str:
        return (f"{self.files} files checked against {self.lines} lines and {self.bodies} "
                f"function bodies of solution/ ({self.short_bodies} bodies under {MIN_BODY} "
                f"characters not searched): "
                + ("nothing found" if self.clean else f"{len(self.leaks)} found"))


def normalize(text: str) -> str:
    return " ".join(text.split())


def is_given(line: str, header_lines: set[str]) -> bool:
    """A solution line the release may hold: declared in an API header, a definition's head,
    or listed in ALLOWED_LINES."""
    if line in header_lines or line in ALLOWED_LINES:
        return True
    # Before its first parenthesis a head has a type and a name only: no `=` of an assignment,
    # no call (`auto it = std::find_if(...) {` opens a lambda, not a definition).
    declarator = line.split("(", 1)[0]
    if not (_DECLARATOR.fullmatch(declarator) or "operator" in declarator):
        return False
    return not _CONTROL.match(line) and _HEAD.search(line) is not None


def function_bodies(text: str) -> list[tuple[int, list[str]]]:
    """(line number of the head, body lines) of each function defined at namespace scope
    (indent 0) or in a class (indent 2), as clang-format lays them out: the head ends with `{`
    and the body ends with `}` at the head's indent. Nested lambdas stay inside their function.
    """
    lines = text.splitlines()
    out = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        first = _head_start(lines, i)  # a head may run over several lines
        indent = len(lines[first]) - len(lines[first].lstrip(" "))
        if (indent in (0, 2) and stripped.endswith("{") and ")" in stripped
                and not _CONTROL.match(lines[first].strip())):
            close = " " * indent + "}"
            j = i + 1
            while j < len(lines) and not (lines[j] == close or lines[j].startswith(close + ";")):
                j += 1
            if j < len(lines):
                out.append((i + 1, lines[i + 1:j]))
                i = j + 1
                continue
        i += 1
    return out


def _head_start(lines: list[str], i: int) -> int:
    """The first line of the statement that ends on line i."""
    k = i
    while k > 0:
        prev = lines[k - 1].strip()
        if not prev or prev.endswith((";", "{", "}")) or prev.startswith(("//", "#")):
            break
        k -= 1
    return k


def is_text(data: bytes) -> bool:
    if b"\0" in data[:8192]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _files(root: Path):
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(directory) / name
            if not path.is_symlink():
                yield path


def fingerprint(solution: Path, api_headers: list[Path]) -> Fingerprint:
    """The fingerprint of `solution` (the instructor's solution/), with the lines the API
    headers declare counted as given."""
    header_lines = set()
    for h in api_headers:
        header_lines.update(ln.strip() for ln in h.read_text(errors="replace").splitlines())
    fp = Fingerprint()
    for path in sorted(_files(solution)):
        data = path.read_bytes()
        rel = path.relative_to(solution.parent).as_posix()
        fp.file_hashes[hashlib.sha256(data).hexdigest()] = rel
        if not is_text(data):
            continue
        text = data.decode("utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            if (len(s) >= MIN_LINE and not s.startswith("#include")
                    and not is_given(s, header_lines)):
                fp.lines.setdefault(s, f"{rel}:{n}")
        if path.suffix not in _SOURCE_SUFFIXES:
            continue
        lines = text.splitlines()
        for n, body in function_bodies(text):
            if lines[n - 1].strip() in ALLOWED_BODIES:
                continue
            norm = normalize("\n".join(body))
            if len(norm) < MIN_BODY:
                fp.short_bodies += 1
                continue
            anchor = max((ln.strip() for ln in body), key=len)
            fp.bodies.append((f"{rel}:{n}", norm, anchor))
    return fp


def check_tree(tree: Path, fp: Fingerprint) -> Report:
    """Every leak of `fp` in `tree` (a release being made, or a clone of one)."""
    leaks: list[Leak] = []
    texts: dict[str, str] = {}
    for path in sorted(_files(tree)):
        rel = path.relative_to(tree).as_posix()
        if "solution" in path.relative_to(tree).parts[:-1]:
            leaks.append(Leak(rel, "file", "solution/", "a folder named solution"))
        data = path.read_bytes()
        source = fp.file_hashes.get(hashlib.sha256(data).hexdigest())
        if source and data.strip():
            leaks.append(Leak(rel, "file", source, "the same bytes"))
        if not is_text(data):
            continue
        text = data.decode("utf-8")
        texts[rel] = text
        for n, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            where = fp.lines.get(s)
            if where:
                leaks.append(Leak(f"{rel}:{n}", "line", where, s))
    # Every text file, whitespace collapsed, in one string: a body is found whatever its layout.
    offsets, chunks, at = [], [], 0
    for rel, text in texts.items():
        offsets.append((at, rel))
        chunk = normalize(text) + "\0"
        chunks.append(chunk)
        at += len(chunk)
    everything = "".join(chunks)
    starts = [o for o, _ in offsets]
    for where, body, anchor in fp.bodies:
        i = everything.find(body)
        while i >= 0:
            rel = offsets[bisect.bisect_right(starts, i) - 1][1]
            leaks.append(Leak(rel, "body", where, anchor))
            i = everything.find(body, i + len(body))
    return Report(leaks, len(texts), len(fp.lines), len(fp.bodies), fp.short_bodies)
