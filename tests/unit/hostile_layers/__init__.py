"""Hostile and ordinary layer tars, crafted in code, and helpers to compare trees.

Tars are written with ``tarfile`` rather than ``imgkit.tarlayer`` because
tarlayer refuses exactly what these must contain (``..``, absolute names,
duplicate names, devices). Nothing here is a binary fixture: every input is
rebuilt from this code on each run.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
import zlib

MTIME = 1_700_000_000


# -- members --------------------------------------------------------------------------

def reg(name: str, data: bytes = b"data\n", mode: int = 0o644, **attrs) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, MTIME
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, data


def dir_(name: str, mode: int = 0o755, **attrs) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, MTIME
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, None


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.mtime = kind, target, 0o777, MTIME
    return info, None


def hardlink(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    info, _ = link(name, target, tarfile.LNKTYPE)
    info.mode = 0o644
    return info, None


def special(name: str, kind: bytes) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.devmajor, info.devminor = kind, 0o666, MTIME, 1, 3
    return info, None


def tar(*members: tuple[tarfile.TarInfo, bytes | None], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


# -- streams too big to hold ----------------------------------------------------------

class GeneratedStream:
    """A read-only stream whose bytes are produced on demand; ``produced`` counts them."""

    def __init__(self, pieces):
        self._pieces = iter(pieces)
        self._buffer = b""
        self.produced = 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._buffer += piece
            self.produced += len(piece)
        size = len(self._buffer) if size < 0 else size
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def gzip_bomb_pieces(file_size: int = 50 << 20):
    """A gzip'd tar holding one file of ``file_size`` zero bytes, compressed as it goes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    info = tarfile.TarInfo("zeros")
    info.size, info.mtime = file_size, MTIME
    yield compressor.compress(info.tobuf(tarfile.USTAR_FORMAT))
    zeros = bytes(1 << 20)
    for start in range(0, file_size, len(zeros)):
        yield compressor.compress(zeros[:min(len(zeros), file_size - start)])
    yield compressor.compress(bytes(-file_size % 512 + 1024))
    yield compressor.flush()


def many_entries_pieces(count: int = 2_000_000):
    """A plain tar of ``count`` empty files, made header by header (1 GB if read whole)."""
    for index in range(count):
        info = tarfile.TarInfo(f"f/{index:07d}")
        info.mtime = MTIME
        yield info.tobuf(tarfile.USTAR_FORMAT)
    yield bytes(1024)


def meta_bomb_pieces(kind: bytes, size: int = 50 << 20):
    """A tar whose first header announces a ``size``-byte PAX or GNU long-name record."""
    info = tarfile.TarInfo("././@PaxHeader" if kind == tarfile.XHDTYPE else "././@LongLink")
    info.type, info.size = kind, size
    yield info.tobuf(tarfile.USTAR_FORMAT)
    piece = b"9 a=bcde\n" * (1 << 16)
    for _ in range(0, size, len(piece)):
        yield piece


# -- trees ------------------------------------------------------------------------------

def tree(root: str | os.PathLike, skip: str | os.PathLike | None = None) -> dict[str, tuple]:
    """Everything below ``root`` that a layer could change: type, mode, content, target, links.

    mtimes are left out (see ``tree_with_times``); ``skip`` leaves out a subtree.
    """
    root = os.fspath(root)
    skip = None if skip is None else os.fspath(skip)
    found: dict[str, tuple] = {}
    inodes: dict[tuple[int, int], str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if os.path.join(dirpath, name) != skip)
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            if path == skip:
                continue
            info = os.lstat(path)
            key = os.path.relpath(path, root)
            kind = stat.S_IFMT(info.st_mode)
            if stat.S_ISLNK(info.st_mode):
                detail: object = os.readlink(path)
            elif stat.S_ISREG(info.st_mode):
                with open(path, "rb") as handle:
                    detail = hashlib.sha256(handle.read()).hexdigest()
                # Hard links show as the first name of their inode.
                detail = (detail, inodes.setdefault((info.st_dev, info.st_ino), key))
            else:
                detail = None
            mode = None if stat.S_ISLNK(info.st_mode) else stat.S_IMODE(info.st_mode)
            found[key] = (kind, mode, detail)
    return found


def tree_with_times(root: str | os.PathLike, skip: str | os.PathLike | None = None) -> dict[str, tuple]:
    """``tree`` plus mtimes and link counts: to prove a place was not touched at all."""
    out = {}
    for key, value in tree(root, skip).items():
        info = os.lstat(os.path.join(root, key))
        out[key] = value + (info.st_mtime_ns, info.st_nlink)
    return out
