"""Keeping the store healthy: ``fsck``."""

from __future__ import annotations

from ..store.fsck import FsckReport, check, repair
from .host import Host, default_host

__all__ = ["fsck"]


def fsck(*, repair_garbage: bool = False, host: Host | None = None) -> FsckReport:
    """Check the store from scratch (re-hash blobs, resolve every record); return a report.

    With ``repair_garbage=True`` it first rewrites ``index.json`` and removes
    leftovers of interrupted commands that are over an hour old.
    """
    host = host or default_host()
    if repair_garbage:
        repair(host.store)
    return check(host.store)
