"""The checker tests run against the source in python/etcdlab/checkers, with or without a C++
build: each calls use_source_checkers() before importing etcdlab.checkers."""

import sys
from pathlib import Path


def use_source_checkers():
    """Makes ``etcdlab.checkers`` the source in python/etcdlab/checkers whatever else is
    loaded: inside the built package when there is one (PYTHONPATH=build/python or conftest's
    guess; another test may have imported it already, with its build copy of the checkers),
    else under a stub parent package, so these tests need no C++ build."""
    import importlib
    import types

    src = Path(__file__).resolve().parents[1] / "etcdlab"
    cur = sys.modules.get("etcdlab.checkers")
    if cur is not None and Path(cur.__file__).parent == src / "checkers":
        return
    pkg = sys.modules.get("etcdlab")
    if pkg is None:
        try:
            pkg = importlib.import_module("etcdlab")
        except ImportError:  # no built package (no etcdlab._core)
            for name in [m for m in sys.modules if m == "etcdlab" or m.startswith("etcdlab.")]:
                del sys.modules[name]
            pkg = types.ModuleType("etcdlab")
            pkg.__path__ = []
            sys.modules["etcdlab"] = pkg
    for name in [m for m in sys.modules if m == "etcdlab.checkers" or m.startswith("etcdlab.checkers.")]:
        del sys.modules[name]
    saved, pkg.__path__ = pkg.__path__, [str(src)]
    try:
        pkg.checkers = importlib.import_module("etcdlab.checkers")
    finally:
        pkg.__path__ = saved
