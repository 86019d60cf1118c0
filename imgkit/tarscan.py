"""Docker's SIZE of a layer, read from its tar as the tar streams past.

``docker images`` adds up, for SIZE, the size fields of the layers' tar
headers: the bytes of the files, not of the tar (headers, padding) nor of
the compressed blob. ``TarScanner`` reads only the headers - file contents
are skipped by arithmetic - so a 1 GB layer costs a few MB of memory and
24,000 files about 2 microseconds each. It is pushed pieces of the tar as
they are inflated; ``imgkit.tarreader`` is the other way round, a reader
that pulls entries with their data, for unpacking. Both follow Go's
``archive/tar`` and share every field parser (``imgkit.tarheader``).
"""

from __future__ import annotations

import zlib

from .streamwalk import BrokenStream, FieldWalker
from .tarheader import BLOCK as _BLOCK
from .tarheader import HEADER_ONLY, ZERO_BLOCK, checksum_matches, parse_number, parse_pax
from .tarheader import META_LIMIT as _META_LIMIT

__all__ = ["TarScanner"]

_PLAIN_KINDS = frozenset(b"0123457")    # the typeflags the fast header path reads


def _number(field: bytes) -> int:
    """Read a tar numeric field (octal, or GNU base-256)."""
    try:
        return parse_number(field)
    except ValueError as error:
        raise BrokenStream(str(error)) from None


def _pax_records(data: bytes) -> dict[bytes, bytes]:
    """Parse PAX records."""
    try:
        return parse_pax(data)
    except ValueError as error:
        raise BrokenStream(str(error)) from None


class TarScanner(FieldWalker):
    """Add up Docker's SIZE from tar bytes as they flow, reading headers only.

    It follows Go's ``archive/tar``, which Docker unpacks layers with: a PAX
    ``x`` record ``size=`` overrides the header's size (an empty value keeps
    it); ``g`` global records are checked but change no entry; GNU ``L``/``K``
    long names are meta entries, not files; old GNU sparse files (``S``) and
    GNU PAX sparse records count their real size; links, devices and
    directories never carry data whatever their size field says; the archive
    ends at two zero blocks or at a clean end of the stream.
    """

    def __init__(self) -> None:
        super().__init__(_BLOCK)
        self.content_size = self.entries = 0
        self._pad = 0                    # how much of _skip is padding
        self._meta = b""                 # typeflag of the meta entry whose data is the next field
        self._pending: dict[bytes, bytes] = {}    # PAX records and long name for the next entry
        self._sparse_after = -1          # old GNU sparse: data to skip after the map's blocks
        self._zero_seen = False

    def feed(self, data: bytes) -> None:
        """Take the next piece of the tar: ordinary headers on a fast path, the rest one by one."""
        if type(data) is not bytes:
            data = bytes(data)
        pos, n = 0, len(data)
        while pos < n and self._need:
            if self._skip:
                step = min(self._skip, n - pos)
                self._skip -= step
                pos += step
            elif self._field or n - pos < self._need:     # a field cut by the chunk's end
                step = min(self._need - len(self._field), n - pos)
                self._field += data[pos:pos + step]
                pos += step
                if len(self._field) == self._need:
                    field = bytes(self._field)
                    self._field.clear()
                    self._step(field, self._seen + pos - len(field))
            else:
                if self._need == _BLOCK and self._sparse_after < 0 and not (
                        self._meta or self._pending or self._zero_seen):
                    stop = self._plain_headers(data, pos)
                    if stop != pos:
                        pos = stop
                        continue
                step = self._need
                self._step(data[pos:pos + step], self._seen + pos)
                pos += step
        self._seen += n

    def _plain_headers(self, data: bytes, pos: int) -> int:
        """Read a run of ordinary ustar headers (and skip their data) from ``pos``; return where
        the run stopped: at the end of ``data`` or before a header this fast path leaves to
        ``_header`` (PAX, GNU, sparse, base-256 or odd numbers, signed checksum, zero block).

        Per entry it is a few slices and C calls: the checksum as three Adler-32 sums (the
        low half of each is 1 + the sum of its bytes, exact below 65521), the two numbers
        with ``int(text, 8)``. Whatever it declines, ``_header`` reads with every check.
        """
        n, adler, entries, content, pad = len(data), zlib.adler32, 0, 0, self._pad
        try:
            while n - pos >= _BLOCK:
                kind = data[pos + 156]
                if kind not in _PLAIN_KINDS:
                    break
                checksum = data[pos + 148:pos + 156].strip(b" \0")
                size = data[pos + 124:pos + 136].strip(b" \0")
                if not (checksum.isdigit() and size.isdigit()) or int(checksum, 8) != (
                        (adler(data[pos:pos + 148]) & 0xFFFF) + 253      # 256 for the field, -3
                        + (adler(data[pos + 156:pos + 356]) & 0xFFFF)
                        + (adler(data[pos + 356:pos + _BLOCK]) & 0xFFFF)):
                    break
                stored = int(size, 8)
                entries += 1
                content += stored
                if kind in HEADER_ONLY:
                    stored = 0
                pad = -stored % _BLOCK
                pos += _BLOCK + stored + pad
                if pos > n:                  # the data goes on in the next pieces
                    self._skip, pos = pos - n, n
                    break
        except ValueError:                   # 8 or 9 in a number: _header says so
            pass
        self.entries += entries
        self.content_size += content
        self._pad = pad
        return pos

    def finish(self) -> None:
        """Check the tar did not stop inside a header or inside an entry's data."""
        if self._field and not self._meta:
            raise BrokenStream(f"the tar ends inside a header, at byte {self._seen}")
        if self._skip > self._pad or self._meta or self._sparse_after >= 0:
            raise BrokenStream(f"the tar ends inside an entry's data, at byte {self._seen}")

    def _step(self, block: bytes, offset: int) -> None:
        if self._meta:
            self._meta_done(block)
        elif self._sparse_after >= 0:        # an old GNU sparse map goes on in this block
            if not block[504]:
                self._skip, self._sparse_after = self._sparse_after, -1
        elif block == ZERO_BLOCK:
            self._need = 0 if self._zero_seen else _BLOCK
            self._zero_seen = True
        elif self._zero_seen:
            raise BrokenStream(f"a zero block inside the tar, before byte {offset}")
        else:
            self._header(block, offset)

    def _header(self, block: bytes, offset: int) -> None:
        if not checksum_matches(block):
            raise BrokenStream(f"not a tar archive: bad header checksum at byte {offset}")
        typeflag, size = block[156:157], _number(block[124:136])
        if typeflag in (b"x", b"g", b"L", b"K"):
            if size > _META_LIMIT:
                raise BrokenStream(f"a tar meta entry of {size} bytes is too big (at byte {offset})")
            self._meta, self._need = typeflag, size
            if not size:
                self._meta_done(b"")
            return
        records, self._pending = self._pending, {}
        try:
            if records.get(b"size"):
                size = int(records[b"size"])
            counted_size = int(records.get(b"GNU.sparse.size") or records.get(b"GNU.sparse.realsize")
                               or size)
        except ValueError:
            raise BrokenStream(f"a PAX size record is not a number (at byte {offset})") from None
        if typeflag == b"S":
            counted_size = _number(block[483:495])
        name = records.get(b"path") or block[:100].split(b"\0", 1)[0]
        stored = 0 if typeflag[0] in HEADER_ONLY or (typeflag == b"\0" and name.endswith(b"/")) else size
        if stored < 0 or counted_size < 0:
            raise BrokenStream(f"a tar entry has a negative size (at byte {offset})")
        self.entries += 1
        self.content_size += counted_size
        self._pad = -stored % _BLOCK
        if typeflag == b"S" and block[482]:
            self._sparse_after = stored + self._pad
        else:
            self._skip = stored + self._pad

    def _meta_done(self, data: bytes) -> None:
        typeflag, self._meta, self._need = self._meta, b"", _BLOCK
        self._skip = self._pad = -len(data) % _BLOCK
        if typeflag == b"x":
            self._pending.update(_pax_records(data))
        elif typeflag == b"g":
            _pax_records(data)               # checked, as Go does, but applied to nothing
        elif typeflag == b"L":
            self._pending[b"path"] = data.split(b"\0", 1)[0]
