"""The KV calls of a simulated cluster (``etcdlab.Cluster(kv=True)``): put, get, range,
delete_range, txn (and txn_encoded) and compact through the server's node (``KvNode``), and the cluster's history of
them in the shapes the checkers read.

Each call returns an ``Op`` at once; its ``result`` is, once ok, what etcd's JSON gateway would
answer. A call goes through node ``via``, or whichever node the client finds; reads are
linearizable (ReadIndex) unless the cluster has ``linearizable_reads=False``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from . import _core
from ._convert import as_bytes as _b
from ._convert import ms_from_us as _ms
from .checkers.history import Operation as HistoryOperation
from .cluster_leases import LEASE_KINDS, int64, lease_history_entry

if TYPE_CHECKING:
    from .cluster import Op

__all__ = ["KvCalls"]


def _range_key(key: bytes, range_end: bytes) -> bytes:
    """An empty key with a range end means "from the first key": etcd wants it spelled b"\0"
    (an empty key is refused as "key is not provided")."""
    return b"\0" if not key and range_end else key


def _range_end(key: bytes, range_end, prefix: bool) -> bytes:
    if prefix:
        if not key:
            return b"\0"  # every key (etcdctl sends key "\0" too; see _range_key)
        p = bytearray(key)
        while p and p[-1] == 0xFF:
            p.pop()
        if not p:
            return b"\0"
        p[-1] += 1
        return bytes(p)
    return b"" if range_end is None else _b(range_end)


class KvCalls:
    """The KV calls of :class:`etcdlab.Cluster` (a mixin: it uses the cluster's ``_core``,
    ``kv``, ``_kv_ops`` and ``_op``)."""

    def put(self, key, value=b"", *, prev_kv: bool = False, lease: int = 0,
            ignore_value: bool = False, ignore_lease: bool = False,
            via: Optional[int] = None) -> "Op":
        """Puts ``key`` = ``value``; ``lease`` attaches the key to that lease (it goes when the
        lease is revoked or expires), and a put without one detaches it."""
        self._need_kv("put")
        key, value = _b(key), _b(value)
        lease = int64(lease, "lease")  # 0: no lease (the key leaves the one it had)
        data = _core.kv_put_request(key, value, lease, prev_kv, ignore_value, ignore_lease)
        args = {"key": key, "value": value}
        if lease:
            args["lease"] = lease
        return self._kv_op("put", args, self._core.propose(data, via))

    def delete_range(self, key, range_end=None, *, prefix: bool = False, prev_kv: bool = False,
                     via: Optional[int] = None) -> "Op":
        """Deletes ``key`` (or [key, range_end), or every key with the prefix ``key``)."""
        self._need_kv("delete_range")
        key = _b(key)
        end = _range_end(key, range_end, prefix)
        key = _range_key(key, end)
        data = _core.kv_delete_request(key, end, prev_kv)
        kind = "delete" if not end else "delete_range"
        return self._kv_op(kind, {"key": key, "range_end": end},
                           self._core.propose(data, via))

    def get(self, key, *, revision: int = 0, via: Optional[int] = None) -> "Op":
        """Reads one key; ``op.value`` is its value (None if absent), ``op.result`` the whole
        answer (with the key's revisions and the header revision)."""
        self._need_kv("get")
        key = _b(key)
        query = _core.kv_query(key, b"", revision)
        return self._kv_op("get", {"key": key, "revision": revision},
                           self._core.read(via, query))

    def range(self, key, range_end=None, *, prefix: bool = False, revision: int = 0,
              limit: int = 0, keys_only: bool = False, count_only: bool = False,
              sort_order: str = "none", sort_target: str = "key",
              via: Optional[int] = None) -> "Op":
        self._need_kv("range")
        key = _b(key)
        end = _range_end(key, range_end, prefix)
        key = _range_key(key, end)
        query = _core.kv_query(key, end, revision, limit, keys_only, count_only, sort_order,
                               sort_target)
        return self._kv_op("range", {"key": key, "range_end": end},
                           self._core.read(via, query))

    def txn(self, compare=(), success=(), failure=(), *, via: Optional[int] = None) -> "Op":
        """etcd's Txn: if every compare holds, the ``success`` operations run, else the
        ``failure`` ones, atomically at one revision; ``op.result`` is the gateway's answer
        (``succeeded``, ``responses``). A txn that only reads needs no log entry (the node's
        read-only path).

        Compares are ``(key, range_end, target, result, operand)`` with target ``"version"``,
        ``"create"``, ``"mod"``, ``"value"`` or ``"lease"`` and result ``"=="``, ``"!="``,
        ``">"`` or ``"<"``; operations are ``("range", key, range_end, revision, limit,
        serializable)``, ``("put", key, value, lease, prev_kv, ignore_value, ignore_lease)``,
        ``("delete", key, range_end, prev_kv)`` or ``("txn", compare, success, failure)``."""
        self._need_kv("txn")
        data = _core.kv_txn_request(list(compare), list(success), list(failure))
        return self._kv_op("txn", {"compare": list(compare), "success": list(success),
                                   "failure": list(failure)}, self._core.propose(data, via))

    def txn_encoded(self, request, *, via: Optional[int] = None) -> "Op":
        """A txn already encoded as the node takes it: the ``request`` of a step of
        ``etcdlab._core.LockRecipe`` (lab 5's lock recipe), or ``_core.kv_txn_request``'s.
        ``op.result`` is the gateway's answer, ``op.raw_output`` the node's answer as the
        simulator encodes it, which ``LockRecipe.answer`` reads."""
        self._need_kv("txn_encoded")
        request = _b(request, "an encoded request")
        if not request:
            raise ValueError("an encoded request is not empty: a LockRecipe step's "
                             "\"request\", or _core.kv_txn_request(...)")
        return self._kv_op("txn", {"request": request}, self._core.propose(request, via))

    def compact(self, revision: int, *, physical: bool = False,
                via: Optional[int] = None) -> "Op":
        self._need_kv("compact")
        data = _core.kv_compact_request(revision, physical)
        return self._kv_op("compact", {"revision": revision}, self._core.propose(data, via))

    def _need_kv(self, kind: str) -> None:
        # Before anything is proposed: a plain log would take the request as a command.
        if not self.kv:
            raise TypeError(f"{kind}() needs a KV cluster: etcdlab.Cluster(..., kv=True)")

    def _kv_op(self, kind: str, args: dict, op_id: int) -> "Op":
        self._need_kv(kind)
        self._kv_ops[op_id] = (kind, args)
        return self._op(op_id)

    def _not_kv(self, what: str, instead: str) -> None:
        if self.kv:
            raise TypeError(f"{what}() is for the plain log; a KV cluster takes {instead}")

    def _kv_history(self) -> list[HistoryOperation]:
        out = []
        for op in self._core.history():
            spec = self._kv_ops.get(op.id)
            if spec is None or spec[0] not in ("put", "get", "delete", *LEASE_KINDS):
                continue
            kind, args = spec
            if args.get("revision"):
                continue  # a historical read: not a read of the present
            outcome = op.outcome.name
            if outcome == "pending":
                outcome = "unknown"
            if kind in LEASE_KINDS:
                answer = None
                if op.outcome == _core.Outcome.ok:
                    answer = _core.kv_write_output(op.output)
                if answer is not None and "error" in answer:
                    outcome, answer = "failed", None
                inp, output = lease_history_entry(kind, args, answer)
                out.append(HistoryOperation(
                    client=op.id, kind=kind, input=inp, output=output, call=_ms(op.call_us),
                    ret=_ms(op.return_us), outcome=outcome, id=op.id))
                continue
            output = None
            if op.outcome == _core.Outcome.ok:
                if kind == "get":
                    answer = _core.kv_read_output(op.output)
                else:
                    answer = _core.kv_write_output(op.output)
                revision = answer["header"]["revision"]
                if "error" in answer:
                    outcome = "failed"
                elif kind == "put":
                    output = {"revision": revision}
                elif kind == "delete":
                    output = {"deleted": answer.get("deleted", 0), "revision": revision}
                else:
                    kvs = answer.get("kvs") or []
                    output = {"value": None, "revision": revision}
                    if kvs:
                        kv = kvs[0]
                        output.update(value=kv["value"], mod_revision=kv["mod_revision"],
                                      create_revision=kv["create_revision"],
                                      version=kv["version"])
            inp = {"key": args["key"]} if kind != "put" else dict(args)
            out.append(HistoryOperation(
                client=op.id, kind=kind, input=inp, output=output, call=_ms(op.call_us),
                ret=_ms(op.return_us), outcome=outcome, id=op.id))
        return out
