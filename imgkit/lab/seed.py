"""Fill the lab registry with the course images, pushing only what is missing.

Seeding uses imgkit's own registry client, the same protocol ``docker push``
speaks: for each blob a ``HEAD`` (does the registry have it?), an upload
only when it does not, then the manifests, and last the index or tag that
points at them. A marker file remembers the digests of the first builds, so
starting a seeded lab costs one ``HEAD`` per tag and no building.
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


def _expected(lab) -> dict[str, str]:
    """Return the digests the first builds have, per ``repository:tag`` (remembered once known)."""
    try:
        known = json.loads(_marker(lab).read_text())
        if known.get("version") == CATALOG_VERSION:
            return dict(known.get("digests", {}))
    except (OSError, ValueError, AttributeError):
        pass
    return {}


def seed_catalog(lab, *, force: bool = False, progress=None) -> int:
    """Make every course tag point at its first build, pushing only what differs; return how many.

    The digests of the first builds are remembered in ``seeded.json`` (the
    recipes are deterministic, so they never change for one catalog
    version). Each start checks every tag with one HEAD (a few milliseconds
    on loopback) and rebuilds only the images whose tags moved or went
    missing - after ``publish``, or if someone deleted one. ``force``
    re-pushes everything.
    """
    marker = _marker(lab)
    expected = {} if force else _expected(lab)
    client = _client(lab)
    pushed = 0
    for entry in catalog.CATALOG:
        keys = [f"{entry.repository}:{tag}" for tag in entry.tags]
        if all(k in expected for k in keys):
            present = [_digest_of(client, entry.repository, tag) for tag in entry.tags]
            if present == [expected[k] for k in keys]:
                continue
        built = catalog.build(entry, 1)
        wanted = push_built(client, entry.repository, built, entry.tags)
        expected.update({k: wanted for k in keys})
        pushed += 1
        if progress:
            tags = ", ".join(f"{entry.name}:{t}" for t in entry.tags)
            progress(f"seeded {tags} ({digests.short(wanted)})")
    atomic_write(marker, json.dumps({"version": CATALOG_VERSION, "digests": expected},
                                    indent=1).encode())
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
    return result
