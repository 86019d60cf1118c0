"""Descriptors, manifests and indexes: the JSON documents that make an image.

An image is a small tree of documents, each naming the next by *digest*
(the SHA-256 of its exact bytes), so nothing in it can change unnoticed::

    tag "alpine:latest"
         |
         v
    INDEX (one entry per platform)      OCI index / Docker manifest list
     |-- linux/amd64 --------------.
     |-- linux/arm64/v8            |
     `-- unknown/unknown (attestation: provenance, SBOM; never pulled)
                                   v
                    MANIFEST (one platform's image)
                     |-- config --------> CONFIG  (ImageConfig: env, cmd,
                     |                             diff_ids, history; its
                     |                             digest is the image ID)
                     |-- layers[0] -----> layer blob (tar.gz: the base files)
                     `-- layers[1] -----> layer blob (the files a step added)

Each arrow is a *descriptor*: ``{"mediaType", "digest", "size"}``, which says
what kind of thing it points to, its digest and its length in bytes (so a
puller knows what to expect before downloading).

``from_json`` reads a document and checks it strictly: anything malformed
raises ``ManifestError`` naming the field, e.g. ``invalid manifest:
layers[1].size: must be a non-negative integer, got -1``. ``to_json`` writes
canonical bytes. A parsed document keeps the bytes it came from in ``raw``,
and ``digest`` hashes those: a registry serves a manifest in its own
spacing, and the digest is the hash of exactly those bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from .. import digest as _digest
from ..errors import ManifestError, NoMatchingManifestError
from . import canonical
from . import mediatypes as mt
from .descriptor import Descriptor
from .jsonfields import (
    FrozenMap,
    JSONObject,
    fail,
    get,
    get_media_type,
    get_string_map,
    load,
)
from .platform import Platform, best, host

__all__ = ["SCHEMA1_TYPES", "Descriptor", "Index", "Manifest", "parse_any"]

#: Docker's pre-2016 manifest format, which neither Docker nor imgkit pulls any more.
SCHEMA1_TYPES = frozenset({"application/vnd.docker.distribution.manifest.v1+json",
                           "application/vnd.docker.distribution.manifest.v1+prettyjws"})

_SCHEMA1 = ("schema 1 manifests are not supported (Docker removed support for them "
            "too): push the image again as a Docker schema 2 or OCI image")


def _check_schema_version(obj: JSONObject, kind: str) -> None:
    version = get(obj, "schemaVersion", int, kind, required=True)
    if version == 1:
        raise ManifestError(_SCHEMA1)
    if version != 2:
        fail(kind, "schemaVersion", f"must be 2, got {version}")


def _content_type(media_type: str | None) -> str | None:
    """Return the bare media type of a Content-Type header (parameters dropped)."""
    return media_type.split(";")[0].strip().lower() if media_type else None


def _document_type(obj: JSONObject, content_type: str | None, kind: str,
                   default: str) -> str:
    """Decide a document's media type from its own field and the Content-Type.

    The field wins; when absent (allowed in OCI documents) the Content-Type
    says, and without one the OCI type ``default``. A document whose field
    contradicts its Content-Type is refused.
    Documents that look like both a manifest and an index are refused too:
    such ambiguity was a real attack (CVE-2021-41190).
    """
    field_type: str | None = get(obj, "mediaType", str, kind)
    header = _content_type(content_type)
    if field_type is not None and field_type not in SCHEMA1_TYPES:
        get_media_type(obj, "mediaType", kind)
    version = obj.get("schemaVersion")
    if field_type in SCHEMA1_TYPES or header in SCHEMA1_TYPES or "fsLayers" in obj or (
            type(version) is int and version == 1):
        raise ManifestError(_SCHEMA1)
    known = mt.INDEX_TYPES | mt.MANIFEST_TYPES
    if field_type and header in known and header != field_type:
        fail(kind, "mediaType", f"{field_type} does not match the Content-Type {header}")
    if "manifests" in obj and ("config" in obj or "layers" in obj):
        fail(kind, "", "has both manifests and config/layers: it cannot be both an "
                        "index and a manifest")
    if field_type:
        return field_type
    return header if header in known else default


_D = TypeVar("_D", bound="_Document")


class _Document:
    """What manifests and indexes share: raw bytes, digest, size, JSON out."""

    _raw: bytes | None
    media_type: str
    annotations: Mapping[str, str] | None
    subject: Descriptor | None
    artifact_type: str | None
    kind: str
    _types: frozenset[str]
    _oci_type: str
    _lists: tuple[str, ...]

    def to_dict(self) -> JSONObject:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def to_json(self) -> bytes:
        """Return canonical JSON bytes (sorted keys, compact) of this document."""
        return canonical.dumps(self.to_dict())

    @property
    def raw(self) -> bytes:
        """The bytes this document is addressed by: as received, else ``to_json()``."""
        return self._raw if self._raw is not None else self.to_json()

    @property
    def digest(self) -> str:
        """The digest of ``raw``: what a registry and ``docker pull`` call it by."""
        return _digest.compute(self.raw)

    @property
    def size(self) -> int:
        """The length of ``raw`` in bytes."""
        return len(self.raw)

    def descriptor(self, **fields: Any) -> Descriptor:
        """Return a descriptor pointing at this document (for an index or a push)."""
        return Descriptor(self.media_type, self.digest, self.size, **fields)

    @classmethod  # a TypeVar, not typing.Self: that needs Python 3.11, we support 3.10
    def _read(cls: type[_D], obj: JSONObject, raw: bytes | None,  # noqa: PYI019
              content_type: str | None) -> _D:
        """Check ``obj`` as this kind of document and build it (keeping ``raw``)."""
        kind, types = cls.kind, cls._types
        media_type = _document_type(obj, content_type, kind, cls._oci_type)
        if media_type not in types:
            article = "an" if kind == "index" else "a"
            other = ("an index" if media_type in mt.INDEX_TYPES else "a manifest"
                     if media_type in mt.MANIFEST_TYPES else None)
            fail(kind, "mediaType", f"{media_type} is {other}, not {article} {kind}" if other
                 else f"{media_type} is not {article} {kind} media type")
        _check_schema_version(obj, kind)
        subject = None
        if get(obj, "subject", dict, kind) is not None:
            subject = Descriptor.from_json(obj["subject"], kind, "subject")
        fields: dict[str, Any] = {}
        if cls is Manifest:
            config = get(obj, "config", dict, kind, required=True)
            fields["config"] = Descriptor.from_json(config, kind, "config")
        for key in cls._lists:
            items = get(obj, key, list, kind, required=True)
            fields[key] = tuple(Descriptor.from_json(item, kind, f"{key}[{i}]")
                                for i, item in enumerate(items))
        make = cast(Callable[..., _D], cls)  # a dataclass: Manifest or Index
        doc = make(media_type, **fields, annotations=get_string_map(obj, "annotations", kind),
                   subject=subject, artifact_type=get_media_type(obj, "artifactType", kind))
        object.__setattr__(doc, "_raw", raw)
        return doc

    def _common_dict(self, out: JSONObject) -> JSONObject:
        out["schemaVersion"] = 2
        out["mediaType"] = self.media_type
        if self.annotations is not None:
            out["annotations"] = dict(self.annotations)
        if self.subject is not None:
            out["subject"] = self.subject.to_dict()
        if self.artifact_type is not None:
            out["artifactType"] = self.artifact_type
        return out


def _freeze_common(doc: Any, allowed: frozenset[str], kind: str, children: str) -> None:
    if doc.media_type not in allowed:
        raise ManifestError(f"invalid {kind}: mediaType: {doc.media_type!r} is not "
                            f"one of {', '.join(sorted(allowed))}")
    object.__setattr__(doc, children, tuple(getattr(doc, children)))
    for name in (children, "config", "subject"):
        value = getattr(doc, name, None)
        for item in value if isinstance(value, tuple) else [value]:
            if item is not None and not isinstance(item, Descriptor):
                raise ManifestError(f"invalid {kind}: {name}: must be a Descriptor, "
                                    f"got {type(item).__name__}")
    if doc.annotations is not None and not isinstance(doc.annotations, FrozenMap):
        object.__setattr__(doc, "annotations", FrozenMap(doc.annotations))


@dataclass(frozen=True, repr=False)
class Manifest(_Document):
    """One platform's image: its config and its layers, bottom layer first.

    Read both Docker schema 2 and OCI manifests. ``layers_size`` is what a
    pull downloads (compressed); ``digest`` is what ``docker pull`` prints
    for a single-platform tag.
    """

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: Mapping[str, str] | None = None
    subject: Descriptor | None = None
    artifact_type: str | None = None
    _raw: bytes | None = field(default=None, init=False, repr=False, compare=False)
    kind, _types, _oci_type, _lists = "manifest", mt.MANIFEST_TYPES, mt.OCI_MANIFEST, ("layers",)

    def __post_init__(self) -> None:
        _freeze_common(self, self._types, self.kind, "layers")
        if self.config is None:
            raise ManifestError("invalid manifest: config: must be a Descriptor")

    @classmethod
    def from_json(cls, data: Any, media_type: str | None = None) -> Manifest:
        """Read a manifest; ``media_type`` is the Content-Type it was served with."""
        return cls._read(*load(data, cls.kind), media_type)

    def to_dict(self) -> JSONObject:
        """Return the manifest as a JSON object."""
        return self._common_dict({"config": self.config.to_dict(),
                                  "layers": [layer.to_dict() for layer in self.layers]})

    def __repr__(self) -> str:
        count = len(self.layers)
        return (f"<Manifest {self.media_type} {_digest.short(self.digest)}: config "
                f"{_digest.short(self.config.digest)}, {count} layer{'s' * (count != 1)}>")

    @property
    def layers_size(self) -> int:
        """The compressed size of all layers: roughly what a cold pull downloads."""
        return sum(layer.size for layer in self.layers)


@dataclass(frozen=True, repr=False)
class Index(_Document):
    """A list of manifests, one per platform: OCI index or Docker manifest list.

    ``select()`` picks the entry a machine would pull, as Docker does.
    """

    media_type: str
    manifests: tuple[Descriptor, ...]
    annotations: Mapping[str, str] | None = None
    subject: Descriptor | None = None
    artifact_type: str | None = None
    _raw: bytes | None = field(default=None, init=False, repr=False, compare=False)
    kind, _types, _oci_type, _lists = "index", mt.INDEX_TYPES, mt.OCI_INDEX, ("manifests",)

    def __post_init__(self) -> None:
        _freeze_common(self, self._types, self.kind, "manifests")

    @classmethod
    def from_json(cls, data: Any, media_type: str | None = None) -> Index:
        """Read an index or manifest list; ``media_type`` is its Content-Type."""
        return cls._read(*load(data, cls.kind), media_type)

    def to_dict(self) -> JSONObject:
        """Return the index as a JSON object."""
        return self._common_dict({"manifests": [m.to_dict() for m in self.manifests]})

    def __repr__(self) -> str:
        shown = ", ".join(str(p) for p in self.platforms) or "no platforms"
        extra = len(self.attestations)
        if extra:
            shown += f" + {extra} attestation{'s' * (extra != 1)}"
        return f"<Index {self.media_type} {_digest.short(self.digest)}: {shown}>"

    @property
    def platforms(self) -> tuple[Platform, ...]:
        """The platforms of the image entries (attestations left out)."""
        return tuple(m.platform for m in self.manifests
                     if m.platform is not None and not m.is_attestation)

    @property
    def attestations(self) -> tuple[Descriptor, ...]:
        """The entries that hold attestations rather than images."""
        return tuple(m for m in self.manifests if m.is_attestation)

    def matching(self, platform: Platform | str | None = None) -> tuple[Descriptor, ...]:
        """Return the entries a ``platform`` machine can run, best first.

        ``platform`` defaults to this machine's (``host()``). Attestation
        entries never match. Entries that name no platform come last, as in
        Docker: their config must then be checked after the pull.
        """
        wanted = _wanted(platform)
        images = [m for m in self.manifests if not m.is_attestation]
        ranked = [images[i] for i in best(wanted, [m.platform for m in images])]
        return tuple(ranked + [m for m in images if m.platform is None])

    def select(self, platform: Platform | str | None = None) -> Descriptor:
        """Return the entry to pull for ``platform`` (default: this machine).

        Raises ``NoMatchingManifestError`` with Docker's message, e.g. ``no
        matching manifest for linux/arm64/v8 in the manifest list entries``.
        """
        wanted = _wanted(platform)
        found = self.matching(wanted)
        if not found:
            raise NoMatchingManifestError(
                f"no matching manifest for {wanted} in the manifest list entries")
        return found[0]


def _wanted(platform: Platform | str | None) -> Platform:
    if platform is None:
        return host()
    return Platform.parse(platform) if isinstance(platform, str) else platform


def parse_any(data: Any, media_type: str | None = None) -> Manifest | Index:
    """Read a manifest or an index, whichever ``data`` is.

    The document's ``mediaType`` decides; without one, the Content-Type
    ``media_type``; without either, its shape (``manifests`` means index).
    """
    obj, raw = load(data, "manifest")
    looks_like_index = "manifests" in obj and "config" not in obj
    kind = "index" if looks_like_index else "manifest"
    chosen = _document_type(obj, media_type, kind,
                            mt.OCI_INDEX if looks_like_index else mt.OCI_MANIFEST)
    cls: type[Manifest | Index] = Index if chosen in mt.INDEX_TYPES else Manifest
    return cls._read(obj, raw, media_type)
