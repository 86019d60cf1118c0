"""imgkit: container images, for real, in your own Python.

imgkit pulls images over the OCI distribution protocol, keeps them in a local
store where layers are shared, deletes them with Docker's rules and draws
the layers images share. No Docker daemon is needed.

Start here::

    import imgkit
    imgkit.lab.start()          # a real registry on 127.0.0.1, full of course images

Submodules are imported when first used, so ``import imgkit`` stays fast.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = {"api", "build", "cli", "compress", "config", "digest", "errors", "events",
               "exercises", "fileio", "format", "fsdiff", "graph", "lab", "layerstream", "lesson", "oci",
               "reference", "registry", "runtime", "store", "tarlayer", "unpack", "widgets"}
# Verbs and the Host, re-exported from imgkit.api: imgkit.pull("alpine").
_API_NAMES = {"Host", "default_host", "pull", "ratelimit", "images", "inspect", "history", "tag", "fsck",
              "rmi", "prune", "system_df", "create", "start", "stop", "rm", "ps", "commit",
              "export", "cp", "save", "load", "doctor"}

__all__ = sorted(_SUBMODULES | _API_NAMES | {"__version__"})


def __getattr__(name: str):
    # Lazy submodules: `imgkit.reference` works without importing requests or
    # graphviz up front, which keeps every CLI command quick to start.
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _API_NAMES:
        return getattr(importlib.import_module(".api", __name__), name)
    raise AttributeError(f"module 'imgkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES | _API_NAMES)
