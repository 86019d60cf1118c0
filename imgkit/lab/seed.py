"""Fill the lab registry with the course images, pushing only what is missing.

Seeding uses imgkit's own registry client, the same protocol ``docker push``
speaks: for each blob a ``HEAD`` (does the registry have it?), an upload
only when it does not, then the manifests, and last the index or tag that
points at them. A marker file remembers the digests of the first builds, so
starting a seeded lab costs one ``HEAD`` per tag and no building.

``seed_bundle`` fills the lab from an archive written by ``imgkit save``
instead (``imgkit lab start --from course.tar``): no recipe is built and no
network is needed, and the archive's images may be any images at all - the
real ones, pulled from Docker Hub before the day.
"""

from __future__ import annotations

import json

from .. import digest as digests
from ..build import BuiltIndex
from ..errors import LabError
from ..fileio import atomic_write
from ..registry import RegistryClient, push_image
from . import catalog

__all__ = ["seed_catalog", "seed_bundle", "publish_revision", "push_built", "CATALOG_VERSION"]

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


def seed_bundle(lab, path, *, progress=None) -> int:
    """Push every docker.io image of a ``save`` archive to the lab, under its tags; return how many.

    Blobs the lab has are skipped (one ``HEAD`` each), so a second run is
    quick. Each blob is read from the archive only when it must be sent, and
    the registry checks it against its digest. Names outside docker.io are
    skipped: the lab stands in for Docker Hub only.
    """
    from .. import reference as references
    from ..api.bundlefile import BundleReader

    client = _client(lab)
    pushed = 0
    with BundleReader.open(path) as reader:
        for entry in reader.entries():
            names = [references.parse(name) for name in entry.names]
            for ref in names:
                if ref.domain != "docker.io" and progress:
                    progress(f"skipped {ref} (the lab stands in for docker.io only)")
            names = [ref for ref in names if ref.domain == "docker.io"]
            if not names:
                continue
            manifest, media_type, children, blobs = _tree(reader, entry.descriptor)
            by_repository: dict[str, list[str]] = {}
            for ref in names:
                by_repository.setdefault(ref.path, []).append(ref.tag or "latest")
            for repository, tags in sorted(by_repository.items()):
                first, *others = tags
                digest = push_image(client, repository, first, blobs, manifest, media_type,
                                    children=children)
                for tag in others:
                    client.put_manifest(repository, tag, manifest, media_type)
                if progress:
                    shown = ", ".join(references.parse(f"{repository}:{t}").familiar
                                      for t in tags)
                    progress(f"seeded {shown} ({digests.short(digest)}) from {path}")
            pushed += 1
    return pushed


def _tree(reader, descriptor):
    """Return (manifest bytes, media type, children, blob openers) for one archive entry.

    An index goes in whole when the archive holds all its manifests (as
    ``skopeo copy --all`` writes); otherwise only this machine's platform is
    pushed, as a single manifest under the tag.
    """
    from ..oci import Index

    document = reader.document(descriptor)
    children = []
    if isinstance(document, Index):
        present = [d for d in document.manifests if reader.has_blob(d.digest)]
        if len(present) < len(document.manifests):
            return _tree(reader, document.select())
        manifests = [(reader.read_blob(d.digest), d.media_type) for d in present]
        children = manifests
        documents = [reader.document(d) for d in present]
    else:
        documents = [document]
    blobs: dict = {}
    for manifest in documents:
        if isinstance(manifest, Index):
            raise LabError(f"{reader.where}: nested indexes are not supported")
        for blob in (manifest.config, *manifest.layers):
            blobs[blob.digest] = (lambda d=blob.digest: reader.open_blob(d))
    return reader.read_blob(descriptor.digest), descriptor.media_type, children, blobs
