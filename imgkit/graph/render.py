"""Turn DOT text into pictures with Graphviz's ``dot``, or say how to get it.

The Python ``graphviz`` package only runs the ``dot`` program; it is
imported here, when a picture is asked for, so ``import imgkit`` stays light.
Without ``dot`` on ``PATH`` a graph shows as a text tree in Jupyter, with
one line saying how to install Graphviz, and ``save("x.svg")`` raises
``GraphvizMissingError`` with the same advice.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import GraphFormatError, GraphvizMissingError

__all__ = ["INSTALL_HINT", "GraphvizMissingError", "GraphFormatError", "dot_available",
           "render", "save", "format_of", "svg_or_none", "fallback_text", "FORMATS"]

INSTALL_HINT = ("install graphviz to see this as a picture: sudo apt-get install graphviz "
                "(or conda install -c conda-forge graphviz)")

#: File suffixes ``save`` writes: DOT text as is, pictures through ``dot``.
FORMATS = {".dot": None, ".gv": None, ".svg": "svg", ".png": "png", ".pdf": "pdf"}


def dot_available() -> bool:
    """Return whether Graphviz's ``dot`` program is on ``PATH``."""
    return shutil.which("dot") is not None


def render(dot_text: str, fmt: str) -> bytes:
    """Run ``dot -T<fmt>`` on ``dot_text`` and return the picture's bytes."""
    if not dot_available():
        raise GraphvizMissingError(f"Graphviz's dot program was not found: {INSTALL_HINT}")
    import graphviz

    try:
        return graphviz.Source(dot_text).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissingError(f"Graphviz's dot program was not found: {INSTALL_HINT}") from None


def svg_or_none(dot_text: str) -> str | None:
    """Return the SVG of ``dot_text``, or None without ``dot`` (Jupyter then shows the text)."""
    if not dot_available():
        return None
    return render(dot_text, "svg").decode()


def fallback_text(text: str) -> str:
    """Return ``text``, plus how to install Graphviz when pictures cannot be drawn."""
    return text if dot_available() else f"{text}\n{INSTALL_HINT}"


def format_of(path: str | Path) -> str | None:
    """Return the ``dot -T`` format ``path``'s suffix names (None: DOT text); raise if none."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise GraphFormatError(f"cannot write a graph to {target.name}: the name must end in "
                               + ", ".join(FORMATS))
    return FORMATS[suffix]


def save(dot_text: str, path: str | Path) -> Path:
    """Write ``dot_text`` to ``path`` in the format its suffix names; return the path."""
    target = Path(path)
    fmt = format_of(target)
    data = dot_text.encode() if fmt is None else render(dot_text, fmt)
    target.write_bytes(data)
    return target
