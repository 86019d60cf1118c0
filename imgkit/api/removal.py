"""``rmi``: remove images with Docker's rules, and say what the removal freed.

Docker's rules, in the order Docker applies them (moby's image_delete.go):

1. Find the image: full ID, then name (``alpine`` = ``alpine:latest``), then
   ID prefix. Not found: ``No such image: alpine:latest``.
2. **By name**, remove that name (``Untagged: alpine:latest``). If it was the
   last tag of its repository, the repository's digest references go too
   (``Untagged: alpine@sha256:...``). If other names remain, the image stays.
   A container using the image blocks this unless ``force``, because the
   image would be left without a name.
3. **By ID**, every name goes - but only if they all belong to one
   repository; otherwise ``conflict: ... image is referenced in multiple
   repositories`` unless ``force``.
4. Then the image itself is deleted (``Deleted: sha256:<id>``) unless a
   *running* container uses it or a child image was built on it (those
   cannot be forced), or a stopped container uses it (``force`` overrides).
5. Its layers are released from the top down (``Deleted: sha256:<chain
   id>``) until a layer another image still uses: those are kept.

imgkit adds what Docker does not say: which layers were freed, and which
were kept and because of which images.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .. import digest as digests
from .. import reference
from ..errors import ConflictError, ImageNotFoundError, ImgkitError
from ..format import human_size
from ..store import Records, find_image
from .host import Host, default_host

__all__ = ["rmi", "RemovalResult", "DeleteItem", "LayerOutcome", "delete_image", "delete_blobs"]


@dataclass(frozen=True)
class DeleteItem:
    """One line of Docker's output: ``Untagged: name`` or ``Deleted: sha256:...``."""

    untagged: str | None = None
    deleted: str | None = None

    def line(self) -> str:
        return f"Untagged: {self.untagged}" if self.untagged else f"Deleted: {self.deleted}"


@dataclass(frozen=True)
class LayerOutcome:
    """What happened to one layer of a deleted image: freed, or kept for other images."""

    chain_id: str
    size: int                      #: Docker's SIZE of the layer (its files' bytes)
    freed: bool
    used_by: tuple[str, ...] = ()  #: names (or short IDs) of images still using it


@dataclass
class RemovalResult:
    """What ``rmi`` did (or, with ``dry_run``, would do), line by line and layer by layer."""

    items: list[DeleteItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    layers: list[LayerOutcome] = field(default_factory=list)
    dry_run: bool = False
    missing_only: bool = True      #: every error was "No such image" (exit 0 with -f)

    @property
    def freed(self) -> list[LayerOutcome]:
        """Layers whose data was removed."""
        return [layer for layer in self.layers if layer.freed]

    @property
    def kept(self) -> list[LayerOutcome]:
        """Layers of deleted images that stay because other images use them."""
        return [layer for layer in self.layers if not layer.freed]

    def settle(self, records: Records) -> None:
        """Restate the layer outcomes as they stand once every argument was handled.

        A layer kept while the first image went may be freed when a later
        one goes (``rmi redis python``), and the images named as still using
        it must be the ones left at the end.
        """
        final: dict[str, LayerOutcome] = {}
        users = records.layer_users()
        held = records.container_layers()
        labels = _labeller(records)
        for outcome in self.layers:
            chain = outcome.chain_id
            if chain in records.layers and (users.get(chain) or held.get(chain)):
                names = tuple(sorted({labels(i) for i in users.get(chain, ())}
                                     | {f"container {c}" for c in held.get(chain, ())}))
                final[chain] = LayerOutcome(chain, outcome.size, False, names)
            else:
                final[chain] = LayerOutcome(chain, outcome.size, True)
        self.layers = list(final.values())

    def docker_lines(self) -> list[str]:
        """Return exactly the lines ``docker rmi`` prints on standard output."""
        return [item.line() for item in self.items]

    def explanation(self) -> list[str]:
        """Return imgkit's extra lines: what was freed, what was kept and why."""
        if not self.layers:
            return []
        verb = "would free" if self.dry_run else "freed"
        freed = self.freed
        lines = [f"imgkit: {verb} {_count(len(freed), 'layer')}, "
                 f"{human_size(sum(layer.size for layer in freed))}"]
        groups: dict[tuple[str, ...], list[LayerOutcome]] = {}
        for layer in self.kept:
            groups.setdefault(layer.used_by, []).append(layer)
        for users, layers in groups.items():
            lines.append(f"imgkit: kept {_count(len(layers), 'layer')}, "
                         f"{human_size(sum(layer.size for layer in layers))}, "
                         f"still used by {', '.join(users)}")
        return lines

    def lines(self) -> list[str]:
        """Docker's lines, then imgkit's explanation."""
        prefix = ["(dry run: nothing was deleted)"] if self.dry_run else []
        return prefix + self.docker_lines() + self.explanation()

    def __repr__(self) -> str:
        return "\n".join(self.lines() + [f"Error: {e}" for e in self.errors])


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _familiar(ref: str) -> str:
    return reference.parse(ref).familiar


def _name_of(ref: str) -> str:
    return reference.parse(ref).name


def _is_single_reference(refs: list[str]) -> bool:
    """Docker's isSingleReference: at most one tag, and every name in one repository."""
    if len(refs) <= 1:
        return len(refs) == 1
    tags = [r for r in refs if "@" not in r]
    if len(tags) > 1:
        return False
    single = tags[0] if tags else refs[0]
    digest_repos = {_name_of(r) for r in refs if "@" in r}
    return len(digest_repos) == 1 and _name_of(single) in digest_repos


class _Conflict(ConflictError):
    def __init__(self, image_id: str, message: str, hard: bool, used: bool = False):
        self.hard, self.used = hard, used
        super().__init__(f"conflict: unable to delete {digests.short(image_id)} "
                         f"({'cannot be forced' if hard else 'must be forced'}) - {message}")


def _check_conflicts(records: Records, image_id: str, *, soft: bool,
                     active_reference: bool = True) -> _Conflict | None:
    if records.children_of(image_id):
        return _Conflict(image_id, "image has dependent child images", hard=True)
    users = records.containers_using(image_id)
    running = [c for c in users if c.state == "running"]
    if running:
        return _Conflict(image_id, "image is being used by running container "
                         f"{running[0].id[:12]}", hard=True, used=True)
    if soft and active_reference and records.references_to(image_id):
        return _Conflict(image_id, "image is referenced in multiple repositories", hard=False)
    stopped = [c for c in users if c.state != "running"]
    if soft and stopped:
        return _Conflict(image_id, "image is being used by stopped container "
                         f"{stopped[0].id[:12]}", hard=False, used=True)
    return None


def _labeller(records: Records):
    """Return a function naming an image by its first tag (else its short ID).

    The tags of every image are gathered in one pass: asking the records for
    each image in turn would make removing many images quadratic.
    """
    tags: dict[str, list[str]] = {}
    for ref, image_id in records.references.items():
        if "@" not in ref:
            tags.setdefault(image_id, []).append(ref)

    def label(image_id: str) -> str:
        found = sorted(tags.get(image_id, ()))
        return _familiar(found[0]) if found else digests.short(image_id)
    return label


def delete_image(records: Records, image_id: str, result: RemovalResult, *, force: bool,
                 prune: bool = True, quiet: bool = False) -> set[str]:
    """Delete an image whose names are handled; return the blob digests it released."""
    conflict = _check_conflicts(records, image_id, soft=not force)
    if conflict is not None:
        dangling = not records.references_to(image_id)
        if quiet and (not dangling or conflict.used):
            return set()
        raise conflict
    image = records.images[image_id]
    for ref in records.references_to(image_id):
        del records.references[ref]
        result.items.append(DeleteItem(untagged=_familiar(ref)))
    del records.images[image_id]
    result.items.append(DeleteItem(deleted=image_id))
    released = {image_id, image.manifest_digest}
    users = records.layer_users()
    held = records.container_layers()      # a container keeps its image's layers
    for chain_id in reversed(image.layers):
        layer = records.layers[chain_id]
        if users.get(chain_id) or held.get(chain_id):
            # Who still uses it is settled once every argument is handled.
            result.layers.append(LayerOutcome(chain_id, layer.content_size, False))
            continue
        del records.layers[chain_id]
        result.items.append(DeleteItem(deleted=chain_id))
        result.layers.append(LayerOutcome(chain_id, layer.content_size, True))
        released.add(layer.digest)
    released.update(image.blobs)
    if prune and image.parent and image.parent in records.images:
        released |= delete_image(records, image.parent, result, force=False, quiet=True)
    return released


def remove_one(records: Records, text: str, result: RemovalResult, force: bool,
               prune: bool) -> set[str]:
    """Apply Docker's ``rmi`` rules to one argument; return the blobs it released."""
    image = find_image(records, text)
    image_id = image.id
    refs = records.references_to(image_id)
    by_id = image_id.startswith(text) or image_id[len("sha256:"):].startswith(text)
    if not by_id:
        if not force and _is_single_reference(refs):
            users = records.containers_using(image_id)
            if users:
                raise ConflictError(
                    f'conflict: unable to remove repository reference "{text}" (must force) - '
                    f"container {users[0].id[:12]} is using its referenced image "
                    f"{digests.short(image_id)}")
        named = reference.parse(text).with_default_tag()
        full = str(named)
        records.references.pop(full, None)
        result.items.append(DeleteItem(untagged=named.familiar))
        refs = records.references_to(image_id)
        if named.digest is None and not any("@" not in r and _name_of(r) == named.name
                                            for r in refs):
            for ref in list(refs):
                if "@" in ref and _name_of(ref) == named.name:
                    del records.references[ref]
                    result.items.append(DeleteItem(untagged=_familiar(ref)))
            refs = records.references_to(image_id)
        if refs:
            return set()
        return delete_image(records, image_id, result, force=force, prune=prune, quiet=True)
    if _is_single_reference(refs):
        conflict = _check_conflicts(records, image_id, soft=not force, active_reference=False)
        if conflict is not None:
            raise conflict
        for ref in refs:
            del records.references[ref]
            result.items.append(DeleteItem(untagged=_familiar(ref)))
    return delete_image(records, image_id, result, force=force, prune=prune)


def _unused_blobs(records: Records, candidates: set[str]) -> set[str]:
    still = {layer.digest for layer in records.layers.values()}
    for image in records.images.values():
        still.update(image.blobs)
        still.update({image.id, image.manifest_digest})
    return candidates - still


def rmi(*names: str, force: bool = False, prune: bool = True, dry_run: bool = False,
        host: Host | None = None) -> RemovalResult:
    """Remove images, like ``docker rmi``: by name, ID or ID prefix, each in turn.

    Returns a ``RemovalResult`` holding Docker's ``Untagged:``/``Deleted:``
    lines, the errors (one per argument that failed; Docker carries on with
    the next), and which layers were freed or kept. ``dry_run=True`` works
    it all out without deleting anything. ``force=True`` is ``rmi -f``.
    """
    host = host or default_host()
    result = RemovalResult(dry_run=dry_run)
    store = host.store
    if dry_run:
        records = copy.deepcopy(store.records())
        for name in names:
            _try(records, name, result, force, prune)
        result.settle(records)
        return result
    with store.lock():
        with store.transaction() as records:
            released: set[str] = set()
            for name in names:
                released |= _try(records, name, result, force, prune)
            result.settle(records)
            garbage = _unused_blobs(records, released)
        # The records no longer name these blobs; a crash before this loop only
        # leaves garbage that `imgkit fsck --repair` collects. The lock is still
        # held: a pull that counted on one of them ("Already exists") checks
        # again under this lock before it records its image, and fetches it again.
        delete_blobs(store, garbage)
    return result


def delete_blobs(store, digests_: set[str]) -> None:
    """Delete blobs the saved records no longer name (call with the store's lock held)."""
    for blob in sorted(digests_):
        store.blobs.delete(blob)


def _try(records: Records, name: str, result: RemovalResult, force: bool, prune: bool) -> set[str]:
    printed = len(result.items)
    try:
        return remove_one(records, name, result, force, prune)
    except ImgkitError as exc:
        # Like Docker, a failed argument prints only its error; a name it had
        # already removed stays removed (moby untags before it finds the conflict).
        del result.items[printed:]
        if not isinstance(exc, ImageNotFoundError):
            result.missing_only = False
        result.errors.append(str(exc))
        return set()
