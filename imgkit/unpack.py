"""Apply layers to a directory as Docker does: whiteouts, opaque directories, no way out.

An image's filesystem is its layers stacked bottom-first. Each layer is a tar
of what changed: added or modified files, and deletions. A tar cannot hold
"this file is gone", so deletions travel as empty marker files:

* a **whiteout** ``DIR/.wh.NAME`` deletes ``DIR/NAME`` (the whole tree, if it
  is a directory) of the layers below; the marker itself is never written;
* an **opaque** marker ``DIR/.wh..wh..opq`` deletes everything the layers
  below had in ``DIR`` but keeps what this same layer puts there, wherever
  the marker sits in the tar.

Unpacking someone else's tar is where archive tools get attacked, and a
classroom pulls odd images. ``apply_layer`` keeps every change inside
``root``:

* Names are read as paths below ``root``: a leading ``/`` is dropped (Docker
  does the same), ``..`` may climb back inside a name (``a/../b`` is ``b``)
  but never above ``root``: ``../x`` and ``/../x`` raise ``UnsafeLayerError``
  (Docker refuses them too; containerd quietly clamps them - an error tells
  a learner more than a file that silently lands elsewhere).
* **Symlinks are never followed as they are in a normal filesystem.** A layer
  can ship ``evil -> /etc`` and then ``evil/passwd``: a naive extractor would
  overwrite the host's ``/etc/passwd``. Here every directory on the way is
  resolved *as if root were /* (what ``chroot`` gives Docker and what
  containerd does): ``/etc`` means ``root/etc``, ``..`` stops at ``root``.
  So ``evil/passwd`` lands in ``root/etc/passwd``. The last part of a name is
  never followed at all: a file replaces a symlink, it does not write through
  it. Symlink targets themselves are just text and are kept as written.
* Hard links must name something already inside ``root`` (resolved the same
  way, and a link to a symlink links the symlink itself); a whiteout must
  name a plain file name (``.wh...`` is refused).
* Existing files are never opened for writing: they are deleted and created
  anew, so a hard link elsewhere to the old file is never changed.
* Device nodes and FIFOs are skipped (an ordinary user cannot make them) and
  counted in ``ApplyStats.skipped``, as are AUFS bookkeeping names (``.wh..wh.plnk``).
* setuid and setgid bits are always dropped: a learner's machine must not
  gain a setuid binary because a course image had one. The sticky bit stays
  on directories (``/tmp`` is ``1777``). Owners are only set when asked and
  running as root (``preserve_owner=True``).
* ``Limits`` stop decompression bombs: uncompressed bytes, entries, name
  length, and tar meta headers larger than 1 MiB (as Go, so Docker, refuses).

On any error the root is left half-applied, with the directories this call
touched still writable by their owner: throw it away (``remove_tree``).
Apply layers only to a root nobody else changes at the same time.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Iterable, Union

from .errors import LayerTooLargeError, UnsafeLayerError
from .inflate import GUNZIP_ERRORS, gunzip_object
from .readahead import ReadAhead
from .tarheader import META_LIMIT
from .tarlayer import OPAQUE_WHITEOUT, WHITEOUT_PREFIX
from .tarreader import Member, MetaTooLargeError, TarReader

__all__ = ["apply_layer", "unpack_image", "ApplyStats", "Limits", "UnsafeLayerError",
           "LayerTooLargeError", "remove_tree"]

LayerSource = Union[bytes, bytearray, memoryview, str, os.PathLike, BinaryIO]

_AUFS_META = WHITEOUT_PREFIX * 2          # ".wh..wh.": AUFS bookkeeping, not a deletion
_MAX_SYMLINKS = 40                        # Linux's MAXSYMLINKS
_MAX_MTIME = 8 ** 11 - 1                  # what a ustar header holds; Docker bounds times too
_CHUNK = 1 << 20
_READ_SIZE = 128 << 10                    # pieces of tar read ahead of the entry being applied
_OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Limits:
    """How much one layer may hold before ``apply_layer`` gives up.

    ``max_bytes`` bounds both the uncompressed tar and the file bytes written,
    ``max_entries`` the tar entries, ``max_path`` a name's (or link target's)
    length in bytes.
    """

    max_bytes: int = 4 << 30
    max_entries: int = 1_000_000
    max_path: int = 4096


@dataclass
class ApplyStats:
    """What one layer did to the root."""

    files: int = 0           #: regular files written
    dirs: int = 0            #: directories created or updated
    links: int = 0           #: symlinks and hard links made
    whiteouts: int = 0       #: deletions applied (``.wh.NAME`` and opaque markers)
    skipped: int = 0         #: devices, FIFOs, unknown types, AUFS metadata
    bytes_written: int = 0   #: file content written


def _too_large(what: str, limit: str, value: int) -> LayerTooLargeError:
    return LayerTooLargeError(f"layer {what}: over the limit {limit}={value}")


# -- reading: find the compression, decompress in bounded pieces, count -----------

class _Inflow:
    """The tar inside a blob (gzip, zstd or plain), read in small pieces and counted.

    Decompressing piece by piece keeps memory flat however well the blob
    compresses; counting stops a bomb at ``max_bytes`` instead of at a full disk.
    """

    def __init__(self, raw: BinaryIO, compression: str | None, max_bytes: int):
        head = b""
        while len(head) < 4 and (more := raw.read(4 - len(head))):
            head += more                 # a pipe may hand over fewer bytes than asked
        if compression is None:
            compression = ("gzip" if head.startswith(b"\x1f\x8b") else
                           "zstd" if head.startswith(b"\x28\xb5\x2f\xfd") else "none")
        self._source, self._max, self.total = _Prefixed(head, raw), max_bytes, 0
        self._zlib: Any = None             # the current gzip member's decompressor
        self._tail = b""
        self._decode: Callable[[int], bytes]
        if compression == "zstd":
            try:
                import zstandard
            except ImportError:
                raise ModuleNotFoundError("zstd layers need the 'zstandard' package "
                                          "(pip install zstandard)") from None
            self._decode = zstandard.ZstdDecompressor().stream_reader(
                self._source, read_across_frames=True, closefd=False).read  # type: ignore[arg-type]
        elif compression in ("gzip", "none"):
            self._decode = self._gunzip if compression == "gzip" else self._source.read
        else:
            raise ValueError(f"compression must be gzip, zstd, none or None, not {compression!r}")

    def read(self, size: int = -1) -> bytes:
        out = self._decode(_CHUNK if size is None or size < 0 else min(size, _CHUNK))
        self.total += len(out)
        if self.total > self._max:
            raise _too_large(f"is bigger than {self._max} bytes uncompressed (a decompression bomb?)",
                             "max_bytes", self._max)
        return out

    def _gunzip(self, size: int) -> bytes:
        while True:
            data = self._tail or self._source.read(64 * 1024) or b""
            if self._zlib is None:
                if not data.startswith(b"\x1f\x8b"):
                    return b""           # the end, or padding after the last gzip member
                self._zlib = gunzip_object()
            try:
                out = self._zlib.decompress(data, size)     # at most size bytes, however dense
            except GUNZIP_ERRORS as error:
                raise tarfile.ReadError(f"invalid gzip data ({error})") from None
            self._tail = self._zlib.unconsumed_tail
            if self._zlib.eof:           # another gzip member may follow (pigz writes several)
                self._tail, self._zlib = self._zlib.unused_data, None
            if out or not data:
                return bytes(out)               # b"" when truncated: tarfile reports the short read


class _Prefixed:
    """A stream with the bytes already read put back in front."""

    def __init__(self, head: bytes, raw: BinaryIO):
        self._head, self._raw = head, raw

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return bytes(self._raw.read(size) or b"")
        size = len(self._head) if size is None or size < 0 else size
        out, self._head = self._head[:size], self._head[size:]
        return out


# -- names -------------------------------------------------------------------------

def _parts(name: str, entry: str, what: str = "would be written") -> list[str]:
    """Split a tar name into components below the root; refuse a climb above it."""
    if "\0" in name:
        raise UnsafeLayerError(f"layer entry {entry!r} has a NUL byte in a name")
    parts: list[str] = []
    for part in name.split("/"):      # a leading "/" gives an empty first part: dropped
        if part == "..":
            if not parts:
                raise UnsafeLayerError(f"layer entry {entry!r} {what} outside the root")
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return parts


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def remove_tree(path: str | os.PathLike) -> None:
    """Delete ``path`` and all below it, never following a symlink, read-only dirs included.

    A symlink is removed itself, not what it points to; a directory without
    write permission is made writable first. Missing paths are fine.
    """
    path = os.fspath(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(path)
        return
    stack = [(path, False)]                 # iterative: trees can be deeper than Python's recursion
    while stack:
        current, emptied = stack.pop()
        if emptied:
            os.rmdir(current)
            continue
        _owner_rwx(current)
        stack.append((current, True))
        with os.scandir(current) as listing:
            for item in listing:
                if item.is_dir(follow_symlinks=False):
                    stack.append((item.path, False))
                else:
                    os.unlink(item.path)


def _owner_rwx(path: str, mode: int | None = None) -> int | None:
    """Let the owner list, enter and write ``path``; return the old mode if it changed."""
    mode = stat.S_IMODE(os.lstat(path).st_mode) if mode is None else mode
    if mode & 0o700 == 0o700:
        return None
    try:
        os.chmod(path, mode | 0o700)
    except PermissionError:
        return None                  # not ours: the operation itself will say what failed
    return mode


def _umask() -> int:
    """Return this process's umask, read without changing it (``os.umask`` sets it, for
    every thread); all bits when Linux's ``/proc`` cannot tell."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o7777


# -- applying ----------------------------------------------------------------------

class _Applier:
    def __init__(self, root: str, limits: Limits, preserve_owner: bool):
        self.root, self.limits, self.stats = root, limits, ApplyStats()
        self.chown = preserve_owner and hasattr(os, "geteuid") and os.geteuid() == 0
        self._umask = _umask()
        self.entries = 0
        self._dirs: set[str] = set()           # real, usable directories (keys below root)
        self._kept: set[str] = set()           # what this layer wrote, and their parents
        self._final: dict[str, tuple[int, float | None]] = {}   # dir -> (mode, mtime) for the end
        self._usable(root)

    def _abs(self, key: str) -> str:
        return os.path.join(self.root, key) if key else self.root

    def _usable(self, path: str, mode: int | None = None) -> None:
        old = _owner_rwx(path, mode)
        if old is not None:
            self._final.setdefault(path, (old, None))

    def _resolve(self, parts: list[str], entry: str, create: bool = False) -> str:
        """Return the real path (a key below root) of directory ``parts``, links resolved in root.

        With ``create``, missing directories are made (0755, as Docker makes them).
        """
        done: list[str] = []
        todo = parts[::-1]
        hops = 0
        while todo:
            part = todo.pop()
            if part in ("", "."):
                continue
            if part == "..":             # only reached from a symlink target: stop at root
                if done:
                    done.pop()
                continue
            key = "/".join(done + [part])
            done.append(part)
            if key in self._dirs:
                continue
            path = self._abs(key)
            try:
                info = os.lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                if create:
                    os.mkdir(path, 0o700)
                    self._final[path] = (0o755, None)
                    self._dirs.add(key)
                continue
            if stat.S_ISLNK(info.st_mode):
                hops += 1
                if hops > _MAX_SYMLINKS:
                    raise UnsafeLayerError(f"layer entry {entry!r} goes through more than "
                                           f"{_MAX_SYMLINKS} symlinks (a loop?)")
                target = os.readlink(path)
                done.pop()
                if target.startswith("/"):
                    done = []            # absolute targets mean root's /, never the host's
                todo.extend(target.split("/")[::-1])
            elif stat.S_ISDIR(info.st_mode):
                self._usable(path, stat.S_IMODE(info.st_mode))
                self._dirs.add(key)
            elif create:
                raise UnsafeLayerError(f"layer entry {entry!r} needs {key!r} to be a directory, "
                                       "but it is not one")
        return "/".join(done)

    def _remove(self, path: str, info: os.stat_result) -> None:
        if stat.S_ISDIR(info.st_mode):
            remove_tree(path)
            self._dirs.clear()           # cached directories may have gone with it
        else:
            os.unlink(path)

    def _remove_lower(self, key: str) -> None:
        """Delete what the lower layers have at ``key``, keeping what this layer wrote."""
        stack = [key]
        while stack:
            key = stack.pop()
            path = self._abs(key)
            try:
                info = os.lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if key not in self._kept:
                self._remove(path, info)
            elif stat.S_ISDIR(info.st_mode):
                self._usable(path, stat.S_IMODE(info.st_mode))
                stack.extend(_join(key, name) for name in os.listdir(path))

    def _keep(self, key: str) -> None:
        while key and key not in self._kept:
            self._kept.add(key)
            key = key.rpartition("/")[0]

    def apply(self, member: Member, reader: TarReader) -> None:
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise _too_large(f"has more than {self.limits.max_entries} entries",
                             "max_entries", self.limits.max_entries)
        name = member.name
        for text in (name, member.linkname):
            if len(text.encode("utf-8", "surrogateescape")) > self.limits.max_path:
                raise _too_large(f"entry {text[:40] + '...'!r} has a name longer than "
                                 f"{self.limits.max_path} bytes", "max_path", self.limits.max_path)
        parts = _parts(name, name)
        if any(part.startswith(_AUFS_META) for part in parts[:-1]) or (
                parts and parts[-1].startswith(_AUFS_META) and parts[-1] != OPAQUE_WHITEOUT):
            self.stats.skipped += 1
            return
        if parts and parts[-1].startswith(WHITEOUT_PREFIX):
            return self._whiteout(parts, name)
        if not parts:
            if member.isdir():
                return                   # "./": the root itself stays as the caller made it
            raise UnsafeLayerError(f"layer entry {name!r} would replace the root itself")
        if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
            self.stats.skipped += 1      # devices, FIFOs, unknown types
            return
        source = self._link_source(member, name) if member.islnk() else None
        key = _join(self._resolve(parts[:-1], name, create=True), parts[-1])
        path = self._abs(key)
        if source == path:
            raise UnsafeLayerError(f"layer entry {name!r} is a hard link to itself")
        mode = member.mode & 0o7777 & ~(stat.S_ISUID | stat.S_ISGID)
        mtime = min(max(member.mtime, 0), _MAX_MTIME)
        if member.isreg():               # most entries: no lstat first, O_EXCL says if it is free
            self._write_file(path, member, reader, mode & ~stat.S_ISVTX, mtime)
            self._keep(key)
            return
        try:
            info: os.stat_result | None = os.lstat(path)
        except FileNotFoundError:
            info = None
        if info is not None and not (member.isdir() and stat.S_ISDIR(info.st_mode)):
            self._remove(path, info)     # replace, never write through (a symlink, a hard link)
            info = None
        if member.isdir():
            if info is None:
                os.mkdir(path, 0o700)    # writable while we fill it; its mode comes at the end
            else:
                self._usable(path, stat.S_IMODE(info.st_mode))
            self._dirs.add(key)
            self._owner(path, member)
            self._final[path] = (mode, mtime)
            self.stats.dirs += 1
        elif member.issym():
            os.symlink(member.linkname, path)
            self._owner(path, member)
            if os.utime in os.supports_follow_symlinks:
                os.utime(path, (mtime, mtime), follow_symlinks=False)
            self.stats.links += 1
        else:
            # A hard link shares its source's inode, mode and times: nothing to set.
            assert source is not None
            os.link(source, path, follow_symlinks=False)
            self.stats.links += 1
        self._keep(key)

    def _link_source(self, member: Member, name: str) -> str:
        parts = _parts(member.linkname, name, f"is a hard link to {member.linkname!r},")
        if not parts:
            raise UnsafeLayerError(f"layer entry {name!r} is a hard link to the root itself")
        path = self._abs(_join(self._resolve(parts[:-1], name), parts[-1]))
        try:
            info = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise UnsafeLayerError(f"layer entry {name!r} is a hard link to {member.linkname!r}, "
                                   "which the root does not hold") from None
        if stat.S_ISDIR(info.st_mode):
            raise UnsafeLayerError(f"layer entry {name!r} is a hard link to a directory")
        return path

    def _write_file(self, path: str, member: Member, reader: TarReader, mode: int,
                    mtime: float) -> None:
        # O_EXCL | O_NOFOLLOW: a new inode at exactly this name, or an error. Whatever was
        # there (a file, a symlink, a hard link, a directory) is replaced, never written through.
        # Created with its mode already (the creator may write a new file whatever its mode):
        # fchmod only when the umask took bits away, or chown may have.
        try:
            fd = os.open(path, _OPEN_NEW, mode)
        except FileExistsError:
            self._remove(path, os.lstat(path))
            fd = os.open(path, _OPEN_NEW, mode)
        try:
            for piece in reader.data():
                self.stats.bytes_written += len(piece)
                if self.stats.bytes_written > self.limits.max_bytes:
                    raise _too_large(f"writes more than {self.limits.max_bytes} bytes of files",
                                     "max_bytes", self.limits.max_bytes)
                while piece:
                    piece = piece[os.write(fd, piece):]
            if self.chown:
                os.fchown(fd, member.uid, member.gid)
            if self.chown or mode & self._umask:
                os.fchmod(fd, mode)      # after chown, which may clear mode bits
            os.utime(fd, (mtime, mtime))
        finally:
            os.close(fd)
        self.stats.files += 1

    def _owner(self, path: str, member: Member) -> None:
        if self.chown:
            os.chown(path, member.uid, member.gid, follow_symlinks=False)

    def _whiteout(self, parts: list[str], name: str) -> None:
        self.stats.whiteouts += 1
        base = parts[-1]
        if base == OPAQUE_WHITEOUT:
            directory = self._resolve(parts[:-1], name)
            if os.path.isdir(self._abs(directory)) and not os.path.islink(self._abs(directory)):
                for child in os.listdir(self._abs(directory)):
                    self._remove_lower(_join(directory, child))
            return
        hidden = base[len(WHITEOUT_PREFIX):]
        if hidden in ("", ".", ".."):
            raise UnsafeLayerError(f"layer entry {name!r} is a whiteout that names no file "
                                   "in its directory")
        self._remove_lower(_join(self._resolve(parts[:-1], name), hidden))

    def finish(self) -> None:
        # Deepest first: a parent made read-only cannot stop us reaching its children.
        for path in sorted(self._final, key=lambda p: p.count("/"), reverse=True):
            mode, mtime = self._final[path]
            try:
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    continue             # replaced later in the layer by a file or a link
            except FileNotFoundError:
                continue
            os.chmod(path, mode)
            if mtime is not None:
                os.utime(path, (mtime, mtime))


def apply_layer(layer: LayerSource, root: str | os.PathLike, *, compression: str | None = None,
                limits: Limits = Limits(), preserve_owner: bool = False) -> ApplyStats:
    """Apply one layer on top of what ``root`` holds, as Docker and containerd do.

    ``layer`` is the blob as bytes, a path, or a binary stream, read once
    from start to end. ``compression`` is ``"gzip"``, ``"zstd"``,
    ``"none"``, or ``None`` to tell by the first bytes. ``root`` is created
    if missing. Raises ``UnsafeLayerError`` for an entry that would reach
    outside ``root`` (see the module's rules) and ``LayerTooLargeError`` when
    ``limits`` are crossed; then discard the root (``remove_tree``).
    """
    os.makedirs(root, exist_ok=True)
    root = os.path.realpath(root)
    if isinstance(layer, (bytes, bytearray, memoryview)):
        raw: BinaryIO = io.BytesIO(bytes(layer))
    elif isinstance(layer, (str, os.PathLike)):
        raw = open(layer, "rb")
    else:
        raw = layer
    try:
        inflow = _Inflow(raw, compression, limits.max_bytes)
        applier = _Applier(root, limits, preserve_owner)
        try:
            # Inflating on a thread of its own while this one creates files: two cores busy.
            with ReadAhead(inflow.read, _READ_SIZE) as ahead:
                reader = TarReader(ahead.read, _READ_SIZE)
                for member in reader:
                    applier.apply(member, reader)
        except MetaTooLargeError as error:
            raise _too_large(f"has a {error.size}-byte tar meta header (PAX or long name)",
                             "meta header size", META_LIMIT) from None
        applier.finish()
    finally:
        if raw is not layer:
            raw.close()
    return applier.stats


def unpack_image(layers: Iterable[LayerSource], root: str | os.PathLike, **options: Any) -> list[ApplyStats]:
    """Apply an image's layers bottom-first (the manifest's order) and return each one's stats."""
    return [apply_layer(layer, root, **options) for layer in layers]
