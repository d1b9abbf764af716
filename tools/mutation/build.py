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

# The labs: number -> (reference folder, its library targets, test target). Lab 4 has two
# layers, each in a subfolder of its reference (lease/, watch/) built into its own library;
# a mutant of either is compiled into a copy of that library only.
LABS = {
    1: ("solution/01-log", ("etcdlab_lab01_reference",), "lab01-tests-reference"),
    2: ("solution/02-raft", ("etcdlab_lab02_reference",), "lab02-tests-reference"),
    3: ("solution/03-mvcc", ("etcdlab_lab03_reference",), "lab03-tests-reference"),
    4: ("solution/04-lease-watch", ("etcdlab_lab04_lease_reference",
                                    "etcdlab_lab04_watch_reference"), "lab04-tests-reference"),
    5: ("solution/05-txn", ("etcdlab_lab05_reference",), "lab05-tests-reference"),
}


def reference_files(ref_dir: Path) -> list[Path]:
    """The sources and headers of a reference folder, its subfolders' included (lab 4's
    lease/ and watch/), in a stable order."""
    return sorted(p for p in ref_dir.rglob("*") if p.is_file() and p.suffix in (".cc", ".h"))


def reference_name(ref_dir: Path, path: Path) -> str | None:
    """A file's name relative to the reference folder ("lessor.cc", "lease/lessor.cc"), or
    None if it is outside it. Files are keyed by this name, not their base name: two layers
    may hold files of the same name."""
    try:
        return path.resolve().relative_to(ref_dir.resolve()).as_posix()
    except ValueError:
        return None

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
    # source name (relative to ref_dir) -> (command, object file, its library)
    compile: dict[str, tuple[list[str], str, str]]
    headers_of: dict[str, set[str]]  # source name -> reference headers it includes (same keys)
    libraries: list[str]  # the reference libraries, relative to the build dir
    link: str  # the link command (run in the build dir), output and libraries as placeholders
    pch: Path | None = None  # the precompiled header to -include, if it could be made


def recipe(build_dir: Path, lab: int) -> Recipe:
    ref_rel, lib_targets, test_target = LABS[lab]
    ref_dir = ROOT / ref_rel
    commands = json.loads((build_dir / "compile_commands.json").read_text())
    compile: dict[str, tuple[list[str], str, str]] = {}
    for entry in commands:
        name = reference_name(ref_dir, Path(entry["directory"]) / entry["file"])
        where = entry.get("output", entry["command"])
        lib = next((t for t in lib_targets if f"/{t}.dir/" in where), None)
        if name is None or lib is None:
            continue
        args = shlex.split(entry["command"])
        args = [("-O1" if a in ("-O2", "-O3") else a) for a in args if a not in ("-g", "-Werror")]
        out = args[args.index("-o") + 1]
        compile[name] = (args, out, f"lib/lib{lib}.a")
    if not compile:
        raise BuildError(f"no compile command for {ref_rel} in {build_dir}/compile_commands.json")
    headers_of = {}
    for name, (_, out, _) in compile.items():
        deps = _run(["ninja", "-t", "deps", out], build_dir).stdout
        headers_of[name] = reference_headers(deps, build_dir, ref_dir)
    link_lines = _run(["ninja", "-t", "commands", test_target], build_dir).stdout.splitlines()
    link = link_lines[-1]
    libraries = [f"lib/lib{t}.a" for t in lib_targets]
    if any(lib not in link for lib in libraries) or f"-o bin/{test_target}" not in link:
        raise BuildError(f"unexpected link command for {test_target}: {link[:300]}")
    link = link.replace(f"-o bin/{test_target}", "-o {output}")
    r = Recipe(ref_dir, compile, headers_of, libraries, link)
    r.pch = _precompiled_header(build_dir, lab, next(iter(compile.values()))[0])
    return r


def reference_headers(deps: str, build_dir: Path, ref_dir: Path) -> set[str]:
    """The reference's own files in the output of `ninja -t deps <object>` (one indented path
    per line, relative to the build dir or absolute), by name relative to ref_dir."""
    out = set()
    for line in deps.splitlines():
        if line.startswith("    "):
            name = reference_name(ref_dir, build_dir / line.strip())
            if name is not None and not name.endswith(".cc"):
                out.add(name)
    return out


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
        """Builds the test binary with reference file `name` (relative to the reference folder)
        replaced by `mutated_text`. Returns (built, compiler output)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._fresh_sources()
        (self.src / name).write_text(mutated_text)
        if name in self.recipe.compile:
            units = [name]
        else:
            units = [u for u, hs in self.recipe.headers_of.items() if name in hs]
            if not units:
                raise BuildError(f"no reference source includes {name}")
        objects: dict[str, list[Path]] = {}  # library -> its mutated objects
        ref = str(self.recipe.ref_dir)
        for unit in units:
            args, out, lib = self.recipe.compile[unit]
            # The object keeps the baseline's base name: `ar r` replaces members by base name.
            obj = self.dir / "obj" / Path(unit).parent / Path(out).name
            obj.parent.mkdir(parents=True, exist_ok=True)
            args = [a.replace(ref, str(self.src)) for a in args]
            args[args.index("-o") + 1] = str(obj)
            if self.recipe.pch is not None:
                args[1:1] = ["-include", str(self.recipe.pch)]
            proc = _run(["nice", "ccache", *args], self.build_dir, timeout=600)
            if proc.returncode != 0:
                return False, proc.stdout
            objects.setdefault(lib, []).append(obj)
        link = self.recipe.link.replace("{output}", str(self.binary))
        for lib, objs in objects.items():
            library = self.dir / Path(lib).name
            shutil.copyfile(self.build_dir / lib, library)
            proc = _run(["ar", "r", str(library), *map(str, objs)], self.build_dir)
            if proc.returncode != 0:
                return False, proc.stdout
            link = link.replace(lib, str(library))
        self.binary.unlink(missing_ok=True)
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
