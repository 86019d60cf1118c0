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
cores; inflating is the slowest, so it does nothing else). Ordinary ustar
headers are read on a fast path - a few slices and C calls each - and
anything else (PAX, GNU, sparse, base-256 numbers, old signed checksums) by
the full parser.

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
import zlib
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable

from . import digest as _digest
from .errors import CorruptLayerError, DigestMismatchError
from .inflate import GUNZIP_ERRORS, gunzip_object
from .oci.mediatypes import compression_of
from .tarheader import BLOCK as _BLOCK
from .tarheader import HEADER_ONLY, ZERO_BLOCK, checksum_matches, parse_number, parse_pax
from .tarheader import META_LIMIT as _META_LIMIT

__all__ = ["LayerIngest", "LayerFacts", "CorruptLayerError", "ingest_file"]

_PIECE = 1 << 20            # most uncompressed bytes handled at once
_IN_SLICE = 128 << 10       # most compressed bytes given to gunzip at once
_THREAD_AT = 1 << 20        # blobs this big are decompressed on a worker thread
_BATCH = 256 << 10          # smaller chunks are gathered into batches this big for it...
_QUEUE = 4                  # ... and this many batches wait for it at most
_BOMB_RATIO = 32            # past this ratio (tar / blob so far) feed() waits for each batch
_PLAIN_KINDS = frozenset(b"0123457")    # the typeflags the fast header path reads
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
    """Read a tar numeric field (octal, or GNU base-256)."""
    try:
        return parse_number(field)
    except ValueError as error:
        raise _Broken(str(error)) from None


def _pax_records(data: bytes) -> dict[bytes, bytes]:
    """Parse PAX records."""
    try:
        return parse_pax(data)
    except ValueError as error:
        raise _Broken(str(error)) from None


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
            raise _Broken(f"the tar ends inside a header, at byte {self._seen}")
        if self._skip > self._pad or self._meta or self._sparse_after >= 0:
            raise _Broken(f"the tar ends inside an entry's data, at byte {self._seen}")

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
            raise _Broken(f"a zero block inside the tar, before byte {offset}")
        else:
            self._header(block, offset)

    def _header(self, block: bytes, offset: int) -> None:
        if not checksum_matches(block):
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
        stored = 0 if typeflag[0] in HEADER_ONLY or (typeflag == b"\0" and name.endswith(b"/")) else size
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
        if len(data) <= _IN_SLICE:
            self._decode(data)
            return
        # Smaller inputs keep each output under _PIECE, so no call leaves an input tail to copy.
        view = memoryview(data)
        for start in range(0, len(data), _IN_SLICE):
            self._decode(view[start:start + _IN_SLICE])

    def _decode(self, data: bytes | memoryview) -> None:
        while True:
            if self._obj is None:
                data, self._head = self._head + data, b""
                if len(data) < 2:
                    self._head = bytes(data)
                    return
                if data[:2] != _GZIP_MAGIC:
                    raise _Broken("unexpected data after the end of the gzip stream" if self._members
                                  else "not gzip data")
                self._obj = gunzip_object()
                self._members += 1
            try:
                out = self._obj.decompress(data, _PIECE)
            except GUNZIP_ERRORS as error:
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
        self.scanner = _TarScanner()
        self.size = 0                        # tar bytes so far
        self.broken: str | None = None       # why the stream cannot be read
        self.stopped = False
        self.reader: _Worker | None = None   # hashes and reads the tar, once threaded
        self._decoder: _Decoder = _DECODERS[compression](self._take)
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
            except _Broken as error:
                self.broken = str(error)
        self._pass_on()

    def _take(self, piece: bytes) -> None:
        if self.stopped:
            raise _Stopped()
        self.size += len(piece)
        if self.reader is None:
            self.read(piece)
            return
        # Pieces go to the reader a batch at a time (what one chunk inflated to, a _PIECE at
        # most): one hand-over - one wake-up of the reader - per piece cost more than the hashing.
        if self._out_size + len(piece) > _PIECE:
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
            except _Broken as error:
                self.broken = str(error)

    def close(self) -> None:
        if self.broken is None:
            try:
                self._decoder.close()
                self.scanner.finish()
            except _Broken as error:
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
            looks = ("gzip" if self._first.startswith(_GZIP_MAGIC) else
                     "zstd" if self._first == _ZSTD_MAGIC else self.compression)
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
                chunk_size: int = _PIECE) -> LayerFacts:
    """Check a layer blob already on disk (as ``fsck`` does) and return its facts."""
    ingest = LayerIngest(expected_digest, media_type, expected_diff_id=expected_diff_id,
                         expected_size=expected_size)
    with open(path, "rb") as blob:
        while chunk := blob.read(chunk_size):
            ingest.feed(chunk)
    return ingest.finish()
