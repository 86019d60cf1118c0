"""Looking inside what a build stored: configs, history entries, the files of a layer."""

from __future__ import annotations

import gzip
import io
import json
import tarfile

from imgkit.api.host import Host


def image_config(host: Host, image_id: str) -> dict:
    """The stored config of ``image_id``."""
    return json.loads(host.store.blobs.read(image_id))


def history(host: Host, image_id: str) -> list[tuple[str, bool]]:
    """``(created_by, empty_layer)`` of each history entry, oldest first."""
    return [(entry.get("created_by", ""), entry.get("empty_layer", False))
            for entry in image_config(host, image_id)["history"]]


def layer_files(host: Host, image_id: str, index: int = -1) -> dict[str, tuple]:
    """Path -> (kind, mode, uid, gid, data or link target) of one layer of an image."""
    records = host.store.records()
    chain_id = records.images[image_id].layers[index]
    blob = host.store.blobs.read(records.layers[chain_id].digest)
    files = {}
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as archive:
        for member in archive:
            kind = "dir" if member.isdir() else "symlink" if member.issym() else \
                "hardlink" if member.islnk() else "file"
            data = archive.extractfile(member).read() if member.isreg() else member.linkname
            files[member.name.rstrip("/")] = (kind, member.mode, member.uid, member.gid, data)
    return files
