"""The reference as prebuilt libraries (prebuilt/ of a release), and their manifest.

One static library per layer (libetcdlab_lab01_reference.a ... lab05), compiled from solution/
in a Release build of the tests-only tree, then reduced to what linking needs: its objects are
linked into one (`ld -r`), every strong symbol the layer's skeleton does not define (the API
every caller links against) is made local, and local symbols, debug information and the
compiler's comment are stripped. So `nm` shows the API and, as weak symbols, the inline
functions and template instantiations the reference emitted (destructors of its private classes,
containers of them): their names, never their source.

manifest.json says what built them (cmake/EtcdlabPrebuilt.cmake refuses another compiler or
system) and holds the SHA-256 of every header they were compiled against (a changed header is
refused too: the layout of a type would differ between the caller and the library).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The headers the reference is compiled against, relative to the tree (globs).
HEADER_GLOBS = ("labs/*/include/**/*.h", "common/include/**/*.h")
BUILD_TIMEOUT_SECONDS = 60 * 60


class PrebuiltError(Exception):
    """The libraries could not be made; the message says why and where the log is."""


@dataclass(frozen=True)
class Toolchain:
    compiler_id: str  # GNU
    compiler_version: str  # 12.2.0
    os_id: str  # debian
    os_version_id: str  # 12
    os_name: str  # Debian GNU/Linux 12 (bookworm)
    processor: str  # x86_64

    @property
    def description(self) -> str:
        compiler = "g++" if self.compiler_id == "GNU" else self.compiler_id
        return f"{compiler} {self.compiler_version} on {self.os_name}, {self.processor}"


def configure_command(root: Path, build_dir: Path) -> list[str]:
    cmd = ["cmake", "-S", str(root), "-B", str(build_dir), "-G", "Ninja",
           "-DCMAKE_BUILD_TYPE=Release", "-DETCDLAB_TESTS_ONLY=ON", "-DETCDLAB_BUILD_PYTHON=OFF",
           "-DETCDLAB_OWN_LABS=", "-DETCDLAB_WERROR=OFF", "-DPython3_EXECUTABLE=/usr/bin/python3"]
    if shutil.which("ccache"):
        cmd += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", "-DCMAKE_C_COMPILER_LAUNCHER=ccache"]
    return cmd


def _run(cmd: list[str], log: Path, what: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}\n")
        f.flush()
        try:
            proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=BUILD_TIMEOUT_SECONDS)
        except FileNotFoundError:
            raise PrebuiltError(f"{what}: {cmd[0]} is not installed") from None
        except subprocess.TimeoutExpired:
            raise PrebuiltError(f"{what}: still running after {BUILD_TIMEOUT_SECONDS // 60} "
                                f"minutes (log: {log})") from None
    if proc.returncode != 0:
        raise PrebuiltError(f"{what} failed (exit {proc.returncode}); log: {log}")


def cache_value(build_dir: Path, key: str) -> str:
    for line in (build_dir / "CMakeCache.txt").read_text(errors="replace").splitlines():
        if line.startswith(key + ":"):
            return line.split("=", 1)[1]
    return ""


def reference_libs(build_dir: Path) -> list[str]:
    """The layers' reference libraries the build defines: lab01, lab02, ..., lab04_lease."""
    ninja = (build_dir / "build.ninja").read_text(errors="replace")
    return sorted(set(re.findall(r"^build etcdlab_(\w+?)_reference: phony", ninja, re.M)))


def build_libs(root: Path, build_dir: Path, jobs: int, log: Path) -> list[str]:
    """Configures `build_dir` (unless it already is) and builds every reference library there.
    An existing build directory is used as it is (make check passes build/); one with
    sanitizers is refused, since its code would not link into an ordinary build."""
    if not (build_dir / "CMakeCache.txt").exists():
        _run(configure_command(root, build_dir), log, f"configuring {build_dir}")
    flags = cache_value(build_dir, "CMAKE_CXX_FLAGS")
    if "-fsanitize" in flags:
        raise PrebuiltError(f"{build_dir} builds with sanitizers ({flags}); its libraries would "
                            f"not link into a student's build: use another --lib-build-dir")
    source = Path(cache_value(build_dir, "CMAKE_HOME_DIRECTORY") or root).resolve()
    if source != root.resolve():
        raise PrebuiltError(f"{build_dir} was configured from {source}, not {root}")
    libs = reference_libs(build_dir)
    if not libs:
        raise PrebuiltError(f"{build_dir} defines no reference library (is solution/ there?)")
    # The skeletons too: what they define is what the reference exports.
    targets = [f"etcdlab_{lib}_{kind}" for lib in libs for kind in ("reference", "student")]
    _run(["cmake", "--build", str(build_dir), "--parallel", str(jobs), "--target", *targets],
         log, "building the reference")
    return libs


def toolchain(build_dir: Path) -> Toolchain:
    """What compiled `build_dir`, read from CMake's own record of it and /etc/os-release."""
    compiler = system = ""
    for path in (build_dir / "CMakeFiles").glob("*/CMakeCXXCompiler.cmake"):
        compiler = path.read_text()
    for path in (build_dir / "CMakeFiles").glob("*/CMakeSystem.cmake"):
        system = path.read_text()

    def cmake_set(text: str, name: str) -> str:
        m = re.search(rf'^set\({name} "([^"]*)"\)', text, re.M)
        return m.group(1) if m else ""

    os_release = {}
    if Path("/etc/os-release").exists():
        for line in Path("/etc/os-release").read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                os_release[key] = value.strip().strip('"')
    return Toolchain(cmake_set(compiler, "CMAKE_CXX_COMPILER_ID"),
                     cmake_set(compiler, "CMAKE_CXX_COMPILER_VERSION"),
                     os_release.get("ID", ""), os_release.get("VERSION_ID", ""),
                     os_release.get("PRETTY_NAME", "an unknown system"),
                     cmake_set(system, "CMAKE_SYSTEM_PROCESSOR"))


def install(build_dir: Path, libs: list[str], tree: Path, source: dict) -> dict:
    """Copies the stripped libraries into tree/prebuilt/lib and writes tree/prebuilt/
    manifest.json (the headers hashed from `tree`). Returns the manifest."""
    dest = tree / "prebuilt" / "lib"
    dest.mkdir(parents=True, exist_ok=True)
    libraries = {}
    for lib in libs:
        name = f"libetcdlab_{lib}_reference.a"
        built = build_dir / "lib" / name
        if not built.exists():
            raise PrebuiltError(f"{built} was not built")
        out = dest / name
        skeleton = build_dir / "lib" / f"libetcdlab_{lib}_student.a"
        hidden = hide_internals(built, skeleton, out)
        libraries[name] = {"sha256": sha256(out), "bytes": out.stat().st_size,
                           "symbols_made_local": hidden}
    tc = toolchain(build_dir)
    headers = {}
    for pattern in HEADER_GLOBS:
        for h in sorted(tree.glob(pattern)):
            headers[h.relative_to(tree).as_posix()] = sha256(h)
    manifest = {
        "what": "the reference implementation of each layer, compiled; linked wherever a "
                "build does not use your own code (see prebuilt/README.md)",
        "source": source,
        "build_type": cache_value(build_dir, "CMAKE_BUILD_TYPE"),
        "toolchain": {"description": tc.description, "compiler_id": tc.compiler_id,
                      "compiler_version": tc.compiler_version, "os_id": tc.os_id,
                      "os_version_id": tc.os_version_id, "os_name": tc.os_name,
                      "processor": tc.processor},
        "libraries": libraries,
        "headers": headers,
    }
    (tree / "prebuilt" / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def defined_symbols(path: Path, types: str) -> set[str]:
    """Global symbols `path` (an archive or object) defines with an nm type in `types`."""
    out = subprocess.run(["nm", "-g", "--defined-only", "-P", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return {f[0] for f in (line.split() for line in out.splitlines())
            if len(f) >= 2 and f[1] in types and not f[0].endswith(":")}


def hide_internals(reference: Path, skeleton: Path, out: Path) -> int:
    """Writes `out`: `reference` as one object whose strong symbols are only those `skeleton`
    defines, stripped. Weak symbols keep their binding: they may be COMDAT groups that other
    objects share. Returns how many symbols were made local."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        members = subprocess.run(["ar", "t", str(reference)], check=True, capture_output=True,
                                 text=True).stdout.split()
        if len(set(members)) != len(members):
            raise PrebuiltError(f"{reference} has two members of one name: {members}")
        subprocess.run(["ar", "x", str(reference)], cwd=work, check=True)
        combined = work / "combined.o"
        subprocess.run(["ld", "-r", "-o", str(combined), *members], cwd=work, check=True)
        exported = defined_symbols(skeleton, "TDBRVW")
        hide = sorted(defined_symbols(combined, "TDBR") - exported)
        if hide:  # objcopy fails on an empty list
            (work / "hide.txt").write_text("".join(f"{s}\n" for s in hide))
            subprocess.run(["objcopy", f"--localize-symbols={work / 'hide.txt'}",
                            str(combined)], check=True)
        subprocess.run(["strip", "--strip-unneeded", "--remove-section=.comment",
                        str(combined)], check=True)
        member = work / f"{out.stem}.o"
        combined.rename(member)
        out.unlink(missing_ok=True)
        subprocess.run(["ar", "rcsD", str(out), member.name], cwd=work, check=True)
    return len(hide)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
