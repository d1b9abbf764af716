"""Stand-ins for the tools the grader drives: a gtest binary, cmake and `python3 -m pytest`, as
small Python scripts.

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

# cmake: configure (`-S src -B dir`, or `--preset default`: dir is ./build) writes a build.ninja
# naming the targets in FAKE_CMAKE_TARGETS and a cache with the ETCDLAB_OWN_LABS it was given; a
# build copies the binaries FAKE_CMAKE_BINARIES maps targets to, and prints compiler errors and
# fails when FAKE_CMAKE_FAIL is "build" or names one of its targets (configure fails when it is
# "configure"). With FAKE_CMAKE_GTEST_TEMPLATE set, a build instead makes each target a fake gtest
# whose spec is the work tree's labs/01-log/src/tests.json (what the submission says it passes),
# after sleeping FAKE_CMAKE_SLEEP seconds (so two gradings overlap).
FAKE_CMAKE = r'''#!/usr/bin/python3
import json, os, shutil, sys, time
args = sys.argv[1:]
fail = os.environ.get("FAKE_CMAKE_FAIL", "")
with open(os.environ["FAKE_CMAKE_CALLS"], "a") as f:
    f.write(" ".join(args) + "\n")
if "--build" in args:
    build = args[args.index("--build") + 1]
    targets = args[args.index("--target") + 1:]
    template = os.environ.get("FAKE_CMAKE_GTEST_TEMPLATE")
    if template:
        time.sleep(float(os.environ.get("FAKE_CMAKE_SLEEP") or 0))
        spec = open(os.path.join(build, "..", "labs/01-log/src/tests.json")).read()
        text = open(template).read().replace("__SPEC__", repr(spec))
        os.makedirs(os.path.join(build, "bin"), exist_ok=True)
        for t in targets:
            with open(os.path.join(build, "bin", t), "w") as f:
                f.write(text)
            os.chmod(os.path.join(build, "bin", t), 0o755)
        sys.exit(0)
    if fail == "build" or fail in targets:
        print("[1/3] Building CXX object labs/CMakeFiles/etcdlab_lab01_student.dir/01-log/src/wal.cc.o")
        print("FAILED: labs/CMakeFiles/etcdlab_lab01_student.dir/01-log/src/wal.cc.o")
        print("/usr/bin/c++ -O2 -g -c wal.cc -o wal.cc.o")
        print("wal.cc: In member function 'void etcdlab::Wal::sync()':")
        print("wal.cc:42:5: error: 'fsync_all' was not declared in this scope")
        print("   42 |     fsync_all();")
        print("      |     ^~~~~~~~~")
        print("ninja: build stopped: subcommand failed.")
        sys.exit(1)
    for t, src in json.loads(os.environ.get("FAKE_CMAKE_BINARIES", "{}")).items():
        if t in targets:
            os.makedirs(os.path.join(build, "bin"), exist_ok=True)
            shutil.copy(src, os.path.join(build, "bin", t))
    sys.exit(0)
if fail == "configure":
    print("CMake Error at CMakeLists.txt:3 (project):")
    print("  something is missing")
    sys.exit(1)
build = "build" if "--preset" in args else args[args.index("-B") + 1]
os.makedirs(build, exist_ok=True)
with open(os.path.join(build, "build.ninja"), "w") as f:
    for t in os.environ.get("FAKE_CMAKE_TARGETS", "").split(","):
        f.write("build %s: phony bin/%s\n" % (t, t))
own = next((a.split("=", 1)[1] for a in args if a.startswith("-DETCDLAB_OWN_LABS=")), "")
with open(os.path.join(build, "CMakeCache.txt"), "w") as f:
    f.write("ETCDLAB_OWN_LABS:STRING=%s\n" % own)
'''

# python3 -m pytest, as the grader runs it: --collect-only prints node ids; a run writes a JUnit
# report. Per test: "pass", "fail" (a long traceback with a replay line in the middle), "error",
# "skip", "crash" (SIGSEGV: no report), "hang". The spec may differ per PYTHONPATH folder name
# (`by_path`), and may say collect = "error" (the package does not import) or "missing-module"
# (the machine lacks hypothesis), or report = "malformed". Every call is logged (FAKE_PYTHON_LOG).
FAKE_PYTHON = r'''#!/usr/bin/python3
import json, os, signal, sys, time
from xml.sax.saxutils import quoteattr, escape
SPEC = json.loads(__SPEC__)
args = sys.argv[1:]
assert args[:2] == ["-m", "pytest"], args
args = args[2:]
spec = SPEC.get("by_path", {}).get(os.path.basename(os.environ.get("PYTHONPATH", "")), SPEC)
tests, test_file = spec["tests"], SPEC["file"]
with open(os.environ["FAKE_PYTHON_LOG"], "a") as f:
    text = open(test_file).read() if os.path.exists(test_file) else None
    f.write(json.dumps({"args": args, "cwd": os.getcwd(), "env": dict(os.environ),
                        "file_text": text}) + "\n")
if spec.get("collect") == "missing-module":
    print("E   ModuleNotFoundError: No module named 'hypothesis'"); sys.exit(2)
if spec.get("collect") == "error":
    print("ERROR collecting " + test_file)
    print("E   ImportError: etcdlab/_core.so: undefined symbol: _ZN7etcdlab4Raft4stepEv")
    sys.exit(2)
if "--collect-only" in args:
    for name in tests:
        print(test_file + "::" + name)
    print("\n%d tests collected in 0.01s" % len(tests)); sys.exit(0)
junit = next(a.split("=", 1)[1] for a in args if a.startswith("--junitxml="))
targets = [a for a in args if not a.startswith("-") and a != "no:cacheprovider"]
cases = []
for name in tests:
    if not any(t in (test_file, test_file + "::" + name) for t in targets):
        continue
    b = tests[name]
    print(name, flush=True)
    if b == "crash":
        print("Fatal Python error: Segmentation fault", flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)
    if b == "hang":
        time.sleep(60)
    body = ""
    if b == "fail":
        text = "\n".join(["python/tests/test_p.py:7: in " + name, "    assert run()"]
                         + ["frame %d" % i for i in range(60)]
                         + ["E   AssertionError: seed 9, schedule [...]; replay: ETCDLAB_SEED=9 "
                            "PYTHONPATH=build/python /usr/bin/python3 -m pytest x"]
                         + ["after %d" % i for i in range(30)])
        body = "<failure message=%s>%s</failure>" % (quoteattr("AssertionError: boom"),
                                                    escape(text))
    elif b == "error":
        body = "<error message=%s>%s</error>" % (quoteattr("failed on setup"),
                                                escape("E   fixture 'cluster' not found"))
    elif b == "skip":
        body = ("<skipped type=\"pytest.skip\" message=\"not today\">"
                "test_p.py:3: not today</skipped>")
    cases.append("<testcase classname=\"python.tests.test_p\" name=%s time=\"0.25\">%s</testcase>"
                 % (quoteattr(name), body))
with open(junit, "w") as f:
    if spec.get("report") == "malformed":
        f.write("<testsuites><testcase classname=")
    else:
        f.write("<?xml version=\"1.0\"?><testsuites><testsuite name=\"pytest\">%s</testsuite>"
                "</testsuites>" % "".join(cases))
sys.exit(0 if all(tests[n] in ("pass", "skip") for n in tests) else 1)
'''

PYTEST_FILE = "python/tests/test_p.py"


def write_python(path: Path, tests: dict[str, str], by_path: dict | None = None,
                 **extra) -> Path:
    """A fake /usr/bin/python3 for `-m pytest` on PYTEST_FILE; see FAKE_PYTHON."""
    spec = json.dumps({"file": PYTEST_FILE, "tests": tests, "by_path": by_path or {}, **extra})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FAKE_PYTHON.replace("__SPEC__", repr(spec)))
    path.chmod(0o755)
    return path


def pytest_file_source(names) -> str:
    return "import etcdlab\n\n" + "".join(f"def {n}():\n    pass\n\n" for n in names)


def gtest_spec(tests: dict[str, str], broken: dict[str, dict[str, str]] | None = None) -> str:
    return json.dumps({"tests": tests, "broken": broken or {}})


def write_gtest(path: Path, tests: dict[str, str], broken: dict[str, dict[str, str]] | None = None) -> Path:
    spec = gtest_spec(tests, broken)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FAKE_GTEST.replace("__SPEC__", repr(spec)))
    path.chmod(0o755)
    return path


def install_cmake(bin_dir: Path, monkeypatch, calls: Path, fail: str = "", targets=(),
                  binaries: dict[str, Path] | None = None, tests_from_tree: bool = False,
                  sleep: float = 0) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    cmake = bin_dir / "cmake"
    cmake.write_text(FAKE_CMAKE)
    cmake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CMAKE_CALLS", str(calls))
    monkeypatch.setenv("FAKE_CMAKE_FAIL", fail)
    monkeypatch.setenv("FAKE_CMAKE_TARGETS", ",".join(targets))
    monkeypatch.setenv("FAKE_CMAKE_BINARIES",
                       json.dumps({t: str(p) for t, p in (binaries or {}).items()}))
    if tests_from_tree:
        template = bin_dir / "gtest-template"
        template.write_text(FAKE_GTEST)
        monkeypatch.setenv("FAKE_CMAKE_GTEST_TEMPLATE", str(template))
        monkeypatch.setenv("FAKE_CMAKE_SLEEP", str(sleep))
    else:
        monkeypatch.delenv("FAKE_CMAKE_GTEST_TEMPLATE", raising=False)


def fake_build_dir(root: Path, binaries: dict[str, Path], targets=(),
                   own_labs: str = "") -> Path:
    """A configured-looking build directory whose bin/ holds the given fake binaries, and that
    defines `targets` too."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "CMakeCache.txt").write_text(f"ETCDLAB_OWN_LABS:STRING={own_labs}\n")
    (root / "build.ninja").write_text(
        "".join(f"build {t}: phony bin/{t}\n" for t in [*binaries, *targets]))
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


PYTHON_PART = """
[[lab.1.part]]
id = "P"
title = "Properties"
kind = "python"
weight = 10
tests = ["python/tests/test_p.py::*"]
"""


def write_rubric(path: Path, broken: list[tuple[str, str]] | None = None,
                 python: bool = False) -> Path:
    """The fake lab 1: parts A (30) and B (70); with `python`, A 30, B 60 and a python part P
    (10) grading python/tests/test_p.py."""
    text = RUBRIC.replace("__BROKEN_TARGET__",
                          ', broken = "lab01-tests-broken"' if broken is not None else "")
    if python:
        text = text.replace("time_limit = 10\n",
                            'time_limit = 10\npython_tests = ["python/tests/test_p.py"]\n')
        text = text.replace("weight = 70", "weight = 60") + PYTHON_PART
    for name, description in broken or []:
        text += f'\n[[lab.1.broken]]\nname = "{name}"\ndescription = "{description}"\n'
    path.write_text(text)
    return path
