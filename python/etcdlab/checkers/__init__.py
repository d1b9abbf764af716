"""Linearizability checkers for etcdlab histories.

- :func:`check`: Porcupine-style search (Wing & Gong, Lowe's memoization, per-partition) of a
  history against a sequential model: "ok", "illegal" or "unknown" (timed out; never a pass).
- :func:`check_revisions`: the linear-time revision-witness check for KV histories whose
  responses carry store revisions; :func:`check_txns`, the same for histories with txns and
  ranges (check_revisions hands a history with a txn to it).
- :func:`check_locks`: lock holds never overlap while both holders' leases live, the fenced
  resource never accepts an older token after a newer one.
- :func:`check_leases`: leases never expire early, a revoke takes all of a lease's keys at one
  revision, members agree (histories and observations of a simulated KV cluster).
- :func:`check_watches`: watch streams are ordered, unique, atomic, reliable, resumable and
  bookmarkable, with the right prev_kv and filters, against the committed history.
- Models: :class:`Register`, :class:`KV`, :class:`CountingLog`, :class:`KVRevision`.
- :class:`Operation`, :func:`load_history`, :func:`validate_history`: the history data model.
- :func:`render_html`: a self-contained HTML timeline of a result.

Example::

    from etcdlab.checkers import check, KV, render_html
    result = check(KV(), "history.json", timeout=60)
    if result.verdict != "ok":
        render_html(KV(), "history.json", result, "history.html")
"""

from .history import (
    INF,
    UNKNOWN,
    HistoryError,
    Operation,
    dump_history,
    load_history,
    prepare_history,
    validate_history,
)
from .leases import LeaseResult, check_leases
from .models import KV, CountingLog, KVRevision, Model, Register
from .porcupine import PartitionResult, Result, check
from .revisions import RevisionResult, Violation, check_revisions
from .txns import check_txns
from .locks import Hold, LockResult, Write, check_locks
from .watches import WatchResult, check_watches
from .visualize import render_html

__all__ = [
    "check",
    "check_revisions",
    "check_txns",
    "check_locks",
    "Hold",
    "Write",
    "LockResult",
    "check_leases",
    "check_watches",
    "render_html",
    "Result",
    "PartitionResult",
    "RevisionResult",
    "LeaseResult",
    "WatchResult",
    "Violation",
    "Model",
    "Register",
    "KV",
    "CountingLog",
    "KVRevision",
    "Operation",
    "HistoryError",
    "load_history",
    "dump_history",
    "validate_history",
    "prepare_history",
    "INF",
    "UNKNOWN",
]
