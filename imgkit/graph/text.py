"""Draw a ``Graph`` as a text tree: base layers first, images as the leaves.

What a learner sees without Graphviz (and what ``repr`` shows)::

    ● 3f687c8cb603  3.46MB  ADD alpine-minirootfs-3.20.0-x86_64.tar.gz / (shared by 3)
    ├── ● 10f6046b4dce  1.2kB  RUN addgroup -S -g 1000 redis && adduser …
    │   └── ● ...
    │       └── → redis:latest (b5671a2a6a49, 5.71MB)
    └── → alpine:3.20, alpine:latest (8cf5d00e8892, 3.46MB)
"""

from __future__ import annotations

from .. import digest as digests
from ..format import ellipsis
from .model import Graph, Image, Layer, marks

__all__ = ["tree", "layer_line", "image_line"]

STEP_WIDTH = 48


def _marks(state: str, note: str, extra: list[str]) -> str:
    words = extra + marks(state, note)
    return f" ({'; '.join(words)})" if words else ""


def layer_line(layer: Layer) -> str:
    """One layer: ``● short  size  step`` and what is special about it."""
    shared = [f"shared by {len(layer.used_by)}"] if layer.shared else []
    return (f"● {layer.short}  {layer.size_text}  {ellipsis(layer.step, STEP_WIDTH)}"
            + _marks(layer.state, layer.note, shared))


def image_line(image: Image, show_platform: bool = False) -> str:
    """One image: ``→ tags (short ID, SIZE)`` and its metadata-only steps."""
    platform = f"{image.platform} " if show_platform and image.platform else ""
    metadata = f" metadata: {', '.join(image.metadata)}" if image.metadata else ""
    containers = [f"{image.containers} container{'s' * (image.containers != 1)}"] \
        if image.containers else []
    return (f"→ {platform}{image.label} ({image.short}, {image.size_text}){metadata}"
            + _marks(image.state, image.note, containers))


def _branch(graph: Graph, layer: Layer, prefix: str, last: bool, root: bool,
            out: list[str], show_platform: bool) -> None:
    joint = "" if root else ("└── " if last else "├── ")
    out.append(prefix + joint + layer_line(layer))
    inner = prefix if root else prefix + ("    " if last else "│   ")
    items: list[tuple[str, object]] = [("layer", child) for child in graph.children(layer.chain_id)]
    items += [("image", image) for image in graph.images_on(layer.chain_id)]
    for position, (kind, item) in enumerate(items):
        is_last = position == len(items) - 1
        if kind == "layer":
            _branch(graph, item, inner, is_last, False, out, show_platform)  # type: ignore[arg-type]
        else:
            out.append(inner + ("└── " if is_last else "├── ")
                       + image_line(item, show_platform))  # type: ignore[arg-type]


def tree(graph: Graph) -> str:
    """Return the graph as text: title, notes, then one tree per base layer."""
    out = [graph.title, *graph.notes]
    show_platform = graph.index is not None or graph.view == "index"
    if graph.index is not None:
        index = graph.index
        platforms = ", ".join(graph.images[i].platform for i in index.images if i in graph.images)
        out.append(f"index {index.reference} ({digests.short(index.digest)}): {platforms}")
    for root in graph.roots():
        _branch(graph, root, "", True, True, out, show_platform)
    for image in graph.sorted_images():
        if image.top is None or image.top not in graph.layers:
            out.append(image_line(image, show_platform))
    return "\n".join(out)
