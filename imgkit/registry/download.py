"""Download a blob as a stream, checking its digest on the way, resuming if cut off.

A layer can be hundreds of megabytes, so it is never held in memory: it
arrives in 1 MiB chunks that are hashed as they pass. Only when the last
byte has arrived do we know whether the blob is what its digest names - so
the caller must not trust (or rename into place) anything before the
stream ends without an error.

When the connection breaks part-way (a reset, or a body shorter than the
size the manifest promised), the stream asks again for the rest with
``Range: bytes=<received>-``:

1. A registry that can resume answers ``206 Partial Content`` starting at
   exactly that byte, and hashing simply continues.
2. A registry that ignores ``Range`` answers ``200`` with the whole blob
   again; the bytes already received are skipped.
3. After ``max_resumes`` breaks in a row that brought no new byte - or
   ``MAX_RESUMES_IN_ALL`` breaks whatever they brought - the download fails
   with ``RegistryUnreachableError``. A long download on a flaky classroom
   network may break several times and still get there; a registry that
   sends nothing new is given up on soon.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

import requests
import urllib3

from ..digest import hasher as new_hasher
from ..digest import validate
from ..errors import (
    BlobUnknownError,
    DigestMismatchError,
    RegistryError,
    RegistryUnreachableError,
)
from .responses import describe_connection_error

if TYPE_CHECKING:
    from .transport import Transport

__all__ = ["BlobStream", "CHUNK_SIZE", "MAX_RESUMES_IN_ALL"]

#: How much of a blob is read (and handed to a progress callback) at a time.
CHUNK_SIZE = 1024 * 1024
#: The most times one download is resumed, even when every try brought new bytes.
MAX_RESUMES_IN_ALL = 10

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")

# What a connection that breaks in the middle of a body looks like through requests.
_BROKEN = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
           requests.exceptions.Timeout, urllib3.exceptions.ProtocolError,
           urllib3.exceptions.ReadTimeoutError, ConnectionError)


class _ShortBody(Exception):
    """The body ended before the size we were promised."""


class BlobStream:
    """A blob being downloaded: iterate it for chunks, or ``read()`` it like a file.

    The digest (and the size, when known) is checked when the end is
    reached; a mismatch raises ``DigestMismatchError`` from the last read.
    ``offset`` starts part-way through; then pass ``hasher`` (a ``hashlib``
    object already fed the first ``offset`` bytes) to have the digest
    checked, else only the size is. Use it as a context manager so the
    connection is released even if you stop early.
    """

    def __init__(self, transport: Transport, path: str, scopes: Sequence[str], digest: str,
                 *, size: int | None = None, offset: int = 0, hasher: Any = None,
                 chunk_size: int = CHUNK_SIZE, max_resumes: int = 3, check_digest: bool = True):
        validate(digest)
        self.digest = digest
        self.size = size
        self.position = offset
        self.resumes = 0
        self._fruitless = 0             # breaks in a row that brought no new byte
        self._last_break = offset
        self.verified = False
        self._transport = transport
        self._path = path
        self._scopes = tuple(scopes)
        self._chunk_size = chunk_size
        self._max_resumes = max_resumes
        # check_digest=False: the caller hashes every byte itself (a pull's LayerIngest
        # does), so hashing here too would only cost time; the size is still checked.
        self._verify_digest = check_digest and (offset == 0 or hasher is not None)
        self._hash = (hasher if hasher is not None else new_hasher(digest)) if check_digest else None
        self._buffer = b""
        self._chunks: Iterator[bytes] | None = None
        self._response = self._open()

    def __repr__(self) -> str:
        return (f"BlobStream({self.digest[:19]}..., position={self.position}, "
                f"size={self.size}, resumes={self.resumes})")

    def _open(self) -> requests.Response:
        """Request the blob from ``self.position`` on (steps 1 and 2 above)."""
        headers = {"Range": f"bytes={self.position}-"} if self.position else {}
        response = self._transport.request(
            "GET", self._path, scopes=self._scopes, headers=headers, stream=True,
            ok=(200, 206), not_found=BlobUnknownError)
        if response.status_code == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != self.position:
                response.close()
                raise RegistryError(
                    f"registry {self._transport.domain} resumed blob {self.digest} at the "
                    f"wrong place ({response.headers.get('Content-Range')!r}, wanted byte "
                    f"{self.position})")
            self._skip = 0
        else:
            self._skip = self.position  # the whole blob again: drop what we have
        return response

    def __iter__(self) -> Iterator[bytes]:
        """Yield the blob's bytes in chunks; the last step verifies the digest."""
        while True:
            try:
                for chunk in self._response.iter_content(self._chunk_size):
                    chunk = self._after_skip(chunk)
                    if chunk:
                        self._take(chunk)
                        yield chunk
                if self.size is not None and self.position < self.size:
                    raise _ShortBody()
                break
            except (_ShortBody, *_BROKEN) as exc:
                self._response.close()
                self._fruitless = 0 if self.position > self._last_break else self._fruitless + 1
                self._last_break = self.position
                if self._fruitless > self._max_resumes or self.resumes >= MAX_RESUMES_IN_ALL:
                    cause = ("the body ended early" if isinstance(exc, _ShortBody)
                             else describe_connection_error(exc))
                    raise RegistryUnreachableError(
                        f"cannot reach registry {self._transport.domain}: download of "
                        f"{self.digest} broke off at byte {self.position} ({cause}) "
                        f"{self.resumes + 1} times") from None
                self.resumes += 1
                self._response = self._open()
        self._response.close()
        self._finish()

    def _after_skip(self, chunk: bytes) -> bytes:
        if self._skip:
            cut = min(self._skip, len(chunk))
            self._skip -= cut
            chunk = chunk[cut:]
        return chunk

    def _take(self, chunk: bytes) -> None:
        if self._hash is not None:
            self._hash.update(chunk)
        self.position += len(chunk)
        if self.size is not None and self.position > self.size:
            # Stop at once: a server sending more than promised may never stop.
            self.close()
            raise DigestMismatchError(
                self.digest, f"more than {self.size} bytes", "blob")

    def _finish(self) -> None:
        if self.size is not None and self.position != self.size:
            raise DigestMismatchError(
                self.digest, f"{self.position} bytes instead of {self.size}", "blob")
        if self._verify_digest:
            actual = f"{self.digest.partition(':')[0]}:{self._hash.hexdigest()}"
            if actual != self.digest:
                raise DigestMismatchError(self.digest, actual, "blob")
        self.verified = True

    def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes (all that is left when ``n`` is negative)."""
        if self._chunks is None:
            self._chunks = iter(self)
        while n < 0 or len(self._buffer) < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if n < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        """Release the connection (safe to call twice)."""
        self._response.close()

    def __enter__(self) -> BlobStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def copy_to(stream: BlobStream, fileobj: IO[bytes],
            progress: Callable[[int, int | None], None] | None) -> int:
    """Write every chunk of ``stream`` to ``fileobj``; return the byte count."""
    with stream:
        for chunk in stream:
            fileobj.write(chunk)
            if progress is not None:
                progress(stream.position, stream.size)
    return stream.position
