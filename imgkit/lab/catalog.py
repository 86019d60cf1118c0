"""The course images: which repositories and tags the lab serves, and from which recipe.

Each entry names a repository on the lab (which stands in for Docker Hub, so
the paths are ``library/...`` like Docker Hub's official images), the tags
that point at one image, and the recipe that builds it. Several tags may
point at the same image (``alpine:3.20`` and ``alpine:latest``), exactly as
on Docker Hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import recipes

__all__ = ["CourseImage", "CATALOG", "find", "build"]


@dataclass(frozen=True)
class CourseImage:
    """One image of the course: its repository, its tags, and how it is built."""

    repository: str
    tags: tuple[str, ...]
    summary: str
    recipe: Callable[[int], object]

    @property
    def name(self) -> str:
        """The familiar name learners type: ``alpine``, ``redis``."""
        return self.repository.removeprefix("library/")


CATALOG: tuple[CourseImage, ...] = (
    CourseImage("library/alpine", ("3.19",),
                "alpine 3.19.1, one layer, linux/amd64",
                lambda r: recipes.alpine("3.19", r)),
    CourseImage("library/alpine", ("3.20", "latest"),
                "alpine 3.20.0, one layer, multi-platform: linux/amd64 and linux/arm64/v8",
                lambda r: recipes.alpine("3.20", r)),
    CourseImage("library/busybox", ("latest",),
                "busybox, one static program with hard-linked applets",
                lambda r: recipes.busybox("latest", r)),
    CourseImage("library/busybox", ("glibc",),
                "busybox with the GNU C library beside it",
                lambda r: recipes.busybox("glibc", r)),
    CourseImage("library/redis", ("latest", "7.2", "7.2.5"),
                "redis on alpine:3.20: three more layers, ENV/VOLUME/WORKDIR/ENTRYPOINT/EXPOSE/CMD",
                recipes.redis),
    CourseImage("library/python", ("3.12-alpine",),
                "python on alpine:3.20: shares its base layer with redis",
                recipes.python),
    CourseImage("library/ubuntu", ("latest", "24.04", "noble"),
                "ubuntu 24.04 in five layers, one of which deletes files (whiteouts)",
                recipes.ubuntu_noble),
    CourseImage("library/ubuntu", ("22.04", "jammy"),
                "ubuntu 22.04, one layer",
                recipes.ubuntu_jammy),
    CourseImage("library/mongo", ("4.2.24",),
                "mongo on ubuntu:22.04: seven more layers",
                recipes.mongo),
    CourseImage("library/hello-world", ("latest",),
                "one layer holding /hello, a tiny static x86-64 program that really runs",
                recipes.hello_world),
)


def find(name: str, tag: str = "latest") -> CourseImage:
    """Return the catalog entry serving ``name:tag`` (``name`` familiar or ``library/...``)."""
    repository = name if "/" in name else f"library/{name}"
    for entry in CATALOG:
        if entry.repository == repository and tag in entry.tags:
            return entry
    raise LookupError(f"no course image {name}:{tag}")


def build(entry: CourseImage, revision: int = 1):
    """Build one course image (an image or a multi-platform index) at ``revision``."""
    return entry.recipe(revision)
