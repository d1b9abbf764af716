#!/usr/bin/env python3
"""Runs the notebooks in this folder headlessly, top to bottom, and fails on any error.

    PYTHONPATH=build/python /usr/bin/python3 python/notebooks/run_notebooks.py [NOTEBOOK ...]

(from the repository root; `make check` runs it so). Every *.ipynb here runs in a fresh kernel
of the interpreter that runs this script (with its PYTHONPATH), with this folder as the working
directory and a limit of 300 s per cell. The notebooks are executed in memory: outputs are never
written back to the files. Exits 1 naming the notebook and the cell that failed, 2 if nbclient,
nbformat or ipykernel is missing (Debian: python3-nbclient python3-nbformat python3-ipykernel).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shutil
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
CELL_TIMEOUT_S = 300
KERNEL = "python3"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _same_interpreter(command: str) -> bool:
    found = shutil.which(command) or command
    try:
        return os.path.samefile(os.path.realpath(found), os.path.realpath(sys.executable))
    except OSError:
        return False


def kernel_setup(tmp: pathlib.Path):
    """Returns (kernel_name, kernel_manager_class) for a kernel running this interpreter.

    The installed "python3" kernel spec is used when it runs this interpreter (Debian's
    /usr/share/jupyter/kernels/python3 runs /usr/bin/python3). Otherwise, e.g. when the spec is
    missing or points at another Python, a spec for sys.executable is written to a temporary
    directory and a kernel manager that looks only there is used.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
        if spec.argv and _same_interpreter(spec.argv[0]):
            return KERNEL, AsyncKernelManager
    except Exception:  # no such kernel, or an unreadable spec: write our own
        pass

    name = "etcdlab-python3"
    spec_dir = tmp / "kernels" / name
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python 3 ({sys.executable})",
        "language": "python",
    }))
    kernel_dirs = [str(tmp / "kernels")]

    class CurrentInterpreterKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self):
            return KernelSpecManager(kernel_dirs=kernel_dirs, ensure_native_kernel=False)

    return name, CurrentInterpreterKernelManager


def _describe(nb, index: int | None) -> str:
    if index is None or not 0 <= index < len(nb.cells):
        return "an unknown cell"
    cell = nb.cells[index]
    code_number = sum(1 for c in nb.cells[: index + 1] if c.cell_type == "code")
    first = next((line for line in cell.source.splitlines()
                  if line.strip() and not line.startswith(("%", "#"))), "")
    return f"cell {index + 1} of {len(nb.cells)} (code cell {code_number}: {first.strip()[:70]!r})"


def _error_cell(nb) -> int | None:
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return index
    return None


def run_notebook(path: pathlib.Path, kernel_name: str, manager_class) -> tuple[bool, str]:
    import nbformat
    from nbclient import NotebookClient

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as e:  # missing, unreadable or not a notebook
        return False, f"cannot read it: {type(e).__name__}: {e}"
    current = {"index": None}

    def on_cell_start(cell=None, cell_index=None, **_):
        current["index"] = cell_index

    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name=kernel_name,
        kernel_manager_class=manager_class,
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},  # the kernel's working directory
    )
    if client.has_trait("on_cell_start"):  # nbclient >= 0.6
        client.on_cell_start = on_cell_start
    try:
        client.execute()
    except Exception as e:  # CellExecutionError, CellTimeoutError, DeadKernelError, startup
        index = _error_cell(nb)
        if index is None:
            index = current["index"]
        what = type(e).__name__
        detail = _ANSI.sub("", str(e)).strip()
        return False, f"{what} in {_describe(nb, index)}\n{detail}"
    return True, ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="notebooks to run (default: every *.ipynb in %(prog)s's folder)")
    args = parser.parse_args(argv)
    try:
        import ipykernel  # noqa: F401  (the kernel runs this interpreter)
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as e:
        print(f"run_notebooks: {e}: install python3-nbclient, python3-nbformat and "
              f"python3-ipykernel (Debian packages)", file=sys.stderr)
        return 2
    paths = [p.resolve() for p in args.notebooks] or sorted(HERE.glob("*.ipynb"))
    if not paths:
        print(f"run_notebooks: no notebooks in {HERE}", file=sys.stderr)
        return 2
    # The kernel inherits this environment. It runs in the notebook's folder, so a relative
    # PYTHONPATH (make check passes build/python) is made absolute first. Also silence the
    # debugger's warning about frozen modules, which Debian's Python prints at kernel start.
    if os.environ.get("PYTHONPATH"):
        os.environ["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(p) if p else p for p in os.environ["PYTHONPATH"].split(os.pathsep))
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

    failures = []
    with tempfile.TemporaryDirectory(prefix="etcdlab-notebooks-") as tmp:
        kernel_name, manager_class = kernel_setup(pathlib.Path(tmp))
        print(f"running {len(paths)} notebook(s) with kernel {kernel_name!r} ({sys.executable})",
              flush=True)
        total = time.monotonic()
        for path in paths:
            start = time.monotonic()
            ok, message = run_notebook(path, kernel_name, manager_class)
            elapsed = time.monotonic() - start
            print(f"{'ok  ' if ok else 'FAIL'} {path.name} ({elapsed:.1f} s)", flush=True)
            if not ok:
                failures.append(path.name)
                print(f"  {path.name}: {message}".replace("\n", "\n  "), file=sys.stderr,
                      flush=True)
    print(f"{len(paths) - len(failures)} of {len(paths)} notebook(s) passed "
          f"in {time.monotonic() - total:.1f} s")
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
