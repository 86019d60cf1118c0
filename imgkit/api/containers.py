"""Containers: an image's files plus a writable layer of their own.

``create`` unpacks the image's layers, bottom first, into the container's
own ``rootfs`` - a private copy, so whatever the container changes leaves the
image untouched (Docker gets the same effect with overlay filesystems and
copy-on-write). ``commit`` compares that copy with the image and turns the
difference into one new layer on top of the image's layers: a new image.
``start`` really runs the image's command with the container's ``rootfs`` as
its root directory, where this host allows it (see ``imgkit.runtime``).

A container keeps its image alive: ``rmi`` refuses to delete an image a
container uses, as Docker does.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .. import runtime
from ..errors import ConflictError, CorruptLayerError, ImgkitError, StoreError, UnsafeLayerError
from ..fileio import atomic_write
from ..format import created_ago, ellipsis, epoch_seconds, human_duration, table
from ..oci import ImageConfig
from ..store import ContainerRecord, Records, find_image, utc_now
from ..unpack import apply_layer, remove_tree
from .host import Host, default_host

__all__ = ["create", "start", "stop", "rm", "ps", "commit", "export", "cp", "ContainerList",
           "NoSuchContainerError", "refresh"]

_ADJECTIVES = ("agile", "bold", "brave", "calm", "clever", "eager", "fond", "gentle", "happy",
               "jolly", "keen", "kind", "lucid", "merry", "nifty", "quirky", "sharp", "upbeat",
               "vivid", "wise", "zen", "cosmic", "dazzling", "elated", "festive", "great")
_SCIENTISTS = ("babbage", "curie", "darwin", "einstein", "faraday", "galileo", "hopper",
               "hypatia", "johnson", "kepler", "lovelace", "meitner", "newton", "noether",
               "pasteur", "ritchie", "shannon", "thompson", "turing", "wozniak", "yonath")


class NoSuchContainerError(ImgkitError, LookupError):
    """No container has that name or ID (``No such container: x``)."""


def _container_dir(host: Host, container_id: str) -> Path:
    return host.home / "containers" / container_id


def refresh(host: Host, records: Records) -> None:
    """Mark containers whose process has ended as exited (their monitor wrote the status)."""
    for container in records.containers.values():
        if container.state == "running" and container.pid and not runtime.alive(container.pid):
            ended = runtime.read_exit(_container_dir(host, container.id) / "state") or {}
            container.state, container.pid = "exited", None
            container.exit_code = ended.get("exit_code", 137)
            container.finished = ended.get("finished", utc_now())


def _find(records: Records, text: str) -> ContainerRecord:
    for container in records.containers.values():
        if text == container.name or text.lstrip("/") == container.name:
            return container
    matches = [c for c in records.containers.values() if c.id.startswith(text)]
    if len(matches) == 1 and text:
        return matches[0]
    raise NoSuchContainerError(f"No such container: {text}")


def _new_id(records: Records, image_id: str, name: str | None) -> str:
    # Docker's IDs are random; imgkit derives them from the store's history so
    # that a lesson run twice shows the same IDs.
    serial = len(records.containers)
    while True:
        seed = f"{image_id}\n{name or ''}\n{serial}".encode()
        container_id = hashlib.sha256(seed).hexdigest()
        if container_id not in records.containers:
            return container_id
        serial += 1


def _new_name(records: Records, container_id: str) -> str:
    taken = {c.name for c in records.containers.values()}
    number = int(container_id[:8], 16)
    name = f"{_ADJECTIVES[number % len(_ADJECTIVES)]}_{_SCIENTISTS[number // 97 % len(_SCIENTISTS)]}"
    suffix = 1
    candidate = name
    while candidate in taken:
        suffix += 1
        candidate = f"{name}{suffix}"
    return candidate


def apply_stored_layer(host: Host, digest: str, root: Path, limits=None) -> None:
    """Apply a layer blob of the store to ``root``; every failure is one ``ImgkitError``.

    ``imgkit.unpack`` refuses hostile entries itself; what else can go wrong
    with a stored blob (a tar that Python's reader cannot follow, a name the
    filesystem refuses, a full disk) is said in one line too, naming the layer.
    """
    try:
        with host.store.blobs.open(digest) as blob:
            apply_layer(blob, root, limits=limits or host.layer_limits())
    except ImgkitError:
        raise
    except FileNotFoundError as exc:
        if not host.store.blobs.has(digest):
            raise StoreError(f"layer blob {digest} is missing from the store; run "
                             "`imgkit fsck` and pull the image again") from None
        raise UnsafeLayerError(f"layer {digest} cannot be applied: {exc.strerror}: "
                               f"{exc.filename!r}") from None
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise CorruptLayerError(digest, f"not a tar archive Python can read ({exc})") from None
    except OSError as exc:
        where = f": {os.path.basename(exc.filename)!r}" if exc.filename else ""
        raise UnsafeLayerError(f"layer {digest} cannot be applied: "
                               f"{exc.strerror or exc}{where}") from None


def _config(host: Host, image_id: str, container_id: str | None = None) -> ImageConfig:
    # A container keeps a copy of its image's config, so it still starts after
    # `rmi -f` removed the image (as Docker's containers do).
    if container_id is not None:
        copy = _container_dir(host, container_id) / "config.json"
        if copy.exists():
            return ImageConfig.from_json(copy.read_bytes())
    return ImageConfig.from_json(host.store.blobs.read(image_id))


def create(image: str, command: list[str] | None = None, *, name: str | None = None,
           host: Host | None = None) -> str:
    """Create a container from ``image`` (unpacking its layers into a fresh root); return its ID.

    Like ``docker create``: the container is not started. ``command``
    replaces the image's ``CMD``. The image must be in the store already.
    """
    host = host or default_host()
    records = host.store.records()
    record = find_image(records, image)
    if name is not None and any(c.name == name for c in records.containers.values()):
        raise ConflictError(f'Conflict. The container name "/{name}" is already in use')
    config = _config(host, record.id)
    argv = list(config.entrypoint or ()) + list(command if command is not None else config.cmd or ())
    with host.store.transaction() as records:
        container_id = _new_id(records, record.id, name)
        rootfs = _container_dir(host, container_id) / "rootfs"
        if rootfs.exists():
            remove_tree(rootfs)
        rootfs.mkdir(parents=True)
        try:
            limits = host.layer_limits()
            for chain_id in record.layers:
                apply_stored_layer(host, records.layers[chain_id].digest, rootfs, limits)
        except BaseException:
            remove_tree(_container_dir(host, container_id))
            raise
        atomic_write(_container_dir(host, container_id) / "config.json",
                     host.store.blobs.read(record.id))
        records.containers[container_id] = ContainerRecord(
            id=container_id, name=name or _new_name(records, container_id), image=record.id,
            image_reference=image, command=argv, created=utc_now(), layers=list(record.layers))
    return container_id


@dataclass(frozen=True)
class StartResult:
    """What ``start`` did: whether the command really ran, and its output when attached."""

    container_id: str
    ran: bool
    exit_code: int | None = None
    output: bytes = b""
    reason: str = ""

    def __repr__(self) -> str:
        if not self.ran:
            return f"started {self.container_id[:12]} without a process: {self.reason}"
        if self.exit_code is None:
            return self.container_id[:12]
        return self.output.decode(errors="replace")


def start(container: str, *, attach: bool = False, host: Host | None = None) -> StartResult:
    """Start a container's command in its own root (``attach=True`` waits and returns its output).

    Where this host cannot run commands in a container root (not Linux, or
    neither root nor user namespaces), the container is recorded as running
    without a process, and the result says why.
    """
    host = host or default_host()
    with host.store.transaction() as records:
        refresh(host, records)
        found = _find(records, container)
        if found.state == "running":
            return StartResult(found.id, ran=found.pid is not None)
        config = _config(host, found.image, found.id)
        if not found.command:
            raise ImgkitError("no command specified")
        spec = runtime.RunSpec(str(_container_dir(host, found.id) / "rootfs"), found.command,
                               list(config.env), config.working_dir or "/")
        possible, why = runtime.can_run()
        found.started, found.exit_code, found.finished = utc_now(), None, None
        if not possible:
            found.state, found.pid = "running", None
            return StartResult(found.id, ran=False, reason=why)
        if attach:
            done = runtime.run(spec)
            found.state, found.exit_code, found.finished = "exited", done.returncode, utc_now()
            return StartResult(found.id, True, done.returncode, done.stdout + done.stderr)
        found.state = "running"
        found.pid = runtime.start_detached(spec, _container_dir(host, found.id) / "state")
        return StartResult(found.id, ran=True)


def stop(container: str, *, timeout: float = 10.0, host: Host | None = None) -> str:
    """Stop a running container (SIGTERM, then SIGKILL after ``timeout`` seconds); return its ID."""
    host = host or default_host()
    with host.store.transaction() as records:
        found = _find(records, container)
        if found.state == "running":
            if found.pid:
                runtime.stop(found.pid, timeout)
            refresh(host, records)
            if found.state == "running":           # it ran without a process
                found.state, found.exit_code, found.finished = "exited", 137, utc_now()
        return found.id


def rm(*containers: str, force: bool = False, host: Host | None = None) -> list[str]:
    """Remove containers (``force=True`` stops a running one first); return their IDs.

    Layers that only a removed container still held (its image was removed
    with ``rmi -f``) are freed too, silently, as Docker frees them.
    """
    from .removal import _unused_blobs, delete_blobs

    host = host or default_host()
    removed, released = [], set()
    with host.store.lock():
        with host.store.transaction() as records:
            refresh(host, records)
            for text in containers:
                found = _find(records, text)
                if found.state == "running":
                    if not force:
                        raise ConflictError(f'cannot remove container "/{found.name}": container '
                                            "is running: stop the container before removing or "
                                            "force remove")
                    if found.pid:
                        runtime.stop(found.pid, 0)
                del records.containers[found.id]
                removed.append(found.id)
                released |= _release_layers(records, found.layers)
            garbage = _unused_blobs(records, released)
        # After the records are saved, under the same lock (see rmi).
        delete_blobs(host.store, garbage)
    for container_id in removed:
        remove_tree(_container_dir(host, container_id))
    return removed


def _release_layers(records: Records, chain_ids: list[str]) -> set[str]:
    """Drop the records of layers no image and no container uses any more; return their blobs."""
    users, held = records.layer_users(), records.container_layers()
    released = set()
    for chain_id in reversed(chain_ids):
        layer = records.layers.get(chain_id)
        if layer is None or users.get(chain_id) or held.get(chain_id):
            continue
        del records.layers[chain_id]
        released.add(layer.digest)
    return released


class ContainerList(list):
    """The rows of ``docker ps``; shows as Docker's table."""

    headers = ("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES")

    def __repr__(self) -> str:
        return table(self.headers, self)

    def _repr_html_(self) -> str:
        from ..format import html_table
        return html_table(self.headers, self)


def _status(container: ContainerRecord, now: float) -> str:
    if container.state == "running":
        return "Up " + human_duration(now - epoch_seconds(container.started or container.created))
    if container.state == "exited":
        ago = created_ago(container.finished or container.created, now)
        return f"Exited ({container.exit_code}) {ago}"
    return "Created"


def ps(*, all: bool = False, no_trunc: bool = False, host: Host | None = None,
       now: float | None = None) -> ContainerList:
    """List containers like ``docker ps`` (running ones; ``all=True`` every one), newest first."""
    host = host or default_host()
    with host.store.transaction() as records:
        refresh(host, records)
    now = epoch_seconds(now)
    rows = ContainerList()
    for c in sorted(records.containers.values(), key=lambda c: c.created, reverse=True):
        if not all and c.state != "running":
            continue
        command = json.dumps(" ".join(c.command))
        rows.append([c.id if no_trunc else c.id[:12], c.image_reference,
                     command if no_trunc else ellipsis(command, 20), created_ago(c.created, now),
                     _status(c, now), "", c.name])
    return rows


def commit(container: str, repository: str | None = None, *, message: str | None = None,
           author: str | None = None, created: str | None = None,
           host: Host | None = None) -> str:
    """Make a new image from a container's changes (``docker commit``); return its ID.

    The new image is the container's image plus ONE layer: the files the
    container added or changed, and whiteouts for the files it deleted. Its
    history gets an entry for that layer. ``created`` fixes the timestamp
    (lessons use it so the new image's ID is the same every run).
    """
    from .committing import commit_container
    return commit_container(container, repository, message=message, author=author,
                            created=created, host=host or default_host())


def cp(source: str | Path, destination: str, *, host: Host | None = None) -> None:
    """Copy a file or directory from this computer into a container, like ``docker cp``.

    ``destination`` is ``CONTAINER:/path``. A path ending in ``/`` is a
    directory to copy into; otherwise it is the new name. The copy goes in
    through the same safe extraction as a layer, so it cannot land outside
    the container's root.
    """
    from ..tarlayer import Entry, entries_from_directory, write_tar

    host = host or default_host()
    name, sep, target = destination.partition(":")
    if not sep or not target.startswith("/"):
        raise ImgkitError("destination must be CONTAINER:/absolute/path")
    source = Path(source)
    if not source.exists():
        raise ImgkitError(f"no such file or directory: {source}")
    found = _find(host.store.records(), name)
    inside = target.rstrip("/") + "/" + source.name if target.endswith("/") else target
    inside = inside.lstrip("/")
    if source.is_dir():
        entries = entries_from_directory(source, prefix=inside)
    else:
        entries = [Entry.file(inside, source.read_bytes(), source.stat().st_mode & 0o777)]
    # No parent entries: directories the container has keep their modes (/tmp stays 1777).
    apply_layer(write_tar(entries, add_parents=False), _container_dir(host, found.id) / "rootfs")


def export(container: str, output, *, host: Host | None = None) -> int:
    """Write a container's whole filesystem as one tar (``docker export``); return its size."""
    from ..tarlayer import tar_from_directory

    host = host or default_host()
    found = _find(host.store.records(), container)
    data = tar_from_directory(_container_dir(host, found.id) / "rootfs")
    if hasattr(output, "write"):
        output.write(data)
    else:
        Path(output).write_bytes(data)
    return len(data)


def container_rootfs(host: Host, container: str) -> Path:
    """Return the directory holding a container's files (for lessons that look inside)."""
    found = _find(host.store.records(), container)
    return _container_dir(host, found.id) / "rootfs"

