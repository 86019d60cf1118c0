"""Record an image whose blobs are stored, and name it: the one way images enter the store.

Pull, build, commit and load all end here: the blobs (manifest, config,
layers) are written and verified first, then ``add_image`` records the image
and its layers by ChainID, and ``tag`` / ``add_digest_reference`` give it
names. Nothing is recorded about a blob the store does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import digest as digests
from ..errors import StoreError
from ..oci import ImageConfig, Manifest
from .records import ImageRecord, LayerRecord, Records

__all__ = ["LayerFacts", "add_image", "tag", "add_digest_reference", "utc_now"]


@dataclass(frozen=True)
class LayerFacts:
    """What is known of one stored layer blob once it was verified."""

    digest: str
    media_type: str
    diff_id: str
    size: int
    uncompressed_size: int
    content_size: int


def utc_now() -> str:
    """Return the current time as RFC 3339 UTC with nanoseconds, as Docker writes it."""
    import datetime as _dt
    import time

    now = time.time_ns()
    seconds, nanos = divmod(now, 1_000_000_000)
    stamp = _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def add_image(store, records: Records, *, manifest: bytes, manifest_media_type: str,
              config: bytes, layers: list[LayerFacts], parent: str | None = None,
              now: str | None = None) -> ImageRecord:
    """Record an image whose manifest, config and layer blobs are already stored.

    Returns the image's record (the existing one if the store had the image
    already). Layers are recorded by ChainID; a layer the store knows
    keeps its record.
    """
    manifest_digest = digests.compute(manifest)
    image_id = digests.compute(config)
    for digest in (manifest_digest, image_id, *(layer.digest for layer in layers)):
        if not store.blobs.has(digest):
            raise StoreError(f"cannot record image {digests.short(image_id)}: "
                             f"blob {digest} is not stored")
    parsed = ImageConfig.from_json(config)
    parsed_manifest = Manifest.from_json(manifest, manifest_media_type)  # refuse non-manifests
    diff_ids = list(parsed.diff_ids)
    if diff_ids != [layer.diff_id for layer in layers]:
        raise StoreError(f"image {digests.short(image_id)}: the layers do not match the "
                         "config's rootfs.diff_ids")
    chain_ids = digests.chain_ids(diff_ids)
    parent_chain = None
    for chain_id, layer in zip(chain_ids, layers, strict=True):
        if chain_id not in records.layers:
            records.layers[chain_id] = LayerRecord(
                chain_id=chain_id, diff_id=layer.diff_id, parent=parent_chain,
                digest=layer.digest, media_type=layer.media_type, size=layer.size,
                uncompressed_size=layer.uncompressed_size, content_size=layer.content_size)
        parent_chain = chain_id
    existing = records.images.get(image_id)
    if existing is not None:
        return existing
    record = ImageRecord(
        id=image_id, manifest_digest=manifest_digest, manifest_media_type=manifest_media_type,
        manifest_size=len(manifest), created=parsed.created or "", os=parsed.os,
        architecture=parsed.architecture, variant=parsed.variant, layers=chain_ids,
        size=sum(records.layers[c].content_size for c in chain_ids),
        labels=dict(parsed.labels), parent=parent, added=now or utc_now(),
        blobs=[layer.digest for layer in parsed_manifest.layers])
    records.images[image_id] = record
    return record


def tag(records: Records, reference: str, image_id: str, now: str | None = None, *,
        touch: bool = True) -> str | None:
    """Point the full tag ``reference`` at ``image_id``; return the image it pointed at before.

    Like ``docker tag``, an existing tag simply moves; the image it left may
    become *dangling* (no tags left). The image's ``LastTagTime`` is updated,
    unless ``touch=False``: Docker's pull sets the tag without touching it.
    """
    if "@" in reference:
        raise StoreError("a tag reference cannot hold a digest")
    previous = records.references.get(reference)
    records.references[reference] = image_id
    if touch:
        records.images[image_id].last_tag_time = now or utc_now()
    return previous if previous != image_id else None


def add_digest_reference(records: Records, reference: str, image_id: str) -> None:
    """Record ``name@sha256:...`` (the digest a pull resolved) as a name of ``image_id``."""
    if "@" not in reference:
        raise StoreError("a digest reference needs @sha256:...")
    records.references[reference] = image_id
