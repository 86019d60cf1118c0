"""Decide whether a live widget can show, and make the pull display when it can."""

from __future__ import annotations

import os

__all__ = ["notebook_listener", "widgets_wanted"]


def widgets_wanted() -> bool:
    """Tell whether live widgets should be used: inside a Jupyter kernel, unless switched off.

    ``IMGKIT_WIDGETS=0`` switches them off (the nbval runs do, because a
    widget's output is a live view that cannot be compared as text).
    """
    if os.environ.get("IMGKIT_WIDGETS", "1") == "0":
        return False
    import sys
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def notebook_listener(name: str):
    """Return a listener that draws a live pull display, or None when no widget can show."""
    if not widgets_wanted():
        return None
    try:
        from .pull import PullDisplay
    except ImportError:
        return None
    display = PullDisplay(name)
    display.show()
    return display
