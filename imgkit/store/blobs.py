"""Content-addressed blobs: every manifest, config and layer, stored under its digest.

``blobs/sha256/<hex>`` holds the bytes whose SHA-256 is ``<hex>`` - nothing
else, ever. A blob is written to a temporary file first, checked against its
digest, flushed to disk, and only then renamed to its name. So a blob's name
is a promise: a crash or a bad download can leave a stray temporary file,
never a wrong or half-written blob.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from .. import digest as digests
from ..errors import DigestMismatchError
from ..fileio import fsync_directory

__all__ = ["BlobStore", "BlobWriter"]

TEMP_PREFIX = ".partial-"
#: A blob being written is flushed to disk every this many bytes (see ``BlobWriter.write``).
WRITE_BEHIND = 8 << 20


class BlobWriter:
    """A blob being written: bytes go to a temporary file until ``commit`` checks them.

    Use it as a context manager; leaving the block without ``commit`` (an
    error, a Ctrl-C) removes the temporary file.
    """

    def __init__(self, store: "BlobStore", expected: str | None, verified: bool = False):
        if expected is not None:
            digests.validate(expected)
        if verified and expected is None:
            raise ValueError("a verified blob needs the digest it was verified against")
        self._store = store
        self.expected = expected
        # verified=True: the caller hashes the bytes itself and must call
        # commit() only after it found them right (a pull's LayerIngest does).
        self._hash = None if verified else hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=store.directory, prefix=TEMP_PREFIX)
        self.path = Path(tmp)
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self.size = 0
        self._synced = False
        self._pending = 0                # bytes written since the last flush to disk

    def write(self, data: bytes) -> int:
        """Append ``data`` to the blob, hashing it on the way.

        Every ``WRITE_BEHIND`` bytes the file is flushed to disk (``fdatasync``)
        while the rest still arrives, so the flush that ``commit`` needs at the
        end has only the last few megabytes left to write.
        """
        if self._hash is not None:
            self._hash.update(data)
        self.size += len(data)
        self._synced = False
        written = self.file.write(data)
        self._pending += len(data)
        if self._pending >= WRITE_BEHIND:
            self.file.flush()
            os.fdatasync(self.file.fileno())
            self._pending = 0
        return written

    def sync(self) -> None:
        """Flush the bytes written so far to disk now, so ``commit`` has only to rename.

        A pull calls it on each download's own thread as soon as the layer
        verified, so flushing one layer overlaps the others' downloads.
        """
        self.file.flush()
        os.fsync(self.file.fileno())
        self._synced = True

    def commit(self, *, durable: bool = True) -> str:
        """Check the digest, flush and rename the blob into place; return its digest.

        Raises ``DigestMismatchError`` (and keeps nothing) when the bytes are
        not what ``expected`` named.
        """
        actual = f"sha256:{self._hash.hexdigest()}" if self._hash is not None else self.expected
        if self.expected is not None and actual != self.expected:
            self.abort()
            raise DigestMismatchError(self.expected, actual, "blob")
        if durable and not self._synced:
            self.sync()
        self.file.close()
        os.chmod(self.path, 0o644)
        os.replace(self.path, self._store.path(actual))
        if durable:
            fsync_directory(self._store.directory)
        return actual

    def abort(self) -> None:
        """Throw the partial blob away."""
        if not self.file.closed:
            self.file.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> "BlobWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.file.closed or self.path.exists():
            self.abort()


class BlobStore:
    """The ``blobs/sha256`` directory of an OCI image layout."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.directory = self.root / "blobs" / "sha256"

    def ensure(self) -> None:
        """Create the blob directory if it does not exist."""
        self.directory.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        """Return where the blob with ``digest`` lives (whether or not it exists)."""
        algorithm, hexpart = digests.parse(digest)
        if algorithm != "sha256":
            raise DigestMismatchError("sha256:...", digest, "blob (only sha256 is stored)")
        return self.directory / hexpart

    def has(self, digest: str) -> bool:
        """Tell whether the blob is stored."""
        return self.path(digest).is_file()

    def open(self, digest: str) -> BinaryIO:
        """Open a stored blob for reading."""
        return open(self.path(digest), "rb")

    def read(self, digest: str) -> bytes:
        """Return a stored blob's bytes, checking them against the digest."""
        data = self.path(digest).read_bytes()
        actual = digests.compute(data)
        if actual != digest:
            raise DigestMismatchError(digest, actual, "stored blob")
        return data

    def size(self, digest: str) -> int:
        """Return a stored blob's size in bytes."""
        return self.path(digest).stat().st_size

    def writer(self, expected: str | None = None, *, verified: bool = False) -> BlobWriter:
        """Start writing a blob; ``commit()`` checks it against ``expected``.

        ``verified=True`` is for a caller that hashes the bytes itself and
        commits only once they proved right; the writer then skips hashing.
        """
        self.ensure()
        return BlobWriter(self, expected, verified)

    def put(self, data: bytes, expected: str | None = None, *, durable: bool = True) -> str:
        """Store ``data`` (checked against ``expected`` when given); return its digest."""
        digest = expected or digests.compute(data)
        if self.has(digest):
            return digest
        with self.writer(expected or digest) as out:
            out.write(data)
            return out.commit(durable=durable)

    def delete(self, digest: str) -> bool:
        """Remove a blob; return True if it was there."""
        try:
            self.path(digest).unlink()
            return True
        except FileNotFoundError:
            return False

    def __iter__(self) -> Iterator[str]:
        """Yield the digest of every stored blob."""
        if not self.directory.is_dir():
            return
        for entry in os.scandir(self.directory):
            if not entry.name.startswith(".") and entry.is_file():
                yield f"sha256:{entry.name}"

    def partials(self) -> list[Path]:
        """Return temporary files left by interrupted writes (``fsck`` removes them)."""
        if not self.directory.is_dir():
            return []
        return [Path(e.path) for e in os.scandir(self.directory)
                if e.name.startswith(TEMP_PREFIX)]
