"""``system df``: how much space images take, and how much of it layers share.

Docker counts an image's SIZE as all of its layers, so adding up the SIZE
column of ``docker images`` counts a shared base layer once per image. ``df
-v`` splits each image's size into SHARED (layers other images use too) and
UNIQUE (what removing only this image would free); the TOTAL counts every
layer once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import reference
from ..store import Records
from .host import Host, default_host

__all__ = ["system_df", "DiskUsage", "ImageUsage"]


@dataclass(frozen=True)
class ImageUsage:
    """One image's row of ``docker system df -v``."""

    repository: str
    tag: str
    image_id: str
    created: str
    size: int
    shared_size: int
    containers: int

    @property
    def unique_size(self) -> int:
        """What deleting only this image would free."""
        return self.size - self.shared_size


@dataclass
class DiskUsage:
    """The numbers behind ``docker system df``: per image, and totals."""

    images: list[ImageUsage] = field(default_factory=list)
    layers_size: int = 0           #: every layer counted once
    active: int = 0                #: images used by at least one container
    containers: int = 0
    running_containers: int = 0
    layer_refcounts: dict[str, int] = field(default_factory=dict)
    layer_sizes: dict[str, int] = field(default_factory=dict)

    def layer_rows(self) -> list[tuple[str, int, int]]:
        """Return ``(chain_id, size, images using it)`` for every layer, most shared first."""
        return sorted(((c, self.layer_sizes.get(c, 0), n) for c, n in self.layer_refcounts.items()),
                      key=lambda row: (-row[2], row[0]))

    @property
    def reclaimable(self) -> int:
        """Bytes freed by removing every image no container uses (Docker's formula)."""
        used = sum(i.unique_size for i in self.images if i.containers)
        return self.layers_size - used

    def summary_rows(self) -> list[list[str]]:
        """Rows of ``docker system df``: TYPE TOTAL ACTIVE SIZE RECLAIMABLE."""
        from ..format import human_size

        def reclaim(reclaimable: int, total: int) -> str:
            if total > 0:
                return f"{human_size(reclaimable, 4)} ({reclaimable * 100 // total}%)"
            return human_size(reclaimable, 4)

        return [
            ["Images", str(len(self.images)), str(self.active), human_size(self.layers_size, 4),
             reclaim(self.reclaimable, self.layers_size)],
            ["Containers", str(self.containers), str(self.running_containers), "0B", "0B"],
            ["Local Volumes", "0", "0", "0B", "0B"],
            ["Build Cache", "0", "0", "0B", "0B"],
        ]


    def summary(self) -> str:
        """Return ``docker system df``'s table."""
        from ..format import table
        return table(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], self.summary_rows())

    def verbose(self, now=None) -> str:
        """Return ``docker system df -v``'s sections, then imgkit's table of shared layers."""
        from ..format import created_ago, human_size, table

        rows = [[i.repository, i.tag, i.image_id[7:19], created_ago(i.created, now),
                 human_size(i.size), human_size(i.shared_size, 4), human_size(i.unique_size, 4),
                 str(i.containers)] for i in self.images]
        parts = [
            "Images space usage:\n",
            table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE",
                   "UNIQUE SIZE", "CONTAINERS"], rows),
            "\nContainers space usage:\n",
            table(["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED",
                   "STATUS", "NAMES"], []),
            "\nLocal Volumes space usage:\n",
            table(["VOLUME NAME", "LINKS", "SIZE"], []),
            "\nBuild cache usage: 0B\n",
            table(["CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"], []),
            "\nLayers and the images that share them (imgkit):\n",
            table(["LAYER", "SIZE", "IMAGES"],
                  [[chain[7:19], human_size(size), str(count)]
                   for chain, size, count in self.layer_rows()]),
        ]
        return "\n".join(parts)

    def __repr__(self) -> str:
        return self.verbose()

    def _repr_html_(self) -> str:
        from html import escape
        return f"<pre>{escape(self.verbose())}</pre>"


def usage(records: Records) -> DiskUsage:
    """Compute the disk usage of a records snapshot."""
    users = records.layer_users()
    result = DiskUsage(layer_refcounts={c: len(u) for c, u in users.items()},
                       layer_sizes={c: layer.content_size for c, layer in records.layers.items()})
    result.layers_size = sum(layer.content_size for chain_id, layer in records.layers.items()
                             if users.get(chain_id))
    result.containers = len(records.containers)
    result.running_containers = sum(c.state == "running" for c in records.containers.values())
    for image in sorted(records.images.values(), key=lambda i: i.created, reverse=True):
        tags = [r for r in records.references_to(image.id) if "@" not in r]
        repository, tag = "<none>", "<none>"
        if tags:
            first = reference.parse(tags[0])
            repository, tag = first.familiar_name, first.tag or "<none>"
        shared = sum(records.layers[c].content_size for c in image.layers
                     if len(users.get(c, ())) > 1)
        containers = len(records.containers_using(image.id))
        result.images.append(ImageUsage(repository, tag, image.id, image.created, image.size,
                                        shared, containers))
        result.active += bool(containers)
    return result


def system_df(*, host: Host | None = None) -> DiskUsage:
    """Return the disk usage of the store, like ``docker system df -v``."""
    host = host or default_host()
    return usage(host.store.records())
