"""Build a ``Graph`` from a snapshot of the store's records and the images' configs.

The records say which images the store has and which layers (by ChainID)
each stacks; the image config says which history step made each layer and
which steps made none (``ENV``, ``CMD``...: metadata only). Nothing here
touches a registry or draws anything.
"""

from __future__ import annotations

from typing import Callable, Iterable

from .. import reference
from ..errors import ImgkitError
from ..oci import ImageConfig
from ..store import Records
from .model import Graph, Image, Layer, instruction

__all__ = ["snapshot", "names_of", "history_of", "label_of"]


def names_of(records: Records, image_id: str) -> tuple[str, ...]:
    """Return an image's tags as Docker prints them (``redis:latest``), sorted.

    An image known only by digest (``alpine@sha256:...``) shows as
    ``alpine:<none>``, as in ``docker images``; a dangling one has no name.
    """
    refs = records.references_to(image_id)
    tags = [reference.parse(ref).familiar for ref in refs if "@" not in ref]
    if tags:
        return tuple(tags)
    repositories = sorted({reference.parse(ref).familiar_name for ref in refs})
    return tuple(f"{name}:<none>" for name in repositories)


def label_of(records: Records, image_id: str) -> str:
    """Return the first name of an image, or its short ID (how notes name other images)."""
    names = names_of(records, image_id)
    return names[0] if names else image_id.removeprefix("sha256:")[:12]


def history_of(config_bytes: bytes | None, chain_ids: Iterable[str]
               ) -> tuple[dict[str, str], tuple[str, ...]]:
    """Return (the step that made each layer by ChainID, the instructions that made no layer).

    A config that cannot be read gives no steps: the graph still draws.
    """
    if config_bytes is None:
        return {}, ()
    try:
        pairs = ImageConfig.from_json(config_bytes).layer_history()
    except (ImgkitError, ValueError):
        return {}, ()
    chains = list(chain_ids)
    steps: dict[str, str] = {}
    metadata: list[str] = []
    position = 0
    for entry, diff_id in pairs:
        if diff_id is None:
            word = instruction(entry.created_by) if entry.created_by else ""
            if word and word not in metadata:
                metadata.append(word)
            continue
        if position < len(chains):
            steps[chains[position]] = entry.created_by or ""
        position += 1
    return steps, tuple(metadata)


def _reader(read_config: Callable[[str], bytes]) -> Callable[[str], bytes | None]:
    def read(image_id: str) -> bytes | None:
        try:
            return read_config(image_id)
        except (OSError, ImgkitError):
            return None
    return read


def snapshot(records: Records, read_config: Callable[[str], bytes],
             image_ids: Iterable[str] | None = None, *, title: str, view: str = "store",
             rankdir: str | None = None) -> Graph:
    """Return the graph of ``image_ids`` (default: every image) and all their layers.

    ``read_config(image_id)`` returns an image's config bytes (the store's
    ``blobs.read``). "Shared by" counts every image of the store, not just
    those drawn: a layer shared with an image left out is still shared.
    """
    read = _reader(read_config)
    users = records.layer_users()
    chosen = sorted(set(records.images if image_ids is None else image_ids))
    graph = Graph(title=title, view=view, rankdir=rankdir)
    steps: dict[str, str] = {}
    for image_id in chosen:
        record = records.images[image_id]
        image_steps, metadata = history_of(read(image_id), record.layers)
        for chain_id, step in image_steps.items():
            steps.setdefault(chain_id, step)
        platform = "/".join(p for p in (record.os, record.architecture, record.variant) if p)
        graph.images[image_id] = Image(
            id=image_id, layers=tuple(record.layers), names=names_of(records, image_id),
            size=record.size, metadata=metadata, platform=platform,
            containers=len(records.containers_using(image_id)))
    for image in graph.images.values():
        for chain_id in image.layers:
            if chain_id in graph.layers or chain_id not in records.layers:
                continue
            layer = records.layers[chain_id]
            graph.layers[chain_id] = Layer(
                chain_id=chain_id, parent=layer.parent, diff_id=layer.diff_id,
                digest=layer.digest, size=layer.content_size, download_size=layer.size,
                created_by=steps.get(chain_id, ""),
                used_by=tuple(sorted(users.get(chain_id, ()))))
    return graph
