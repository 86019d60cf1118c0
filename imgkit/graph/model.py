"""The layer graph as plain data: images, the layers they stack, and which layers they share.

A ``Graph`` holds three kinds of node and derives its edges from them:

- a **layer**, keyed by its ChainID (the layer *and everything under it*,
  which is how the store names and shares layers), labelled with its short
  ChainID, its size and the history step that made it;
- an **image**, keyed by its ID, labelled with its tags, short ID and SIZE;
- an **index** (the multi-platform view only), pointing at one image per
  platform.

Edges: each layer points to the layer stacked on it (``stacked``), each
image to its top layer (``top``), an index to its platform images
(``platform``). Images that share a base therefore form a tree whose root is
the base layer. Nothing here draws or prints: ``imgkit.graph.dot`` writes
DOT, ``imgkit.graph.text`` a text tree, ``imgkit.graph.render`` pictures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import digest as digests
from ..format import human_size

__all__ = ["Layer", "Image", "IndexNode", "Edge", "Graph", "step_text", "instruction", "marks",
           "STATE_WORDS"]

#: What a view can say about a node (its ``state``), in the words the pictures and trees use.
STATE_WORDS = {
    "freed": "rmi frees", "kept": "rmi keeps", "deleted": "rmi deletes", "untagged": "rmi untags",
    "exists": "Already exists", "fetch": "pull downloads", "pull": "pull brings",
    "added": "new", "removed": "removed", "changed": "tags changed",
    "platform": "your platform", "local": "in your store",
}


def marks(state: str, note: str) -> list[str]:
    """Return the words saying a node's ``state`` and ``note`` (either may be empty)."""
    return [word for word in (STATE_WORDS.get(state, state), note) if word]


_BUILDKIT = re.compile(r"\s*# buildkit\s*$")
_NOP = re.compile(r"^/bin/sh -c #\(nop\)\s*")
_SHELL = re.compile(r"^(?:RUN )?(?:\|\d+ (?:\S+=\S* )*)?/bin/sh -c ")
_INSTRUCTIONS = {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK",
                 "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER",
                 "VOLUME", "WORKDIR"}


def step_text(created_by: str) -> str:
    """Return a history step as a learner reads it: ``RUN apk add ...``, ``COPY x /``.

    Docker's legacy builder writes ``/bin/sh -c #(nop) COPY ...`` and
    ``/bin/sh -c apk add ...``; BuildKit writes ``RUN /bin/sh -c ... #
    buildkit``. Both become the Dockerfile line they came from.
    """
    text = _BUILDKIT.sub("", " ".join((created_by or "").split()))
    if _NOP.match(text):
        return _NOP.sub("", text)
    if _SHELL.match(text):
        return "RUN " + _SHELL.sub("", text)
    return text


def instruction(created_by: str) -> str:
    """Return the Dockerfile instruction of a history step (``ENV``, ``CMD``; ``RUN`` if unsure)."""
    word = step_text(created_by).split(" ", 1)[0].upper()
    return word if word in _INSTRUCTIONS else "RUN"


def size_text(size: int | None, download_size: int | None) -> str:
    """Return a size for a label: Docker's SIZE, else ``↓`` and the download size, else ``?``."""
    if size is not None:
        return human_size(size)
    if download_size is not None:
        return f"↓{human_size(download_size)}"
    return "?"


@dataclass(frozen=True)
class Layer:
    """One layer, keyed by ChainID: its size, the step that made it, and the images using it."""

    chain_id: str
    parent: str | None = None           #: ChainID of the layer below (None for a base layer)
    diff_id: str | None = None
    digest: str | None = None           #: the compressed blob (what ``docker pull`` lines name)
    size: int | None = None             #: Docker's SIZE of its files; None if not known here
    download_size: int | None = None    #: compressed bytes (what a pull downloads)
    created_by: str = ""                #: the history step that made it, as recorded
    used_by: tuple[str, ...] = ()       #: IDs of the store's images that use it
    state: str = ""                     #: a view's mark (see ``STATE_WORDS``)
    note: str = ""                      #: a view's words about it

    @property
    def short(self) -> str:
        """The first 12 hex digits of the ChainID (what ``docker rmi`` prints in full)."""
        return digests.short(self.chain_id)

    @property
    def shared(self) -> bool:
        """True when more than one image of the store uses this layer."""
        return len(self.used_by) > 1

    @property
    def step(self) -> str:
        """The history step, as a Dockerfile line (see ``step_text``)."""
        return step_text(self.created_by) if self.created_by else "(no history)"

    @property
    def size_text(self) -> str:
        """Its size for a label: Docker's SIZE, or the download size of a remote layer."""
        return size_text(self.size, self.download_size)


@dataclass(frozen=True)
class Image:
    """One image: its names, its layers (ChainIDs, bottom first) and its SIZE."""

    id: str
    layers: tuple[str, ...]
    names: tuple[str, ...] = ()         #: familiar tags, ``redis:latest``; empty when dangling
    size: int | None = None             #: Docker's SIZE; None if not known here
    download_size: int | None = None    #: compressed bytes of its layers (remote images)
    metadata: tuple[str, ...] = ()      #: instructions of steps that made no layer (ENV, CMD...)
    platform: str = ""
    containers: int = 0                 #: containers made from it
    state: str = ""
    note: str = ""

    @property
    def short(self) -> str:
        """The short image ID ``docker images`` shows."""
        return digests.short(self.id)

    @property
    def top(self) -> str | None:
        """The ChainID of its top layer (None for an image with no layers)."""
        return self.layers[-1] if self.layers else None

    @property
    def label(self) -> str:
        """Its names joined, or ``<none>:<none>`` like ``docker images`` for a dangling image."""
        return ", ".join(self.names) if self.names else "<none>:<none>"

    @property
    def size_text(self) -> str:
        """Its SIZE for a label, or the download size of an image not in the store."""
        return size_text(self.size, self.download_size)

    def sort_key(self) -> tuple:
        return (not self.names, self.names[:1], self.id)


@dataclass(frozen=True)
class IndexNode:
    """A multi-platform index (manifest list): one image per platform."""

    digest: str
    reference: str                      #: familiar, ``alpine:3.20``
    images: tuple[str, ...]             #: the platform images' IDs, in the index's order


@dataclass(frozen=True, order=True)
class Edge:
    """An arrow of the graph: ``stacked`` (layer -> layer on it), ``top``, or ``platform``."""

    source: str                         #: a node key: ``layer:<ChainID>``, ``image:<ID>``...
    target: str
    kind: str


def layer_key(chain_id: str) -> str:
    return f"layer:{chain_id}"


def image_key(image_id: str) -> str:
    return f"image:{image_id}"


class Drawable:
    """What every picture offers, given its ``to_dot()`` and ``text()``: SVG, files, display."""

    def svg(self) -> str:
        """Return the picture as SVG text (needs Graphviz's ``dot`` program)."""
        from .render import render
        return render(self.to_dot(), "svg").decode()

    def save(self, path: str | Path) -> Path:
        """Write the picture to ``path``: ``.svg`` or ``.png`` (via ``dot``), or ``.dot`` text."""
        from .render import save
        return save(self.to_dot(), path)

    def __repr__(self) -> str:
        from .render import fallback_text
        return fallback_text(self.text())

    def _repr_svg_(self) -> str | None:
        from .render import svg_or_none
        return svg_or_none(self.to_dot())


@dataclass(repr=False)
class Graph(Drawable):
    """Images and the layers they stack, as data; it draws itself in Jupyter.

    ``layers`` maps ChainID -> ``Layer``; ``images`` maps image ID ->
    ``Image``. ``rankdir`` is ``"TB"`` (base layers at the top), ``"LR"``
    (base layers at the left) or None: TB, or LR once there are too many
    images to sit side by side. ``svg()`` and ``save()`` need Graphviz's
    ``dot``; ``text()`` and ``to_dot()`` never do.
    """

    title: str
    layers: dict[str, Layer] = field(default_factory=dict)
    images: dict[str, Image] = field(default_factory=dict)
    index: IndexNode | None = None
    notes: tuple[str, ...] = ()
    view: str = "store"
    rankdir: str | None = None

    # -- structure -----------------------------------------------------------

    def sorted_images(self) -> list[Image]:
        """The images, tagged ones first by name, then dangling ones by ID."""
        if self.index is not None:
            return [self.images[i] for i in self.index.images if i in self.images] + sorted(
                (i for i in self.images.values() if i.id not in self.index.images),
                key=Image.sort_key)
        return sorted(self.images.values(), key=Image.sort_key)

    def sorted_layers(self) -> list[Layer]:
        """The layers in drawing order: each image's stack bottom up, images in order."""
        seen: dict[str, Layer] = {}
        for image in self.sorted_images():
            for chain_id in image.layers:
                if chain_id in self.layers and chain_id not in seen:
                    seen[chain_id] = self.layers[chain_id]
        for chain_id in sorted(self.layers):
            seen.setdefault(chain_id, self.layers[chain_id])
        return list(seen.values())

    def parent_of(self, layer: Layer) -> Layer | None:
        """The layer under ``layer`` if this graph holds it."""
        return self.layers.get(layer.parent) if layer.parent else None

    def children(self, chain_id: str) -> list[Layer]:
        """The layers stacked directly on ``chain_id``, in drawing order."""
        return [layer for layer in self.sorted_layers() if layer.parent == chain_id]

    def images_on(self, chain_id: str) -> list[Image]:
        """The images whose top layer is ``chain_id``."""
        return [image for image in self.sorted_images() if image.top == chain_id]

    def roots(self) -> list[Layer]:
        """The bottom layers of the graph (base layers, or the lowest layer shown)."""
        return [layer for layer in self.sorted_layers() if self.parent_of(layer) is None]

    def edges(self) -> list[Edge]:
        """Every arrow, sorted: layer -> layer stacked on it, image -> top layer, index -> image."""
        edges = [Edge(layer_key(layer.parent), layer_key(layer.chain_id), "stacked")
                 for layer in self.layers.values() if layer.parent in self.layers]
        edges += [Edge(image_key(image.id), layer_key(image.top), "top")
                  for image in self.images.values() if image.top in self.layers]
        if self.index is not None:
            edges += [Edge(f"index:{self.index.digest}", image_key(i), "platform")
                      for i in self.index.images if i in self.images]
        return sorted(edges)

    def shared_layers(self) -> list[Layer]:
        """The layers more than one image uses."""
        return [layer for layer in self.sorted_layers() if layer.shared]

    def find(self, name: str) -> Image:
        """Return the image named ``name``: a name as Docker reads it, or an ID prefix."""
        from .. import reference

        try:
            familiar = reference.parse(name).with_default_tag().familiar
        except ValueError:
            familiar = None
        for image in self.sorted_images():
            if familiar in image.names:
                return image
        hex_prefix = name.removeprefix("sha256:")
        for image in self.sorted_images():
            if re.fullmatch(r"[0-9a-f]+", hex_prefix) and image.id.startswith(f"sha256:{hex_prefix}"):
                return image
        raise LookupError(f"no image {name} in this graph")

    # -- output --------------------------------------------------------------

    def to_dot(self) -> str:
        """Return the graph in Graphviz's DOT language (deterministic: golden-file friendly)."""
        from .dot import to_dot
        return to_dot(self)

    def text(self) -> str:
        """Return the graph as a text tree, base layers first (needs no Graphviz)."""
        from .text import tree
        return tree(self)

