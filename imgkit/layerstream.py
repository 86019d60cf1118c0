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

A big blob is checked on three threads, a pipeline: ``feed()`` stores and
hashes each chunk in the caller's thread and hands it to an inflater, which
hands the tar on to a reader that hashes it and reads its headers (hashlib,
zlib and ISA-L release the GIL on big buffers, so the stages run on separate
cores; inflating is the slowest, so it does nothing else). The decoders are
``imgkit.blobdecode``'s, the header reader is ``imgkit.tarscan``'s; this
module runs them and checks what they found.

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
import queue
import threading
import weakref
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable

from . import digest as _digest
from .blobdecode import DECODERS, GZIP_MAGIC, PIECE, ZSTD_MAGIC, Decoder
from .errors import CorruptLayerError, DigestMismatchError
from .oci.mediatypes import compression_of
from .streamwalk import BrokenStream
from .tarscan import TarScanner

__all__ = ["LayerIngest", "LayerFacts", "CorruptLayerError", "ingest_file"]

_THREAD_AT = 1 << 20        # blobs this big are decompressed on a worker thread
_BATCH = 256 << 10          # smaller chunks are gathered into batches this big for it...
_QUEUE = 4                  # ... and this many batches wait for it at most
_BOMB_RATIO = 32            # past this ratio (tar / blob so far) feed() waits for each batch


@dataclass(frozen=True)
class LayerFacts:
    """What one pass over a layer blob learned; every field was checked or measured."""

    digest: str              #: sha256 of the compressed blob (the manifest's ``digest``)
    diff_id: str             #: sha256 of the uncompressed tar (the config's ``rootfs``)
    size: int                #: bytes of the compressed blob (the manifest's ``size``)
    uncompressed_size: int   #: bytes of the tar, headers and padding included
    content_size: int        #: Docker's SIZE of the layer: the tar headers' file sizes


class _Stopped(Exception):
    """Internal: the ingest was closed or dropped while its worker was decompressing."""


class _TarSide:
    """The second half of an ingest: decompress the blob, hash the tar, read its headers.

    It runs in the feeding thread for small blobs. For big ones it is split
    over two threads (``threaded()``): a ``_Worker`` inflates, and a reader
    of its own hashes the tar and reads its headers, so the feeding thread,
    the inflater and the reader each keep a core busy while the others wait
    for theirs. Each stage is touched by one thread only.
    """

    def __init__(self, compression: str, algorithm: str, same_hash: bool):
        self.hash = hashlib.new(algorithm)
        self.same_hash = same_hash
        self.scanner = TarScanner()
        self.size = 0                        # tar bytes so far
        self.broken: str | None = None       # why the stream cannot be read
        self.stopped = False
        self.reader: _Worker | None = None   # hashes and reads the tar, once threaded
        self._decoder: Decoder = DECODERS[compression](self._take)
        self._out: list[bytes] = []          # tar pieces not yet handed to the reader
        self._out_size = 0

    def threaded(self) -> _Worker:
        """Start the inflating worker and the reader behind it; return the inflater."""
        self.reader = _Worker(self, self.read_all, "imgkit-layer-read")
        return _Worker(self, self.decode, "imgkit-layer-inflate", after=self.reader)

    def decode(self, chunk: bytes) -> None:
        if self.broken is None:
            try:
                self._decoder.decode(chunk)
            except BrokenStream as error:
                self.broken = str(error)
        self._pass_on()

    def _take(self, piece: bytes) -> None:
        if self.stopped:
            raise _Stopped()
        self.size += len(piece)
        if self.reader is None:
            self.read(piece)
            return
        # Pieces go to the reader a batch at a time (what one chunk inflated to, a PIECE at
        # most): one hand-over - one wake-up of the reader - per piece cost more than the hashing.
        if self._out_size + len(piece) > PIECE:
            self._pass_on()
        self._out.append(piece)
        self._out_size += len(piece)

    def _pass_on(self) -> None:
        if self._out:
            assert self.reader is not None
            self.reader.queue.put(self._out)
            self._out, self._out_size = [], 0

    def read_all(self, pieces: list[bytes]) -> None:
        """Hash pieces of the tar and read their headers (the reader's work)."""
        for piece in pieces:
            self.read(piece)

    def read(self, piece: bytes) -> None:
        """Hash a piece of the tar and read its headers."""
        if self.broken is None:
            if not self.same_hash:
                self.hash.update(piece)
            try:
                self.scanner.feed(piece)
            except BrokenStream as error:
                self.broken = str(error)

    def close(self) -> None:
        if self.broken is None:
            try:
                self._decoder.close()
                self.scanner.finish()
            except BrokenStream as error:
                self.broken = str(error)


class _Worker:
    """Run one stage of a ``_TarSide`` on a thread of its own, fed through a small bounded queue.

    The feeding thread hashes and stores the blob while the inflater
    decompresses and the reader hashes the tar and reads its headers:
    ``hashlib``, zlib and ISA-L let go of the GIL on big buffers, so the
    stages use every core there is. A worker holds no reference to its
    ``LayerIngest``, so dropping an unfinished ingest stops it (``stop``)
    and frees its threads. A worker started ``after`` another stage ends that
    stage when it ends itself (it is the only one feeding it).
    """

    def __init__(self, side: _TarSide, handle: Callable[[Any], None], name: str,
                 after: _Worker | None = None):
        self.side, self.handle, self.after = side, handle, after
        # bytes (a batch of the blob) for the inflater, lists of tar pieces for the reader
        self.queue: queue.Queue[Any] = queue.Queue(_QUEUE)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        side, get, done, handle = self.side, self.queue.get, self.queue.task_done, self.handle
        try:
            while True:
                chunk = get()
                try:
                    if chunk is None or (side.stopped and self.after is not None):
                        return       # the first stage: nothing feeds it once it is stopped
                    # After an error or a stop, only drain: never block the stage feeding this one.
                    if self.error is None and not side.stopped:
                        handle(chunk)
                except BaseException as error:   # handed to the feeding thread by check()
                    self.error = error
                finally:
                    done()
        finally:
            if self.after is not None:
                self.after.end()

    def check(self) -> None:
        """Raise, in the feeding thread, what went wrong in a stage (not a broken stream)."""
        for worker in (self, self.after):
            if worker is not None and worker.error is not None \
                    and not isinstance(worker.error, _Stopped):
                error, worker.error = worker.error, None   # the exception must not hold the worker
                raise error

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.after is not None and self.after.error is not None)

    def drain(self) -> None:
        """Wait until every chunk handed over so far went through every stage."""
        self.queue.join()
        if self.after is not None:
            self.after.drain()

    def end(self) -> None:
        """Let the worker finish what it was given and exit; wait for it (and the stages after)."""
        self.queue.put(None)
        self.thread.join()

    def stop(self) -> None:
        """Make the stages stop soon, dropping what they were not done with; never blocks."""
        self.side.stopped = True
        try:
            self.queue.put_nowait(None)
        except queue.Full:
            pass                             # it sees ``stopped`` after its current chunk


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

    A blob of ``_THREAD_AT`` bytes or more is decompressed on a worker
    thread while ``feed`` stores and hashes the next chunks (at most
    ``_QUEUE`` batches in between, so memory stays bounded).
    ``uncompressed_size`` may then lag behind ``size`` by those batches,
    except after the chunk that completes ``expected_size`` (that ``feed``
    waits until the whole blob is decompressed) and once the stream inflates
    more than ``_BOMB_RATIO``-fold (each ``feed`` then waits for its batch). An ingest left unfinished
    stops its worker when it is dropped, or at once with ``close()`` (or a
    ``with`` block).
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
        same_hash = self.compression == "none" and diff_algorithm == self._blob_hash.name
        self._tar = _TarSide(self.compression, diff_algorithm, same_hash)
        self._worker: _Worker | None = None
        self._stop_worker: weakref.finalize | None = None
        self._batch: list[bytes] = []
        self._batched = 0
        self._done = False
        self._first = b""
        self.size = 0                    #: compressed bytes fed so far (for progress)

    @property
    def uncompressed_size(self) -> int:
        """Tar bytes decompressed so far."""
        return self._tar.size

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk of the blob: store it, hash it, decompress it, count it."""
        if self.expected_size is not None and self.size + len(chunk) > self.expected_size:
            raise DigestMismatchError(self.expected_digest, f"more than {self.expected_size} bytes",
                                      "layer")
        if self._done:
            raise ValueError("this layer ingest is finished or closed")
        worker = self._worker
        if worker is not None and worker.failed:
            self.close()
            worker.check()
        if self._sink is not None:
            self._sink.write(chunk)
        self._blob_hash.update(chunk)
        if len(self._first) < 4:
            self._first += bytes(chunk[:4 - len(self._first)])
        self.size += len(chunk)
        if worker is None:
            if max(self.size, self.expected_size or 0) < _THREAD_AT:
                self._tar.decode(chunk)
                return
            worker = self._worker = self._tar.threaded()
            self._stop_worker = weakref.finalize(self, worker.stop)
            self._stop_worker.atexit = False
        if self._tar.broken is None:         # a broken stream has nothing more to tell
            # bytes are immutable: the caller may reuse a bytearray once feed() returns
            self._batch.append(chunk if type(chunk) is bytes else bytes(chunk))
            self._batched += len(chunk)
            if self._batched >= _BATCH:
                self._hand_over(worker)
        if self.size == self.expected_size:
            self._hand_over(worker)
            worker.drain()                   # so the caller can check uncompressed_size now

    def _hand_over(self, worker: _Worker) -> None:
        if self._batch:
            batch = self._batch[0] if len(self._batch) == 1 else b"".join(self._batch)
            self._batch.clear()
            self._batched = 0
            worker.queue.put(batch)
            if self._tar.size > _BOMB_RATIO * self.size:
                # Inflating far more than it takes in (zeros, or a decompression bomb): keep
                # in step, so a caller checking uncompressed_size after feed() stops it at
                # once and no queued batch inflates gigabytes after it gave up.
                worker.drain()

    def close(self) -> None:
        """Give up on an unfinished ingest: stop its worker thread (``finish`` does it too)."""
        self._done = True
        self._batch.clear()
        if self._stop_worker is not None:
            self._stop_worker()              # calls worker.stop() once
        self._worker = None

    def __enter__(self) -> LayerIngest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def finish(self) -> LayerFacts:
        """Check everything once the last chunk is in; return the layer's facts."""
        if self._done:
            raise ValueError("this layer ingest is finished or closed")
        self._done = True
        worker = self._worker
        if worker is not None:
            self._hand_over(worker)
            worker.end()
            self._worker = None
            if self._stop_worker is not None:
                self._stop_worker.detach()
            worker.check()
        self._tar.close()
        if self.expected_size is not None and self.size != self.expected_size:
            raise DigestMismatchError(self.expected_digest,
                                      f"{self.size} bytes instead of {self.expected_size}", "layer")
        digest = f"{self._blob_hash.name}:{self._blob_hash.hexdigest()}"
        if digest != self.expected_digest:
            raise DigestMismatchError(self.expected_digest, digest, "layer")
        broken = self._tar.broken
        if broken is not None:
            looks = ("gzip" if self._first.startswith(GZIP_MAGIC) else
                     "zstd" if self._first == ZSTD_MAGIC else self.compression)
            hint = "" if looks == self.compression else f"; it starts like {looks} data: is its media type wrong?"
            raise CorruptLayerError(digest, broken + hint)
        tar_hash = self._blob_hash if self._tar.same_hash else self._tar.hash
        diff_id = f"{tar_hash.name}:{tar_hash.hexdigest()}"
        if self.expected_diff_id is not None and diff_id != self.expected_diff_id:
            raise DigestMismatchError(self.expected_diff_id, diff_id, f"layer {digest} diff_id")
        return LayerFacts(digest, diff_id, self.size, self._tar.size,
                          self._tar.scanner.content_size)


def ingest_file(path: str | os.PathLike[str], expected_digest: str, media_type: str, *,
                expected_diff_id: str | None = None, expected_size: int | None = None,
                chunk_size: int = PIECE) -> LayerFacts:
    """Check a layer blob already on disk (as ``fsck`` does) and return its facts."""
    ingest = LayerIngest(expected_digest, media_type, expected_diff_id=expected_diff_id,
                         expected_size=expected_size)
    with open(path, "rb") as blob:
        while chunk := blob.read(chunk_size):
            ingest.feed(chunk)
    return ingest.finish()
