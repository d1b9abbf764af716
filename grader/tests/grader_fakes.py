"""Stand-ins for the tools the grader drives: a gtest binary and cmake, as small Python scripts.

The fake gtest binary behaves per test as its spec says: "pass", "fail" (a long failure with a
seed/replay line in the middle), "hang", "crash" (SIGSEGV), "exit0" (exits 0 without a result,
as a stray exit() in student code would) or "env" (passes only with the expected environment).
A spec may also switch behaviours per broken variant (ETCDLAB_BROKEN).
"""

import json
import os
from pathlib import Path

FAKE_GTEST = r'''#!/usr/bin/python3
import json, os, signal, sys, time
SPEC = json.loads(__SPEC__)
tests = dict(SPEC["tests"])
tests.update(SPEC.get("broken", {}).get(os.environ.get("ETCDLAB_BROKEN", ""), {}))
args = sys.argv[1:]
if "--gtest_list_tests" in args:
    print("a log line printed at start-up")
    suites = {}
    for name in tests:
        suite, test = name.rsplit(".", 1)
        suites.setdefault(suite, []).append(test)
    for suite, names in suites.items():
        print(suite + ".  # TypeParam = fake")
        for n in names:
            print("  " + n)
    sys.exit(0)
name = next(a.split("=", 1)[1] for a in args if a.startswith("--gtest_filter="))
out = next(a.split(":", 1)[1] for a in args if a.startswith("--gtest_output=json:"))
behavior = tests[name]
suite, test = name.rsplit(".", 1)
print("[ RUN      ] " + name, flush=True)

def report(failures):
    with open(out, "w") as f:
        json.dump({"testsuites": [{"name": suite, "testsuite": [
            {"name": test, "status": "RUN", "result": "COMPLETED",
             "failures": [{"failure": m, "type": ""} for m in failures]}]}]}, f)

if behavior == "pass":
    report([]); print("[       OK ] " + name); sys.exit(0)
if behavior == "fail":
    msg = "\n".join(["x.cc:12: Failure", "Expected: 1, seen: 2"]
                    + ["step %d" % i for i in range(60)]
                    + ["seed 3; replay: ETCDLAB_SEED=3 make lab1 TEST=" + name]
                    + ["after %d" % i for i in range(30)])
    print(msg); report([msg]); print("[  FAILED  ] " + name); sys.exit(1)
if behavior == "hang":
    time.sleep(60)
if behavior == "crash":
    print("about to crash", flush=True)
    os.kill(os.getpid(), signal.SIGSEGV)
if behavior == "exit0":
    sys.exit(0)
if behavior == "env":
    ok = os.environ.get("ETCDLAB_SEED_BASE") == "77" and "ETCDLAB_SEED" not in os.environ
    report([] if ok else ["bad environment"]); sys.exit(0 if ok else 1)
sys.exit("unknown behavior " + behavior)
'''

# cmake: configure writes a build.ninja naming the targets in FAKE_CMAKE_TARGETS; a build prints
# compiler errors and fails when FAKE_CMAKE_FAIL is "build" (or configure fails when "configure").
FAKE_CMAKE = r'''#!/usr/bin/python3
import os, sys
args = sys.argv[1:]
fail = os.environ.get("FAKE_CMAKE_FAIL", "")
with open(os.environ["FAKE_CMAKE_CALLS"], "a") as f:
    f.write(" ".join(args) + "\n")
if "--build" in args:
    if fail == "build":
        print("[1/3] Building CXX object labs/CMakeFiles/etcdlab_lab01_student.dir/01-log/src/wal.cc.o")
        print("FAILED: labs/CMakeFiles/etcdlab_lab01_student.dir/01-log/src/wal.cc.o")
        print("/usr/bin/c++ -O2 -g -c wal.cc -o wal.cc.o")
        print("wal.cc: In member function 'void etcdlab::Wal::sync()':")
        print("wal.cc:42:5: error: 'fsync_all' was not declared in this scope")
        print("   42 |     fsync_all();")
        print("      |     ^~~~~~~~~")
        print("ninja: build stopped: subcommand failed.")
        sys.exit(1)
    sys.exit(0)
if fail == "configure":
    print("CMake Error at CMakeLists.txt:3 (project):")
    print("  something is missing")
    sys.exit(1)
build = args[args.index("-B") + 1]
os.makedirs(build, exist_ok=True)
with open(os.path.join(build, "build.ninja"), "w") as f:
    for t in os.environ.get("FAKE_CMAKE_TARGETS", "").split(","):
        f.write("build %s: phony bin/%s\n" % (t, t))
with open(os.path.join(build, "CMakeCache.txt"), "w") as f:
    f.write("ETCDLAB_OWN_LABS:STRING=\n")
'''


def write_gtest(path: Path, tests: dict[str, str], broken: dict[str, dict[str, str]] | None = None) -> Path:
    spec = json.dumps({"tests": tests, "broken": broken or {}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FAKE_GTEST.replace("__SPEC__", repr(spec)))
    path.chmod(0o755)
    return path


def install_cmake(bin_dir: Path, monkeypatch, calls: Path, fail: str = "", targets=()) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    cmake = bin_dir / "cmake"
    cmake.write_text(FAKE_CMAKE)
    cmake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CMAKE_CALLS", str(calls))
    monkeypatch.setenv("FAKE_CMAKE_FAIL", fail)
    monkeypatch.setenv("FAKE_CMAKE_TARGETS", ",".join(targets))


def fake_build_dir(root: Path, binaries: dict[str, Path]) -> Path:
    """A configured-looking build directory whose bin/ holds the given fake binaries."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "CMakeCache.txt").write_text("ETCDLAB_OWN_LABS:STRING=\n")
    (root / "build.ninja").write_text(
        "".join(f"build {t}: phony bin/{t}\n" for t in binaries))
    (root / "bin").mkdir(exist_ok=True)
    for target, src in binaries.items():
        dst = root / "bin" / target
        dst.write_bytes(src.read_bytes())
        dst.chmod(0o755)
    return root


RUBRIC = """
[lab.1]
name = "The log"
handout = "labs/01-log/README.md"
targets = { student = "lab01-tests", reference = "lab01-tests-reference"__BROKEN_TARGET__ }
owned = ["labs/01-log/src"]
time_limit = 10

[[lab.1.part]]
id = "A"
title = "Alpha"
weight = 30
tests = ["Typed/Memory.*", "Alpha.*"]

[[lab.1.part]]
id = "B"
title = "Beta"
weight = 70
tests = ["Beta.*"]
time_limit = 0.5
"""


def write_rubric(path: Path, broken: list[tuple[str, str]] | None = None) -> Path:
    text = RUBRIC.replace("__BROKEN_TARGET__",
                          ', broken = "lab01-tests-broken"' if broken is not None else "")
    for name, description in broken or []:
        text += f'\n[[lab.1.broken]]\nname = "{name}"\ndescription = "{description}"\n'
    path.write_text(text)
    return path
