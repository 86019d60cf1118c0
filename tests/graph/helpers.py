"""The course images the graph tests draw, and golden-file comparison."""

from __future__ import annotations

import functools
import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("IMGKIT_UPDATE_GOLDEN") == "1"


def full(name: str) -> str:
    return f"docker.io/library/{name}"


@functools.lru_cache(maxsize=None)
def course_images():
    """Return [(built image, tags)]: alpine with redis and python on it, ubuntu with mongo, hello-world."""
    from imgkit.lab import recipes

    return [
        (recipes.alpine("3.20").images[0], ("alpine:3.20", "alpine:latest")),
        (recipes.redis().images[0], ("redis:latest",)),
        (recipes.python().images[0], ("python:3.12-alpine",)),
        (recipes.ubuntu_jammy(), ("ubuntu:22.04",)),
        (recipes.mongo(), ("mongo:4.2.24",)),
        (recipes.hello_world(), ("hello-world:latest",)),
    ]


def built(name: str):
    """Return the built course image tagged ``name`` (``redis:latest``)."""
    for image, tags in course_images():
        if name in tags:
            return image
    raise LookupError(name)


def assert_golden(name: str, text: str) -> None:
    """Compare ``text`` with ``golden/name``; with IMGKIT_UPDATE_GOLDEN=1, write it instead."""
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
        return
    assert path.exists(), f"no golden file {path}: run with IMGKIT_UPDATE_GOLDEN=1 to write it"
    expected = path.read_text()
    assert text == expected, (f"{name} differs from its golden file; if the change is meant, "
                              "run with IMGKIT_UPDATE_GOLDEN=1 and review the diff")
