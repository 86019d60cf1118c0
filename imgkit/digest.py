"""Digests: the content addresses every image part is named by.

A digest is ``algorithm:hex`` - for images almost always ``sha256:`` and 64
lower-case hex characters, the SHA-256 of the exact bytes. The image ID is the
digest of the config JSON, a layer blob is named by the digest of its
compressed bytes, and a ``diff_id`` is the digest of the uncompressed tar.

>>> compute(b"hello")
'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'
>>> short('sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824')
'2cf24dba5fb0'
"""

from __future__ import annotations

import hashlib
import io
import re
from typing import BinaryIO

from .errors import DigestMismatchError, InvalidDigestError

__all__ = [
    "ALGORITHMS",
    "validate",
    "parse",
    "compute",
    "hasher",
    "short",
    "hex_of",
    "chain_ids",
    "VerifyingReader",
]

#: Algorithms a digest may name, with the length of their hex part.
ALGORITHMS = {"sha256": 64, "sha384": 96, "sha512": 128}

# go-digest's grammar: algorithm-component ([+._-] component)* ":" encoded
_FORM = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_LOWER_HEX = re.compile(r"[0-9a-f]+")


def parse(text: str) -> tuple[str, str]:
    """Split a digest into ``(algorithm, hex)`` after checking it is well formed.

    Raises ``InvalidDigestError`` with Docker's wording, checked in go-digest's
    order: ``invalid checksum digest format`` (no ``algorithm:``),
    ``unsupported digest algorithm``, ``invalid checksum digest length``, and
    ``invalid checksum digest format`` again for hex that is not lower case.
    """
    if not isinstance(text, str):
        raise InvalidDigestError("invalid checksum digest format")
    algorithm, colon, hexpart = text.partition(":")
    if not algorithm or not colon or not hexpart:
        raise InvalidDigestError("invalid checksum digest format")
    if algorithm not in ALGORITHMS:
        if _FORM.fullmatch(text) is None:
            raise InvalidDigestError("invalid checksum digest format")
        raise InvalidDigestError("unsupported digest algorithm")
    if len(hexpart) != ALGORITHMS[algorithm]:
        raise InvalidDigestError("invalid checksum digest length")
    if _LOWER_HEX.fullmatch(hexpart) is None:
        raise InvalidDigestError("invalid checksum digest format")
    return algorithm, hexpart


def validate(text: str) -> str:
    """Return ``text`` unchanged if it is a well-formed digest, else raise."""
    parse(text)
    return text


def hasher(digest: str = "sha256:") -> "hashlib._Hash":
    """Return a fresh ``hashlib`` object for the algorithm ``digest`` names (``sha256:...``)."""
    algorithm = digest.partition(":")[0]
    if algorithm not in ALGORITHMS:
        raise InvalidDigestError("unsupported digest algorithm")
    return hashlib.new(algorithm)


def compute(data: bytes, algorithm: str = "sha256") -> str:
    """Return the digest of ``data``: ``compute(config_bytes)`` is an image ID."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def hex_of(digest: str) -> str:
    """Return the hex part of a digest (what blob files are named by)."""
    return digest.partition(":")[2]


def short(digest: str, length: int = 12) -> str:
    """Return the first 12 hex characters, as Docker shows IDs and layers."""
    return hex_of(digest)[:length] if ":" in digest else digest[:length]


def chain_ids(diff_ids: list[str]) -> list[str]:
    """Return the ChainID of every layer in a stack, bottom first.

    ``chain[0] = diff_id[0]`` and ``chain[i] = sha256(chain[i-1] + " " +
    diff_id[i])``. A ChainID names a layer *together with everything under
    it*, which is why two images share a layer only when they share the
    whole stack below it too.
    """
    chain: list[str] = []
    for diff_id in diff_ids:
        if not chain:
            chain.append(diff_id)
        else:
            chain.append(compute(f"{chain[-1]} {diff_id}".encode()))
    return chain


class VerifyingReader(io.RawIOBase):
    """Wrap a binary stream and check its digest (and size) as it is read.

    Read it to the end, then call ``verify()``; it raises
    ``DigestMismatchError`` when the bytes were not what ``expected`` names.
    Nothing should be trusted, or renamed into place, before ``verify()``
    returns.
    """

    def __init__(self, stream: BinaryIO, expected: str, size: int | None = None,
                 what: str = "content"):
        super().__init__()
        validate(expected)
        self._stream = stream
        self._hash = hasher(expected)
        self.expected = expected
        self.expected_size = size
        self.what = what
        self.bytes_read = 0

    def read(self, n: int | None = -1) -> bytes:
        """Read up to ``n`` bytes, hashing them on the way through."""
        chunk = self._stream.read(-1 if n is None else n)
        self._count(chunk)
        return chunk

    def _count(self, chunk) -> None:
        self._hash.update(chunk)
        self.bytes_read += len(chunk)
        # A sender that goes on past the announced size is wrong already:
        # stop now rather than after reading without end.
        if self.expected_size is not None and self.bytes_read > self.expected_size:
            raise DigestMismatchError(self.expected, f"more than {self.expected_size} bytes",
                                      self.what)

    def readinto(self, buffer) -> int:
        """Fill ``buffer`` (for ``io.BufferedReader``), hashing what was read."""
        n = self._stream.readinto(buffer)
        if n:
            self._count(memoryview(buffer)[:n])
        return n or 0

    def readable(self) -> bool:
        return True

    @property
    def digest(self) -> str:
        """The digest of everything read so far."""
        return f"{self.expected.partition(':')[0]}:{self._hash.hexdigest()}"

    def verify(self) -> str:
        """Raise ``DigestMismatchError`` unless what was read matches; return the digest."""
        actual = self.digest
        if self.expected_size is not None and self.bytes_read != self.expected_size:
            raise DigestMismatchError(
                self.expected, f"{self.bytes_read} bytes instead of {self.expected_size}",
                self.what)
        if actual != self.expected:
            raise DigestMismatchError(self.expected, actual, self.what)
        return actual
