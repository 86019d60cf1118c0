"""The local image store: imgkit's "Docker host", in one directory.

``HOME/store`` is an OCI image layout (``oci-layout``, ``index.json``,
``blobs/sha256/``) that skopeo and umoci can read, plus imgkit's own records
(``imgkit.json``: images, layers by ChainID, references, containers). Blobs
are written and checked before any record names them; records are replaced
atomically under a file lock, so two notebooks - or a notebook and a
terminal - can share one store, and a crash never leaves half an image.

Read a snapshot with ``store.records()``; change the store with::

    with store.transaction() as records:
        records.references["docker.io/library/alpine:latest"] = image_id
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from .. import digest as _digests
from ..errors import StoreError
from ..fileio import atomic_write
from .blobs import BlobStore, BlobWriter
from .images import LayerFacts, add_digest_reference, add_image, tag, utc_now
from .layout import write_index, write_marker
from .lookup import find_image, normalize_name, not_found_name
from .records import RECORDS_NAME, ContainerRecord, ImageRecord, LayerRecord, Records

__all__ = ["Store", "BlobStore", "BlobWriter", "Records", "ImageRecord", "LayerRecord",
           "ContainerRecord", "LayerFacts", "find_image", "normalize_name", "not_found_name",
           "add_image", "tag", "add_digest_reference", "utc_now", "store_built_image"]

LOCK_NAME = ".lock"


class Store:
    """One image store directory: blobs, records and the lock that guards them."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.blobs = BlobStore(self.root)
        self._records_path = self.root / RECORDS_NAME
        self._held = 0
        self._lock_fd: int | None = None

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    def ensure(self) -> None:
        """Create the layout (marker, blob directory, empty index) if it is missing."""
        self.blobs.ensure()
        write_marker(self.root)
        if not (self.root / "index.json").exists():
            write_index(self.root, Records())

    # -- reading -------------------------------------------------------------

    def records(self) -> Records:
        """Return a snapshot of the records (no lock needed: files are replaced atomically)."""
        try:
            data = self._records_path.read_bytes()
        except FileNotFoundError:
            return Records()
        try:
            return Records.from_json(data)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise StoreError(f"the store's records in {self._records_path} cannot be read "
                             f"({exc}); run `imgkit fsck`") from None

    # -- changing ------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's lock (re-entrant within this object) for a change."""
        if self._held:
            self._held += 1
            try:
                yield
            finally:
                self._held -= 1
            return
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._lock_fd, self._held = fd, 1
        try:
            yield
        finally:
            self._held = 0
            self._lock_fd = None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Records]:
        """Lock, read the records, let the caller change them, then save them atomically.

        If the block raises, nothing is saved. ``index.json`` is rewritten
        from the saved records, so the OCI layout always lists what imgkit has.
        """
        with self.lock():
            self.ensure()
            records = self.records()
            yield records
            self.save(records)

    def save(self, records: Records) -> None:
        """Write ``records`` and the layout's ``index.json`` (the lock must be held)."""
        if not self._held:
            raise StoreError("the store must be locked to save its records")
        atomic_write(self._records_path, records.to_json())
        write_index(self.root, records)


def store_built_image(store: Store, built, references: list[str] = (), *,
                      parent: str | None = None) -> ImageRecord:
    """Put an image made by ``imgkit.build`` into the store and give it ``references``.

    ``references`` are full tag references (``docker.io/library/x:tag``).
    Used by build, by tests and by lessons that make their own images.

    A layer the store already has - its blob stored and its ChainID
    recorded, as every layer of a ``FROM`` image is - is neither read nor
    decompressed again: its sizes come from the records, as Docker's layer
    store answers "Already exists" without looking inside.
    """
    chain_ids = _digests.chain_ids([layer.diff_id for layer in built.layers])
    known = store.records().layers
    facts: list[LayerFacts] = []
    reused: list[bool] = []
    for chain_id, layer in zip(chain_ids, built.layers, strict=True):
        fact = _recorded_facts(store, known.get(chain_id), layer)
        reused.append(fact is not None)
        facts.append(fact if fact is not None else _put_layer(store, layer))
    store.blobs.put(built.config_bytes)
    store.blobs.put(built.manifest_bytes)
    with store.transaction() as records:
        for index, chain_id in enumerate(chain_ids):
            if reused[index] and chain_id not in records.layers:
                # Removed (rmi, prune) since the snapshot above: the facts must be measured.
                facts[index] = _put_layer(store, built.layers[index])
        record = add_image(store, records, manifest=built.manifest_bytes,
                           manifest_media_type=built.media_type, config=built.config_bytes,
                           layers=facts, parent=parent)
        for ref in references:
            tag(records, ref, record.id)
    return record


def _recorded_facts(store: Store, known: LayerRecord | None, layer) -> LayerFacts | None:
    """Return what the records say of ``layer``, when they describe this very blob and it is stored."""
    if known is None or known.digest != layer.digest or not store.blobs.has(layer.digest):
        return None
    return LayerFacts(digest=layer.digest, media_type=layer.media_type, diff_id=layer.diff_id,
                      size=known.size, uncompressed_size=known.uncompressed_size,
                      content_size=known.content_size)


def _put_layer(store: Store, layer) -> LayerFacts:
    """Store ``layer``'s blob (unless it is there) and measure it."""
    blob = layer.blob
    store.blobs.put(blob, layer.digest)
    return LayerFacts(digest=layer.digest, media_type=layer.media_type, diff_id=layer.diff_id,
                      size=len(blob), uncompressed_size=len(layer.tar),
                      content_size=layer.uncompressed_size)
