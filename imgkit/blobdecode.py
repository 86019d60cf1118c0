"""Decompress a layer blob as it streams in: gzip, zstd, or nothing at all.

Each decoder is handed the compressed chunks in order (``decode``) and
hands the tar on in pieces of at most ``PIECE`` bytes however well the
blob compresses, so a decompression bomb never sits in memory whole.
``close`` says whether the stream ended where it should: a gzip member
or zstd frame cut short, or bytes after the last one, is a
``BrokenStream``. The media type picks the decoder (``DECODERS``).
"""

from __future__ import annotations

from typing import Any, Callable

from .inflate import GUNZIP_ERRORS, gunzip_object
from .streamwalk import BrokenStream, FieldWalker

__all__ = ["DECODERS", "Decoder", "Gunzip", "Unzstd", "Plain", "PIECE", "GZIP_MAGIC",
           "ZSTD_MAGIC"]

PIECE = 1 << 20             # most uncompressed bytes handed on at once
IN_SLICE = 128 << 10        # most compressed bytes given to gunzip at once
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class Gunzip:
    """Inflate gzip members one after another; anything else after them is an error."""

    def __init__(self, emit: Callable[[bytes], None]):
        self._emit, self._members = emit, 0
        self._obj: Any = None            # the current member's decompressobj
        self._head = b""                 # the first bytes of a member, until its magic is known

    def decode(self, data: bytes) -> None:
        if len(data) <= IN_SLICE:
            self._decode(data)
            return
        # Smaller inputs keep each output under PIECE, so no call leaves an input tail to copy.
        view = memoryview(data)
        for start in range(0, len(data), IN_SLICE):
            self._decode(view[start:start + IN_SLICE])

    def _decode(self, data: bytes | memoryview) -> None:
        while True:
            if self._obj is None:
                data, self._head = self._head + data, b""
                if len(data) < 2:
                    self._head = bytes(data)
                    return
                if data[:2] != GZIP_MAGIC:
                    raise BrokenStream("unexpected data after the end of the gzip stream"
                                       if self._members else "not gzip data")
                self._obj = gunzip_object()
                self._members += 1
            try:
                out = self._obj.decompress(data, PIECE)
            except GUNZIP_ERRORS as error:
                raise BrokenStream(f"invalid gzip data ({error})") from None
            if out:
                self._emit(out)
            if self._obj.eof:
                data, self._obj = self._obj.unused_data, None
                if not data:
                    return
            elif not (data := self._obj.unconsumed_tail) and len(out) < PIECE:
                return                   # all taken in; a full piece may hold more back

    def close(self) -> None:
        if self._obj is not None or not self._members:
            raise BrokenStream("the gzip stream is truncated" if self._members or self._head
                               else "the blob is empty, not gzip data")
        if self._head:
            raise BrokenStream("unexpected data after the end of the gzip stream")


class Unzstd(FieldWalker):
    """Decompress zstd frames, walking their block headers to see where each frame ends.

    ``zstandard``'s stream writer hands output over ``PIECE`` bytes at a time
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
            self, write_size=PIECE, write_return_read=True)  # type: ignore[arg-type]
        self._state, self._checksum, self._frames = "magic", 0, 0

    def decode(self, data: bytes) -> None:
        self.feed(data)
        try:
            self._writer.write(data)
        except self._error as error:
            raise BrokenStream(f"invalid zstd data ({error})") from None

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
                raise BrokenStream("unexpected data after the end of the zstd stream"
                                   if self._frames else "not zstd data")
        elif self._state == "skippable":
            self._skip, self._state = field, "magic"
        elif self._state == "frame":         # the frame header descriptor tells the header's size
            single = field >> 5 & 1
            self._checksum = 4 if field & 4 else 0
            self._skip = (1 - single) + (0, 1, 2, 4)[field & 3] + (single, 2, 4, 8)[field >> 6]
            self._state, self._need = "block", 3
        elif field >> 1 & 3 == 3:
            raise BrokenStream("invalid zstd data (reserved block type)")
        else:                                # a block header: last?, type, size
            self._skip = 1 if field >> 1 & 3 == 1 else field >> 3
            if field & 1:
                self._skip += self._checksum
                self._state, self._need, self._frames = "magic", 4, self._frames + 1

    def close(self) -> None:
        if self._skip or self._field or self._state != "magic":
            raise BrokenStream("the zstd stream is truncated")
        if not self._frames:
            raise BrokenStream("the blob holds no zstd frame")


class Plain:
    """An uncompressed layer: the blob is the tar."""

    def __init__(self, emit: Callable[[bytes], None]):
        self.decode = emit

    def close(self) -> None:
        pass


Decoder = Gunzip | Unzstd | Plain
DECODERS: dict[str, type[Decoder]] = {"gzip": Gunzip, "zstd": Unzstd, "none": Plain}
