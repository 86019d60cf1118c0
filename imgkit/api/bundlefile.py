"""The offline bundle's format: an OCI image layout in a tar, which ``docker load`` reads too.

``imgkit save -o course.tar alpine:3.20 busybox`` writes::

    blobs/                      every manifest, config and layer, once each,
    blobs/sha256/<hex>          under its digest (layers stay compressed)
    index.json                  the OCI index: one entry per tag, its full reference in
                                org.opencontainers.image.ref.name (and io.containerd.image.name)
    manifest.json               Docker's list: RepoTags, Config and Layers paths per image
    oci-layout                  {"imageLayoutVersion":"1.0.0"}

So three kinds of reader find what they need: skopeo and umoci read the
OCI layout (``skopeo inspect oci-archive:course.tar:docker.io/library/alpine:3.20``),
``docker load`` reads ``manifest.json`` (moby's ``image/tarexport``: it
decompresses each layer and checks its diff_id against the config), and
``imgkit load`` reads ``index.json``. The tar is deterministic - entries
sorted, times 0, owner root - so the same images always give the same bytes,
and a bundle can be checked with ``sha256sum`` as well as its own digests.

Reading never trusts the archive: a member is found by its exact name (a
member is never extracted under the name the tar gives it), JSON documents
are size-limited, and every blob must hash to its digest. Archives from
``docker save`` load too: Docker 25 and newer write this same layout, older
ones only ``manifest.json`` (``<id>/layer.tar`` layers), which is read as well.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from .. import digest as digests
from .. import reference as references
from ..errors import BundleError, DigestMismatchError, ImgkitError, ManifestError
from ..oci import Descriptor, Index, Manifest, mediatypes

__all__ = ["BundleError", "BundleImage", "BundleEntry", "BundleReader", "write_bundle",
           "REF_NAME", "IMAGE_NAME"]

REF_NAME = "org.opencontainers.image.ref.name"
#: containerd's (and Docker 25's) annotation for the full image name.
IMAGE_NAME = "io.containerd.image.name"
_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
#: The most bytes read of index.json, manifest.json, a manifest or a config.
JSON_LIMIT = 8 * 1024 * 1024
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BundleImage:
    """One image to write into a bundle: what its manifest names, and its tags."""

    manifest_digest: str
    manifest_media_type: str
    manifest_size: int
    config_digest: str
    layer_digests: tuple[str, ...]
    platform: dict
    references: tuple[str, ...]         #: full tag references, sorted

    def blobs(self) -> list[str]:
        """The manifest, config and layer digests, without repeats."""
        return list(dict.fromkeys([self.manifest_digest, self.config_digest,
                                   *self.layer_digests]))


# -- writing ---------------------------------------------------------------------------

def _info(name: str, size: int = 0, directory: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 0 if directory else size
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class _Hashing:
    """A file wrapper that hashes what is read from it (tarfile reads exactly ``size``)."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.hash.update(data)
        return data


def _json(document) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def write_bundle(out: BinaryIO, images: Iterable[BundleImage],
                 open_blob: Callable[[str], tuple[BinaryIO, int]]) -> int:
    """Write ``images`` to ``out`` as a deterministic OCI-layout tar; return how many blobs.

    ``open_blob(digest)`` returns an open file and its size; each blob is
    hashed as it is copied, and a blob that does not match its digest (a
    damaged store) stops the write with ``DigestMismatchError``.
    """
    images = sorted(images, key=lambda i: (i.references[:1] or ("~",), i.config_digest))
    index, docker = [], []
    for image in images:
        descriptor = {"mediaType": image.manifest_media_type, "digest": image.manifest_digest,
                      "size": image.manifest_size, "platform": image.platform}
        for ref in image.references:
            index.append({**descriptor, "annotations": {IMAGE_NAME: ref, REF_NAME: ref}})
        if not image.references:
            index.append(descriptor)
        docker.append({
            "Config": f"blobs/sha256/{digests.parse(image.config_digest)[1]}",
            "RepoTags": [references.parse(ref).familiar for ref in image.references],
            "Layers": [f"blobs/sha256/{digests.parse(d)[1]}" for d in image.layer_digests]})
    blobs = sorted({d for image in images for d in image.blobs()})
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_info("blobs/", directory=True))
        tar.addfile(_info("blobs/sha256/", directory=True))
        for digest in blobs:
            source, size = open_blob(digest)
            with source:
                hashing = _Hashing(source)
                tar.addfile(_info(f"blobs/sha256/{digests.parse(digest)[1]}", size), hashing)
            actual = f"sha256:{hashing.hash.hexdigest()}"
            if actual != digest:
                raise DigestMismatchError(digest, actual, "stored blob")
        for name, data in (("index.json", _json({"schemaVersion": 2,
                                                  "mediaType": mediatypes.OCI_INDEX,
                                                  "manifests": index})),
                           ("manifest.json", _json(docker) + b"\n"),
                           ("oci-layout", _LAYOUT)):
            tar.addfile(_info(name, len(data)), io.BytesIO(data))
    return len(blobs)


# -- reading ---------------------------------------------------------------------------

@dataclass
class BundleEntry:
    """One entry of a bundle's index: what it points at and the names it carries."""

    descriptor: Descriptor              #: a manifest or an index
    names: tuple[str, ...]              #: full tag references (may be empty)


@dataclass
class BundleReader:
    """Read a bundle tar: its entries, and its blobs by digest, each checked.

    Open it with ``BundleReader.open(path)``; it is a context manager.
    """

    tar: tarfile.TarFile
    where: str
    members: dict[str, tarfile.TarInfo] = field(default_factory=dict)
    made: dict[str, bytes] = field(default_factory=dict)    #: manifests built for old archives
    paths: dict[str, str] = field(default_factory=dict)     #: digest -> member, old archives

    @classmethod
    def open(cls, path: str | os.PathLike) -> BundleReader:
        """Open the bundle at ``path`` (a tar, possibly gzip-compressed)."""
        where = os.fspath(path)
        try:
            tar = tarfile.open(where, mode="r:*")
        except FileNotFoundError:
            raise BundleError(f"open {where}: no such file or directory") from None
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BundleError(f"{where} is not a tar archive of images ({exc})") from None
        reader = cls(tar, where)
        try:
            for member in tar:
                name = _clean(member.name)
                if name is not None and member.isfile():
                    reader.members[name] = member
        except (tarfile.TarError, OSError, EOFError) as exc:
            tar.close()
            raise BundleError(f"{where} is a damaged tar archive ({exc})") from None
        return reader

    def close(self) -> None:
        self.tar.close()

    def __enter__(self) -> BundleReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def fail(self, reason: str) -> BundleError:
        return BundleError(f"invalid image archive {self.where}: {reason}")

    # -- members ------------------------------------------------------------------------
    def _member(self, name: str) -> tarfile.TarInfo | None:
        return self.members.get(name)

    def _read_member(self, member: tarfile.TarInfo, limit: int = JSON_LIMIT) -> bytes:
        if member.size > limit:
            raise self.fail(f"{member.name} is larger than {limit} bytes")
        source = self.tar.extractfile(member)
        if source is None:
            raise self.fail(f"{member.name} cannot be read")
        try:
            with source:
                return source.read()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise self.fail(f"{member.name} is cut short ({exc})") from None

    def _json_member(self, name: str):
        member = self._member(name)
        if member is None:
            return None
        try:
            return json.loads(self._read_member(member))
        except ValueError:
            raise self.fail(f"{name} is not JSON") from None

    # -- blobs --------------------------------------------------------------------------
    def blob_member(self, digest: str) -> tarfile.TarInfo | None:
        """Return the tar member holding blob ``digest`` (None when it is not there)."""
        algorithm, hexpart = digests.parse(digest)
        name = self.paths.get(digest) or f"blobs/{algorithm}/{hexpart}"
        return self._member(name)

    def has_blob(self, digest: str) -> bool:
        """Tell whether the bundle holds blob ``digest``."""
        return digest in self.made or self.blob_member(digest) is not None

    def blob_size(self, digest: str) -> int:
        """Return the size of blob ``digest`` in the bundle."""
        if digest in self.made:
            return len(self.made[digest])
        return self._need(digest).size

    def _need(self, digest: str) -> tarfile.TarInfo:
        member = self.blob_member(digest)
        if member is None:
            raise self.fail(f"blob {digest} is missing")
        return member

    def read_blob(self, digest: str, limit: int = JSON_LIMIT) -> bytes:
        """Return a small blob (manifest, config), checked against its digest."""
        if digest in self.made:
            return self.made[digest]
        data = self._read_member(self._need(digest), limit)
        actual = digests.compute(data, digest.partition(":")[0])
        if actual != digest:
            raise self.fail(f"blob {digest} is damaged (it hashes to {actual})")
        return data

    def open_blob(self, digest: str) -> BinaryIO:
        """Open a blob for streaming; the caller checks its digest as it reads."""
        if digest in self.made:
            return io.BytesIO(self.made[digest])
        source = self.tar.extractfile(self._need(digest))
        if source is None:
            raise self.fail(f"blob {digest} cannot be read")
        return source

    def chunks(self, digest: str) -> Iterable[bytes]:
        """Yield a blob's bytes in pieces (damage shows as ``BundleError``)."""
        try:
            with self.open_blob(digest) as source:
                while chunk := source.read(_CHUNK):
                    yield chunk
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise self.fail(f"blob {digest} is cut short ({exc})") from None

    # -- the index ----------------------------------------------------------------------
    def entries(self) -> list[BundleEntry]:
        """Return the images the bundle holds, with the names each carries."""
        index = self._json_member("index.json")
        if index is not None:
            return self._oci_entries(index)
        manifest = self._json_member("manifest.json")
        if manifest is not None:
            return self._docker_entries(manifest)
        raise self.fail("it has neither index.json (an OCI layout) nor manifest.json "
                        "(docker save)")

    def _oci_entries(self, document) -> list[BundleEntry]:
        try:
            index = Index.from_json(json.dumps(document).encode(), mediatypes.OCI_INDEX)
        except (ManifestError, TypeError, ValueError) as exc:
            raise self.fail(f"index.json: {exc}") from None
        entries = []
        for descriptor in index.manifests:
            if descriptor.media_type not in mediatypes.MANIFEST_TYPES | mediatypes.INDEX_TYPES:
                continue    # attestations, artifacts: nothing to load
            annotations = dict(descriptor.annotations or {})
            name = _full_name(annotations.get(IMAGE_NAME)) or \
                _full_name(annotations.get(REF_NAME))
            entries.append(BundleEntry(descriptor, (name,) if name else ()))
        return _merged(entries)

    def _docker_entries(self, document) -> list[BundleEntry]:
        """Read an archive of ``docker save`` before Docker 25: build each image's manifest."""
        if not isinstance(document, list):
            raise self.fail("manifest.json is not a list of images")
        entries = []
        for position, item in enumerate(document):
            if not isinstance(item, dict) or not isinstance(item.get("Config"), str) \
                    or not isinstance(item.get("Layers"), list):
                raise self.fail(f"manifest.json entry {position} lacks Config or Layers")
            config_path = _clean(item["Config"])
            member = self._member(config_path or "")
            if member is None:
                raise self.fail(f"{item['Config']} is missing")
            config = self._read_member(member)
            config_digest = digests.compute(config)
            self.made[config_digest] = config
            layers = []
            for path in item["Layers"]:
                layer = self._member(_clean(str(path)) or "")
                if layer is None:
                    raise self.fail(f"{path} is missing")
                digest, media_type = self._hash_member(layer)
                self.paths[digest] = layer.name
                layers.append({"mediaType": media_type, "digest": digest, "size": layer.size})
            manifest = _json({"schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
                              "config": {"mediaType": mediatypes.OCI_CONFIG,
                                         "digest": config_digest, "size": len(config)},
                              "layers": layers})
            digest = digests.compute(manifest)
            self.made[digest] = manifest
            names = tuple(n for n in (_full_name(t) for t in item.get("RepoTags") or []) if n)
            entries.append(BundleEntry(Descriptor(mediatypes.OCI_MANIFEST, digest,
                                                  len(manifest)), names))
        return entries

    def _hash_member(self, member: tarfile.TarInfo) -> tuple[str, str]:
        source = self.tar.extractfile(member)
        if source is None:
            raise self.fail(f"{member.name} cannot be read")
        hasher, head = hashlib.sha256(), b""
        with source:
            while chunk := source.read(_CHUNK):
                head = head or chunk[:4]
                hasher.update(chunk)
        kind = mediatypes.OCI_LAYER_GZIP if head[:2] == b"\x1f\x8b" else \
            mediatypes.OCI_LAYER_ZSTD if head == b"\x28\xb5\x2f\xfd" else mediatypes.OCI_LAYER
        return f"sha256:{hasher.hexdigest()}", kind

    def document(self, descriptor: Descriptor) -> Manifest | Index:
        """Read and check the manifest or index ``descriptor`` points at."""
        data = self.read_blob(descriptor.digest)
        if len(data) != descriptor.size:
            raise self.fail(f"blob {descriptor.digest} has {len(data)} bytes, "
                            f"not the {descriptor.size} its descriptor says")
        try:
            if descriptor.media_type in mediatypes.INDEX_TYPES:
                return Index.from_json(data, descriptor.media_type)
            return Manifest.from_json(data, descriptor.media_type)
        except ManifestError as exc:
            raise self.fail(f"{descriptor.digest}: {exc}") from None


def _clean(name: str) -> str | None:
    """Return a member name without ``./``; None for names that climb out or are absolute."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or name.startswith("/") or ".." in parts:
        return None
    return "/".join(parts)


def _full_name(text: str | None) -> str | None:
    """Return the full tag reference an annotation names (None for a bare tag or junk).

    OCI allows ``ref.name`` to be only a tag (``3.20``, as Docker writes it
    beside ``io.containerd.image.name``): that names no repository.
    """
    if not text or (":" not in text and "/" not in text):
        return None
    try:
        ref = references.parse(text)
    except ImgkitError:
        return None
    return None if ref.digest is not None else str(ref.with_default_tag())


def _merged(entries: list[BundleEntry]) -> list[BundleEntry]:
    """Join entries pointing at one manifest, so each image is loaded once with all its names."""
    merged: dict[str, BundleEntry] = {}
    for entry in entries:
        known = merged.get(entry.descriptor.digest)
        if known is None:
            merged[entry.descriptor.digest] = BundleEntry(entry.descriptor, entry.names)
        else:
            known.names = tuple(dict.fromkeys(known.names + entry.names))
    return list(merged.values())
