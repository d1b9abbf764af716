"""Building a mutant: one changed source file of a lab's reference, the lab's test binary relinked.

A baseline build directory (build-mutants/ by default) is configured once, tests only, with
ccache, and builds labNN-tests-reference. Every worker then has its own folder with a copy of
the lab's reference sources. For a mutant the worker writes the mutated file into its copy,
compiles the translation units that include it with the baseline's own compile command (from
compile_commands.json, pointed at the copy, without -g and -Werror: a mutant that only warns is
still a mutant), replaces those objects in a copy of the reference library, and reruns the
baseline's link command into its own binary. Nothing in the baseline changes, so workers run in
parallel and a run can stop and resume at any time.

To halve the compile time of a mutant (most of it is parsing fmt and the standard library), the
mutated units are compiled at -O1 with a precompiled header of those libraries, made once per
lab with the same flags. The rest of the binary is the baseline's -O2 code.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The labs: number -> (reference folder, library target, test target)
LABS = {
    1: ("solution/01-log", "etcdlab_lab01_reference", "lab01-tests-reference"),
    2: ("solution/02-raft", "etcdlab_lab02_reference", "lab02-tests-reference"),
    3: ("solution/03-mvcc", "etcdlab_lab03_reference", "lab03-tests-reference"),
    5: ("solution/05-txn", "etcdlab_lab05_reference", "lab05-tests-reference"),
}

CONFIGURE = [
    "-G", "Ninja", "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DETCDLAB_TESTS_ONLY=ON",
    "-DETCDLAB_BUILD_PYTHON=OFF", "-DETCDLAB_OWN_LABS=", "-DETCDLAB_WERROR=OFF",
    "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
]


class BuildError(Exception):
    pass


# ccache caches compiles with a precompiled header only with this sloppiness.
_ENV = dict(os.environ, CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,"
            "include_file_ctime")


def _run(cmd: list[str] | str, cwd: Path, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, shell=isinstance(cmd, str), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace", timeout=timeout,
                          env=_ENV)


def baseline(build_dir: Path, lab: int, jobs: int) -> None:
    """Configures (once) and builds the lab's reference test binary in `build_dir`."""
    if not (build_dir / "build.ninja").exists():
        proc = _run(["cmake", "-S", str(ROOT), "-B", str(build_dir), *CONFIGURE], ROOT)
        if proc.returncode != 0:
            raise BuildError(f"configuring {build_dir} failed:\n{proc.stdout[-3000:]}")
    proc = _run(["nice", "cmake", "--build", str(build_dir), "--parallel", str(jobs), "--target",
                 LABS[lab][2]], ROOT)
    if proc.returncode != 0:
        raise BuildError(f"building {LABS[lab][2]} failed:\n{proc.stdout[-3000:]}")


# What the precompiled header holds: the heavy headers every reference source includes.
PCH_HEADERS = ["algorithm", "deque", "map", "memory", "optional", "set", "stdexcept", "string",
               "vector", "fmt/format.h", "spdlog/spdlog.h"]


@dataclass
class Recipe:
    """How the baseline builds the lab's reference and links its tests."""
    ref_dir: Path  # the reference folder in the source tree
    compile: dict[str, tuple[list[str], str]]  # source name -> (command, object file)
    headers_of: dict[str, set[str]]  # source name -> reference headers it includes
    library: str  # the reference library, relative to the build dir
    link: str  # the link command (run in the build dir), output and library as placeholders
    pch: Path | None = None  # the precompiled header to -include, if it could be made


def recipe(build_dir: Path, lab: int) -> Recipe:
    ref_rel, lib_target, test_target = LABS[lab]
    ref_dir = ROOT / ref_rel
    commands = json.loads((build_dir / "compile_commands.json").read_text())
    compile: dict[str, tuple[list[str], str]] = {}
    for entry in commands:
        src = Path(entry["file"])
        if src.parent != ref_dir or f"{lib_target}.dir" not in entry.get("output", entry["command"]):
            continue
        args = shlex.split(entry["command"])
        args = [a for a in args if a not in ("-g", "-Werror")]
        out = args[args.index("-o") + 1]
        compile[src.name] = (args, out)
    if not compile:
        raise BuildError(f"no compile command for {ref_rel} in {build_dir}/compile_commands.json")
    headers_of = {}
    for name, (_, out) in compile.items():
        proc = _run(["ninja", "-t", "deps", out], build_dir)
        deps = {Path(line.strip()).name for line in proc.stdout.splitlines()
                if line.startswith("    ")
                and (build_dir / line.strip()).resolve().parent == ref_dir}
        headers_of[name] = deps
    link_lines = _run(["ninja", "-t", "commands", test_target], build_dir).stdout.splitlines()
    link = link_lines[-1]
    library = f"lib/lib{lib_target}.a"
    if library not in link or f"-o bin/{test_target}" not in link:
        raise BuildError(f"unexpected link command for {test_target}: {link[:300]}")
    link = link.replace(f"-o bin/{test_target}", "-o {output}").replace(library, "{library}")
    for name, (args, out) in compile.items():
        compile[name] = ([("-O1" if a in ("-O2", "-O3") else a) for a in args], out)
    r = Recipe(ref_dir, compile, headers_of, library, link)
    r.pch = _precompiled_header(build_dir, lab, next(iter(compile.values()))[0])
    return r


def _precompiled_header(build_dir: Path, lab: int, args: list[str]) -> Path | None:
    """Makes the lab's precompiled header with the flags of its sources; None if it fails (the
    mutants then compile without it, only slower)."""
    folder = build_dir / "mutants" / f"pch-lab{lab}"
    folder.mkdir(parents=True, exist_ok=True)
    header = folder / "mutant_pch.h"
    header.write_text("".join(f"#include <{h}>\n" for h in PCH_HEADERS))
    flags = list(args)
    i = flags.index("-o")
    del flags[i:i + 2]
    if "-c" in flags:
        i = flags.index("-c")
        del flags[i:i + 2]
    proc = _run([*flags, "-x", "c++-header", str(header), "-o", str(header) + ".gch"], build_dir)
    return header if proc.returncode == 0 else None


class Worker:
    """One folder where mutants are built, one at a time."""

    def __init__(self, build_dir: Path, recipe_: Recipe, index: int):
        self.build_dir = build_dir
        self.recipe = recipe_
        self.dir = build_dir / "mutants" / f"worker-{index}"
        self.src = self.dir / "src"
        self.binary = self.dir / "tests"

    def _fresh_sources(self) -> None:
        if self.src.exists():
            shutil.rmtree(self.src)
        shutil.copytree(self.recipe.ref_dir, self.src)

    def build(self, name: str, mutated_text: str) -> tuple[bool, str]:
        """Builds the test binary with reference file `name` replaced by `mutated_text`.
        Returns (built, compiler output)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._fresh_sources()
        (self.src / name).write_text(mutated_text)
        if name in self.recipe.compile:
            units = [name]
        else:
            units = [u for u, hs in self.recipe.headers_of.items() if name in hs]
            if not units:
                raise BuildError(f"no reference source includes {name}")
        objects = []
        ref = str(self.recipe.ref_dir)
        for unit in units:
            args, _ = self.recipe.compile[unit]
            obj = self.dir / "obj" / f"{unit}.o"
            obj.parent.mkdir(exist_ok=True)
            args = [a.replace(ref, str(self.src)) for a in args]
            args[args.index("-o") + 1] = str(obj)
            if self.recipe.pch is not None:
                args[1:1] = ["-include", str(self.recipe.pch)]
            proc = _run(["nice", "ccache", *args], self.build_dir, timeout=600)
            if proc.returncode != 0:
                return False, proc.stdout
            objects.append(obj)
        library = self.dir / "lib.a"
        shutil.copyfile(self.build_dir / self.recipe.library, library)
        if objects:
            proc = _run(["ar", "r", str(library), *map(str, objects)], self.build_dir)
            if proc.returncode != 0:
                return False, proc.stdout
        self.binary.unlink(missing_ok=True)
        link = self.recipe.link.replace("{output}", str(self.binary)).replace("{library}",
                                                                              str(library))
        proc = _run("nice " + strip_ninja_wrapper(link), self.build_dir)
        if proc.returncode != 0 or not self.binary.exists():
            return False, proc.stdout
        return True, ""


def test_environment() -> dict[str, str]:
    """The graded tests' environment with the default seeds 1..n (deterministic)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GTEST_", "ETCDLAB_"))}
    env["GTEST_COLOR"] = "no"
    return env


def strip_ninja_wrapper(cmd: str) -> str:
    return re.sub(r"^:\s*&&\s*|\s*&&\s*:\s*$", "", cmd)
