"""Read a layer's tar entry by entry, the way Go's ``archive/tar`` (so Docker) reads it.

A layer of a distribution's ``/usr`` holds tens of thousands of small files,
and Python's ``tarfile`` spends about 30 µs on each in stream mode (it parses
every header field through several layers of Python and wraps each file's
data in a file object). ``TarReader`` reads an ordinary ustar header with a
few slices and C calls, and hands a file's data over as slices of the
buffer it already holds::

    reader = TarReader(stream.read)
    for member in reader:              # a Member: name, type, size, mode, ...
        for piece in reader.data():    # the member's bytes, in pieces (regular files)
            out.write(piece)

What it reads, as Go does:

* ustar, GNU and old V7 headers; the checksum summed unsigned or signed;
  numbers in octal or GNU base-256; ustar's ``prefix`` joined to the name;
* PAX ``x`` records (``path``, ``linkpath``, ``size``, ``uid``, ``gid``,
  ``mtime``) for the next entry, ``g`` records checked and otherwise ignored
  (Docker ignores them); GNU ``L``/``K`` long names and link names; meta
  entries over 1 MiB are refused, as Go refuses them;
* type ``\\0`` is a regular file, or a directory when its name ends in ``/``;
  links, directories, devices and FIFOs never carry data, whatever their size
  field says;
* the archive ends at two zero blocks, or cleanly at the end of a block; a
  zero block followed by anything else, or a stream cut inside a header or
  inside data, is an error.

Sparse files (GNU ``S`` entries, PAX ``GNU.sparse``) are refused with a
clear error: no image builder writes them. Errors are ``tarfile.ReadError``,
so callers catch one kind of broken tar whichever reader met it.
"""

from __future__ import annotations

import tarfile
from typing import Callable, Iterator

from .tarheader import BLOCK, HEADER_ONLY, META_LIMIT, ZERO_BLOCK, checksum_matches, octal, parse_pax

__all__ = ["Member", "TarReader", "MetaTooLargeError"]

_USTAR = b"ustar\x0000"


class MetaTooLargeError(tarfile.ReadError):
    """A PAX record or GNU long name bigger than ``META_LIMIT`` (Go refuses it; so does this)."""

    def __init__(self, size: int, offset: int):
        super().__init__(f"a tar meta entry of {size} bytes is too big (at byte {offset}; "
                         f"the limit is {META_LIMIT})")
        self.size = size


class Member:
    """One entry of a tar: what ``tarfile.TarInfo`` tells, for the fields a layer uses."""

    __slots__ = ("name", "linkname", "type", "size", "mode", "uid", "gid", "mtime")

    def __init__(self, name: str, type: bytes, size: int, mode: int, uid: int, gid: int,
                 mtime: float, linkname: str = ""):
        self.name, self.type, self.size, self.mode = name, type, size, mode
        self.uid, self.gid, self.mtime, self.linkname = uid, gid, mtime, linkname

    def isreg(self) -> bool:
        return self.type in (b"0", b"7")   # \0 was made 0 or 5 when read; 7 is a plain file too

    def isdir(self) -> bool:
        return self.type == b"5"

    def issym(self) -> bool:
        return self.type == b"2"

    def islnk(self) -> bool:
        return self.type == b"1"

    def __repr__(self) -> str:
        return f"<Member {self.name!r} type {self.type.decode('latin-1')!r} size {self.size}>"


def _decimal(value: bytes) -> int:
    """A PAX integer as Go reads it: optional sign, ASCII digits; nothing else."""
    if not (value[1:] if value[:1] in (b"+", b"-") else value).isdigit():
        raise ValueError(f"{value[:20]!r} is not a decimal number")
    return int(value)


def _seconds(value: bytes) -> float:
    """A PAX time (``mtime``): seconds, maybe with a fraction, as Go's parsePAXTime reads it."""
    whole, dot, fraction = value.partition(b".")
    if (dot and fraction and not fraction.isdigit()) or (dot and not fraction):
        raise ValueError(f"{value[:30]!r} is not a PAX time")
    return _decimal(whole) + (float(b"0." + fraction) if fraction else 0.0) * (
        -1 if whole.startswith(b"-") else 1)


class TarReader:
    """Iterate the members of a tar read from ``read(n)`` (which may return fewer bytes).

    After each member, ``data()`` yields its bytes (regular files); what a
    caller leaves unread is skipped. The pieces are views of the reader's
    buffer: use each before asking for the next.
    """

    def __init__(self, read: Callable[[int], bytes], chunk: int = 1 << 20):
        self._read, self._chunk = read, chunk
        self._buf: bytes = b""
        self._pos = 0
        self._left = 0                   # data bytes of the current member not yet handed over
        self._pad = 0                    # padding after them
        self.offset = 0                  # bytes of the tar consumed so far

    # -- the stream --------------------------------------------------------------------

    def _fill(self, need: int) -> bool:
        """Make ``need`` bytes available at ``_pos``; False if the stream ends first."""
        have = len(self._buf) - self._pos
        if have >= need:
            return True
        parts = [self._buf[self._pos:]] if have else []
        while have < need:
            more = self._read(max(self._chunk, need - have))
            if not more:
                self._buf, self._pos = b"".join(parts), 0
                return False
            parts.append(more)
            have += len(more)
        self._buf, self._pos = parts[0] if len(parts) == 1 else b"".join(parts), 0
        return True

    def _take(self, size: int, what: str) -> bytes:
        if not self._fill(size):
            got = len(self._buf) - self._pos
            raise tarfile.ReadError(f"unexpected end of data: the tar ends inside {what}, "
                                    f"at byte {self.offset + got}")
        piece = self._buf[self._pos:self._pos + size]
        self._pos += size
        self.offset += size
        return piece

    def _skip(self, size: int, what: str) -> None:
        while size:
            have = len(self._buf) - self._pos
            if not have and not self._fill(1):
                raise tarfile.ReadError(f"unexpected end of data: the tar ends inside {what}, "
                                        f"at byte {self.offset}")
            step = min(size, len(self._buf) - self._pos)
            self._pos += step
            self.offset += step
            size -= step

    def data(self) -> Iterator[memoryview]:
        """Yield the current member's bytes, as views of the buffer (use each at once)."""
        while self._left:
            have = len(self._buf) - self._pos
            if not have:
                if not self._fill(1):
                    raise tarfile.ReadError("unexpected end of data: the tar ends inside an "
                                            f"entry's data, at byte {self.offset}")
                have = len(self._buf) - self._pos
            step = min(self._left, have)
            start = self._pos
            self._pos += step
            self.offset += step
            self._left -= step
            yield memoryview(self._buf)[start:start + step]

    # -- headers -----------------------------------------------------------------------

    def __iter__(self) -> Iterator[Member]:
        return self

    def __next__(self) -> Member:
        self._skip(self._left + self._pad, "an entry's data")
        self._left = self._pad = 0
        pending: dict[bytes, bytes] = {}
        while True:
            if not self._fill(BLOCK):
                if len(self._buf) - self._pos:
                    raise tarfile.ReadError("unexpected end of data: the tar ends inside a "
                                            f"header, at byte {self.offset}")
                raise StopIteration      # a clean end at a block boundary, as Go allows
            block = self._take(BLOCK, "a header")
            if block == ZERO_BLOCK:
                if not self._fill(BLOCK) and len(self._buf) == self._pos:
                    raise StopIteration
                if self._take(BLOCK, "the end of the archive") == ZERO_BLOCK:
                    raise StopIteration
                raise tarfile.ReadError(f"a zero block inside the tar, before byte {self.offset}")
            member = self._header(block, pending)
            if member is not None:
                return member

    def _header(self, block: bytes, pending: dict[bytes, bytes]) -> Member | None:
        at = self.offset - BLOCK
        if not checksum_matches(block):
            raise tarfile.ReadError(f"invalid header: bad checksum at byte {at}")
        kind = block[156:157]
        try:
            size = octal(block[124:136])
            if kind in (b"x", b"g", b"L", b"K"):
                if size > META_LIMIT:
                    raise MetaTooLargeError(size, at)
                data = self._take(size, "a meta entry") if size else b""
                self._skip(-size % BLOCK, "a meta entry")
                if kind == b"x":
                    pending.update(parse_pax(data))
                elif kind == b"g":
                    parse_pax(data)      # checked, as Go does; Docker applies it to nothing
                else:
                    pending[b"path" if kind == b"L" else b"linkpath"] = data.split(b"\0", 1)[0]
                return None
            mode, uid, gid = octal(block[100:108]), octal(block[108:116]), octal(block[116:124])
            mtime: float = octal(block[136:148])
        except ValueError as error:
            raise tarfile.ReadError(f"invalid header at byte {at}: {error}") from None
        if kind == b"S" or any(key.startswith(b"GNU.sparse.") for key in pending):
            raise tarfile.ReadError(f"sparse files are not supported (the entry at byte {at})")
        name = block[:100].split(b"\0", 1)[0]
        if block[257:265] == _USTAR and block[345]:     # ustar (and PAX): a prefix may lead
            name = block[345:500].split(b"\0", 1)[0] + b"/" + name
        linkname = block[157:257].split(b"\0", 1)[0]
        if pending:
            try:
                name, linkname = pending.get(b"path", name), pending.get(b"linkpath", linkname)
                if pending.get(b"size"):
                    size = _decimal(pending[b"size"])
                if pending.get(b"uid"):
                    uid = _decimal(pending[b"uid"])
                if pending.get(b"gid"):
                    gid = _decimal(pending[b"gid"])
                if pending.get(b"mtime"):
                    mtime = _seconds(pending[b"mtime"])
            except ValueError:
                raise tarfile.ReadError(f"a PAX record is not a number (at byte {at})") from None
        if kind == b"\0":
            kind = b"5" if name.endswith(b"/") else b"0"
        stored = 0 if kind[0] in HEADER_ONLY else size
        if stored < 0:
            raise tarfile.ReadError(f"a tar entry has a negative size (at byte {at})")
        self._left, self._pad = stored, -stored % BLOCK
        return Member(name.decode("utf-8", "surrogateescape"), kind, size, mode, uid, gid, mtime,
                      linkname.decode("utf-8", "surrogateescape"))
