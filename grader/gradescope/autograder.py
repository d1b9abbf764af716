"""run_autograder's work, once per submission (and setup.sh's check, --verify).

  1. stage: Gradescope leaves the upload in /autograder/submission. A clone (from GitHub, or a
     zip of it) is graded as it is; an upload of only the lab's folder (its src/, or the files
     of src/ loose) is put where the lab's owned path is, in a folder of its own.
  2. grade: grader/grade --lab N with fresh hidden seeds, against this image's pristine tests
     and prebuilt reference, with the compiler cache setup.sh filled.
  3. results: the grader's results.json (a test per entry, failures trimmed, the per-part table
     in `output`) plus the visibility settings of autograder.json and, in extra_data, the score
     of every part and the seed base. If the grader itself fails, results.json says so (score
     0, "tell your instructor") rather than leave Gradescope without one.

Standard library only; Python >= 3.11 (run_autograder picks it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
SOURCE = ROOT / "source"
TREE = SOURCE / "etcdlab"
sys.path.insert(0, str(TREE / "grader"))

from etcdlab_grader.rubric import load_rubric  # noqa: E402

_JUNK = {"__MACOSX", ".DS_Store", "Thumbs.db"}


def config() -> dict:
    return json.loads((SOURCE / "autograder.json").read_text())


def environment() -> dict[str, str]:
    """The grader's environment: setup.sh's choices (etcdlab.env: the compiler on Ubuntu), and
    the compiler cache, whose paths are relative to ROOT so that every run's work tree hits."""
    env = dict(os.environ)
    env_file = SOURCE / "etcdlab.env"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                env[key] = value
    if shutil.which("ccache"):
        env["CMAKE_CXX_COMPILER_LAUNCHER"] = "ccache"
        env["CMAKE_C_COMPILER_LAUNCHER"] = "ccache"
        env.setdefault("CCACHE_DIR", str(ROOT / "ccache"))
        env["CCACHE_BASEDIR"] = str(ROOT)
        env["CCACHE_NOHASHDIR"] = "1"
    return env


def owned_paths(lab: str) -> list[str]:
    rubric = load_rubric(TREE / "grader" / "rubric.toml")
    labs = rubric.labs.values() if lab == "all" else [rubric.lab(int(lab))]
    return [p for each in labs for p in each.owned]


def stage(submission: Path, owned: list[str], into: Path) -> tuple[Path, str | None]:
    """The folder to grade, and a note when the upload was rearranged."""
    entries = [e for e in submission.iterdir() if e.name not in _JUNK
               and not e.name.startswith(".")] if submission.is_dir() else []
    wrapped = entries[0] if len(entries) == 1 and entries[0].is_dir() else None
    for top in filter(None, (submission, wrapped)):
        if any((top / p).exists() for p in owned):
            return submission, None  # a clone: the grader takes the owned paths from it
    if len(owned) != 1 or not entries or (len(entries) == 1 and entries[0].is_file()
                                          and entries[0].suffix in (".zip", ".gz", ".tgz",
                                                                    ".tar", ".xz", ".bz2")):
        return submission, None  # an archive, or several labs: the grader says what it lacks
    src = next((t / "src" for t in filter(None, (submission, wrapped))
                if (t / "src").is_dir()), None)
    origin = src or (wrapped if wrapped and not any(e.is_file() for e in entries) else submission)
    if into.exists():
        shutil.rmtree(into)
    target = into / owned[0]
    shutil.copytree(origin, target, ignore=shutil.ignore_patterns(*_JUNK, ".*"))
    rel = origin.relative_to(submission).as_posix() if origin != submission else "the upload"
    return into, f"the upload holds the lab's files, not a clone: graded {rel} as {owned[0]}"


def grade(lab: str, submission: Path | None, reference: bool, results: Path) -> tuple[int, str]:
    """Runs grader/grade; returns its exit status and the tail of its error output."""
    work = ROOT / "work"
    gs, js = work / "results-gradescope.json", work / "results-machine.json"
    for f in (gs, js):
        f.unlink(missing_ok=True)
    cmd = [sys.executable, str(TREE / "grader" / "grade"), "--lab", lab, "--quiet",
           "--gradescope", str(gs), "--json", str(js), "--work-dir", str(work / "runs")]
    cmd += ["--reference"] if reference else ["--submission", str(submission)]
    proc = subprocess.run(cmd, env=environment(), stdout=sys.stdout, stderr=subprocess.PIPE,
                          text=True)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0 or not gs.exists():
        return proc.returncode or 1, proc.stderr[-3000:]
    write_results(results, merge(json.loads(gs.read_text()), json.loads(js.read_text()),
                                 config()))
    return 0, ""


def merge(gradescope: dict, machine: dict, cfg: dict) -> dict:
    out = dict(gradescope)
    out["visibility"] = cfg.get("visibility", "visible")
    out["stdout_visibility"] = cfg.get("stdout_visibility", "hidden")
    for test in out.get("tests", []):
        test["visibility"] = out["visibility"]
    out["extra_data"] = {
        "seed_base": machine.get("seed_base"),
        "warnings": machine.get("warnings", []),
        "labs": {str(lab["lab"]): {"score": lab["score"], "max_score": lab["max_score"],
                                   "status": lab["status"],
                                   "parts": {p["id"]: {"title": p["title"], "score": p["score"],
                                                       "max_score": p["max_score"],
                                                       "passed": p["passed"],
                                                       "total": p["total"]}
                                             for p in lab["parts"]}}
                 for lab in machine.get("labs", [])},
    }
    return out


def grader_failed(status: int, errors: str) -> dict:
    return {"score": 0, "visibility": "visible", "stdout_visibility": "hidden",
            "output": f"The autograder could not grade this submission (grader exit status "
                      f"{status}); this is not a grade: tell your instructor.\n\n{errors}",
            "tests": []}


def write_results(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def run_submission() -> int:
    cfg = config()
    results = ROOT / "results" / "results.json"
    submission, note = stage(ROOT / "submission", owned_paths(cfg["lab"]),
                             ROOT / "work" / "staged")
    if note:
        print(f"autograder: {note}", flush=True)
    status, errors = grade(cfg["lab"], submission, False, results)
    if status != 0:
        write_results(results, grader_failed(status, errors))
        return 0  # the failure is in results.json, which Gradescope shows
    if note:
        data = json.loads(results.read_text())
        data["output"] = f"Note: {note}.\n\n{data.get('output', '')}"
        write_results(results, data)
    return 0


def verify() -> int:
    """setup.sh's check: the skeleton scores 0, the reference full marks."""
    cfg = config()
    out = ROOT / "work" / "verify"
    checks = [("skeleton", TREE, False, lambda s, m: s == 0),
              ("reference", None, True, lambda s, m: s == m)]
    for name, submission, reference, good in checks:
        results = out / f"{name}.json"
        status, errors = grade(cfg["lab"], submission, reference, results)
        if status != 0:
            print(f"autograder: grading the {name} failed:\n{errors}", file=sys.stderr)
            return 1
        data = json.loads(results.read_text())
        score = data["score"]
        full = sum(t["max_score"] for t in data["tests"])
        print(f"autograder: the {name} scores {score}/{full:g}", flush=True)
        if not good(score, round(full, 2)):
            print(f"autograder: this image does not grade right: the {name} should score "
                  f"{'0' if name == 'skeleton' else 'full marks'}", file=sys.stderr)
            return 1
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--verify", action="store_true", help="setup.sh's check of the image")
    args = p.parse_args()
    return verify() if args.verify else run_submission()


if __name__ == "__main__":
    sys.exit(main())
