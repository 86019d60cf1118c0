"""Fill the lab registry with the course images, pushing only what is missing.

Seeding uses imgkit's own registry client, the same protocol ``docker push``
speaks: for each blob a ``HEAD`` (does the registry have it?), an upload
only when it does not, then the manifests, and last the index or tag that
points at them. A marker file remembers which build of the catalog the
registry holds, so starting a seeded lab costs no requests at all.
"""

from __future__ import annotations

import json

from .. import digest as digests
from ..build import BuiltIndex
from ..errors import LabError
from ..fileio import atomic_write
from ..registry import RegistryClient, push_image
from . import catalog

__all__ = ["seed_catalog", "publish_revision", "push_built", "CATALOG_VERSION"]

#: Bump when a recipe changes, so existing labs are re-seeded on their next start.
CATALOG_VERSION = 1


def _client(lab) -> RegistryClient:
    return RegistryClient(lab.address)


def push_built(client: RegistryClient, repository: str, built, tags) -> str:
    """Push a built image or index and point every tag in ``tags`` at it; return its digest."""
    children = [(image.manifest_bytes, image.media_type) for image in built.images] \
        if isinstance(built, BuiltIndex) else ()
    first, *others = tags
    digest = push_image(client, repository, first, built.blobs, built.manifest_bytes,
                        built.media_type, children=children)
    for tag in others:
        client.put_manifest(repository, tag, built.manifest_bytes, built.media_type)
    return digest


def _marker(lab):
    return lab.server.root / "seeded.json"


def seed_catalog(lab, *, force: bool = False, progress=None) -> int:
    """Push every course image the lab lacks (all of them with ``force``); return how many."""
    marker = _marker(lab)
    if not force:
        try:
            if json.loads(marker.read_text()).get("version") == CATALOG_VERSION:
                return 0
        except (OSError, ValueError):
            pass
    client = _client(lab)
    pushed = 0
    for entry in catalog.CATALOG:
        if not force:
            present = [_digest_of(client, entry.repository, tag) for tag in entry.tags]
            if all(present) and len(set(present)) == 1:
                continue
        built = catalog.build(entry, 1)
        wanted = push_built(client, entry.repository, built, entry.tags)
        pushed += 1
        if progress:
            tags = ", ".join(f"{entry.name}:{t}" for t in entry.tags)
            progress(f"seeded {tags} ({digests.short(wanted)})")
    atomic_write(marker, json.dumps({"version": CATALOG_VERSION}).encode())
    return pushed


def _digest_of(client: RegistryClient, repository: str, tag: str) -> str | None:
    from ..errors import RegistryNotFoundError
    try:
        return client.head_manifest(repository, tag).digest
    except RegistryNotFoundError:
        return None


def publish_revision(lab, name: str, revision: int) -> str:
    """Push build ``revision`` of the course image ``name`` (``alpine:latest``) to its tags."""
    repo_name, _, tag = name.partition(":")
    try:
        entry = catalog.find(repo_name, tag or "latest")
    except LookupError as exc:
        raise LabError(str(exc)) from None
    if revision < 1:
        raise LabError("a build revision is 1 or more")
    built = catalog.build(entry, revision)
    client = _client(lab)
    result = push_built(client, entry.repository, built, entry.tags)
    # The lab no longer holds the first builds everywhere: the next start re-checks.
    _marker(lab).unlink(missing_ok=True)
    return result
