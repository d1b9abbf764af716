"""Conversions the simulated cluster's modules share (cluster.py, cluster_kv.py)."""

from __future__ import annotations

from . import _core

NEVER_MS = float("inf")


def ms_from_us(us: int) -> float:
    """The simulator's microseconds as ms; its kNever ("never returned") as NEVER_MS."""
    return NEVER_MS if us == _core.NEVER else us / 1000.0


def as_bytes(x, what: str = "a key or value") -> bytes:
    """Bytes or str (UTF-8) as bytes; anything else is a TypeError."""
    if isinstance(x, str):
        return x.encode()
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    # bytes(5) would be five zero bytes, not an error.
    raise TypeError(f"{what} is bytes or str, not {type(x).__name__} ({x!r})")
