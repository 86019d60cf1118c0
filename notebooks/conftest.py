"""nbval settings for the lessons: compare the layer graphs by their text, not their SVG bytes.

A graph's SVG holds Graphviz's version and coordinates that depend on the
fonts installed, so the same graph draws to different bytes on another
machine. Every graph output also carries its text tree (``text/plain``),
which nbval still compares, and tests/graph checks each view's DOT text
against golden files.
"""

from __future__ import annotations

from nbval.plugin import IPyNbFile

_original_init = IPyNbFile.__init__


def _init_skipping_svg(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    self.skip_compare = self.skip_compare + ("image/svg+xml",)


if not getattr(IPyNbFile, "_imgkit_skips_svg", False):
    IPyNbFile.__init__ = _init_skipping_svg
    IPyNbFile._imgkit_skips_svg = True
