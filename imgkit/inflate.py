"""Gunzip as fast as this machine can: ISA-L when it is installed, zlib otherwise.

Inflating is most of the work of checking a pulled layer and of unpacking
one. ISA-L's ``isal_zlib`` inflates 1.5-3x faster than zlib, releases the GIL
like it, has the same API and gives the same bytes, so every reader of a gzip
layer takes its decompressor from here.
"""

from __future__ import annotations

import zlib
from typing import Any

try:
    from isal import isal_zlib as _library
except ImportError:  # pragma: no cover - isal is a dependency, but optional in principle
    _library = zlib

__all__ = ["gunzip_object", "GUNZIP_ERRORS", "LIBRARY"]

#: The module inflating: ``isal.isal_zlib`` or ``zlib``.
LIBRARY = _library
#: What a damaged gzip stream raises, from either library.
GUNZIP_ERRORS: tuple[type[Exception], ...] = tuple({zlib.error, _library.error})


def gunzip_object() -> Any:
    """Return a decompressor for one gzip member (``decompressobj(31)``: gzip header and trailer)."""
    return _library.decompressobj(31)
