"""Helpers shared by the pull tests: small reproducible images, pushes, store checks."""

from __future__ import annotations

from sample_images import seeded_bytes as seeded

from imgkit.build import ImageBuilder
from imgkit.registry import RegistryClient, push_image
from imgkit.tarlayer import Entry

USERS = {"alice": "wonderland-42"}


def small_image(seed: str, sizes=(2000, 300_000), compression: str = "gzip"):
    """Build an image whose layers hold pseudo-random files derived from ``seed``."""
    builder = ImageBuilder(compression=compression)
    for i, size in enumerate(sizes):
        data = seeded(f"{seed}/{i}", size)
        builder.add_layer([Entry.file(f"layer{i}.bin", data)], created_by=f"COPY layer{i}.bin /")
    return builder.cmd(["/bin/sh"]).build()




def push_built(client: RegistryClient, repository: str, built, tag: str) -> str:
    """Push a built image with imgkit's own client; return the manifest digest."""
    return push_image(client, repository, tag, built.blobs, built.manifest_bytes,
                      built.media_type)


def assert_store_consistent(store) -> None:
    """Every recorded image has all its blobs, and every reference names a recorded image."""
    records = store.records()
    for image in records.images.values():
        assert store.blobs.has(image.manifest_digest), image.id
        assert store.blobs.has(image.id), image.id
        for chain_id in image.layers:
            assert chain_id in records.layers
            assert store.blobs.has(records.layers[chain_id].digest)
    for ref, image_id in records.references.items():
        assert image_id in records.images, ref
