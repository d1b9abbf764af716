"""Seeds and replay lines for the randomized Python tests (ETCDLAB_SEED, ETCDLAB_SEED_BASE)."""

import os
import pathlib


def seeds(count, default_start=1, default=None):
    """The seeds a randomized test runs: ETCDLAB_SEED, else `count` seeds from
    ETCDLAB_SEED_BASE, else `default` (a list) or default_start, default_start + 1, ..."""
    one = os.environ.get("ETCDLAB_SEED")
    if one:
        return [int(one)]
    base = os.environ.get("ETCDLAB_SEED_BASE")
    if base:
        import random
        rng = random.Random(int(base))
        return [rng.randrange(1, 10**9) for _ in range(count)]
    if default is not None:
        return list(default)
    return list(range(default_start, default_start + count))


def seed_count(normal, long_run):
    """How many seeds a property runs: `normal`, or `long_run` with ETCDLAB_LONG=1 (the long
    runs kept out of make check)."""
    return long_run if os.environ.get("ETCDLAB_LONG") == "1" else normal


def package_path():
    """Where the etcdlab package under test was imported from (for replay lines): the
    reference build, the student build or the grader's copy."""
    import etcdlab
    where = pathlib.Path(etcdlab.__file__).resolve().parents[1]
    try:
        return os.path.relpath(where)
    except ValueError:
        return str(where)


def replay(seed, test_file, test_name):
    return (f"ETCDLAB_SEED={seed} PYTHONPATH={package_path()} /usr/bin/python3 -m pytest "
            f"{test_file} -k {test_name}")
