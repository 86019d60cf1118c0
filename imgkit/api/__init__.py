"""The verbs: what a learner types, as small functions over a ``Host``.

``imgkit.pull("alpine")`` acts on the default host; ``Host(home).pull(...)``
is not needed - every verb takes ``host=`` to act on another one. This is
the only layer that joins registries and the store.
"""

from __future__ import annotations

import importlib

from .host import Host, default_host

# verb -> module that defines it; imported on first use to keep start-up quick.
_VERBS = {
    "pull": "pulling", "ratelimit": "pulling",
    "images": "listing",
    "inspect": "inspecting", "history": "inspecting",
    "tag": "tagging",
    "fsck": "maintenance",
    "rmi": "removal",
    "prune": "pruning",
    "system_df": "diskusage",
    "create": "containers", "start": "containers", "stop": "containers", "rm": "containers",
    "ps": "containers", "commit": "containers", "export": "containers", "cp": "containers",
    "save": "bundle", "load": "bundle",
    "doctor": "preflight",
    # Not re-exported as imgkit.build: that name is the image builder module.
    "build": "building",
}

__all__ = ["Host", "default_host", *sorted(_VERBS)]


def __getattr__(name: str):
    if name in _VERBS:
        return getattr(importlib.import_module(f".{_VERBS[name]}", __name__), name)
    raise AttributeError(f"module 'imgkit.api' has no attribute {name!r}")
