"""See the layers: which images share which layers, drawn in Jupyter.

    >>> imgkit.graph()                               # doctest: +SKIP
    >>> imgkit.graph("redis", "python:3.12-alpine")  # doctest: +SKIP

A layer is named by its ChainID - the layer and every layer under it - so
two images share a layer exactly when they share the whole stack below it.
The graph shows this as a tree: base layers at the top, images as the
leaves, shared layers blue and bold with "shared by N".

The views, each returning a ``Graph`` that draws itself:

- ``imgkit.graph()``: every image in the store; ``imgkit.graph("redis",
  ...)``: just those images and their layers;
- ``imgkit.graph.stack("redis")``: one image's layers, and who else has them;
- ``imgkit.graph.rmi_preview("alpine")``: what ``rmi`` would free, and what
  it keeps because another image uses it;
- ``imgkit.graph.pull_preview("redis")``: which layers a pull would
  download and which "Already exist";
- ``imgkit.graph.index("alpine")``: a multi-platform image, one image per
  platform, yours marked;
- ``imgkit.graph.before_after(lambda: imgkit.rmi("alpine"))``: the store
  before and after an operation, side by side.

Pictures need Graphviz's ``dot`` program; without it a graph shows as a
text tree and says how to install Graphviz. ``g.save("layers.svg")``
writes a file (``.svg``, ``.png`` or ``.dot``); ``g.to_dot()`` gives the
DOT text and ``g.text()`` the tree.
"""

from __future__ import annotations

import sys
import types

from .compare import Comparison, before_after
from .model import Edge, Graph, Image, IndexNode, Layer
from .remote import index, pull_preview
from .render import INSTALL_HINT, GraphFormatError, GraphvizMissingError, dot_available
from .views import graph, rmi_preview, stack

__all__ = ["graph", "stack", "rmi_preview", "pull_preview", "index", "before_after",
           "Graph", "Comparison", "Layer", "Image", "IndexNode", "Edge", "dot_available",
           "INSTALL_HINT", "GraphvizMissingError", "GraphFormatError"]


class _CallableModule(types.ModuleType):
    """This package, callable as the ``graph`` view.

    Once imported, ``imgkit.graph`` is this package, so ``imgkit.graph()``
    must still draw the store - and ``imgkit.graph.stack(...)`` reaches the
    other views.
    """

    def __call__(self, *images: str, host=None, rankdir: str | None = None) -> Graph:
        return graph(*images, host=host, rankdir=rankdir)


sys.modules[__name__].__class__ = _CallableModule
