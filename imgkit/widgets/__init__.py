"""Live displays for JupyterLab (ipywidgets); text stays the fallback everywhere else.

- ``PullDisplay``: the live ``docker pull`` that ``imgkit.pull`` shows by
  itself in a notebook - one bar per layer, Docker's status words, bytes
  and speed, "Already exists" in its own colour.
- ``explorer(host=None)``: pick an image; see its layers, its history, and
  the files any one layer adds, changes or deletes.
- ``filter_playground(host=None)``: type a ``--filter``; the images table
  updates as you type.

Each one's ``repr`` is the same information as text, so a lesson's point
never depends on a widget: nbval, a terminal, or a notebook opened without
its kernel see the text. ``IMGKIT_WIDGETS=0`` switches the automatic pull
display off. ipywidgets is imported only when one of these is used.
"""

from __future__ import annotations

import importlib

__all__ = ["PullDisplay", "ImageExplorer", "FilterPlayground", "explorer", "filter_playground",
           "notebook_listener", "widgets_wanted"]

_WHERE = {"PullDisplay": "pull", "ImageExplorer": "imageexplorer", "explorer": "imageexplorer",
          "FilterPlayground": "filterplayground", "filter_playground": "filterplayground",
          "notebook_listener": "auto", "widgets_wanted": "auto"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'imgkit.widgets' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_WHERE))
