"""Descriptors: the arrows between the parts of an image.

A descriptor says three things about the content it points to, so that a
puller knows what to fetch and can check what it got::

    {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",   what it is
     "digest": "sha256:4abcf2066143...",                            its name (hash)
     "size": 3408729}                                               its length

Index entries add the ``platform`` the manifest they point to is for.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from .. import digest as _digest
from ..errors import InvalidDigestError, ManifestError
from . import canonical
from .jsonfields import (
    INT64_MAX,
    MEDIA_TYPE,
    FrozenMap,
    JSONObject,
    fail,
    get,
    get_media_type,
    get_platform,
    get_string_map,
    get_strings,
    join,
    kind_of,
    load,
)
from .platform import Platform

__all__ = ["ATTESTATION_ANNOTATION", "Descriptor"]

#: The annotation BuildKit puts on index entries that hold attestations.
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"


@dataclass(frozen=True, repr=False)
class Descriptor:
    """Point at one piece of content: its media type, digest and size in bytes.

    Index entries also say the ``platform`` they are for; any descriptor may
    carry ``annotations`` (string labels), ``urls`` it can also be fetched
    from, ``artifact_type`` and embedded base64 ``data``. ``platform`` may be
    given as text: ``Descriptor(..., platform="linux/arm64/v8")``.
    """

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] | None = None
    platform: Platform | None = None
    urls: tuple[str, ...] | None = None
    artifact_type: str | None = None
    data: str | None = None

    def __post_init__(self) -> None:
        try:
            _digest.validate(self.digest)
        except InvalidDigestError as err:
            raise ManifestError(f"invalid descriptor: digest: {err}") from None
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not (
                0 <= self.size <= INT64_MAX):
            raise ManifestError("invalid descriptor: size: must be a non-negative "
                                f"integer, got {self.size!r}")
        if not isinstance(self.media_type, str) or not MEDIA_TYPE.fullmatch(self.media_type):
            raise ManifestError(f"invalid descriptor: mediaType: {self.media_type!r} "
                                "is not a media type")
        if self.annotations is not None and not isinstance(self.annotations, FrozenMap):
            object.__setattr__(self, "annotations", FrozenMap(self.annotations))
        if self.urls is not None:
            object.__setattr__(self, "urls", tuple(self.urls))
        if isinstance(self.platform, str):
            object.__setattr__(self, "platform", Platform.parse(self.platform))
        if self.platform is not None and not isinstance(self.platform, Platform):
            raise ManifestError("invalid descriptor: platform: must be a Platform, "
                                f"got {type(self.platform).__name__}")

    def __hash__(self) -> int:
        return hash((self.media_type, self.digest, self.size))

    def __repr__(self) -> str:
        shown = [repr(self.media_type), repr(self.digest), f"size={self.size}"]
        if self.platform is not None:
            shown.append(f"platform='{self.platform}'")
        for name in ("annotations", "urls", "artifact_type", "data"):
            if getattr(self, name) is not None:
                shown.append(f"{name}={getattr(self, name)!r}")
        return f"Descriptor({', '.join(shown)})"

    @classmethod
    def of(cls, media_type: str, content: bytes, **fields: Any) -> Descriptor:
        """Describe ``content``: compute its digest and size."""
        return cls(media_type, _digest.compute(content), len(content), **fields)

    @classmethod
    def from_json(cls, data: Any, kind: str = "descriptor", where: str = "") -> Descriptor:
        """Read a descriptor object; ``kind``/``where`` name it in error messages."""
        obj = load(data, kind)[0] if not where else data
        if not isinstance(obj, dict):
            fail(kind, where, f"must be an object, got {kind_of(obj)}")
        media_type = cast(str, get_media_type(obj, "mediaType", kind, where, required=True))
        digest_text = get(obj, "digest", str, kind, where, required=True)
        try:
            algorithm, _ = _digest.parse(digest_text)
        except InvalidDigestError as err:
            fail(kind, join(where, "digest"), str(err))
        size = get(obj, "size", int, kind, where, required=True)
        if not 0 <= size <= INT64_MAX:
            fail(kind, join(where, "size"), f"must be a non-negative integer, got {size}")
        platform = None
        if get(obj, "platform", dict, kind, where) is not None:
            platform = get_platform(obj["platform"], kind, join(where, "platform"))
        data_text = get(obj, "data", str, kind, where)
        if data_text is not None:
            try:
                embedded = base64.b64decode(data_text, validate=True)
            except ValueError:
                fail(kind, join(where, "data"), "is not base64")
            if len(embedded) != size or _digest.compute(embedded, algorithm) != digest_text:
                fail(kind, join(where, "data"), "does not match the digest and size")
        return cls(media_type, digest_text, size, get_string_map(obj, "annotations", kind, where),
                   platform, get_strings(obj, "urls", kind, where),
                   get_media_type(obj, "artifactType", kind, where, required=False),
                   data_text)

    def to_dict(self) -> JSONObject:
        """Return the descriptor as a JSON object with the spec's field names."""
        out: JSONObject = {"mediaType": self.media_type, "digest": self.digest,
                           "size": self.size}
        if self.annotations is not None:
            out["annotations"] = dict(self.annotations)
        if self.urls is not None:
            out["urls"] = list(self.urls)
        if self.artifact_type is not None:
            out["artifactType"] = self.artifact_type
        if self.data is not None:
            out["data"] = self.data
        if self.platform is not None:
            out["platform"] = self.platform.to_dict()
        return out

    def to_json(self) -> bytes:
        """Return the canonical JSON bytes of this descriptor."""
        return canonical.dumps(self.to_dict())

    @property
    def is_attestation(self) -> bool:
        """Whether this index entry holds attestations (SBOM, provenance), not an image."""
        if self.annotations and self.annotations.get(
                ATTESTATION_ANNOTATION) == "attestation-manifest":
            return True
        p = self.platform
        return p is not None and p.os == "unknown" and p.architecture == "unknown"
