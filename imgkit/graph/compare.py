"""Before and after: run an operation and draw the store on both sides of it.

``before_after(lambda: imgkit.rmi("alpine"))`` snapshots the store, runs the
operation, snapshots it again, and marks what changed: in *before*, what
went (red, dashed); in *after*, what came (green, bold) and images whose
tags moved. Both are drawn in one picture, side by side (one above the
other when there are many images), or as two text trees.
"""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass
from typing import Any, Callable

from .collect import snapshot
from .model import Drawable, Graph
from .views import summary

__all__ = ["Comparison", "before_after"]


@dataclass(repr=False)
class Comparison(Drawable):
    """Two graphs of the store, before and after an operation, drawn side by side.

    In ``before``, what the operation removed is marked "removed"; in
    ``after``, what it made is marked "new" and images whose tags changed
    "tags changed". ``result`` is what the operation returned.
    """

    before: Graph
    after: Graph
    label: str
    result: Any = None

    def to_dot(self) -> str:
        """Return both graphs as one DOT picture, in two boxes side by side."""
        from .dot import body, header_label, preamble, rankdir_of

        rankdir = rankdir_of(self.after, max(len(self.before.images), len(self.after.images)))
        parts = ["digraph imgkit {",
                 *preamble(rankdir,
                           header_label(f"Before and after: {self.label}", (), _legend(self))),
                 ]
        for prefix, g in (("b_", self.before), ("a_", self.after)):
            parts.append(f"  subgraph cluster_{prefix[0]} {{")
            parts.append(f'  label=<<B>{_e(g.title)}</B>>; style=rounded; color="#888888";')
            parts += ["  " + line for line in body(g, prefix, rankdir)]
            parts.append("  }")
        parts.append("}")
        return "\n".join(parts) + "\n"

    def text(self) -> str:
        """Return both graphs as text trees, one after the other."""
        return f"{self.before.text()}\n\n{self.after.text()}"



def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _legend(comparison: Comparison) -> list[str]:
    from .dot import LOOKS, legend_states

    wanted = set(legend_states(comparison.before)) | set(legend_states(comparison.after))
    return [state for state in LOOKS if state in wanted]


def _mark(before: Graph, after: Graph) -> None:
    for chain_id, layer in before.layers.items():
        if chain_id not in after.layers:
            before.layers[chain_id] = dataclasses.replace(layer, state="removed")
    for chain_id, layer in after.layers.items():
        if chain_id not in before.layers:
            after.layers[chain_id] = dataclasses.replace(layer, state="added")
    for image_id, image in before.images.items():
        if image_id not in after.images:
            before.images[image_id] = dataclasses.replace(image, state="removed")
    for image_id, image in after.images.items():
        old = before.images.get(image_id)
        if old is None:
            after.images[image_id] = dataclasses.replace(image, state="added")
        elif old.names != image.names:
            change = [f"+{n}" for n in image.names if n not in old.names]
            change += [f"-{n}" for n in old.names if n not in image.names]
            after.images[image_id] = dataclasses.replace(image, state="changed",
                                                         note="tags " + " ".join(change))


def before_after(operation: Callable[[], Any], *, label: str | None = None, host=None,
                 rankdir: str | None = None) -> Comparison:
    """Run ``operation`` and draw the store before and after it, side by side.

    ``imgkit.graph.before_after(lambda: imgkit.rmi("alpine"), label="rmi alpine")``
    shows what went (red, dashed) and what came (green, bold). The
    operation really runs (on ``host``'s store: pass the same host to it);
    its return value is ``comparison.result``. ``label`` names it in the
    picture (default: the function's name).
    """
    from ..api.host import default_host

    host = host if host is not None else default_host()
    before = snapshot(host.store.records(), host.store.blobs.read, title="before", view="before", rankdir=rankdir)
    result = operation()
    if label is None:
        label = getattr(operation, "__name__", "the operation")
        label = "the operation" if label == "<lambda>" else label
    after = snapshot(host.store.records(), host.store.blobs.read, title=f"after {label}",
                     view="after", rankdir=rankdir)
    _mark(before, after)
    before.notes, after.notes = (summary(before),), (summary(after),)
    return Comparison(before, after, label, result)
