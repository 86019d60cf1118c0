"""Compression of layers: gzip that is the same on every machine, and zstd.

Docker's gzip layers carry a 10-byte header that normally stamps the time of
compression; imgkit writes a fixed header (no time, no file name) and a raw
deflate stream, so the same tar always gives the same blob - and the same
digest - wherever this Python's zlib is the reference zlib (which
``deterministic_zlib()`` checks with a known answer).
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from .oci import mediatypes

__all__ = ["gzip_bytes", "gzip_stream", "deterministic_zlib", "zstd_available", "zstd_bytes",
           "compress", "StreamedLayer", "COMPRESSIONS"]

#: What ``compression=`` accepts.
COMPRESSIONS = ("gzip", "zstd", "none")


class _GzipWriter:
    """A gzip member with a fixed header: no mtime, no file name, OS 255."""

    def __init__(self, level: int):
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 9:
            raise ValueError(f"gzip level must be 0..9, not {level!r}")
        # XFL says "slowest" for level 9 and "fastest" for level 1 (RFC 1952).
        xfl = {9: 2, 1: 4}.get(level, 0)
        self.header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + bytes([xfl, 255])
        self._deflate = zlib.compressobj(level, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY)
        self._crc = 0
        self._size = 0

    def compress(self, chunk: bytes) -> bytes:
        self._crc = zlib.crc32(chunk, self._crc)
        self._size += len(chunk)
        return self._deflate.compress(chunk)

    def finish(self) -> bytes:
        return self._deflate.flush() + struct.pack("<II", self._crc, self._size & 0xFFFFFFFF)


def gzip_bytes(data: bytes, level: int = 6) -> bytes:
    """Gzip ``data`` the same way everywhere (``gzip.compress`` would stamp the time)."""
    writer = _GzipWriter(level)
    return writer.header + writer.compress(data) + writer.finish()


@dataclass(frozen=True)
class StreamedLayer:
    """What ``gzip_stream`` learned on the way: both digests and both sizes."""

    diff_id: str        #: sha256 of the tar read
    digest: str         #: sha256 of the gzip written
    size: int           #: bytes written (compressed)
    tar_size: int       #: bytes read (the tar)


def gzip_stream(src: BinaryIO, dst: BinaryIO, level: int = 6,
                chunk_size: int = 1 << 20) -> StreamedLayer:
    """Compress a tar from ``src`` into ``dst`` in chunks, hashing both sides.

    Memory stays at about ``chunk_size``, so a 2 GB layer needs no 2 GB of RAM.
    The output is byte-identical to ``gzip_bytes(src.read(), level)``.
    """
    writer = _GzipWriter(level)
    tar_hash, blob_hash = hashlib.sha256(), hashlib.sha256()
    written = read = 0

    def emit(chunk: bytes) -> None:
        nonlocal written
        if chunk:
            blob_hash.update(chunk)
            dst.write(chunk)
            written += len(chunk)

    emit(writer.header)
    while chunk := src.read(chunk_size):
        tar_hash.update(chunk)
        read += len(chunk)
        emit(writer.compress(chunk))
    emit(writer.finish())
    return StreamedLayer(f"sha256:{tar_hash.hexdigest()}", f"sha256:{blob_hash.hexdigest()}",
                         written, read)


def _zlib_probe() -> bytes:
    # Text with repeats at many distances plus pseudo-random bytes, so that
    # match finding, lazy matching and block splitting all show in the output.
    text = "".join(f"{i:05d} {(i * 7919) % 10007:05d} layer-{i % 13}\n" for i in range(4000))
    noise, state = bytearray(), 12345
    for _ in range(20000):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        noise.append(state >> 23)
    return text.encode() + bytes(noise)


# sha256 of gzip_bytes(_zlib_probe(), level), recorded with madler zlib 1.2.13
# (CPython 3.11 on Debian 12). zlib 1.2.x-1.3.x give these same bytes;
# zlib-ng and other "fast" forks compress the same input differently.
_ZLIB_KNOWN_ANSWERS = {
    1: "5785f287d1a98450c4f795daa07d42db1a3370eb5683c2274da55f5ea867183e",
    6: "0ec688c547a935ff20b7c5097c82dc2f05e9d8d590cddae592f14263766d1ff8",
    9: "9dee94a30082d342bf0666974435b55f4933ac93798ca24984ff6f1e996b7ca5",
}


@functools.lru_cache(maxsize=None)
def deterministic_zlib() -> bool:
    """Tell whether this Python's zlib compresses like the reference zlib.

    Gzip layer digests are only reproducible across machines whose zlib
    makes the same deflate stream. ``False`` means this zlib (often zlib-ng)
    differs: tar digests (diff_ids) still match everywhere, compressed blob
    digests and so manifest digests will not match the recorded ones.
    """
    probe = _zlib_probe()
    return all(hashlib.sha256(gzip_bytes(probe, level)).hexdigest() == expected
               for level, expected in _ZLIB_KNOWN_ANSWERS.items())


def zstd_available() -> bool:
    """Tell whether zstd layers can be written (the optional ``zstandard`` package)."""
    try:
        import zstandard  # noqa: F401
    except ImportError:
        return False
    return True


def zstd_bytes(data: bytes, level: int = 3) -> bytes:
    """Compress with zstd (needs ``pip install zstandard``).

    The frame carries the content size and no checksum. Output is stable for
    one libzstd version; unlike gzip, no known-answer check is kept for it.
    """
    try:
        import zstandard
    except ImportError:
        raise ModuleNotFoundError("zstd layers need the optional 'zstandard' package "
                                  "(pip install zstandard); gzip needs nothing") from None
    compressor = zstandard.ZstdCompressor(level=level, write_checksum=False,
                                          write_content_size=True, threads=0)
    return compressor.compress(data)


def compress(tar: bytes, compression: str = "gzip", level: int | None = None) -> tuple[bytes, str]:
    """Return ``(blob, media_type)`` for a tar compressed as ``gzip``, ``zstd`` or ``none``."""
    if compression == "gzip":
        return gzip_bytes(tar, 6 if level is None else level), mediatypes.OCI_LAYER_GZIP
    if compression == "zstd":
        return zstd_bytes(tar, 3 if level is None else level), mediatypes.OCI_LAYER_ZSTD
    if compression == "none":
        return bytes(tar), mediatypes.OCI_LAYER
    raise ValueError(f"compression must be one of {', '.join(COMPRESSIONS)}, "
                     f"not {compression!r}")
