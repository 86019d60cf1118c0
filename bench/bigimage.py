"""A realistic ~100 MB (compressed) image of two layers, for the pull benchmarks.

Layer 1 is many small files (like a distribution's /usr), layer 2 a few large
ones (like a model or a database): the two shapes stress different parts of
a puller (per-file work versus raw throughput).
"""

from __future__ import annotations

import random

from imgkit.build import ImageBuilder
from imgkit.tarlayer import Entry


def _blob(rng: random.Random, size: int, text_share: float) -> bytes:
    # Real files mix compressible and incompressible bytes.
    text = int(size * text_share)
    words = b"layer image digest registry manifest blob config index tag "
    return rng.randbytes(size - text) + (words * (text // len(words) + 1))[:text]


def small_files_layer(rng: random.Random, count: int = 24_000) -> list[Entry]:
    """Return ``count`` small files (0.5-5 KB) in 240 directories."""
    entries = []
    for i in range(count):
        size = rng.randint(500, 5_000)
        entries.append(Entry.file(f"usr/share/bench/d{i % 240:03d}/f{i:05d}.dat",
                                  _blob(rng, size, 0.5)))
    return entries


def large_files_layer(rng: random.Random) -> list[Entry]:
    """Return four large files, 17 MB each, mostly incompressible."""
    return [Entry.file(f"opt/data/part{i}.bin", _blob(rng, 17_000_000, 0.1)) for i in range(4)]


def build(base_only: bool = False, seed: int = 7):
    """Build the benchmark image (or just its base, for the layer-sharing benchmark)."""
    rng = random.Random(seed)
    builder = ImageBuilder(platform="linux/amd64", created="2024-01-01T00:00:00Z")
    builder.add_layer(small_files_layer(rng), created_by="COPY usr/ /usr/ # bench")
    if base_only:
        return builder.build()
    builder.add_layer(large_files_layer(rng), created_by="COPY opt/ /opt/ # bench")
    builder.cmd(["/bin/sh"])
    return builder.build()


def build_sibling(seed: int = 7):
    """Build a second image on the same base layer, with a different top layer."""
    rng = random.Random(seed)
    builder = ImageBuilder(platform="linux/amd64", created="2024-01-02T00:00:00Z")
    builder.add_layer(small_files_layer(rng), created_by="COPY usr/ /usr/ # bench")
    other = random.Random(seed + 1)
    builder.add_layer([Entry.file("opt/other.bin", _blob(other, 12_000_000, 0.1))],
                      created_by="COPY opt/ /opt/ # bench")
    return builder.build()
