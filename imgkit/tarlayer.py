"""Layers: write the same tar and the same gzip bytes on every machine.

A layer is a tar archive of files (a "changeset"), usually gzip-compressed.
Its ``diff_id`` is the SHA-256 of the tar, its ``digest`` the SHA-256 of the
compressed blob. Change one byte - an mtime, a uid, the order of two entries,
the gzip header's timestamp - and both digests change, and with them the
image ID and the manifest digest. So imgkit writes layers deterministically:

* entries sorted by path, each parent directory present before its children
  (missing ones are added with mode 0o755), whiteouts first in their directory
  as the OCI layer spec asks;
* one fixed mtime (0, or a ``SOURCE_DATE_EPOCH``-style number you give), uid
  and gid 0 unless given, empty user and group names;
* modes exactly as given - never taken from the umask;
* ustar headers written here, byte for byte, with a PAX record only when a
  name or link target cannot be stored in ustar (too long, or not ASCII);
* gzip with a fixed 10-byte header (no timestamp, no file name).

Directories are named with a trailing slash (``etc/``), as Docker and
BuildKit write them. Build a layer from entries::

    >>> layer = Layer.from_entries([Entry.file("etc/motd", b"hi\\n")])
    >>> layer.uncompressed_size        # what `docker images` adds up for SIZE
    3

Why not ``tarfile.TarFile``? It pads every archive to 10240 bytes (Go's
``archive/tar``, used by Docker, does not), writes a PAX ``mtime`` record for
a float mtime, ``gettarinfo`` looks up user names on *this* machine, and the
header layout has changed between Python versions (device fields). Writing
the 512-byte header ourselves pins every byte; ``tarfile`` still reads it.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from dataclasses import dataclass, field
from typing import BinaryIO, Iterable, Iterator

from . import digest as _digest
from .compress import compress

__all__ = [
    "Entry", "write_tar", "entries_from_directory", "tar_from_directory",
    "content_size", "Layer", "WHITEOUT_PREFIX", "OPAQUE_WHITEOUT",
]

#: A file named ``.wh.NAME`` deletes ``NAME`` of the layers below.
WHITEOUT_PREFIX = ".wh."
#: A file named ``.wh..wh..opq`` hides everything the layers below had in its directory.
OPAQUE_WHITEOUT = ".wh..wh..opq"

KINDS = ("file", "dir", "symlink", "hardlink")
_DEFAULT_MODES = {"file": 0o644, "dir": 0o755, "symlink": 0o777, "hardlink": 0o644}
_TYPEFLAGS = {"file": b"0", "hardlink": b"1", "symlink": b"2", "dir": b"5"}
_BLOCK = 512
_MAX_MTIME = 8 ** 11 - 1          # what 11 octal digits hold (year 4147)


def _clean_path(path: str) -> str:
    """Return ``path`` relative, without ``./``, doubled or trailing slashes."""
    if not isinstance(path, str):
        raise TypeError(f"a layer path must be a str, not {type(path).__name__}")
    if "\0" in path:
        raise ValueError(f"a layer path cannot contain NUL: {path!r}")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"a layer path cannot go up with '..': {path!r}")
    if not parts:
        raise ValueError(f"a layer path must name something below the root: {path!r}")
    return "/".join(parts)


def _check_mtime(mtime: int) -> int:
    if isinstance(mtime, bool) or not isinstance(mtime, int):
        raise TypeError("mtime must be whole seconds (an int), like SOURCE_DATE_EPOCH")
    if not 0 <= mtime <= _MAX_MTIME:
        raise ValueError(f"mtime must be between 0 and {_MAX_MTIME}, not {mtime}")
    return mtime


@dataclass(frozen=True)
class Entry:
    """One file, directory or link of a layer, with every attribute spelled out.

    Use the constructors - ``Entry.file``, ``directory``, ``symlink``,
    ``hardlink``, ``whiteout``, ``opaque`` - rather than the fields. ``mode``
    holds permission bits only (``0o644``); ``None`` means the kind's default
    (files 0o644, directories 0o755, links 0o777). ``mtime=None`` takes the
    layer's mtime. Paths are stored relative (``"/etc/motd"`` becomes
    ``"etc/motd"``).
    """

    path: str
    kind: str = "file"
    data: bytes = field(default=b"", repr=False)
    mode: int | None = None
    target: str | None = None
    uid: int = 0
    gid: int = 0
    mtime: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        object.__setattr__(self, "path", _clean_path(self.path))
        data = self.data.encode() if isinstance(self.data, str) else bytes(self.data)
        object.__setattr__(self, "data", data)
        if data and self.kind != "file":
            raise ValueError(f"{self.path}: only a regular file can hold data")
        mode = _DEFAULT_MODES[self.kind] if self.mode is None else self.mode
        if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o7777:
            raise ValueError(f"{self.path}: mode must be permission bits 0..0o7777, "
                             f"not {mode!r}")
        object.__setattr__(self, "mode", mode)
        if self.kind in ("symlink", "hardlink"):
            if not self.target:
                raise ValueError(f"{self.path}: a {self.kind} needs a target")
            if self.kind == "hardlink":
                # Hard links name another entry of the archive, stored relative.
                object.__setattr__(self, "target", _clean_path(self.target))
                if self.target == self.path:
                    raise ValueError(f"{self.path}: a hard link cannot point at itself")
        elif self.target is not None:
            raise ValueError(f"{self.path}: only links have a target")
        for name in ("uid", "gid"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{self.path}: {name} must be a number >= 0")
        if self.mtime is not None:
            _check_mtime(self.mtime)

    @classmethod
    def file(cls, path: str, data: bytes | str = b"", mode: int = 0o644, *,
             uid: int = 0, gid: int = 0, mtime: int | None = None) -> "Entry":
        """A regular file; a ``str`` ``data`` is stored as UTF-8."""
        return cls(path, "file", data, mode, None, uid, gid, mtime)

    @classmethod
    def directory(cls, path: str, mode: int = 0o755, *, uid: int = 0, gid: int = 0,
                  mtime: int | None = None) -> "Entry":
        """A directory (written as ``path/`` in the tar)."""
        return cls(path, "dir", b"", mode, None, uid, gid, mtime)

    @classmethod
    def symlink(cls, path: str, target: str, *, uid: int = 0, gid: int = 0,
                mtime: int | None = None) -> "Entry":
        """A symbolic link; ``target`` is stored as written (it may be absolute)."""
        return cls(path, "symlink", b"", 0o777, target, uid, gid, mtime)

    @classmethod
    def hardlink(cls, path: str, target: str, mode: int = 0o644, *, uid: int = 0,
                 gid: int = 0, mtime: int | None = None) -> "Entry":
        """A second name for the file ``target`` (an earlier entry of the layer)."""
        return cls(path, "hardlink", b"", mode, target, uid, gid, mtime)

    @classmethod
    def whiteout(cls, path: str) -> "Entry":
        """Delete ``path`` of the layers below: an empty file ``DIR/.wh.NAME``.

        Mode 0o600, as Docker's overlay driver writes it.
        """
        parent, _, name = _clean_path(path).rpartition("/")
        whiteout = f"{parent}/{WHITEOUT_PREFIX}{name}" if parent else WHITEOUT_PREFIX + name
        return cls(whiteout, "file", b"", 0o600)

    @classmethod
    def opaque(cls, directory: str, mode: int = 0o755) -> "Entry":
        """Hide all that the layers below had in ``directory``: ``DIR/.wh..wh..opq``.

        Docker gives it the directory's permission bits. The OCI spec prefers
        one ``whiteout`` per deleted child; every reader accepts both.
        """
        return cls(f"{_clean_path(directory)}/{OPAQUE_WHITEOUT}", "file", b"", mode)

    @property
    def tar_name(self) -> str:
        """The name written in the tar header: directories end with ``/``."""
        return self.path + "/" if self.kind == "dir" else self.path

    @property
    def is_whiteout(self) -> bool:
        """True for ``.wh.`` files, opaque ones included."""
        return self.path.rpartition("/")[2].startswith(WHITEOUT_PREFIX)


# -- tar writing --------------------------------------------------------------

def sort_key(entry: Entry) -> tuple:
    # Compare component by component (so "etc" and all below it come before
    # "etc-x", like a directory walk), by UTF-8 bytes (locale-independent),
    # with the opaque marker and then whiteouts first in their directory.
    key = []
    for part in entry.path.split("/"):
        rank = 0 if part == OPAQUE_WHITEOUT else 1 if part.startswith(WHITEOUT_PREFIX) else 2
        key.append((rank, part.encode("utf-8", "surrogateescape")))
    return tuple(key)


def _ordered(entries: Iterable[Entry], add_parents: bool = True) -> list[Entry]:
    """Check entries, add the missing parent directories (unless told not to), sort them."""
    by_path: dict[str, Entry] = {}
    for entry in entries:
        if not isinstance(entry, Entry):
            raise TypeError(f"expected an Entry, got {type(entry).__name__}")
        if entry.path in by_path:
            raise ValueError(f"duplicate path in layer: {entry.path!r} (the OCI layer spec "
                             "forbids two entries for one path)")
        by_path[entry.path] = entry
    for path in list(by_path) if add_parents else ():
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            found = by_path.get(parent)
            if found is None:
                by_path[parent] = Entry(parent, "dir")
            elif found.kind != "dir":
                raise ValueError(f"{path!r} needs {parent!r} to be a directory, "
                                 f"but it is a {found.kind}")
    for entry in by_path.values():
        if entry.is_whiteout and (entry.kind != "file" or entry.data):
            raise ValueError(f"{entry.path}: a name starting with {WHITEOUT_PREFIX!r} is a "
                             "whiteout and must be an empty regular file")
    ordered = sorted(by_path.values(), key=sort_key)
    position = {entry.path: index for index, entry in enumerate(ordered)}
    for index, entry in enumerate(ordered):
        if entry.kind == "hardlink" and entry.target in position:
            target = ordered[position[entry.target]]
            if target.kind == "dir":
                raise ValueError(f"{entry.path}: cannot hard-link to a directory")
            if position[entry.target] > index:
                raise ValueError(f"{entry.path}: hard link target {entry.target!r} sorts "
                                 "after it; swap them so the data comes first")
    return ordered


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, value)


def _text(value: bytes, width: int) -> bytes:
    return value[:width].ljust(width, b"\0")


def _header_block(name: bytes, mode: int, uid: int, gid: int, size: int, mtime: int,
                  typeflag: bytes, linkname: bytes = b"", prefix: bytes = b"") -> bytes:
    # POSIX ustar layout; user/group names and device numbers stay empty.
    block = b"".join([
        _text(name, 100), _octal(mode, 8), _octal(uid, 8), _octal(gid, 8),
        _octal(size, 12), _octal(mtime, 12), b" " * 8, typeflag, _text(linkname, 100),
        b"ustar\x0000", _text(b"", 32), _text(b"", 32), _text(b"", 8), _text(b"", 8),
        _text(prefix, 155),
    ]).ljust(_BLOCK, b"\0")
    checksum = sum(block)               # computed with the field as 8 spaces
    return block[:148] + b"%06o\0 " % checksum + block[156:]


def _split_ustar(name: bytes) -> tuple[bytes, bytes] | None:
    """Split a 101..256-byte name into ustar's prefix and name fields, if possible."""
    if len(name) <= 100:
        return b"", name
    stop = min(len(name) - 1, 156)      # the name part may not be empty
    cut = name.rfind(b"/", 0, stop)
    if cut <= 0 or cut > 155 or len(name) - cut - 1 > 100:
        return None
    return name[:cut], name[cut + 1:]


def _pad(size: int) -> bytes:
    return b"\0" * (-size % _BLOCK)


def _pax_records(records: list[tuple[str, bytes]]) -> bytes:
    out = []
    for key, value in records:
        body = b" " + key.encode() + b"=" + value + b"\n"
        length = len(body) + 1
        while len(str(length)) + len(body) != length:   # the length counts itself
            length = len(str(length)) + len(body)
        out.append(str(length).encode() + body)
    return b"".join(out)


def _entry_header(entry: Entry, mtime: int) -> bytes:
    name = entry.tar_name.encode("utf-8", "surrogateescape")
    link = (entry.target or "").encode("utf-8", "surrogateescape")
    size = len(entry.data)
    records: list[tuple[str, bytes]] = []
    split = _split_ustar(name) if name.isascii() else None
    if split is None:
        records.append(("path", name))
        split = (b"", entry.tar_name.encode("ascii", "replace")[:100])
    if not link.isascii() or len(link) > 100:
        records.append(("linkpath", link))
        link = (entry.target or "").encode("ascii", "replace")[:100]
    uid, gid = entry.uid, entry.gid
    if uid >= 8 ** 7:
        records.append(("uid", str(uid).encode()))
        uid = 0
    if gid >= 8 ** 7:
        records.append(("gid", str(gid).encode()))
        gid = 0
    if size >= 8 ** 11:
        records.append(("size", str(size).encode()))
        size = 0
    head = b""
    if records:
        if any(not _is_utf8(value) for _, value in records):
            records.insert(0, ("hdrcharset", b"BINARY"))
        pax = _pax_records(records)
        head = _header_block(b"././@PaxHeader", 0, 0, 0, len(pax), 0, b"x") + pax + _pad(len(pax))
    prefix, short = split
    return head + _header_block(short, entry.mode or 0, uid, gid, size,
                                mtime if entry.mtime is None else entry.mtime,
                                _TYPEFLAGS[entry.kind], link, prefix)


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _tar_chunks(entries: Iterable[Entry], mtime: int, add_parents: bool = True) -> Iterator[bytes]:
    _check_mtime(mtime)
    for entry in _ordered(entries, add_parents):
        yield _entry_header(entry, mtime)
        if entry.data:
            yield entry.data
            yield _pad(len(entry.data))
    yield b"\0" * (2 * _BLOCK)          # end of archive; no padding to a 10 KiB record


def write_tar(entries: Iterable[Entry], mtime: int = 0, *, add_parents: bool = True) -> bytes:
    """Return the tar of ``entries``, the same bytes for the same entries, always.

    The order you give does not matter: entries are sorted and missing parent
    directories added (``add_parents=False`` leaves them out, for a tar that
    is extracted over existing directories without changing their modes).
    Two entries for one path raise ``ValueError`` (a later one silently
    winning would hide mistakes).
    """
    return b"".join(_tar_chunks(entries, mtime, add_parents))


def entries_from_directory(root: str | os.PathLike, prefix: str = "") -> list[Entry]:
    """Read a real directory into entries, keeping only what is reproducible.

    Permission bits come from the files (``st_mode & 0o7777``); owners become
    0:0 and times are left to the layer's mtime. Symlinks stay symlinks;
    files with several names inside ``root`` become one file plus hard links.
    ``prefix`` puts everything under a directory, as ``COPY . /app`` does.
    """
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise NotADirectoryError(f"not a directory: {root}")
    base = _clean_path(prefix) + "/" if prefix.strip("/.") else ""
    found: list[tuple[Entry, os.stat_result, str]] = []
    def unreadable(error: OSError) -> None:
        raise error             # os.walk would skip it silently: a layer missing files

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = base + os.path.relpath(full, root).replace(os.sep, "/")
            info = os.lstat(full)
            perms = stat.S_IMODE(info.st_mode)
            if stat.S_ISLNK(info.st_mode):
                entry = Entry.symlink(rel, os.readlink(full))
            elif stat.S_ISDIR(info.st_mode):
                entry = Entry.directory(rel, perms)
            elif stat.S_ISREG(info.st_mode):
                entry = Entry(rel, "file", b"", perms)     # data read below, once
            else:
                raise ValueError(f"{full}: only regular files, directories and symlinks "
                                 "can go into a layer here")
            found.append((entry, info, full))
    found.sort(key=lambda item: sort_key(item[0]))
    first_name: dict[tuple[int, int], str] = {}
    entries = []
    for entry, info, full in found:
        if entry.kind == "file":
            inode = (info.st_dev, info.st_ino)
            if info.st_nlink > 1 and inode in first_name:
                entry = Entry.hardlink(entry.path, first_name[inode], entry.mode)
            else:
                first_name.setdefault(inode, entry.path)
                with open(full, "rb") as handle:
                    entry = Entry(entry.path, "file", handle.read(), entry.mode)
        entries.append(entry)
    return entries


def tar_from_directory(root: str | os.PathLike, prefix: str = "", mtime: int = 0) -> bytes:
    """Return the deterministic tar of a directory's contents (see ``entries_from_directory``)."""
    return write_tar(entries_from_directory(root, prefix), mtime)


def content_size(tar: bytes | BinaryIO) -> int:
    """Return a layer's size the way Docker counts it: the bytes of its files.

    Docker adds up the size field of every tar header while it unpacks a
    layer; only regular files have one, so directories, links and whiteouts
    count 0 and a file with two names counts once. Tar headers and padding
    never count. ``docker images`` shows the sum of this over an image's layers.
    """
    stream = io.BytesIO(tar) if isinstance(tar, (bytes, bytearray, memoryview)) else tar
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        return sum(member.size for member in archive)


@dataclass(frozen=True, repr=False)
class Layer:
    """One layer, both as a tar and as the blob a registry stores.

    Make one with ``Layer.from_entries``, ``from_directory`` or ``from_tar``.
    ``diff_id`` names the tar (it goes in the config's ``rootfs``),
    ``digest`` and ``size`` name the compressed blob (they go in the
    manifest), ``uncompressed_size`` is what Docker reports as its SIZE.
    """

    tar: bytes
    blob: bytes
    media_type: str
    diff_id: str
    digest: str
    uncompressed_size: int

    @classmethod
    def from_tar(cls, tar: bytes, compression: str = "gzip",
                 level: int | None = None) -> "Layer":
        """Wrap an uncompressed tar, compressing it deterministically."""
        tar = bytes(tar)
        blob, media_type = compress(tar, compression, level)
        return cls(tar, blob, media_type, _digest.compute(tar), _digest.compute(blob),
                   content_size(tar))

    @classmethod
    def from_entries(cls, entries: Iterable[Entry], mtime: int = 0, compression: str = "gzip",
                     level: int | None = None) -> "Layer":
        """Build a layer from ``Entry`` values (see ``write_tar``)."""
        return cls.from_tar(write_tar(entries, mtime), compression, level)

    @classmethod
    def from_directory(cls, root: str | os.PathLike, prefix: str = "", mtime: int = 0,
                       compression: str = "gzip", level: int | None = None) -> "Layer":
        """Build a layer from a real directory (see ``entries_from_directory``)."""
        return cls.from_tar(tar_from_directory(root, prefix, mtime), compression, level)

    @property
    def size(self) -> int:
        """Bytes of the compressed blob, as the manifest records it."""
        return len(self.blob)

    def descriptor(self) -> dict:
        """The manifest's entry for this layer: media type, digest, size."""
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}

    def __repr__(self) -> str:
        return (f"Layer(digest={self.digest!r}, size={self.size}, diff_id={self.diff_id!r}, "
                f"uncompressed_size={self.uncompressed_size})")
