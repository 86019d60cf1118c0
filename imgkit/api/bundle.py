"""``save`` and ``load``: carry images on a USB stick, as ``docker save`` / ``docker load`` do.

A workshop cannot count on the venue's network. Before the day::

    imgkit.save("alpine:3.20", "busybox", output="course.tar")     # docker save -o course.tar ...

and on the day, with no network at all::

    imgkit.load("course.tar")                                     # docker load -i course.tar
    Loaded image: alpine:3.20
    Loaded image: busybox:latest

(or ``imgkit lab start --from course.tar`` to fill the lab registry with it).
The archive is an OCI image layout in a tar, with Docker's ``manifest.json``
beside it (see ``imgkit.api.bundlefile``): ``docker load``, ``skopeo copy
oci-archive:course.tar:docker.io/library/alpine:3.20 ...`` and ``imgkit load``
all read it. The same images always give the same bytes.

``load`` trusts nothing in the archive: every blob must hash to its digest
and every layer must unpack to the diff_id its config names, before anything
is recorded. A damaged archive is refused in one line, and the store is left
as it was.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .. import digest as digests
from .. import reference as references
from ..errors import (
    CorruptLayerError,
    DigestMismatchError,
    ImageNotFoundError,
    LayerTooLargeError,
    StoreError,
)
from ..fileio import fsync_directory
from ..layerstream import LayerIngest
from ..oci import ImageConfig, Index, Manifest
from ..store import LayerFacts, add_image, find_image
from ..store import tag as store_tag
from .bundlefile import BundleEntry, BundleError, BundleImage, BundleReader, write_bundle
from .host import Host, default_host

__all__ = ["save", "load", "SaveResult", "LoadResult", "BundleError"]


@dataclass
class SaveResult:
    """What ``save`` wrote: the images with their tags, the blob count and the bytes."""

    output: str
    images: list[tuple[str, tuple[str, ...]]]      #: (image ID, full tag references)
    blobs: int
    size: int

    def __repr__(self) -> str:
        tags = sum(len(refs) for _, refs in self.images)
        from ..format import human_size
        return (f"Saved {len(self.images)} image{'s' * (len(self.images) != 1)} "
                f"({tags} tag{'s' * (tags != 1)}, {self.blobs} blobs, "
                f"{human_size(self.size)}) to {self.output}")


@dataclass
class LoadResult:
    """What ``load`` did: Docker's lines, and each image loaded with its names."""

    lines: list[str] = field(default_factory=list)
    images: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def __repr__(self) -> str:
        return "\n".join(self.lines)

    def _repr_html_(self) -> str:
        import html
        return f"<pre>{html.escape(repr(self))}</pre>"


# -- save ----------------------------------------------------------------------------------

def save(*names: str, output: str | os.PathLike | BinaryIO,
         host: Host | None = None) -> SaveResult:
    """Write images to a tar that ``load``, ``docker load`` and skopeo read: ``docker save``.

    Each name is what ``docker save`` takes: ``alpine:3.20`` (that tag),
    ``alpine`` (every tag of the repository), ``alpine@sha256:...`` or an
    image ID (the image, without a tag). ``output`` is a path (written
    atomically: a failed save leaves no half file) or a binary file.
    """
    host = host or default_host()
    if not names:
        raise ImageNotFoundError("save needs at least one image")
    # The lock keeps rmi and prune from deleting a blob while it is being copied.
    with host.store.lock():
        return _save(host, names, output)


def _save(host: Host, names, output) -> SaveResult:
    records = host.store.records()
    chosen: dict[str, set[str]] = {}
    for name in names:
        for image_id, refs in _resolve(records, name).items():
            chosen.setdefault(image_id, set()).update(refs)
    images = [_bundle_image(host, records, image_id, refs) for image_id, refs in chosen.items()]

    def open_blob(digest: str):
        if not host.store.blobs.has(digest):
            raise StoreError(f"blob {digest} is missing from the store: run `imgkit fsck`")
        return host.store.blobs.open(digest), host.store.blobs.size(digest)

    if hasattr(output, "write"):
        counter = _Counting(output)  # type: ignore[arg-type]
        count = write_bundle(counter, images, open_blob)
        where, size = getattr(output, "name", "<stream>"), counter.written
    else:
        target = Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                count = write_bundle(out, images, open_blob)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        fsync_directory(target.parent)
        where, size = str(target), target.stat().st_size
    return SaveResult(str(where), [(i.config_digest, i.references) for i in images], count, size)


def _resolve(records, name: str) -> dict[str, list[str]]:
    """Return the images ``name`` means, each with the tags to save (moby's ``parseNames``)."""
    ref = None
    if not references.is_id_like(name.removeprefix("sha256:")):
        try:
            ref = references.parse(name)
        except ValueError:
            ref = None
    if ref is not None and ref.digest is None and ref.tag is None:
        # A bare repository name saves every tag of it, as `docker save alpine` does.
        found: dict[str, list[str]] = {}
        for tag_ref, image_id in sorted(records.references.items()):
            if "@" not in tag_ref and tag_ref.rpartition(":")[0] == ref.name:
                found.setdefault(image_id, []).append(tag_ref)
        if found:
            return found
    image = find_image(records, name)
    # Saved with its tag only when it was found by that tag, not by an ID prefix.
    tag_ref = str(ref.with_default_tag()) if ref is not None and ref.digest is None else None
    named = tag_ref is not None and records.references.get(tag_ref) == image.id
    return {image.id: [tag_ref] if named and tag_ref else []}


def _bundle_image(host: Host, records, image_id: str, refs: set[str]) -> BundleImage:
    image = records.images[image_id]
    manifest = Manifest.from_json(host.store.blobs.read(image.manifest_digest),
                                  image.manifest_media_type)
    platform = {"architecture": image.architecture, "os": image.os}
    if image.variant:
        platform["variant"] = image.variant
    return BundleImage(image.manifest_digest, image.manifest_media_type, image.manifest_size,
                       manifest.config.digest, tuple(layer.digest for layer in manifest.layers),
                       platform, tuple(sorted(refs)))


class _Counting:
    """A write-only stream that counts the bytes going to ``raw``."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.written = raw, 0

    def write(self, data) -> int:
        self.raw.write(data)
        self.written += len(data)
        return len(data)


# -- load ----------------------------------------------------------------------------------

def load(input: str | os.PathLike | BinaryIO | None = None, *,
         host: Host | None = None, platform: str | None = None) -> LoadResult:
    """Add the images of a ``save`` (or ``docker save``) archive to the store: ``docker load``.

    ``input`` is a path or a binary file (None: standard input). Every blob
    is checked against its digest and every layer against its diff_id
    before any image is recorded; a damaged or foreign archive raises
    ``BundleError`` and changes nothing. Prints nothing: the result holds
    Docker's ``Loaded image: alpine:3.20`` lines.
    """
    host = host or default_host()
    if input is None or hasattr(input, "read"):
        stream = input if input is not None else sys.stdin.buffer
        with _spooled(stream, host.home) as path:  # type: ignore[arg-type]
            return load(path, host=host, platform=platform)
    with BundleReader.open(input) as reader:
        return _Loader(host, reader, platform).run()


class _spooled:
    """Copy a stream to a temporary file: a tar is read by seeking, stdin cannot seek."""

    def __init__(self, stream: BinaryIO, home: Path):
        self.stream, self.home = stream, home

    def __enter__(self) -> str:
        # Beside the store, not in /tmp: a course bundle can be larger than a tmpfs.
        self.home.mkdir(parents=True, exist_ok=True)
        fd, self.path = tempfile.mkstemp(dir=self.home, prefix=".load-", suffix=".tar")
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(self.stream, out, 1 << 20)
        return self.path

    def __exit__(self, *exc) -> None:
        os.unlink(self.path)


@dataclass
class _Ready:
    """One image of the archive, checked and its blobs stored, waiting to be recorded."""

    entry: BundleEntry
    manifest: bytes
    media_type: str
    config: bytes
    layers: list[LayerFacts]


class _Loader:
    """One ``load``: check and store every blob, then record every image in one transaction."""

    def __init__(self, host: Host, reader: BundleReader, platform: str | None):
        self.host, self.store, self.reader = host, host.store, reader
        self.platform = platform if platform is not None else host.platform
        self.max_bytes = host.max_layer_size
        self.written: set[str] = set()      # blobs this load added (removed again on failure)

    def run(self) -> LoadResult:
        try:
            entries = self.reader.entries()
            if not entries:
                raise self.reader.fail("it holds no image")
            ready = [self.check(entry) for entry in entries]
            return self.record(ready)
        except BaseException as exc:
            self.forget()
            if isinstance(exc, (DigestMismatchError, CorruptLayerError)):
                raise self.reader.fail(str(exc)) from None
            raise

    def check(self, entry: BundleEntry) -> _Ready:
        document = self.reader.document(entry.descriptor)
        descriptor = entry.descriptor
        while isinstance(document, Index):
            descriptor = document.select(self.platform)
            document = self.reader.document(descriptor)
        manifest_bytes = self.reader.read_blob(descriptor.digest)
        config_bytes = self.reader.read_blob(document.config.digest)
        try:
            config = ImageConfig.from_json(config_bytes)
        except ValueError as exc:
            raise self.reader.fail(f"config {document.config.digest}: {exc}") from None
        diff_ids = list(config.diff_ids)
        if len(diff_ids) != len(document.layers):
            raise self.reader.fail(f"invalid manifest, layers length mismatch: expected "
                                   f"{len(document.layers)}, got {len(diff_ids)}")
        known = self.store.records().layers
        facts = []
        for chain_id, layer, diff_id in zip(digests.chain_ids(diff_ids), document.layers,
                                            diff_ids, strict=True):
            recorded = known.get(chain_id)
            if recorded is not None and recorded.digest == layer.digest \
                    and self.store.blobs.has(layer.digest):
                facts.append(LayerFacts(layer.digest, layer.media_type, diff_id, layer.size,
                                        recorded.uncompressed_size, recorded.content_size))
            else:
                facts.append(self.store_layer(layer, diff_id))
        for digest, data in ((descriptor.digest, manifest_bytes),
                             (document.config.digest, config_bytes)):
            if not self.store.blobs.has(digest):
                self.store.blobs.put(data, digest)
                self.written.add(digest)
        return _Ready(entry, manifest_bytes, document.media_type, config_bytes, facts)

    def store_layer(self, layer, diff_id: str) -> LayerFacts:
        """Stream a layer from the archive into the store, checking digest, size and diff_id."""
        if self.reader.blob_size(layer.digest) != layer.size:
            raise self.reader.fail(f"layer {layer.digest} has {self.reader.blob_size(layer.digest)}"
                                   f" bytes, not the {layer.size} its manifest says")
        had = self.store.blobs.has(layer.digest)
        with self.store.blobs.writer(layer.digest) as writer:
            ingest = LayerIngest(layer.digest, layer.media_type, sink=writer,
                                 expected_diff_id=diff_id, expected_size=layer.size)
            with ingest:
                for chunk in self.reader.chunks(layer.digest):
                    ingest.feed(chunk)
                    if ingest.uncompressed_size > self.max_bytes:
                        raise LayerTooLargeError(
                            f"layer {layer.digest} is bigger than {self.max_bytes} bytes "
                            "uncompressed (IMGKIT_MAX_LAYER_SIZE)")
                got = ingest.finish()
            writer.commit()
        if not had:
            self.written.add(layer.digest)
        return LayerFacts(got.digest, layer.media_type, got.diff_id, got.size,
                          got.uncompressed_size, got.content_size)

    def record(self, ready: list[_Ready]) -> LoadResult:
        result = LoadResult()
        with self.store.transaction() as records:
            for image in ready:
                needed = [digests.compute(image.manifest), digests.compute(image.config),
                          *(layer.digest for layer in image.layers)]
                if any(not self.store.blobs.has(d) for d in needed):
                    raise StoreError("another imgkit command deleted blobs of an image while "
                                     "it was being loaded: load again")
                record = add_image(self.store, records, manifest=image.manifest,
                                   manifest_media_type=image.media_type, config=image.config,
                                   layers=image.layers)
                for name in image.entry.names:
                    familiar = references.parse(name).familiar
                    previous = records.references.get(name)
                    if previous is not None and previous != record.id:
                        result.lines.append(f"The image {familiar} already exists, renaming "
                                            f"the old one with ID {previous} to empty string")
                    # moby's load sets the tag without LastTagTime, as pull does.
                    store_tag(records, name, record.id, touch=False)
                    result.lines.append(f"Loaded image: {familiar}")
                if not image.entry.names:
                    result.lines.append(f"Loaded image ID: {record.id}")
                result.images.append((record.id, image.entry.names))
        self.written.clear()
        return result

    def forget(self) -> None:
        """Remove the blobs this load stored, unless a record names them by now."""
        if not self.written:
            return
        with self.store.lock():
            records = self.store.records()
            named = {image.manifest_digest for image in records.images.values()}
            named |= set(records.images)
            named |= {layer.digest for layer in records.layers.values()}
            for digest in sorted(self.written - named):
                self.store.blobs.delete(digest)
        self.written.clear()
