"""Check a layer as it streams in: its digest, its diff_id and Docker's SIZE, in one pass.

A registry sends a layer as a compressed blob, in chunks. Three different
facts come out of it, and a learner meets all three in ``docker`` output::

    registry ─chunks─▶ feed() ─┬─▶ sink: the blob file, still compressed
                               ├─▶ sha256 ─────────────────▶ digest   (the manifest names the blob by it)
                               └─▶ gunzip / unzstd ─▶ tar ─┬─▶ sha256 ─▶ diff_id  (the config's rootfs)
                                                           └─▶ tar headers ─▶ content_size (SIZE)

* ``digest``: SHA-256 of the compressed bytes, exactly as the registry stored
  them. It must equal what the manifest promised, or the layer is refused.
* ``diff_id``: SHA-256 of the *uncompressed* tar. The same tar compressed
  twice (another gzip level, zstd) has two digests but one diff_id, which is
  why layers are shared by diff_id (through ChainIDs), not by digest.
* ``content_size``: what ``docker images`` adds up for SIZE: the size fields
  of the tar headers - the bytes of the files, not of the tar (headers,
  padding) nor of the blob. A hard link's header says 0, so a file with two
  names counts once.

Nothing is held whole: the tar is hashed and its headers read as it is
decompressed, 1 MiB at most at a time however well it compresses, and file
contents are skipped by arithmetic. A 1 GB layer needs a few MB.

    >>> from imgkit.tarlayer import Entry, Layer
    >>> layer = Layer.from_entries([Entry.file("etc/motd", b"hi\\n")])
    >>> ingest = LayerIngest(layer.digest, layer.media_type)
    >>> ingest.feed(layer.blob)
    >>> ingest.finish().content_size
    3
"""

from __future__ import annotations

import hashlib
import os
import zlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, BinaryIO, Callable

from . import digest as _digest
from .errors import CorruptLayerError, DigestMismatchError
from .oci.mediatypes import compression_of

try:  # ISA-L inflates 2-3x faster than zlib, with the same API and the same bytes out.
    from isal import isal_zlib
    _inflate_lib: ModuleType = isal_zlib
except ImportError:  # pragma: no cover - isal is optional
    _inflate_lib = zlib

__all__ = ["LayerIngest", "LayerFacts", "CorruptLayerError", "ingest_file"]

_PIECE = 1 << 20            # most uncompressed bytes handled at once
_BLOCK = 512
_ZERO_BLOCK = bytes(_BLOCK)
_HIGH = bytes(range(128, 256))
_META_LIMIT = 1 << 20       # Go's archive/tar (so Docker) refuses bigger PAX or long-name data
_HEADER_ONLY = b"123456"    # links, devices, directories, FIFOs: never followed by data
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class _Broken(Exception):
    """Internal: why the stream cannot be read (becomes ``CorruptLayerError``)."""


@dataclass(frozen=True)
class LayerFacts:
    """What one pass over a layer blob learned; every field was checked or measured."""

    digest: str              #: sha256 of the compressed blob (the manifest's ``digest``)
    diff_id: str             #: sha256 of the uncompressed tar (the config's ``rootfs``)
    size: int                #: bytes of the compressed blob (the manifest's ``size``)
    uncompressed_size: int   #: bytes of the tar, headers and padding included
    content_size: int        #: Docker's SIZE of the layer: the tar headers' file sizes


def _number(field: bytes) -> int:
    """Read a tar numeric field: octal text, or GNU base-256 for big values."""
    if field[0] & 0x80:
        if field[0] & 0x40:
            raise _Broken("a tar header holds a negative number")
        return int.from_bytes(field, "big") - (0x80 << (8 * (len(field) - 1)))
    text = field.strip(b" \0").split(b"\0", 1)[0]
    if text.strip(b"01234567"):
        raise _Broken(f"a tar header holds a number that is not octal: {text[:12]!r}")
    return int(text, 8) if text else 0


def _pax_records(data: bytes) -> dict[bytes, bytes]:
    """Parse PAX records, ``"%d %s=%s\\n"`` each, the length counting the whole record."""
    records: dict[bytes, bytes] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos, pos + 20)
        end = pos + int(data[pos:space]) if space > pos and data[pos:space].isdigit() else 0
        key, equals, value = data[space + 1:end - 1].partition(b"=")
        if end <= space + 1 or end > len(data) or data[end - 1] != 0x0A or not equals or not key:
            raise _Broken("a PAX extended header has a malformed record")
        records[key] = value
        pos = end
    return records


class _Walker:
    """Cut a stream into fields and skipped spans, however it is chunked: subclasses set
    ``_need`` (size of the next field; 0 stops) and ``_skip``, and get fields in ``_step``."""

    def __init__(self, need: int):
        self._need, self._skip, self._field, self._seen = need, 0, bytearray(), 0

    def feed(self, data: bytes) -> None:
        """Take the next piece of the stream."""
        pos, n = 0, len(data)
        while pos < n and self._need:
            if self._skip:
                step = min(self._skip, n - pos)
                self._skip -= step
            elif not self._field and n - pos >= self._need:
                step = self._need
                self._step(bytes(data[pos:pos + step]), self._seen + pos)
            else:
                step = min(self._need - len(self._field), n - pos)
                self._field += data[pos:pos + step]
                if len(self._field) == self._need:
                    field = bytes(self._field)
                    self._field.clear()
                    self._step(field, self._seen + pos + step - len(field))
            pos += step
        self._seen += n

    def _step(self, field: bytes, offset: int) -> None:
        raise NotImplementedError


class _TarScanner(_Walker):
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

    def finish(self) -> None:
        """Check the tar did not stop inside a header or inside an entry's data."""
        if self._field and not self._meta:
            raise _Broken(f"the tar ends inside a header, at byte {self._seen}")
        if self._skip > self._pad or self._meta or self._sparse_after >= 0:
            raise _Broken(f"the tar ends inside an entry's data, at byte {self._seen}")

    def _step(self, block: bytes, offset: int) -> None:
        if self._meta:
            self._meta_done(block)
        elif self._sparse_after >= 0:        # an old GNU sparse map goes on in this block
            if not block[504]:
                self._skip, self._sparse_after = self._sparse_after, -1
        elif block == _ZERO_BLOCK:
            self._need = 0 if self._zero_seen else _BLOCK
            self._zero_seen = True
        elif self._zero_seen:
            raise _Broken(f"a zero block inside the tar, before byte {offset}")
        else:
            self._header(block, offset)

    def _header(self, block: bytes, offset: int) -> None:
        # The checksum adds up the header's bytes, its own field read as spaces; old tars
        # added signed chars, so both sums pass, as in Go. Adler-32's low half is 1 + the
        # sum of the bytes, exact for 256 of them: two C calls instead of a Python loop.
        counted = block[:148] + b"        " + block[156:]
        unsigned = (zlib.adler32(counted[:256]) & 0xFFFF) + (zlib.adler32(counted[256:]) & 0xFFFF) - 2
        stored: int | None = None
        try:
            stored = _number(block[148:156])
        except _Broken:
            pass
        if stored != unsigned and stored != unsigned - 256 * (_BLOCK - len(counted.translate(None, _HIGH))):
            raise _Broken(f"not a tar archive: bad header checksum at byte {offset}")
        typeflag, size = block[156:157], _number(block[124:136])
        if typeflag in (b"x", b"g", b"L", b"K"):
            if size > _META_LIMIT:
                raise _Broken(f"a tar meta entry of {size} bytes is too big (at byte {offset})")
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
            raise _Broken(f"a PAX size record is not a number (at byte {offset})") from None
        if typeflag == b"S":
            counted_size = _number(block[483:495])
        name = records.get(b"path") or block[:100].split(b"\0", 1)[0]
        stored = 0 if typeflag in _HEADER_ONLY or (typeflag == b"\0" and name.endswith(b"/")) else size
        if stored < 0 or counted_size < 0:
            raise _Broken(f"a tar entry has a negative size (at byte {offset})")
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


class _Gunzip:
    """Inflate gzip members one after another; anything else after them is an error."""

    def __init__(self, emit: Callable[[bytes], None]):
        self._emit, self._members = emit, 0
        self._obj: Any = None            # the current member's decompressobj
        self._head = b""                 # the first bytes of a member, until its magic is known

    def decode(self, data: bytes) -> None:
        while True:
            if self._obj is None:
                data, self._head = self._head + data, b""
                if len(data) < 2:
                    self._head = data
                    return
                if data[:2] != _GZIP_MAGIC:
                    raise _Broken("unexpected data after the end of the gzip stream" if self._members
                                  else "not gzip data")
                self._obj = _inflate_lib.decompressobj(31)
                self._members += 1
            try:
                out = self._obj.decompress(data, _PIECE)
            except (zlib.error, _inflate_lib.error) as error:
                raise _Broken(f"invalid gzip data ({error})") from None
            if out:
                self._emit(out)
            if self._obj.eof:
                data, self._obj = self._obj.unused_data, None
                if not data:
                    return
            elif not (data := self._obj.unconsumed_tail) and len(out) < _PIECE:
                return                   # all taken in; a full piece may hold more back

    def close(self) -> None:
        if self._obj is not None or not self._members:
            raise _Broken("the gzip stream is truncated" if self._members or self._head
                          else "the blob is empty, not gzip data")
        if self._head:
            raise _Broken("unexpected data after the end of the gzip stream")


class _Unzstd(_Walker):
    """Decompress zstd frames, walking their block headers to see where each frame ends.

    ``zstandard``'s stream writer hands output over ``_PIECE`` bytes at a time
    whatever the ratio, but cannot tell a whole stream from a truncated one;
    the walk can (RFC 8878: magic, frame header, 3-byte block headers, checksum).
    """

    def __init__(self, emit: Callable[[bytes], None]):
        try:
            import zstandard
        except ImportError:
            raise ModuleNotFoundError("zstd layers need the 'zstandard' package "
                                      "(pip install zstandard)") from None
        super().__init__(4)
        self._emit, self._error = emit, zstandard.ZstdError
        self._writer = zstandard.ZstdDecompressor().stream_writer(  # any object with write()
            self, write_size=_PIECE, write_return_read=True)  # type: ignore[arg-type]
        self._state, self._checksum, self._frames = "magic", 0, 0

    def decode(self, data: bytes) -> None:
        self.feed(data)
        try:
            self._writer.write(data)
        except self._error as error:
            raise _Broken(f"invalid zstd data ({error})") from None

    def write(self, piece: bytes) -> int:
        """Take decompressed bytes from ``zstandard`` (this object is its output file)."""
        self._emit(bytes(piece))
        return len(piece)

    def _step(self, raw: bytes, offset: int) -> None:
        field = int.from_bytes(raw, "little")
        if self._state == "magic":
            if field == 0xFD2FB528:
                self._state, self._need = "frame", 1
            elif field >> 4 == 0x184D2A5:    # a skippable frame: a size, then bytes to ignore
                self._state = "skippable"
            else:
                raise _Broken("unexpected data after the end of the zstd stream" if self._frames
                              else "not zstd data")
        elif self._state == "skippable":
            self._skip, self._state = field, "magic"
        elif self._state == "frame":         # the frame header descriptor tells the header's size
            single = field >> 5 & 1
            self._checksum = 4 if field & 4 else 0
            self._skip = (1 - single) + (0, 1, 2, 4)[field & 3] + (single, 2, 4, 8)[field >> 6]
            self._state, self._need = "block", 3
        elif field >> 1 & 3 == 3:
            raise _Broken("invalid zstd data (reserved block type)")
        else:                                # a block header: last?, type, size
            self._skip = 1 if field >> 1 & 3 == 1 else field >> 3
            if field & 1:
                self._skip += self._checksum
                self._state, self._need, self._frames = "magic", 4, self._frames + 1

    def close(self) -> None:
        if self._skip or self._field or self._state != "magic":
            raise _Broken("the zstd stream is truncated")
        if not self._frames:
            raise _Broken("the blob holds no zstd frame")


class _Plain:
    """An uncompressed layer: the blob is the tar."""

    def __init__(self, emit: Callable[[bytes], None]):
        self.decode = emit

    def close(self) -> None:
        pass


_Decoder = _Gunzip | _Unzstd | _Plain
_DECODERS: dict[str, type[_Decoder]] = {"gzip": _Gunzip, "zstd": _Unzstd, "none": _Plain}


class LayerIngest:
    """Verify a layer blob as it streams in: digest, diff_id and Docker's size, one pass.

    Call ``feed(chunk)`` for each chunk as it arrives, then ``finish()``,
    which returns ``LayerFacts`` or raises: ``DigestMismatchError`` when
    the blob is not what ``expected_digest`` names (or is longer or shorter
    than ``expected_size``, or its tar is not ``expected_diff_id``), and
    ``CorruptLayerError`` when the right bytes do not decompress into a tar.
    A broken stream is only reported once the digest is known to be right,
    so a download damaged on the way says "digest mismatch" (try again)
    rather than "corrupt" (the registry holds a bad layer).
    """

    def __init__(self, expected_digest: str, media_type: str, sink: BinaryIO | None = None,
                 expected_diff_id: str | None = None, expected_size: int | None = None):
        self.expected_digest = _digest.validate(expected_digest)
        self.expected_diff_id = None if expected_diff_id is None else _digest.validate(expected_diff_id)
        self.expected_size = expected_size
        self.compression = compression_of(media_type)
        self._sink = sink
        self._blob_hash = _digest.hasher(expected_digest)
        diff_algorithm = (expected_diff_id or "sha256:").partition(":")[0]
        self._same_hash = self.compression == "none" and diff_algorithm == self._blob_hash.name
        self._tar_hash = hashlib.new(diff_algorithm)
        self._scanner = _TarScanner()
        self._decoder: _Decoder = _DECODERS[self.compression](self._take_tar)
        self._broken: str | None = None
        self._first = b""
        self.size = 0                    #: compressed bytes fed so far (for progress)
        self.uncompressed_size = 0       #: tar bytes decompressed so far

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk of the blob: store it, hash it, decompress it, count it."""
        if self.expected_size is not None and self.size + len(chunk) > self.expected_size:
            raise DigestMismatchError(self.expected_digest, f"more than {self.expected_size} bytes",
                                      "layer")
        if self._sink is not None:
            self._sink.write(chunk)
        self._blob_hash.update(chunk)
        if len(self._first) < 4:
            self._first += bytes(chunk[:4 - len(self._first)])
        self.size += len(chunk)
        if self._broken is None:
            try:
                self._decoder.decode(chunk)
            except _Broken as error:
                self._broken = str(error)

    def _take_tar(self, piece: bytes) -> None:
        if not self._same_hash:
            self._tar_hash.update(piece)
        self.uncompressed_size += len(piece)
        self._scanner.feed(piece)

    def finish(self) -> LayerFacts:
        """Check everything once the last chunk is in; return the layer's facts."""
        if self._broken is None:
            try:
                self._decoder.close()
                self._scanner.finish()
            except _Broken as error:
                self._broken = str(error)
        if self.expected_size is not None and self.size != self.expected_size:
            raise DigestMismatchError(self.expected_digest,
                                      f"{self.size} bytes instead of {self.expected_size}", "layer")
        digest = f"{self._blob_hash.name}:{self._blob_hash.hexdigest()}"
        if digest != self.expected_digest:
            raise DigestMismatchError(self.expected_digest, digest, "layer")
        if self._broken is not None:
            looks = ("gzip" if self._first.startswith(_GZIP_MAGIC) else
                     "zstd" if self._first == _ZSTD_MAGIC else self.compression)
            hint = "" if looks == self.compression else f"; it starts like {looks} data: is its media type wrong?"
            raise CorruptLayerError(digest, self._broken + hint)
        tar_hash = self._blob_hash if self._same_hash else self._tar_hash
        diff_id = f"{tar_hash.name}:{tar_hash.hexdigest()}"
        if self.expected_diff_id is not None and diff_id != self.expected_diff_id:
            raise DigestMismatchError(self.expected_diff_id, diff_id, f"layer {digest} diff_id")
        return LayerFacts(digest, diff_id, self.size, self.uncompressed_size,
                          self._scanner.content_size)


def ingest_file(path: str | os.PathLike[str], expected_digest: str, media_type: str, *,
                expected_diff_id: str | None = None, expected_size: int | None = None,
                chunk_size: int = _PIECE) -> LayerFacts:
    """Check a layer blob already on disk (as ``fsck`` does) and return its facts."""
    ingest = LayerIngest(expected_digest, media_type, expected_diff_id=expected_diff_id,
                         expected_size=expected_size)
    with open(path, "rb") as blob:
        while chunk := blob.read(chunk_size):
            ingest.feed(chunk)
    return ingest.finish()
