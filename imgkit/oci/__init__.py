"""OCI values: media types, descriptors, manifests, indexes, configs and platforms."""

from __future__ import annotations

from . import mediatypes
from .imageconfig import HistoryEntry, ImageConfig
from .jsonfields import FrozenMap
from .platform import Platform
from .values import Descriptor, Index, Manifest, parse_any

__all__ = [
    "Descriptor",
    "FrozenMap",
    "HistoryEntry",
    "ImageConfig",
    "Index",
    "Manifest",
    "Platform",
    "mediatypes",
    "parse_any",
]
