"""How the mutation tool finds a lab's reference files (tools/mutation/build.py): a reference
folder may hold subfolders (lab 4's lease/ and watch/), and files are named relative to it."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mutation import build  # noqa: E402


def make_reference(root: Path) -> Path:
    ref = root / "solution" / "04-lease-watch"
    for rel in ("lease/lessor.cc", "watch/watch_hub.cc", "watch/watch_hub_impl.h",
                "watch/notes.md", "top.cc"):
        (ref / rel).parent.mkdir(parents=True, exist_ok=True)
        (ref / rel).write_text("int x;\n")
    return ref


def test_reference_files_include_subfolders_and_only_sources_and_headers(tmp_path):
    ref = make_reference(tmp_path)
    names = [build.reference_name(ref, p) for p in build.reference_files(ref)]
    assert names == ["lease/lessor.cc", "top.cc", "watch/watch_hub.cc", "watch/watch_hub_impl.h"]


def test_a_file_outside_the_reference_has_no_name(tmp_path):
    ref = make_reference(tmp_path)
    assert build.reference_name(ref, tmp_path / "labs" / "x.h") is None
    assert build.reference_name(ref, ref / "lease" / ".." / "top.cc") == "top.cc"


def test_headers_from_ninja_deps_are_the_references_own_in_any_subfolder(tmp_path):
    ref = make_reference(tmp_path)
    build_dir = tmp_path / "build-mutants"
    build_dir.mkdir()
    deps = ("CMakeFiles/x.dir/solution/04-lease-watch/watch/watch_hub.cc.o: #deps 4\n"
            "    ../solution/04-lease-watch/watch/watch_hub.cc\n"
            "    ../solution/04-lease-watch/watch/watch_hub_impl.h\n"
            f"    {ref}/top.h\n"
            "    ../labs/04-lease-watch/include/etcdlab/watch/watch_hub.h\n"
            "    /usr/include/c++/12/vector\n")
    assert build.reference_headers(deps, build_dir, ref) == {"watch/watch_hub_impl.h", "top.h"}


def test_every_lab_names_its_reference_libraries_and_test_target():
    for lab, (folder, libraries, test_target) in build.LABS.items():
        assert (build.ROOT / folder).is_dir(), folder
        assert libraries and all(lib.endswith("_reference") for lib in libraries)
        assert test_target == f"lab{lab:02d}-tests-reference"
    assert build.LABS[4][1] == ("etcdlab_lab04_lease_reference", "etcdlab_lab04_watch_reference")
