"""Bad arguments to the Python API raise Python exceptions: never a crash, never a raw C++
message (rule: "every entry point validates its arguments", issue 22).

The first test covers etcdlab._core whole, found by introspection: every bound function and
method, every property setter and constructor, called with out-of-range and wrong-typed
arguments by bad_arguments.py, one subprocess per class, so a crash fails one test and names
the call. The others are the friendlier layer's own checks (etcdlab.Cluster, the checkers,
LocalCluster), with the messages a notebook user reads.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import etcdlab
from etcdlab import _core, checkers

RUNNER = Path(__file__).with_name("bad_arguments.py")
# What a bad argument may raise. RuntimeError is what pybind11 makes of an unexpected C++
# exception (std::logic_error, a failed cast): not allowed.
ALLOWED = {"TypeError", "ValueError", "LookupError", "PredicateError"}
# pybind11's own dunders of enums look attributes up on their receiver.
ALLOWED_FOR_WRONG_RECEIVER = ALLOWED | {"AttributeError"}
CXX_LEAKS = ("vector::", "_M_range_check", "basic_string", "std::", "map::at", "stoi", "stoul",
             "bad_optional_access", "which is")


def _targets():
    classes = sorted(name for name, obj in vars(_core).items()
                     if isinstance(obj, type) and not issubclass(obj, BaseException))
    return classes + ["Cluster:kv", "functions"]


def test_the_introspection_finds_the_bound_api():
    targets = _targets()
    assert {"Cluster", "ClusterOptions", "NetworkOptions", "CrashMode", "functions"} <= set(targets)
    assert any(name.startswith("kv_") for name in vars(_core)), "the KV functions are bound"


@pytest.mark.parametrize("target", _targets())
def test_every_bound_call_refuses_bad_arguments_with_a_python_exception(target):
    env = dict(os.environ, PYTHONPATH=str(Path(etcdlab.__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, str(RUNNER), target], capture_output=True, text=True,
                          env=env, timeout=600)
    lines = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    last = next((ln["calling"] for ln in reversed(lines) if "calling" in ln), None)
    assert proc.returncode == 0, (
        f"the interpreter died (exit {proc.returncode}) while calling {last}:\n{proc.stderr[-3000:]}")
    results = [ln for ln in lines if "call" in ln]
    assert results, f"no bound call found for {target}"
    wrong = []
    for r in results:
        if r["raised"] is None:
            continue  # a value that looked bad was in range: fine, as long as nothing broke
        allowed = ALLOWED_FOR_WRONG_RECEIVER if "<self=" in r["call"] else ALLOWED
        if not allowed & set(r["mro"]):
            wrong.append(f"{r['call']}: {r['raised']}: {r['message']}")
        elif any(leak in r["message"] for leak in CXX_LEAKS):
            wrong.append(f"{r['call']}: a raw C++ message: {r['raised']}: {r['message']}")
    assert not wrong, f"{len(wrong)} of {len(results)} calls:\n" + "\n".join(wrong[:40])


# ---- the friendlier layer ----------------------------------------------------------------------

@pytest.fixture
def c():
    return etcdlab.Cluster(n=5, seed=1)


@pytest.mark.parametrize("call, error, says", [
    (lambda c: c.isolate(5), IndexError, "no node 5: nodes are 0 .. 4"),
    (lambda c: c.isolate(-1), IndexError, "no node -1"),
    (lambda c: c.cut(0, 9), IndexError, "no node 9"),
    (lambda c: c.crash(5), IndexError, "no node 5"),
    (lambda c: c.restart(7), IndexError, "no node 7"),
    (lambda c: c.nodes[0].__class__(c, 9).term, IndexError, "no node 9"),
    (lambda c: c.crash(0, "explode"), ValueError,
     "unknown crash mode 'explode': one of drop_unsynced, random_prefix, torn_write, any"),
    (lambda c: c.crash(0, 3), TypeError, "crash mode is one of"),
    (lambda c: c.partition([[0, 1], [1, 2, 3, 4]]), ValueError, "node 1 is in two groups"),
    (lambda c: c.partition([0, 1]), TypeError, "groups of node indexes"),
    (lambda c: c.run(-5), ValueError,
     "the time to run must be a finite number of ms >= 0, not -5"),
    (lambda c: c.run(float("nan")), ValueError, "not nan"),
    (lambda c: c.run_until(lambda: True, -1), ValueError,
     "run_until's timeout must be a finite number of ms >= 0, not -1"),
    (lambda c: c.run_until(True, 10), TypeError, "a function of no arguments"),
    (lambda c: c.propose(5), TypeError, "data is bytes or str, not int"),
    (lambda c: c.put(b"k"), TypeError, "needs a KV cluster"),
    (lambda c: c.network(drop=1.5), ValueError, "drop is a probability in [0, 1], not 1.5"),
    (lambda c: c.network(delay_ms=5), TypeError, "a (lo, hi) pair"),
    (lambda c: c.transfer_leader(8), IndexError, "no node 8"),
])
def test_the_cluster_api_says_what_is_wrong(c, call, error, says):
    with pytest.raises(error) as e:
        call(c)
    assert says in str(e.value)


@pytest.mark.parametrize("kwargs, error, says", [
    (dict(n=0), ValueError, "1 to 64 nodes, not 0"),
    (dict(n=3, tick_ms=0), ValueError, "tick_ms"),
    (dict(n=3, election_ticks=1), ValueError, "heartbeat_ticks < election_ticks"),
    (dict(n=3, fsync_ms=(2, 1)), ValueError, "fsync_max_ms"),
    (dict(n=3, delay_ms=(-1, 5)), ValueError, "delay_min_ms"),
    (dict(n=3, drop=2), ValueError, "drop"),
    (dict(n=3, initial_voters=4), ValueError, "initial_voters"),
    (dict(n="3"), TypeError, ""),
])
def test_bad_cluster_options_are_refused_up_front(kwargs, error, says):
    with pytest.raises(error, match=says.replace("(", r"\(").replace("[", r"\[")):
        etcdlab.Cluster(**kwargs)


def test_a_model_class_passed_for_an_instance_is_a_type_error():
    history = etcdlab.Cluster(n=3, seed=1).history
    for call in (lambda: checkers.check(checkers.CountingLog, history),
                 lambda: checkers.render_html(checkers.KV, history, None),
                 lambda: checkers.prepare_history(history, checkers.Register)):
        with pytest.raises(TypeError, match=r"a model instance, e.g. \w+\(\), not the class"):
            call()
    with pytest.raises(TypeError, match="has no init or step"):
        checkers.check(object(), history)


def test_local_cluster_checks_its_ports_and_creates_its_data_dir(tmp_path):
    from etcdlab.local import LocalCluster
    binary = sys.executable  # never started: the checks come first
    with pytest.raises(ValueError, match="client_ports has 2 port"):
        LocalCluster(3, binary=binary, client_ports=[1, 2])
    with pytest.raises(ValueError, match="repeats a port"):
        LocalCluster(2, binary=binary, peer_ports=[5, 5])
    with pytest.raises(ValueError, match="share"):
        LocalCluster(1, binary=binary, client_ports=[7], peer_ports=[7])
    with pytest.raises(ValueError, match="not a TCP port"):
        LocalCluster(1, binary=binary, client_ports=[70000])
    with pytest.raises(TypeError, match="a list of 1 ports"):
        LocalCluster(1, binary=binary, client_ports=2379)
    with pytest.raises(ValueError, match="at least one member"):
        LocalCluster(0, binary=binary)
    where = tmp_path / "not" / "yet"
    lc = LocalCluster(2, binary=binary, data_dir=str(where), client_ports=[41001, 41002],
                      peer_ports=[41003, 41004])
    assert where.is_dir()
    assert lc.endpoints == ["127.0.0.1:41001", "127.0.0.1:41002"]
    assert "--listen-peer-urls" in lc.args(1) and "http://127.0.0.1:41004" in lc.args(1)
    half = LocalCluster(2, binary=binary, data_dir=str(where), client_ports=[41001, 41002])
    assert len(set(half.peer_ports) - {41001, 41002}) == 2  # the rest picked free
