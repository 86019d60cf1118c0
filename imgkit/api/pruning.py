"""``image prune``: remove dangling images, or with ``all`` every image no container uses.

Docker's rules (moby's ImagesPrune): the candidates are dangling images
(no tags) - or, with ``all``, every image - except untagged parents of other
images; each is removed like ``rmi`` without force, so an image a container
uses (running or stopped) is quietly skipped. ``until`` and ``label``
filters narrow the candidates. The space reclaimed is the size of the layers
actually deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConflictError, ImgkitError
from ..format import human_size
from .host import Host, default_host
from .removal import DeleteItem, RemovalResult, _unused_blobs, delete_blobs, remove_one

__all__ = ["prune", "PruneResult", "WARNING_DANGLING", "WARNING_ALL"]

WARNING_DANGLING = "WARNING! This will remove all dangling images."
WARNING_ALL = "WARNING! This will remove all images without at least one container associated to them."


@dataclass
class PruneResult:
    """What ``prune`` deleted, in Docker's words, and the space it reclaimed."""

    items: list[DeleteItem] = field(default_factory=list)
    reclaimed: int = 0
    removal: RemovalResult | None = None

    def lines(self) -> list[str]:
        """Return the lines ``docker image prune -f`` prints."""
        out = []
        if self.items:
            out.append("Deleted Images:")
            out += [f"untagged: {i.untagged}" if i.untagged else f"deleted: {i.deleted}"
                    for i in self.items]
            out.append("")
        out.append(f"Total reclaimed space: {human_size(self.reclaimed, 4)}")
        return out

    def __repr__(self) -> str:
        return "\n".join(self.lines())


def prune(*, all: bool = False, filters=(), host: Host | None = None) -> PruneResult:
    """Remove dangling images (``all=True``: every image without a container), like ``docker image prune -f``.

    ``filters`` are ``"until=24h"``, ``"label=key"``, ``"label=key=value"``,
    ``"label!=key"``... as with ``docker image prune --filter``.
    """
    from ..filters import parse_prune_filters

    host = host or default_host()
    matches = parse_prune_filters(filters)
    dangling_only = not all and matches.dangling is not False
    result = PruneResult(removal=RemovalResult())
    with host.store.lock():
        with host.store.transaction() as records:
            candidates = []
            for image in records.images.values():
                refs = records.references_to(image.id)
                if not refs and records.children_of(image.id):
                    continue            # an untagged parent goes with its child, not before
                if dangling_only and any("@" not in r for r in refs):
                    continue
                if not matches(image):
                    continue
                candidates.append(image.id)
            released: set[str] = set()
            # Docker walks a Go map (random order); imgkit goes by ID so lessons repeat exactly.
            for image_id in sorted(candidates):
                if image_id not in records.images:
                    continue            # removed already as the parent of another candidate
                # moby removes a named candidate name by name (each its own `rmi`
                # without force), an unnamed one by ID; a conflict (a container
                # uses it) skips the image, as Docker does.
                names = records.references_to(image_id)
                targets = names or [image_id[len("sha256:"):]]
                for target in targets:
                    if image_id not in records.images:
                        break
                    if names and target not in records.references:
                        continue        # went with an earlier name (the repository's last tag)
                    try:
                        released |= remove_one(records, target, result.removal, force=False,
                                               prune=True)
                    except ConflictError:
                        break
                    except ImgkitError:
                        continue        # moby logs a failed candidate and goes on
            result.removal.settle(records)
            layers = {o.chain_id: o for o in result.removal.layers}
            result.items = list(result.removal.items)
            result.reclaimed = sum(o.size for o in layers.values() if o.freed)
            garbage = _unused_blobs(records, released)
        # Still under the lock: see `rmi` (a pull re-checks its blobs under it).
        delete_blobs(host.store, garbage)
    return result
