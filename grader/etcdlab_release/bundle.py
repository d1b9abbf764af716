"""The Gradescope autograder bundle: one zip per assignment.

At the zip's root, as Gradescope wants: setup.sh and run_autograder (from grader/gradescope/),
autograder.json (the lab, the visibility of results) and etcdlab/, the instructors' repository
(solution/ included: setup.sh compiles it for the image, then deletes it before any submission
runs). Gradescope unpacks the zip into /autograder/source.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from . import layout
from .export import source_info

SCRIPTS = ("setup.sh", "run_autograder")
TREE = "etcdlab"  # the repository's folder in the bundle (/autograder/source/etcdlab)


class BundleError(Exception):
    pass


def make_bundle(root: Path, out: Path, lab: str, visibility: str) -> Path:
    if out.suffix != ".zip":
        raise BundleError(f"the bundle is a .zip (Gradescope's format), not {out.name}")
    labs = layout.labs_of(root)
    graded = list(labs) if lab == "all" else [int(lab)]
    config = {
        "lab": lab,
        "python_parts": any(labs[n].python_tests for n in graded),
        "visibility": visibility,
        "stdout_visibility": "hidden",  # the grader's own log: paths, build commands
        "source": source_info(root),
    }
    files = layout.repository_files(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name in SCRIPTS:
            _add(z, root / "grader" / "gradescope" / name, name, executable=True)
        z.writestr(_info("autograder.json", 0o644), json.dumps(config, indent=2) + "\n")
        for rel in files:
            path = root / rel
            if path.is_symlink():
                continue  # the repository has none; a zip would store the target's bytes
            _add(z, path, f"{TREE}/{rel}", executable=bool(path.stat().st_mode & 0o111))
    tmp.replace(out)
    return out


def _info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _add(z: zipfile.ZipFile, path: Path, name: str, executable: bool) -> None:
    z.writestr(_info(name, 0o755 if executable else 0o644), path.read_bytes())
