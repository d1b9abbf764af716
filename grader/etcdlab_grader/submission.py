"""What a submission is: a folder, an archive (.zip, .tar.gz, .tgz, .tar), or a folder holding
one archive (what an upload to Gradescope leaves in /autograder/submission).

An archive is unpacked into the run's own folder, refusing any member that would land outside it
(absolute paths, `..`, links that point out) and anything that is not a file, a folder or a link
inside it. Whichever form it came in, the clone may be wrapped in one folder
(`etcdlab-main/labs/...`): build.find_submission_root looks one level down.

Also here: which files a submission changed outside the paths it owns. The grader ignores them
(it uses its own copies), but an instructor wants to know that a student edited a test.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from . import GraderError
from .build import BuildFailure, EXCLUDE_ANYWHERE, EXCLUDE_AT_TOP

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".tar.xz", ".tar.bz2")
# An archive that unpacks to more than this is refused (a compressed bomb, or a build folder).
MAX_UNPACKED_BYTES = 1 << 30
_OUTSIDE_LISTED = 10  # changed files named in the warning; the count says how many more
_ARCHIVER_LITTER = {"__MACOSX", ".DS_Store", "Thumbs.db"}  # what zip tools add on their own


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def unpack_if_archive(submission: Path, into: Path) -> tuple[Path, str | None]:
    """The folder to grade: `submission` itself, or where its archive was unpacked (`into`),
    with a note for the report when it was unpacked.

    Raises GraderError when `submission` does not exist or is neither a folder nor an archive
    (the grader was called wrongly), BuildFailure(stage="submission") when the archive is
    unreadable or unsafe (the submission's problem: it scores 0 and says why).
    """
    if submission.is_dir():
        inner = [c for c in submission.iterdir() if not c.name.startswith(".")]
        if len(inner) == 1 and is_archive(inner[0]):
            submission = inner[0]  # an uploaded archive, left as is by the upload
        else:
            return submission, None
    if not submission.exists():
        raise GraderError(f"the submission {submission} does not exist")
    if not is_archive(submission):
        raise GraderError(f"the submission {submission} is neither a folder nor an archive "
                          f"({', '.join(ARCHIVE_SUFFIXES)})")
    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    try:
        if submission.name.lower().endswith(".zip"):
            _unzip(submission, into)
        else:
            _untar(submission, into)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as e:
        raise BuildFailure("submission", f"the archive {submission.name} cannot be read: {e}")
    return into, f"the submission is the archive {submission.name}; graded what it holds"


def _safe_name(name: str, archive: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
        raise BuildFailure("submission", f"the archive {archive} holds {name!r}, a path outside "
                           f"the folder it unpacks into; refused")
    return path


def _check_size(total: int, archive: str) -> None:
    if total > MAX_UNPACKED_BYTES:
        raise BuildFailure("submission", f"the archive {archive} unpacks to more than "
                           f"{MAX_UNPACKED_BYTES >> 20} MB; submit the source only (no build "
                           f"folders)")


def _unzip(archive: Path, into: Path) -> None:
    with zipfile.ZipFile(archive) as z:
        members = z.infolist()
        for m in members:
            _safe_name(m.filename, archive.name)
        _check_size(sum(m.file_size for m in members), archive.name)
        z.extractall(into)  # symlinks in a zip come out as small files: nothing points out


def _untar(archive: Path, into: Path) -> None:
    with tarfile.open(archive) as t:
        members = t.getmembers()
        kept = []
        for m in members:
            path = _safe_name(m.name, archive.name)
            if m.issym() or m.islnk():
                target = PurePosixPath(m.linkname)
                base = path.parent if m.issym() else PurePosixPath()
                if target.is_absolute() or ".." in (base / target).parts:
                    raise BuildFailure("submission", f"the archive {archive.name} holds a link "
                                       f"{m.name} -> {m.linkname} that points outside it; "
                                       f"refused")
            elif not (m.isfile() or m.isdir()):
                continue  # devices, fifos: never part of a clone
            m.mode &= 0o755  # no setuid bits, no world-writable files
            kept.append(m)
        _check_size(sum(m.size for m in kept if m.isfile()), archive.name)
        # Newer Pythons check members themselves too (PEP 706); 3.11.2 does not have it.
        safety = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        t.extractall(into, members=kept, **safety)


def _walk(root: Path):
    """Relative paths of the files under `root`, without build outputs, VCS data and caches."""
    for directory, dirs, files in os.walk(root):
        at_top = Path(directory) == root
        dirs[:] = [d for d in dirs if d not in EXCLUDE_ANYWHERE and d not in _ARCHIVER_LITTER
                   and not (at_top and EXCLUDE_AT_TOP.match(d))]
        for name in files:
            if name in _ARCHIVER_LITTER or (at_top and EXCLUDE_AT_TOP.match(name)):
                continue
            yield (Path(directory) / name).relative_to(root)


def changed_outside(submission: Path, pristine: Path, owned: list[str]) -> list[str]:
    """Files of `submission` outside the `owned` paths that are not the pristine tree's: each
    as "path (changed)" or "path (added)". Files a submission lacks are not listed (archives
    often leave things out); the grader uses its own copy of everything outside `owned`."""
    if submission.resolve() == pristine.resolve():
        return []
    owned_parts = [Path(p).parts for p in owned]
    out = []
    for rel in sorted(_walk(submission)):
        if any(rel.parts[:len(p)] == p for p in owned_parts):
            continue
        mine, theirs = submission / rel, pristine / rel
        if mine.is_symlink() or not mine.is_file():
            continue
        if not theirs.is_file():
            out.append(f"{rel} (added)")
        elif not filecmp.cmp(mine, theirs, shallow=False):
            out.append(f"{rel} (changed)")
    return out


def outside_warning(changed: list[str], owned: list[str]) -> str | None:
    if not changed:
        return None
    listed = ", ".join(changed[:_OUTSIDE_LISTED])
    more = f", and {len(changed) - _OUTSIDE_LISTED} more" if len(changed) > _OUTSIDE_LISTED else ""
    return (f"the submission edits {len(changed)} file(s) outside what is graded "
            f"({', '.join(owned)}); the grader used its own copies of them: {listed}{more}")
