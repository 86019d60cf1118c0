"""Sample images and small helpers shared by the registry tests.

Every byte is derived from a seed string, so digests are the same on every
run and every machine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from imgkit.digest import compute
from imgkit.oci import mediatypes
from imgkit.oci.canonical import dumps
from imgkit.registry import RegistryClient

__all__ = ["USERS", "no_sleep", "SampleImage", "make_image", "push", "seeded_bytes"]

USERS = {"alice": "wonderland-42"}


def no_sleep(seconds: float) -> None:
    """Stand-in for time.sleep so retry tests take no time (records what was asked)."""
    no_sleep.calls.append(seconds)


no_sleep.calls = []  # type: ignore[attr-defined]


def seeded_bytes(seed: str, size: int) -> bytes:
    """Return ``size`` deterministic, incompressible-looking bytes named by ``seed``."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}/{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


@dataclass
class SampleImage:
    """A tiny OCI image: config, layers, and the manifest that names them."""

    config: bytes
    layers: list[bytes]
    manifest: bytes
    media_type: str = mediatypes.OCI_MANIFEST
    blobs: dict = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return compute(self.manifest)

    @property
    def layer_digests(self) -> list[str]:
        return [compute(layer) for layer in self.layers]


def make_image(seed: str, layer_sizes=(1000, 2_500_000)) -> SampleImage:
    """Build a sample image whose bytes depend only on ``seed``."""
    layers = [seeded_bytes(f"{seed}/layer{i}", size) for i, size in enumerate(layer_sizes)]
    config = dumps({"architecture": "amd64", "os": "linux",
                    "rootfs": {"type": "layers", "diff_ids": [compute(b) for b in layers]},
                    "config": {"Labels": {"seed": seed}}})
    manifest = dumps({
        "schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": compute(config),
                   "size": len(config)},
        "layers": [{"mediaType": mediatypes.OCI_LAYER_GZIP, "digest": compute(b),
                    "size": len(b)} for b in layers]})
    blobs = {compute(config): config, **{compute(b): b for b in layers}}
    return SampleImage(config, layers, manifest, blobs=blobs)


def push(client: RegistryClient, repo: str, image: SampleImage, tag: str = "v1") -> str:
    """Push every blob of ``image`` then its manifest under ``tag``; return the digest."""
    for digest, data in image.blobs.items():
        client.push_blob(repo, digest, data)
    return client.put_manifest(repo, tag, image.manifest, image.media_type)
