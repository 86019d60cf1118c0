"""Compare a changed root filesystem with the one it started from: the layer that records it.

This is how ``docker commit`` and every ``RUN`` of ``docker build`` make a
layer: run something on a copy of the image's files (the *upper* root),
then keep only what differs from the original (the *lower* root):

* files, symlinks and directories that are new, or changed in content,
  permission bits, symlink target or type (a file that became a directory);
* a whiteout ``.wh.NAME`` for each path that is gone - one for a deleted
  directory, not one per file inside it, since deleting the directory
  deletes its contents when the layer is applied;
* the parent directories of all of these, with their modes, as Docker's
  changeset does, so a ``drwx------`` parent is not rebuilt as ``0755``.

Modification times are **not** compared, only content, mode, type and link
target: a copy that gave every file a fresh mtime (``cp -r``, ``COPY``)
changes nothing, and the same change always gives the same layer. Owners
are not compared either and are written as 0:0, as
``tarlayer.entries_from_directory`` does. Files that share an inode in
``upper`` stay hard links when both names are in the diff.

    >>> entries = diff(lower, upper)            # doctest: +SKIP
    >>> tar = diff_tar(lower, upper)            # the layer itself, deterministic
"""

from __future__ import annotations

import os
import stat
from typing import Iterator

from .tarlayer import WHITEOUT_PREFIX, Entry, write_tar
from .tarlayer import sort_key as _tar_order  # one entry order for every layer imgkit writes

__all__ = ["diff", "diff_tar"]

_CHUNK = 1 << 20


def _same_content(lower: str, upper: str, size: int) -> bool:
    with open(lower, "rb") as a, open(upper, "rb") as b:
        while size > 0:
            chunk = a.read(min(_CHUNK, size))
            if not chunk or chunk != b.read(len(chunk)):
                return False
            size -= len(chunk)
    return True


def _changed(lower_path: str, lower: os.stat_result, upper_path: str, upper: os.stat_result) -> bool:
    """Tell whether ``upper`` differs from ``lower`` in type, mode, target or content (not mtime)."""
    if stat.S_IFMT(lower.st_mode) != stat.S_IFMT(upper.st_mode):
        return True
    if stat.S_IMODE(lower.st_mode) != stat.S_IMODE(upper.st_mode):
        return True
    if stat.S_ISLNK(upper.st_mode):
        return os.readlink(lower_path) != os.readlink(upper_path)
    if stat.S_ISREG(upper.st_mode):
        if (lower.st_dev, lower.st_ino) == (upper.st_dev, upper.st_ino):
            return False                     # one inode (a hard-linked copy): same bytes
        return lower.st_size != upper.st_size or not _same_content(lower_path, upper_path, upper.st_size)
    return False


def _listing(path: str | None) -> list[str]:
    return sorted(os.listdir(path)) if path is not None else []


def _walk(lower_root: str | None, upper_root: str) -> Iterator[tuple[str, str, os.stat_result | None]]:
    """Yield ``(kind, key, upper_stat)``: kind is "add", "change" or "delete"."""
    # Each item: a directory key present in upper, and its lower twin if that is a real directory.
    stack: list[tuple[str, str | None]] = [("", lower_root)]
    while stack:
        key, lower_dir = stack.pop()
        upper_dir = os.path.join(upper_root, key) if key else upper_root
        upper_names = _listing(upper_dir)
        lower_names = set(_listing(lower_dir))
        gone = lower_names.difference(upper_names)
        for name in sorted(gone):
            yield "delete", f"{key}/{name}" if key else name, None
        for name in upper_names:
            child = f"{key}/{name}" if key else name
            if name.startswith(WHITEOUT_PREFIX):
                raise ValueError(f"{os.path.join(upper_dir, name)}: a name starting with "
                                 f"{WHITEOUT_PREFIX!r} would read as a whiteout in a layer")
            upper_path = os.path.join(upper_dir, name)
            upper = os.lstat(upper_path)
            if not (stat.S_ISREG(upper.st_mode) or stat.S_ISDIR(upper.st_mode) or stat.S_ISLNK(upper.st_mode)):
                raise ValueError(f"{upper_path}: only regular files, directories and symlinks "
                                 "can go into a layer here")
            lower_path = os.path.join(lower_dir, name) if lower_dir is not None and name in lower_names else None
            lower = os.lstat(lower_path) if lower_path is not None else None
            if lower is None:
                yield "add", child, upper
            elif _changed(lower_path, lower, upper_path, upper):      # type: ignore[arg-type]
                yield "change", child, upper
            if stat.S_ISDIR(upper.st_mode):
                # Compare inside only against a real lower directory (never through a symlink).
                twin = lower_path if lower is not None and stat.S_ISDIR(lower.st_mode) else None
                stack.append((child, twin))


def diff(lower_root: str | os.PathLike | None, upper_root: str | os.PathLike) -> list[Entry]:
    """Return the layer entries that turn ``lower_root`` into ``upper_root``, in tar order.

    ``lower_root=None`` compares with an empty filesystem (a base layer).
    Symlinks in either tree are compared as links, never followed. Raises
    ``ValueError`` for what a layer cannot hold here (devices, FIFOs,
    sockets, names starting with ``.wh.``).
    """
    lower = None if lower_root is None else os.fspath(lower_root)
    upper = os.fspath(upper_root)
    for root in filter(None, (lower, upper)):
        if not os.path.isdir(root):
            raise NotADirectoryError(f"not a directory: {root}")
    entries: dict[str, Entry] = {}
    files: dict[str, os.stat_result] = {}
    for kind, key, info in _walk(lower, upper):
        if kind == "delete":
            entries[key] = Entry.whiteout(key)
            continue
        assert info is not None
        path = os.path.join(upper, key)
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISDIR(info.st_mode):
            entries[key] = Entry.directory(key, mode)
        elif stat.S_ISLNK(info.st_mode):
            entries[key] = Entry.symlink(key, os.readlink(path))
        else:
            files[key] = info
    _add_files(upper, files, entries)
    # Docker's changeset carries each changed path's parents, so their modes travel too.
    for key in list(entries):
        parent = key.rpartition("/")[0]
        while parent and parent not in entries:
            entries[parent] = Entry.directory(parent, stat.S_IMODE(os.lstat(os.path.join(upper, parent)).st_mode))
            parent = parent.rpartition("/")[0]
    return sorted(entries.values(), key=_tar_order)


def _add_files(upper: str, files: dict[str, os.stat_result], entries: dict[str, Entry]) -> None:
    """Add regular files; names of one inode become one file plus hard links to it."""
    first_name: dict[tuple[int, int], str] = {}
    for key in sorted(files, key=lambda k: _tar_order(Entry(k))):
        info = files[key]
        inode = (info.st_dev, info.st_ino)
        mode = stat.S_IMODE(info.st_mode)
        if info.st_nlink > 1 and inode in first_name:
            entries[key] = Entry.hardlink(key, first_name[inode], mode)
            continue
        first_name[inode] = key
        with open(os.path.join(upper, key), "rb") as handle:
            entries[key] = Entry.file(key, handle.read(), mode)


def diff_tar(lower_root: str | os.PathLike | None, upper_root: str | os.PathLike, mtime: int = 0) -> bytes:
    """Return the layer tar of ``diff(lower_root, upper_root)``: the same bytes for the same change."""
    return write_tar(diff(lower_root, upper_root), mtime)
