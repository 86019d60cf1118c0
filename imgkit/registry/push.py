"""Push a whole image: blobs the registry lacks, child manifests, then the tag.

The order matters because a registry checks references as they arrive: it
refuses a manifest naming a blob it does not have, and an index naming a
manifest it does not have.

1. For every blob (config and layers): ``HEAD`` it; if the registry has it,
   say "Layer already exists" and send nothing - go-containerregistry and
   Docker both skip this way, which is why a second push is quick.
2. Else, with ``mount_from``, ask for a cross-repository mount ("Mounted
   from ..."); else upload it ("Pushed").
3. Push each child manifest (an index's per-platform manifests) by digest.
4. Push the top manifest or index under the tag, and return its digest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import BinaryIO

from ..digest import compute
from .client import RegistryClient

__all__ = ["push_image", "BlobSource"]

#: A blob to push: its bytes, or a function returning bytes or an open binary file.
BlobSource = bytes | Callable[[], bytes | BinaryIO]


def push_image(client: RegistryClient, repository: str, tag: str,
               blobs: Mapping[str, BlobSource], manifest: bytes, media_type: str, *,
               children: Iterable[tuple[bytes, str]] = (), mount_from: str | None = None,
               progress: Callable[[str, str], None] | None = None) -> str:
    """Push an image to ``repository:tag``, skipping blobs already there; return its digest.

    ``blobs`` maps digest -> bytes or a callable that opens the blob (called
    only when the blob must really be sent, so layers the registry has are
    never read). ``children`` are ``(manifest_bytes, media_type)`` pairs an
    index refers to. ``progress(digest, status)`` receives Docker's words:
    ``Layer already exists``, ``Mounted from <repo>``, ``Pushed``.
    """
    def say(digest: str, status: str) -> None:
        if progress is not None:
            progress(digest, status)

    for digest, source in blobs.items():
        if client.blob_exists(repository, digest):
            say(digest, "Layer already exists")
            continue
        say(digest, "Pushing")
        data = source() if callable(source) else source
        try:
            outcome = client.push_blob(repository, digest, data, mount_from=mount_from)
        finally:
            if not isinstance(data, (bytes, bytearray)) and hasattr(data, "close"):
                data.close()
        say(digest, f"Mounted from {mount_from}" if outcome == "mounted" else "Pushed")
    for child, child_type in children:
        client.put_manifest(repository, compute(child), child, child_type)
    return client.put_manifest(repository, tag, manifest, media_type)
