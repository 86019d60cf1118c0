"""What ``ImageBuilder.build()`` returns: an image (or a multi-platform index) as exact bytes.

A ``BuiltImage`` holds the config JSON (its digest is the image ID), the OCI
manifest (its digest is what ``docker pull ...@sha256:`` names) and every
layer. ``build_index`` joins images for several platforms into one OCI image
index, which is what a multi-platform tag such as ``alpine:3.20`` points at.
All JSON is canonical (sorted keys, no spaces), so the same image always has
the same digests. ``imgkit.build`` re-exports these names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Mapping

from . import digest as _digest
from .oci import canonical, mediatypes
from .tarlayer import Layer

__all__ = ["BuiltImage", "BuiltIndex", "build_index"]

#: A platform as ``(os, architecture, variant or None)``.
Platform = tuple


def parse_platform(value: Platform | str | None) -> tuple[str, str, str | None]:
    """Read ``("linux", "arm64", "v8")`` or ``"linux/arm64/v8"`` (None means linux/amd64)."""
    if value is None:
        return ("linux", "amd64", None)
    parts = value.split("/") if isinstance(value, str) else list(value)
    if len(parts) == 2:
        parts.append(None)
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise ValueError(f"platform must be os/architecture[/variant], not {value!r}")
    return (parts[0], parts[1], parts[2] or None)


def platform_text(platform: tuple[str, str, str | None]) -> str:
    """Write ``("linux", "arm64", "v8")`` as ``linux/arm64/v8``."""
    return "/".join(part for part in platform if part)


@dataclass(frozen=True, repr=False)
class BuiltImage:
    """A built image: config, manifest and layers, all as exact bytes.

    ``id`` is the image ID (digest of ``config_bytes``), ``digest`` the
    manifest digest, ``size`` what ``docker images`` shows as SIZE, and
    ``blobs`` maps each digest to the bytes a registry or OCI layout stores.
    """

    config_bytes: bytes
    manifest_bytes: bytes
    layers: tuple[Layer, ...]
    platform: tuple[str, str, str | None]
    media_type: str = mediatypes.OCI_MANIFEST

    @cached_property
    def id(self) -> str:
        """The image ID: ``sha256:`` of the config JSON."""
        return _digest.compute(self.config_bytes)

    @cached_property
    def digest(self) -> str:
        """The manifest digest (what ``name@sha256:...`` pins)."""
        return _digest.compute(self.manifest_bytes)

    @property
    def config(self) -> dict:
        """The config JSON, parsed (a fresh copy each time)."""
        return json.loads(self.config_bytes)

    @property
    def manifest(self) -> dict:
        """The manifest JSON, parsed (a fresh copy each time)."""
        return json.loads(self.manifest_bytes)

    @property
    def diff_ids(self) -> list[str]:
        """The config's ``rootfs.diff_ids``: one tar digest per layer, bottom first."""
        return [layer.diff_id for layer in self.layers]

    @property
    def chain_ids(self) -> list[str]:
        """The ChainID of each layer: how Docker decides which layers images share."""
        return _digest.chain_ids(self.diff_ids)

    @property
    def size(self) -> int:
        """Docker's SIZE: the files' bytes in all layers (see ``tarlayer.content_size``)."""
        return sum(layer.uncompressed_size for layer in self.layers)

    @property
    def blobs(self) -> dict[str, bytes]:
        """Digest -> bytes of the config and of every layer blob."""
        blobs = {self.id: self.config_bytes}
        blobs.update((layer.digest, layer.blob) for layer in self.layers)
        return blobs

    def descriptor(self) -> dict:
        """This manifest as an index entry: media type, digest, size and platform."""
        os_name, architecture, variant = self.platform
        platform = {"architecture": architecture, "os": os_name}
        if variant:
            platform["variant"] = variant
        return {"mediaType": self.media_type, "digest": self.digest,
                "size": len(self.manifest_bytes), "platform": platform}

    def __repr__(self) -> str:
        return (f"BuiltImage(id={_digest.short(self.id)!r}, digest={self.digest!r}, "
                f"platform={platform_text(self.platform)!r}, layers={len(self.layers)}, "
                f"size={self.size})")


@dataclass(frozen=True, repr=False)
class BuiltIndex:
    """A multi-platform image: an OCI index pointing at one manifest per platform."""

    manifest_bytes: bytes
    images: tuple[BuiltImage, ...]
    media_type: str = mediatypes.OCI_INDEX

    @cached_property
    def digest(self) -> str:
        """The index digest: what a multi-platform tag resolves to."""
        return _digest.compute(self.manifest_bytes)

    @property
    def index(self) -> dict:
        """The index JSON, parsed."""
        return json.loads(self.manifest_bytes)

    @property
    def manifests(self) -> dict[str, bytes]:
        """Digest -> bytes of each platform's manifest."""
        return {image.digest: image.manifest_bytes for image in self.images}

    @property
    def blobs(self) -> dict[str, bytes]:
        """Digest -> bytes of every config and layer blob of every platform."""
        blobs: dict[str, bytes] = {}
        for image in self.images:
            blobs.update(image.blobs)
        return blobs

    def __repr__(self) -> str:
        platforms = ", ".join(platform_text(image.platform) for image in self.images)
        return f"BuiltIndex(digest={self.digest!r}, platforms=[{platforms}])"


def build_index(images: Iterable[BuiltImage],
                annotations: Mapping[str, str] | None = None) -> BuiltIndex:
    """Join single-platform images into one OCI image index, in the order given."""
    images = tuple(images)
    if not images:
        raise ValueError("an index needs at least one image")
    seen: set[tuple] = set()
    for image in images:
        if image.platform in seen:
            raise ValueError(f"two images for {platform_text(image.platform)}: a puller "
                             "could not choose between them")
        seen.add(image.platform)
    index: dict = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX,
                   "manifests": [image.descriptor() for image in images]}
    if annotations:
        index["annotations"] = dict(annotations)
    return BuiltIndex(canonical.dumps(index), images)
