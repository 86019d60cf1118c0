"""Canonical JSON: one byte string per value, so one digest per value.

A manifest's digest is the hash of its exact bytes, so the same manifest
written with different spacing or key order would be a *different* image.
imgkit writes every JSON document it hashes in one form: keys sorted, no
insignificant white space, UTF-8, no trailing newline.
"""

from __future__ import annotations

import json

__all__ = ["dumps"]


def dumps(value) -> bytes:
    """Return the canonical JSON bytes of ``value`` (sorted keys, compact, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False).encode("utf-8")
