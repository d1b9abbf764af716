"""Making a student release: the tree (layout), the libraries (prebuilt), the check (leaks),
the git commit.

The tree is written into a staging folder beside OUT and checked there; only a clean tree
becomes OUT. A fresh OUT is a new git repository with one commit. `update` takes an OUT that is
an earlier release's repository (the course's upstream, which students pull from): its history
is kept and the new tree is one more commit, so a student's `git pull` brings the new lab and
merges with their work in the labs' src/ folders.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import layout, leaks, prebuilt


class ReleaseError(Exception):
    """The release was not made; the message says why (OUT is left as it was)."""


@dataclass
class Release:
    out: Path
    labs: list[int]
    files: int
    manifest: dict
    leak_report: leaks.Report
    commit: str


def say(message: str) -> None:
    print(f"release: {message}", flush=True)


def source_info(root: Path) -> dict:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              text=True).stdout.strip()
    return {"commit": git("rev-parse", "HEAD"),
            "clean": git("status", "--porcelain", "--untracked-files=no") == ""}


def write_tree(root: Path, tree: Path, labs: list[int]) -> int:
    copied, written = layout.plan(root, labs)
    for rel in copied:
        dst = tree / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, dst, follow_symlinks=False)
    for rel, text in written.items():
        dst = tree / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(text)
        src = root / rel
        if rel.endswith(".sh") or (src.exists() and os.access(src, os.X_OK)):
            dst.chmod(0o755)
    return len(copied) + len(written)


def check_leaks(root: Path, tree: Path) -> leaks.Report:
    headers = [p for p in root.glob("labs/*/include/**/*") if p.is_file()]
    return leaks.check_tree(tree, leaks.fingerprint(root / "solution", headers))


def build_libs(tree: Path, lib_build_dir: Path, jobs: int, what: str):
    """prebuilt.build_libs with its log beside the build and its failure as a ReleaseError."""
    log = lib_build_dir.resolve() / "etcdlab-release.log"
    say(f"building {what} (log: {log})")
    try:
        return prebuilt.build_libs(tree, lib_build_dir.resolve(), jobs, log)
    except prebuilt.PrebuiltError as e:
        raise ReleaseError(str(e)) from None


def make_release(root: Path, out: Path, labs: list[int], lib_build_dir: Path, jobs: int,
                 update: bool = False) -> Release:
    out = out.resolve()
    if update:
        if not (out / ".git").is_dir() or not (out / "prebuilt" / "manifest.json").exists():
            raise ReleaseError(f"--update needs {out} to be an earlier release's repository "
                               f"(a .git and a prebuilt/manifest.json)")
    elif out.exists() and any(out.iterdir()):
        raise ReleaseError(f"{out} exists and is not empty (--update adds a commit to an "
                           f"earlier release)")
    source = source_info(root)
    libs = build_libs(root, lib_build_dir, jobs, f"the reference libraries in {lib_build_dir}")

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        files = write_tree(root, staging, labs)
        manifest = prebuilt.install(lib_build_dir.resolve(), libs, staging, source)
        if manifest["build_type"] != "Release":
            say(f"note: {lib_build_dir} is a {manifest['build_type'] or 'default'} build, not "
                f"Release (fine for a test; a release for students uses the default)")
        say(f"checking the tree for anything of solution/")
        report = check_leaks(root, staging)
        say(report.summary())
        if not report.clean:
            listed = "\n  ".join(str(leak) for leak in report.leaks[:20])
            raise ReleaseError(f"the release would hold solution/ code; nothing was written "
                               f"to {out}:\n  {listed}")
        if update:  # the old tree goes only once the new one is in place
            shutil.move(str(out / ".git"), str(staging / ".git"))
            old = out.with_name(f".{out.name}.old")
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old)
        else:
            if out.exists():
                out.rmdir()
            staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    commit = commit_all(out, labs, source, fresh=not update)
    return Release(out, labs, files, manifest, report, commit)


def commit_all(repo: Path, labs: list[int], source: dict, fresh: bool) -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                              text=True).stdout.strip()
    if fresh:
        git("init", "-q", "-b", "main")
    identity = []
    if not subprocess.run(["git", "-C", str(repo), "config", "user.email"],
                          capture_output=True).stdout.strip():
        identity = ["-c", "user.name=etcdlab release", "-c", "user.email=release@etcdlab.invalid"]
    git("add", "-A")
    dirty = "" if source["clean"] else ", with uncommitted changes"
    message = (f"etcdlab: labs {', '.join(map(str, labs))}\n\nMade by grader/release from the "
               f"instructors' repository at {source['commit'][:12]}{dirty}.")
    subprocess.run(["git", "-C", str(repo), *identity, "commit", "-q", "--allow-empty", "-m",
                    message], check=True, capture_output=True)
    return git("rev-parse", "HEAD")


def prebuild_in_place(tree: Path, lib_build_dir: Path, jobs: int) -> dict:
    """What a Gradescope image does once (setup.sh): compiles `tree`'s solution/ into
    tree/prebuilt for this very machine, then deletes solution/, so that no submission graded
    here can read the reference's source. Returns the manifest."""
    if not (tree / "solution").is_dir():
        raise ReleaseError(f"{tree} has no solution/ to compile")
    libs = build_libs(tree, lib_build_dir, jobs,
                      f"the reference libraries of {tree} in {lib_build_dir}")
    manifest = prebuilt.install(lib_build_dir.resolve(), libs, tree, {"commit": "bundle",
                                                                       "clean": True})
    headers = [p for p in tree.glob("labs/*/include/**/*") if p.is_file()]
    fingerprint = leaks.fingerprint(tree / "solution", headers)
    shutil.rmtree(tree / "solution")
    # The rest of the instructors' tree stays (the grader's tests, the mutation tools): none of
    # it may hold the reference's code either.
    report = leaks.check_tree(tree, fingerprint)
    say(report.summary())
    if not report.clean:
        listed = "\n  ".join(str(leak) for leak in report.leaks[:20])
        raise ReleaseError(f"{tree} still holds solution/ code:\n  {listed}")
    say(f"{len(libs)} libraries in {tree / 'prebuilt'} for "
        f"{manifest['toolchain']['description']}; solution/ removed")
    return manifest
