"""etcdlab: drive deterministic simulated Raft clusters, inject faults, check invariants.

    import etcdlab
    c = etcdlab.Cluster(n=5, seed=7)
    c.run_until(lambda: c.leader() is not None, timeout_ms=5000)

See python/README.md. The simulator and the Raft invariants are C++ (the extension
etcdlab._core, built by CMake into build/python/etcdlab); the linearizability checkers are pure
Python (etcdlab.checkers) and work without the extension, e.g. on histories recorded elsewhere.
"""

__all__ = ["Cluster", "Node", "Op", "Role", "RoleChange", "LogEntry", "EntryType",
           "LeaseView", "LeaseChange", "WatchResponse", "WatchEvent", "KeyValue",
           "InvariantViolation", "INVARIANTS", "checkers", "Client", "EtcdError",
           "LocalCluster", "LeaseKeepalive", "LockSim", "view"]

_FROM_CORE = {"InvariantViolation", "INVARIANTS"}
_FROM_CLUSTER = {"Cluster", "Node", "Op"}
_FROM_CLIENT = {"Client", "EtcdError"}
_FROM_VIEWS = {"Role", "RoleChange", "LogEntry", "EntryType", "LeaseView", "LeaseChange",
               "WatchResponse", "WatchEvent", "KeyValue"}


def __getattr__(name):
    # The extension is loaded on first use, so `import etcdlab.checkers` needs no C++ build.
    if name in _FROM_CORE:
        from . import _core
        return getattr(_core, name)
    if name in _FROM_CLUSTER:
        from . import cluster
        return getattr(cluster, name)
    if name in _FROM_VIEWS:
        from . import views
        return getattr(views, name)
    if name in _FROM_CLIENT:
        from . import client
        return getattr(client, name)
    if name == "LeaseKeepalive":
        from .leases import LeaseKeepalive
        return LeaseKeepalive
    if name == "LockSim":
        from .sim_locks import LockSim
        return LockSim
    if name == "LocalCluster":
        from .local import LocalCluster
        return LocalCluster
    if name in ("checkers", "view"):
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'etcdlab' has no attribute {name!r}")
