"""Fill an imgkit store with many tiny images quickly, for the listing and removal benchmarks.

    python bench/fill.py HOME 1000

Every image has a shared base layer and a one-file layer of its own, and the
tag ``docker.io/library/bench-NNNN:latest``. Blobs are written without fsync
and all records are saved in one transaction: what ``imgkit build`` would
leave after 1,000 builds, made in seconds. Run it as a child process, so the
benchmark's own process stays small.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imgkit.build import ImageBuilder
from imgkit.store import LayerFacts, Store, add_image, tag
from imgkit.tarlayer import Entry, Layer

#: The tag of image number ``i``.
NAME = "bench-{:04d}"


def fill(home: str | Path, count: int) -> None:
    """Put ``count`` tiny tagged images into the store of imgkit home ``home``."""
    store = Store(Path(home) / "store")
    base = Layer.from_entries([Entry.file(f"etc/file{i}", b"base\n" * i) for i in range(20)])
    with store.lock():
        store.ensure()
        records = store.records()
        for number in range(count):
            image = (ImageBuilder(platform="linux/amd64", created="2024-01-01T00:00:00Z")
                     .add_layer(base, created_by="ADD base /")
                     .add_layer([Entry.file("app/id", f"image {number}\n")],
                                created_by=f"RUN echo {number} > /app/id")
                     .cmd(["/bin/sh"]).build())
            facts = []
            for layer in image.layers:
                store.blobs.put(layer.blob, layer.digest, durable=False)
                facts.append(LayerFacts(digest=layer.digest, media_type=layer.media_type,
                                        diff_id=layer.diff_id, size=len(layer.blob),
                                        uncompressed_size=len(layer.tar),
                                        content_size=layer.uncompressed_size))
            store.blobs.put(image.config_bytes, durable=False)
            store.blobs.put(image.manifest_bytes, durable=False)
            record = add_image(store, records, manifest=image.manifest_bytes,
                               manifest_media_type=image.media_type, config=image.config_bytes,
                               layers=facts)
            tag(records, f"docker.io/library/{NAME.format(number)}:latest", record.id)
        store.save(records)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home")
    parser.add_argument("count", type=int)
    args = parser.parse_args(argv)
    fill(args.home, args.count)


if __name__ == "__main__":
    sys.exit(main())
