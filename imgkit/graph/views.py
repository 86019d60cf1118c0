"""The views of the store: every image, chosen images, one stack, an ``rmi`` preview.

Each view returns a ``Graph`` that draws itself in Jupyter. Views that need
the registry - the pull preview and the multi-platform index - are in
``imgkit.graph.remote``; before/after pictures in ``imgkit.graph.compare``.

The views sit beside the verbs: the deletion preview asks ``rmi(...,
dry_run=True)`` what it would do rather than repeating Docker's rules.
"""

from __future__ import annotations

import dataclasses

from .. import reference
from .collect import label_of, snapshot
from .model import Graph

__all__ = ["graph", "stack", "rmi_preview", "summary"]


def _host(host):
    from ..api.host import default_host
    return host if host is not None else default_host()


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(g: Graph) -> str:
    """Return ``N images, N layers, N shared``: the first note of a store picture."""
    shared = len(g.shared_layers())
    return (f"{_count(len(g.images), 'image')}, {_count(len(g.layers), 'layer')}, "
            f"{shared} shared")


def graph(*images: str, host=None, rankdir: str | None = None) -> Graph:
    """Draw the layers images share: every image in the store, or just ``images``.

    ``imgkit.graph()`` shows the whole store; ``imgkit.graph("redis",
    "python:3.12-alpine")`` shows those two images and all their layers
    (names are looked up as ``docker`` does: name, ID, or ID prefix). A
    layer's "shared by N" counts every image in the store. ``rankdir``
    ``"TB"`` puts base layers at the top, ``"LR"`` at the left; by default
    the graph turns on its side when there are many images.
    """
    from ..store import find_image

    host = _host(host)
    records = host.store.records()
    if images:
        ids = list(dict.fromkeys(find_image(records, name).id for name in images))
        result = snapshot(records, host.store.blobs.read, ids, title="Layers of " + ", ".join(images),
                          view="images", rankdir=rankdir)
    else:
        result = snapshot(records, host.store.blobs.read, title="Every image in the store",
                          rankdir=rankdir)
    result.notes = (summary(result),)
    return result


def stack(image: str, *, host=None, rankdir: str | None = None) -> Graph:
    """Draw one image's stack of layers, base first, saying which other images share each."""
    from ..store import find_image

    host = _host(host)
    records = host.store.records()
    record = find_image(records, image)
    result = snapshot(records, host.store.blobs.read, [record.id], title=f"The layers of {image}",
                      view="stack", rankdir=rankdir)
    for chain_id, layer in list(result.layers.items()):
        others = [label_of(records, i) for i in layer.used_by if i != record.id]
        if others:
            result.layers[chain_id] = dataclasses.replace(
                layer, note="also in " + ", ".join(sorted(others)))
    result.notes = (f"{_count(len(record.layers), 'layer')}, SIZE {result.images[record.id].size_text}",)
    return result


def _short_line(line: str) -> str:
    # "Deleted: sha256:<64 hex>" is too wide for a picture: the short form names the same node.
    head, _, digest = line.rpartition(" sha256:")
    return f"{head} sha256:{digest[:12]}…" if head and len(digest) == 64 else line


def rmi_preview(*images: str, force: bool = False, host=None, rankdir: str | None = None) -> Graph:
    """Draw what ``rmi images`` would do, without doing it.

    Layers it would free are red and dashed; layers it keeps because another
    image uses them are blue and bold, with the images that keep them. An
    image that only loses a tag (others remain) is marked "untagged". The
    answer is ``imgkit.rmi(..., dry_run=True)``'s, so it follows Docker's rules.
    """
    from ..api.removal import rmi
    from ..errors import ImageNotFoundError
    from ..store import find_image

    host = _host(host)
    records = host.store.records()
    result = rmi(*images, force=force, dry_run=True, host=host)
    deleted = [item.deleted for item in result.items if item.deleted in records.images]
    untags: dict[str, list[str]] = {}
    for item in result.items:
        if item.untagged:
            image_id = records.references.get(str(reference.parse(item.untagged)))
            if image_id:
                untags.setdefault(image_id, []).append(item.untagged)
    named = []
    for name in images:
        try:
            named.append(find_image(records, name).id)
        except (ImageNotFoundError, ValueError):
            pass
    freed = {layer.chain_id for layer in result.layers if layer.freed}
    kept = {layer.chain_id: layer for layer in result.layers if not layer.freed}
    users = records.layer_users()
    keepers = {user for chain_id in kept for user in users.get(chain_id, ()) if user not in deleted}
    involved = set(deleted) | set(untags) | set(named) | keepers
    g = snapshot(records, host.store.blobs.read, involved, view="rmi", rankdir=rankdir,
                 title=f"imgkit rmi {' '.join(images)} (preview: nothing is deleted)")
    for chain_id, layer in list(g.layers.items()):
        if chain_id in freed:
            g.layers[chain_id] = dataclasses.replace(layer, state="freed")
        elif chain_id in kept:
            g.layers[chain_id] = dataclasses.replace(
                layer, state="kept", note="used by " + ", ".join(kept[chain_id].used_by))
    for image_id, image in list(g.images.items()):
        gone = untags.get(image_id, [])
        if image_id in deleted:
            g.images[image_id] = dataclasses.replace(image, state="deleted")
        elif gone:
            g.images[image_id] = dataclasses.replace(image, state="untagged", note=", ".join(gone))
    lines = [_short_line(line) for line in result.docker_lines()]
    if len(lines) > 8:
        lines = lines[:7] + [f"… and {len(lines) - 7} more lines"]
    g.notes = tuple(lines + result.explanation() + [f"Error: {e}" for e in result.errors])
    return g
