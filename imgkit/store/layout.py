"""The OCI image layout view of the store, so other OCI tools can read it.

An OCI image layout is a directory with an ``oci-layout`` marker, a
``blobs/`` directory and an ``index.json`` listing the manifests it holds.
Each tagged image appears in ``index.json`` with its full reference in the
``org.opencontainers.image.ref.name`` annotation, which is how ``skopeo copy
oci:DIR:docker.io/library/alpine:3.20 ...`` and ``umoci`` find it. Untagged
images are listed without a name. imgkit rewrites ``index.json`` from its
records after every change; it is a view, never the source of truth.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..fileio import atomic_write
from ..oci import mediatypes
from .records import Records

__all__ = ["write_index", "write_marker", "REF_NAME"]

REF_NAME = "org.opencontainers.image.ref.name"
_MARKER = b'{"imageLayoutVersion":"1.0.0"}'


def write_marker(root: Path) -> None:
    """Write the ``oci-layout`` marker file if it is missing."""
    marker = root / "oci-layout"
    if not marker.exists():
        atomic_write(marker, _MARKER)


def index_document(records: Records) -> dict:
    """Return the ``index.json`` document for ``records``."""
    manifests = []
    named = set()
    for ref, image_id in sorted(records.references.items()):
        image = records.images.get(image_id)
        if image is None or "@" in ref:
            continue
        named.add(image_id)
        manifests.append(_descriptor(image, {REF_NAME: ref}))
    for image_id in sorted(set(records.images) - named):
        manifests.append(_descriptor(records.images[image_id], None))
    return {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": manifests}


def _descriptor(image, annotations) -> dict:
    descriptor = {
        "mediaType": image.manifest_media_type,
        "digest": image.manifest_digest,
        "size": image.manifest_size,
        "platform": {"architecture": image.architecture, "os": image.os},
    }
    if image.variant:
        descriptor["platform"]["variant"] = image.variant
    if annotations:
        descriptor["annotations"] = annotations
    return descriptor


def write_index(root: Path, records: Records) -> None:
    """Rewrite ``index.json`` to list exactly the images in ``records``."""
    atomic_write(root / "index.json",
                 json.dumps(index_document(records), indent=2).encode() + b"\n")
