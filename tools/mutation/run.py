"""Running mutants: build each, run the lab's graded tests against it, keep the verdict.

Verdicts:
  killed      a test failed, crashed or the run passed its time limit
  survived    every test passed: no test notices the change
  equivalent  survived, and listed in equivalent.toml with the reason it cannot be noticed
  stillborn   the mutant does not compile (not counted)

Results are appended to tools/mutation/results/labN.jsonl as they come, one line per mutant,
so a run that stops (Ctrl-C, a session ending) resumes where it was: mutants already decided
are skipped. The file is kept in git: a run takes hours of machine time, and the figures in
docs/instructor-guide.md must be reproducible on another machine. Git merges it as a union
(.gitattributes), so two branches that each ran some mutants merge without a conflict.
`--rerun-survivors` runs the survivors again, after tests were added. A killed mutant stays
killed, whatever order its lines are in: tests are only ever added or made stricter.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import build
from .operators import Mutant, mutants_of

KILLED, SURVIVED, EQUIVALENT, STILLBORN = "killed", "survived", "equivalent", "stillborn"
EQUIVALENTS = Path(__file__).resolve().parent / "equivalent.toml"


def all_mutants(lab: int) -> list[Mutant]:
    out: list[Mutant] = []
    for path in build.reference_files(build.ROOT / build.LABS[lab][0]):
        out += mutants_of(path.relative_to(build.ROOT).as_posix(), path.read_text())
    return out


def sample(mutants: list[Mutant], count: int | None) -> list[Mutant]:
    """A deterministic sample: the `count` mutants whose ids hash lowest (stable across runs
    and across edits elsewhere in the files)."""
    if count is None or count >= len(mutants):
        return mutants
    chosen = sorted(mutants, key=lambda m: hashlib.sha1(m.id.encode()).hexdigest())[:count]
    keep = {m.id for m in chosen}
    return [m for m in mutants if m.id in keep]


@dataclass
class Equivalent:
    id: str
    reason: str


def equivalents(lab: int, path: Path = EQUIVALENTS) -> dict[str, Equivalent]:
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    out = {}
    for item in data.get("equivalent", []):
        if item.get("lab") == lab:
            out[item["id"]] = Equivalent(item["id"], item["reason"])
    return out


RESULTS = Path(__file__).resolve().parent / "results"


def results_path(lab: int) -> Path:
    return RESULTS / f"lab{lab}.jsonl"


def load_results(path: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                if out.get(r["id"], {}).get("status") != KILLED:
                    out[r["id"]] = r  # the latest verdict wins, except over a kill
    return out


@dataclass
class Run:
    lab: int
    build_dir: Path
    jobs: int
    time_limit: float
    progress: bool = True
    results: dict[str, dict] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def execute(self, mutants: list[Mutant]) -> None:
        recipe = build.recipe(self.build_dir, self.lab)
        out = results_path(self.lab)
        out.parent.mkdir(exist_ok=True)
        todo = list(mutants)
        done = [0]
        start = time.monotonic()
        workers = [build.Worker(self.build_dir, recipe, k) for k in range(self.jobs)]
        free = list(workers)
        free_lock = threading.Lock()

        def one(m: Mutant) -> None:
            with free_lock:
                worker = free.pop()
            try:
                result = self._run_one(worker, m)
            finally:
                with free_lock:
                    free.append(worker)
            with self._lock:
                self.results[m.id] = result
                with open(out, "a") as f:
                    f.write(json.dumps(result) + "\n")
                done[0] += 1
                if self.progress:
                    rate = (time.monotonic() - start) / done[0]
                    left = (len(todo) - done[0]) * rate
                    print(f"[{done[0]}/{len(todo)}, ~{left / 60:.0f} min left] "
                          f"{result['status']:<9} {m.path}:{m.line} {m.describe()[:110]}",
                          flush=True)

        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            for f in [pool.submit(one, m) for m in todo]:
                f.result()

    def _run_one(self, worker: build.Worker, m: Mutant) -> dict:
        t0 = time.monotonic()
        source = (build.ROOT / m.path).read_text()
        name = build.reference_name(worker.recipe.ref_dir, build.ROOT / m.path)
        built, output = worker.build(name, m.apply(source))
        result = {"id": m.id, "path": m.path, "line": m.line, "op": m.op,
                  "mutant": m.describe(), "status": STILLBORN, "test": "", "detail": ""}
        if not built:
            result["detail"] = output[-300:]
        else:
            result.update(self._test(worker.binary))
        result["seconds"] = round(time.monotonic() - t0, 1)
        return result

    def _test(self, binary: Path) -> dict:
        cmd = [str(binary), "--gtest_fail_fast"]
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=build.test_environment(),
                                  cwd=binary.parent, timeout=self.time_limit, text=True,
                                  errors="replace", start_new_session=True)
        except subprocess.TimeoutExpired as e:
            text = e.stdout if isinstance(e.stdout, str) else (e.stdout or b"").decode(
                "utf-8", "replace")
            return {"status": KILLED, "test": _last_test(text), "detail": "timed out"}
        if proc.returncode == 0:
            return {"status": SURVIVED}
        failed = [ln[len("[  FAILED  ] "):].split(" ")[0].rstrip(",") for ln in proc.stdout.splitlines()
                  if ln.startswith("[  FAILED  ] ") and "." in ln]
        how = "failed" if failed else f"exit status {proc.returncode}"
        return {"status": KILLED, "test": failed[0] if failed else _last_test(proc.stdout),
                "detail": how}


def _last_test(output: str) -> str:
    runs = [ln.split("] ", 1)[1].strip() for ln in output.splitlines()
            if ln.startswith("[ RUN      ]")]
    return runs[-1] if runs else ""
