"""The files of an image being built: its layers, read on demand, and the ``FROM`` image's adapters.

A build needs to look inside the image it is making: ``COPY`` asks whether
a destination is an existing directory (then the file goes *into* it),
``--chown=app`` reads ``/etc/passwd``, a ``WORKDIR`` that exists makes no
layer, and ``RUN`` needs the whole tree on disk to run a command in it.
``Rootfs`` answers from the layers alone, as Docker's graph driver would
see them stacked: upper layers win, whiteouts hide what lower layers had.

``StoredImage`` and ``StoredLayer`` present an image of the local store in
the shape ``ImageBuilder(base=...)`` expects, reading blobs only when asked,
so a ``FROM`` image costs nothing until a step looks inside it.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import posixpath
import tarfile
from dataclasses import dataclass
from functools import cached_property
from typing import BinaryIO, Iterable, NamedTuple

from .. import digest as digests
from ..errors import BuildError
from ..tarlayer import OPAQUE_WHITEOUT, WHITEOUT_PREFIX, Entry

__all__ = ["Rootfs", "StoredImage", "StoredLayer", "chown_ids"]


class StoredLayer:
    """A layer of an image in the store, shaped like ``tarlayer.Layer``; bytes read on demand."""

    def __init__(self, store, record):
        self._store = store
        self.digest, self.media_type, self.diff_id = record.digest, record.media_type, record.diff_id
        self.size = record.size                       # the blob's bytes, as the manifest says
        self.uncompressed_size = record.content_size  # Docker's SIZE, as Layer names it

    @cached_property
    def blob(self) -> bytes:
        """The compressed blob, read from the store (and checked against its digest)."""
        return self._store.blobs.read(self.digest)

    @cached_property
    def tar(self) -> bytes:
        """The layer's tar, decompressed."""
        blob = self.blob
        if blob[:2] == b"\x1f\x8b":
            return gzip.decompress(blob)
        if blob[:4] == b"\x28\xb5\x2f\xfd":
            try:
                import zstandard
            except ImportError:
                raise BuildError(f"layer {digests.short(self.digest)} is zstd-compressed: building "
                                 "on it needs the optional 'zstandard' package") from None
            return zstandard.ZstdDecompressor().decompressobj().decompress(blob)
        return blob

    def open(self) -> BinaryIO:
        """Open the stored blob for reading, to unpack it without holding it all in memory."""
        return self._store.blobs.open(self.digest)

    def descriptor(self) -> dict:
        """The manifest entry, unchanged from the FROM image's manifest."""
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class StoredImage:
    """An image of the store as ``ImageBuilder(base=...)`` needs it: config, layers, platform."""

    config_bytes: bytes
    layers: tuple
    platform: tuple

    @property
    def config(self) -> dict:
        """The config JSON, parsed (a fresh copy each time)."""
        return json.loads(self.config_bytes)

    @classmethod
    def load(cls, store, record) -> "StoredImage":
        """Read the image ``record`` names from ``store``."""
        layer_records = store.records().layers
        layers = tuple(StoredLayer(store, layer_records[chain_id]) for chain_id in record.layers)
        return cls(store.blobs.read(record.id), layers,
                   (record.os, record.architecture, record.variant))


# -- the image's files so far -------------------------------------------------

class _Node(NamedTuple):
    kind: str
    mode: int
    uid: int
    gid: int
    target: str | None
    layer: int
    member: str


def _member_path(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


class Rootfs:
    """The files of the image being built, read from its layers (bottom first) when asked.

    ``COPY`` asks it whether a destination is an existing directory,
    ``--chown=name`` reads ``/etc/passwd`` through it, and ``RUN`` writes it
    out with ``unpack(root)``. Whiteouts of upper layers hide what lower
    layers had.
    """

    def __init__(self, layers: Iterable) -> None:
        self.layers = list(layers)
        self._files: dict[str, _Node] = {}
        self._applied = 0

    def add(self, layer) -> None:
        """Put a new top layer on."""
        self.layers.append(layer)

    def files(self) -> dict[str, _Node]:
        """Path (without leading ``/``) -> what is there, after all layers."""
        while self._applied < len(self.layers):
            self._apply(self._applied)
            self._applied += 1
        return self._files

    def _apply(self, index: int) -> None:
        with tarfile.open(fileobj=io.BytesIO(self.layers[index].tar), mode="r:") as archive:
            members = archive.getmembers()
        for member in members:            # deletions first: they only hide lower layers
            parent, _, name = _member_path(member.name).rpartition("/")
            if name.startswith(WHITEOUT_PREFIX):
                gone = parent if name == OPAQUE_WHITEOUT else posixpath.join(parent, name[4:])
                for path in [p for p in self._files if p.startswith(gone + "/") or not gone]:
                    del self._files[path]
                if name != OPAQUE_WHITEOUT:
                    self._files.pop(gone, None)
        for member in members:
            path = _member_path(member.name)
            if not path or path.rpartition("/")[2].startswith(WHITEOUT_PREFIX):
                continue
            kind = ("dir" if member.isdir() else "symlink" if member.issym() else
                    "hardlink" if member.islnk() else "file")
            target = member.linkname if kind in ("symlink", "hardlink") else None
            self._files[path] = _Node(kind, member.mode & 0o7777, member.uid, member.gid, target,
                                      index, member.name)

    def unpack(self, root: str | os.PathLike) -> None:
        """Write the image's files into the directory ``root``, applying the layers bottom first.

        This is what a container's root filesystem holds (``imgkit.unpack``
        keeps every entry inside ``root``). A stored layer is streamed from
        its blob unless its tar is already in memory.
        """
        from ..unpack import apply_layer

        for layer in self.layers:
            if isinstance(layer, StoredLayer) and "tar" not in vars(layer):
                with layer.open() as stream:
                    apply_layer(stream, root, preserve_owner=True)
            else:
                apply_layer(layer.tar, root, compression="none", preserve_owner=True)

    def resolve(self, path: str, follow_last: bool = False) -> str:
        """Return ``path`` with the symlinks on its way followed inside this filesystem."""
        files, done, todo, hops = self.files(), [], [p for p in path.split("/") if p], 0
        while todo:
            part = todo.pop(0)
            if part in (".", ".."):
                if part == ".." and done:
                    done.pop()
                continue
            node = files.get("/".join(done + [part]))
            if node is not None and node.kind == "symlink" and (todo or follow_last):
                hops += 1
                if hops > 40:
                    raise ValueError(f"{path}: too many levels of symbolic links")
                done = [] if node.target.startswith("/") else done
                todo = [p for p in node.target.split("/") if p] + todo
                continue
            done.append(part)
        return "/".join(done)

    def is_dir(self, path: str) -> bool:
        """Tell whether ``path`` is a directory (following symlinks)."""
        resolved = self.resolve(path, follow_last=True)
        node = self.files().get(resolved)
        return not resolved or (node is not None and node.kind == "dir")

    def read(self, path: str) -> bytes | None:
        """Return a regular file's bytes, or None if there is no such file."""
        node = self.files().get(self.resolve(path, follow_last=True))
        if node is not None and node.kind == "hardlink":
            node = self.files().get(_member_path(node.target))
        if node is None or node.kind != "file":
            return None
        with tarfile.open(fileobj=io.BytesIO(self.layers[node.layer].tar), mode="r:") as archive:
            return archive.extractfile(node.member).read()

    def with_parents(self, entries: list[Entry], ids: tuple[int, int] | None) -> list[Entry]:
        """Add each missing parent directory: as it is in the image, else new (0755, ``ids``)."""
        have = {entry.path for entry in entries}
        uid, gid = ids or (0, 0)
        parents = []
        for entry in entries:
            parts = entry.path.split("/")
            for depth in range(1, len(parts)):
                path = "/".join(parts[:depth])
                if path in have:
                    continue
                have.add(path)
                node = self.files().get(path)
                parents.append(Entry.directory(path, node.mode, uid=node.uid, gid=node.gid)
                               if node is not None and node.kind == "dir"
                               else Entry.directory(path, 0o755, uid=uid, gid=gid))
        return entries + parents


def chown_ids(text: str, rootfs: Rootfs) -> tuple[int, int]:
    """Read ``--chown=user[:group]``: numbers, or names looked up in the image's passwd/group."""
    def lookup(name: str, file: str, what: str) -> int:
        if name.isdigit():
            return int(name)
        data = (rootfs.read(f"/etc/{file}") or b"").decode("utf-8", "replace")
        for line in data.splitlines():
            fields = line.split(":")
            if len(fields) > 2 and fields[0] == name and fields[2].isdigit():
                return int(fields[2])
        raise LookupError(f"unable to find {what} {name}: no matching entries in {file} file")

    user, _, group = text.partition(":")
    uid = lookup(user, "passwd", "user")
    return uid, lookup(group, "group", "group") if group else uid

