"""What one layer does to the files of the layers under it: adds, changes, deletes.

A layer is a tar of changes. Read alone it cannot say whether ``/etc/hosts``
is new or replaces an older one, so the layers below are read too (their
tar headers only, never their contents) and stacked as Docker stacks them,
whiteouts included. Each path of the layer is then marked as ``docker diff``
marks a container's changes::

    A /usr/local/bin/redis-server      added: no layer below had it
    C /etc                             changed: a layer below had it (a parent directory, often)
    D /var/lib/apt/lists/..._InRelease deleted: a whiteout, ``.wh.<name>``, hides it

An opaque whiteout (``DIR/.wh..wh..opq``) hides everything the layers below
had in ``DIR``: it is shown as ``D /DIR/*``.
"""

from __future__ import annotations

import gzip
import tarfile
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator

from ..tarlayer import OPAQUE_WHITEOUT, WHITEOUT_PREFIX

__all__ = ["FileChange", "LayerEntry", "read_entries", "stack", "changes", "LayerFiles"]

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True)
class LayerEntry:
    """One tar member of a layer: a path (no leading ``/``), its kind, size and link target."""

    path: str
    kind: str           #: file, dir, symlink, hardlink, whiteout, opaque, other
    size: int = 0
    target: str = ""


@dataclass(frozen=True)
class FileChange:
    """One line of what a layer changes, as ``docker diff`` prints it: ``A /etc/motd``."""

    change: str         #: "A" added, "C" changed, "D" deleted
    path: str           #: absolute, ``/etc/motd`` (``/dir/*`` for an opaque whiteout)
    kind: str           #: file, dir, symlink, hardlink, other - for D, what was deleted
    size: int = 0
    target: str = ""    #: a link's target

    def line(self) -> str:
        """The change as ``docker diff`` prints it."""
        return f"{self.change} {self.path}"


def _decompressed(raw: BinaryIO) -> BinaryIO:
    head = raw.read(4)
    raw.seek(0)
    if head.startswith(_GZIP):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if head.startswith(_ZSTD):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return raw


def _clean(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts)


def _kind(member: tarfile.TarInfo) -> str:
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.isfile():
        return "file"
    return "other"


def read_entries(blob: BinaryIO) -> Iterator[LayerEntry]:
    """Yield the members of a layer blob (gzip, zstd or plain tar), read as a stream."""
    stream = _decompressed(blob)
    with tarfile.open(fileobj=stream, mode="r|", encoding="utf-8",
                      errors="surrogateescape") as archive:
        for member in archive:
            archive.members.clear()         # stream mode would keep every header
            path = _clean(member.name)
            if not path:
                continue
            directory, _, base = path.rpartition("/")
            if base == OPAQUE_WHITEOUT:
                yield LayerEntry(directory, "opaque")
            elif base.startswith(WHITEOUT_PREFIX):
                if base.startswith(WHITEOUT_PREFIX * 2):
                    continue                # AUFS bookkeeping (.wh..wh.plnk), not a deletion
                hidden = base[len(WHITEOUT_PREFIX):]
                yield LayerEntry(f"{directory}/{hidden}" if directory else hidden, "whiteout")
            else:
                target = _clean(member.linkname) if member.islnk() else member.linkname
                yield LayerEntry(path, _kind(member), member.size if member.isfile() else 0,
                                 target)


def _under(path: str, directory: str) -> bool:
    return not directory or path.startswith(directory + "/")


def stack(below: dict[str, str], entries: Iterable[LayerEntry]) -> dict[str, str]:
    """Return the paths (path -> kind) after applying ``entries`` on top of ``below``."""
    entries = list(entries)
    result = dict(below)
    for entry in entries:
        if entry.kind == "opaque":
            for path in [p for p in result if _under(p, entry.path) and p in below]:
                del result[path]
        elif entry.kind == "whiteout":
            for path in [p for p in result if p == entry.path or _under(p, entry.path)]:
                del result[path]
    for entry in entries:
        if entry.kind not in ("opaque", "whiteout"):
            if entry.kind != "dir":     # a file replacing a directory hides what it held
                for path in [p for p in result if _under(p, entry.path)]:
                    del result[path]
            result[entry.path] = entry.kind
    return result


def changes(below: dict[str, str], entries: Iterable[LayerEntry]) -> list[FileChange]:
    """Return what ``entries`` add, change and delete on top of the paths ``below``, in tar order."""
    found = []
    for entry in entries:
        if entry.kind == "opaque":
            path = f"/{entry.path}/*" if entry.path else "/*"
            found.append(FileChange("D", path, "opaque"))
        elif entry.kind == "whiteout":
            found.append(FileChange("D", f"/{entry.path}", below.get(entry.path, "")))
        else:
            change = "C" if entry.path in below else "A"
            found.append(FileChange(change, f"/{entry.path}", entry.kind, entry.size, entry.target))
    return found


class LayerFiles:
    """Read the layers of a store's images once each, and say what any one of them changes.

    ``changes(blob_digests, index)`` takes an image's layer blobs, bottom
    first, and the position of the layer to look at. What the layers below
    hold is remembered by their blobs, so exploring one image after another
    reads each blob once.
    """

    def __init__(self, blobs):
        self.blobs = blobs                              # a BlobStore
        self._entries: dict[str, list[LayerEntry]] = {}
        self._stacked: dict[tuple[str, ...], dict[str, str]] = {(): {}}

    def entries(self, digest: str) -> list[LayerEntry]:
        """The members of one layer blob."""
        if digest not in self._entries:
            with self.blobs.open(digest) as raw:
                self._entries[digest] = list(read_entries(raw))
        return self._entries[digest]

    def paths_below(self, digests: tuple[str, ...]) -> dict[str, str]:
        """The paths (path -> kind) that the layers ``digests``, stacked, leave."""
        if digests not in self._stacked:
            below = self.paths_below(digests[:-1])
            self._stacked[digests] = stack(below, self.entries(digests[-1]))
        return self._stacked[digests]

    def changes(self, digests: list[str] | tuple[str, ...], index: int) -> list[FileChange]:
        """What layer ``index`` (0 = bottom) of the stack ``digests`` adds, changes and deletes."""
        digests = tuple(digests)
        return changes(self.paths_below(digests[:index]), self.entries(digests[index]))
