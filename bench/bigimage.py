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


def build_single(megabytes: int, zeros: bool = False, seed: int = 11):
    """Build a one-layer image holding one file of ``megabytes`` MB: random bytes (the blob is
    as big as the file) or zeros (a tiny blob that inflates ~1000-fold)."""
    size = megabytes * 1_000_000
    data = bytes(size) if zeros else random.Random(seed).randbytes(size)
    builder = ImageBuilder(platform="linux/amd64", created="2024-01-03T00:00:00Z")
    builder.add_layer([Entry.file("data/blob.bin", data)], created_by="COPY blob.bin /data/ # bench")
    return builder.build()


def build_kind(kind: str):
    """Build an image by name: ``big``, ``base``, ``sibling``, ``random:MB`` or ``zeros:MB``."""
    name, _, megabytes = kind.partition(":")
    if name in ("random", "zeros"):
        return build_single(int(megabytes), zeros=name == "zeros")
    return {"big": build, "base": lambda: build(base_only=True), "sibling": build_sibling}[name]()


def push(address: str, repository: str, kind: str = "big") -> dict:
    """Build one of the benchmark images and push it to ``address/repository:latest``.

    Run as a child process (``python bench/bigimage.py push ADDRESS``) so the
    benchmark's own process never holds the ~200 MB of blobs: a process it
    forks would inherit that memory and report it as its own peak RSS.
    """
    from imgkit.registry import RegistryClient, push_image

    image = build_kind(kind)
    with RegistryClient(address) as client:
        digest = push_image(client, repository, "latest", image.blobs, image.manifest_bytes,
                            image.media_type)
    return {"reference": f"{address}/{repository}:latest", "digest": digest,
            "layers": [{"digest": layer.digest, "size": layer.size} for layer in image.layers]}


def main(argv: list[str] | None = None) -> None:
    import argparse
    import json

    parser = argparse.ArgumentParser(description="Build a benchmark image and push it.")
    parser.add_argument("command", choices=["push"])
    parser.add_argument("address", help="registry HOST:PORT")
    parser.add_argument("--repository", default="bench/big")
    parser.add_argument("--kind", default="big",
                        help="big, base, sibling, random:MB or zeros:MB (default big)")
    args = parser.parse_args(argv)
    print(json.dumps(push(args.address, args.repository, args.kind)))


if __name__ == "__main__":
    main()
