"""What imgkit remembers beside the blobs: images, layers, references, containers.

The blobs say what an image *is*; the records say what the host *has*: which
images, under which names, made of which layers. Docker keeps the same facts
(``repositories.json``, the image and layer databases); imgkit keeps them in
one JSON file, ``store/imgkit.json``, rewritten atomically under the store's
lock, so every command reads one consistent snapshot.

- An **image** is named by its ID (the config digest) and lists its layers
  by ChainID, bottom first.
- A **layer** is named by its ChainID - the layer *and everything under it* -
  and knows its diff_id, its compressed blob and its sizes. Two images share
  a layer exactly when they list the same ChainID.
- A **reference** maps a full name (``docker.io/library/alpine:3.20`` or
  ``docker.io/library/alpine@sha256:...``) to an image ID.

How many images use a layer (its reference count) is never stored: it is
counted from the images, so it cannot go stale.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ImageRecord", "LayerRecord", "ContainerRecord", "Records", "FORMAT_VERSION", "RECORDS_NAME"]

FORMAT_VERSION = 1
#: The records' file name in the store directory.
RECORDS_NAME = "imgkit.json"


@dataclass
class LayerRecord:
    """One layer in the store, keyed by its ChainID."""

    chain_id: str
    diff_id: str
    parent: str | None          #: ChainID of the layer below, None for a base layer
    digest: str                 #: the compressed blob kept for it
    media_type: str
    size: int                   #: compressed bytes (what a pull downloads)
    uncompressed_size: int      #: bytes of the tar
    content_size: int           #: Docker's SIZE: bytes of the files in it


@dataclass
class ImageRecord:
    """One image in the store, keyed by its ID (the digest of its config)."""

    id: str
    manifest_digest: str        #: the image manifest kept in the OCI layout
    manifest_media_type: str
    manifest_size: int
    created: str                #: the config's ``created`` (RFC 3339)
    os: str
    architecture: str
    variant: str | None
    layers: list[str]           #: ChainIDs, bottom first
    size: int                   #: Docker's SIZE: content bytes of all layers
    labels: dict[str, str] = field(default_factory=dict)
    last_tag_time: str | None = None
    parent: str | None = None   #: the image this one was built or committed on (local only)
    added: str | None = None    #: when this host got the image
    blobs: list[str] = field(default_factory=list)  #: layer blob digests its manifest names


@dataclass
class ContainerRecord:
    """A container: an image's layers plus a writable layer of its own."""

    id: str
    name: str
    image: str                  #: image ID
    image_reference: str        #: what the user typed
    command: list[str]
    created: str
    state: str = "created"      #: created, running, exited
    pid: int | None = None
    exit_code: int | None = None
    started: str | None = None
    finished: str | None = None
    layers: list[str] = field(default_factory=list)  #: the image's ChainIDs, held while it exists


@dataclass
class Records:
    """Everything the store records, as one snapshot."""

    images: dict[str, ImageRecord] = field(default_factory=dict)
    layers: dict[str, LayerRecord] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)
    containers: dict[str, ContainerRecord] = field(default_factory=dict)

    # -- questions -----------------------------------------------------------

    def references_to(self, image_id: str) -> list[str]:
        """Return the full references naming ``image_id``, sorted."""
        return sorted(ref for ref, target in self.references.items() if target == image_id)

    def layer_users(self) -> dict[str, list[str]]:
        """Return, for every ChainID, the IDs of the images using it."""
        users: dict[str, list[str]] = {}
        for image in self.images.values():
            for chain_id in image.layers:
                users.setdefault(chain_id, []).append(image.id)
        return users

    def container_layers(self) -> dict[str, list[str]]:
        """Return, for every ChainID a container holds, the names of those containers.

        A container keeps its image's layers alive - even after ``rmi -f``
        removed the image - until the container itself is removed, as
        Docker's layer store does.
        """
        held: dict[str, list[str]] = {}
        for container in self.containers.values():
            for chain_id in container.layers:
                held.setdefault(chain_id, []).append(container.name)
        return held

    def children_of(self, image_id: str) -> list[str]:
        """Return the IDs of images built on ``image_id``."""
        return [i.id for i in self.images.values() if i.parent == image_id]

    def containers_using(self, image_id: str) -> list[ContainerRecord]:
        """Return the containers made from ``image_id``."""
        return [c for c in self.containers.values() if c.image == image_id]

    # -- JSON ----------------------------------------------------------------

    def to_json(self) -> bytes:
        """Return the records as JSON bytes (sorted, so the file diffs cleanly)."""
        data = {
            "version": FORMAT_VERSION,
            "images": {k: asdict(v) for k, v in self.images.items()},
            "layers": {k: asdict(v) for k, v in self.layers.items()},
            "references": self.references,
            "containers": {k: asdict(v) for k, v in self.containers.items()},
        }
        return json.dumps(data, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "Records":
        """Read records written by ``to_json``."""
        raw: dict[str, Any] = json.loads(data)
        if not isinstance(raw, dict):
            raise ValueError("the records are not a JSON object")
        if raw.get("version") != FORMAT_VERSION:
            raise ValueError(f"unknown store format version {raw.get('version')!r}")
        return cls(
            images={k: ImageRecord(**v) for k, v in raw.get("images", {}).items()},
            layers={k: LayerRecord(**v) for k, v in raw.get("layers", {}).items()},
            references=dict(raw.get("references", {})),
            containers={k: ContainerRecord(**v) for k, v in raw.get("containers", {}).items()},
        )
