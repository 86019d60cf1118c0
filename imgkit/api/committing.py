"""``commit``: turn what a container changed into one new layer, and a new image.

    image layers (read-only)      container rootfs (a private copy)
    ├── layer 1                   files as the container left them
    └── layer 2                          │
            │                            │  compare (imgkit.fsdiff)
            └──────────────┬─────────────┘
                           ▼
          new layer: added and changed files, whiteouts for deleted ones
                           ▼
          new image = the same layers + the new layer on top

The image's existing layers are reused as they are - the new image shares
them with its parent, which is why committing a small change costs only the
size of the change.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from .. import reference
from ..fsdiff import diff
from ..oci import canonical, mediatypes
from ..store import LayerFacts, add_image, find_image, tag, utc_now
from ..tarlayer import Layer
from ..unpack import remove_tree
from .host import Host

__all__ = ["commit_container"]


def _unpack_image(host: Host, records, image, root: Path) -> None:
    from .containers import apply_stored_layer

    limits = host.layer_limits()
    for chain_id in image.layers:
        apply_stored_layer(host, records.layers[chain_id].digest, root, limits)


def commit_container(container: str, repository: str | None, *, message: str | None,
                     author: str | None, created: str | None, host: Host) -> str:
    """Commit a container's changes as a new image; return the new image's ID."""
    from .containers import _container_dir, _find

    records = host.store.records()
    found = _find(records, container)
    image = records.images[found.image]
    with tempfile.TemporaryDirectory(prefix="imgkit-commit-") as scratch:
        lower = Path(scratch) / "image"
        _unpack_image(host, records, image, lower)
        changes = diff(lower, _container_dir(host, found.id) / "rootfs")
        remove_tree(lower)
    layer = Layer.from_entries(changes)
    when = created or utc_now()
    config = json.loads(host.store.blobs.read(image.id))
    config["created"] = when
    if author:
        config["author"] = author
    config.setdefault("rootfs", {"type": "layers", "diff_ids": []})["diff_ids"].append(layer.diff_id)
    entry = {"created": when, "created_by": " ".join(found.command)}
    if message:
        entry["comment"] = message
    if author:
        entry["author"] = author
    config.setdefault("history", []).append(entry)
    config_bytes = canonical.dumps(config)
    base_manifest = json.loads(host.store.blobs.read(image.manifest_digest))
    manifest = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": "", "size": len(config_bytes)},
        "layers": base_manifest["layers"] + [layer.descriptor()],
    }
    from .. import digest as digests
    manifest["config"]["digest"] = digests.compute(config_bytes)
    manifest_bytes = canonical.dumps(manifest)
    host.store.blobs.put(layer.blob, layer.digest)
    host.store.blobs.put(config_bytes)
    host.store.blobs.put(manifest_bytes)
    old_facts = [LayerFacts(digest=d["digest"], media_type=d["mediaType"],
                            diff_id=records.layers[c].diff_id, size=d["size"],
                            uncompressed_size=records.layers[c].uncompressed_size,
                            content_size=records.layers[c].content_size)
                 for d, c in zip(base_manifest["layers"], image.layers, strict=True)]
    new_fact = LayerFacts(digest=layer.digest, media_type=layer.media_type,
                          diff_id=layer.diff_id, size=len(layer.blob),
                          uncompressed_size=len(layer.tar), content_size=layer.uncompressed_size)
    with host.store.transaction() as records:
        find_image(records, image.id)           # the parent must still be there
        record = add_image(host.store, records, manifest=manifest_bytes,
                           manifest_media_type=mediatypes.OCI_MANIFEST, config=config_bytes,
                           layers=old_facts + [new_fact], parent=image.id)
        if repository:
            tag(records, str(reference.parse(repository).with_default_tag()), record.id)
    return record.id
