"""Download an image's layers the way ``docker pull`` does: three at a time, stacked bottom up.

One pull, layer by layer (``pull`` in ``imgkit.api.pull`` calls this once
it has the manifest and the config)::

    a2318d6c47ec: Already exists       the layer *and everything under it* is in the store
    1a8e1b7ec4f5: Pulling fs layer     it must be downloaded
    5d1c2a5b0e4f: Waiting              ... but three downloads already run
    1a8e1b7ec4f5: Downloading          bytes arrive (a bar on a terminal, nothing otherwise)
    1a8e1b7ec4f5: Verifying Checksum   every byte is in: does it hash to its digest?
    1a8e1b7ec4f5: Download complete
    1a8e1b7ec4f5: Pull complete        the layer is stacked on the ones below it

- **Already exists** is decided by ChainID (the layer's diff_id chained with
  every diff_id under it), and only for the bottom run of layers: one layer
  missing means every layer above it has a new ChainID, even if its bytes
  are old.
- Downloads run concurrently, but **Pull complete** comes strictly bottom to
  top: a layer can only be stacked once the layers below it are.
- Each blob streams through ``LayerIngest`` into a temporary file of the
  blob store: in one pass its digest, its diff_id (which must be the
  config's ``rootfs.diff_ids`` entry) and Docker's SIZE are checked. The
  blobs are renamed into place only when *every* layer verified, so a failed
  pull leaves no new blob behind.
- A layer that decompresses to more than ``max_uncompressed`` bytes (a
  decompression bomb) is refused as soon as it crosses the limit, the limit
  ``create`` would stop it at anyway (``$IMGKIT_MAX_LAYER_SIZE``, 4 GiB).

Concurrent downloads finish in whatever order the network decides, yet a
lesson must print the same transcript every time. So the status lines of
downloads are reported in a fixed order - the order they would finish in if
every download ran at the same speed (small layers first) - each as soon as
it and the layers predicted before it are done. Byte progress is reported
live, as Docker's progress reader does it: every 512 kB (1% of a smaller
blob), at most once in 100 ms, and always when the last byte is in.
"""

from __future__ import annotations

import heapq
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import digest as digests
from ..errors import DigestMismatchError, LayerTooLargeError, ManifestError
from ..events import ProgressEvent
from ..layerstream import LayerIngest, ingest_file
from ..oci import Descriptor, mediatypes
from ..store import LayerFacts

__all__ = ["MAX_CONCURRENT_DOWNLOADS", "PROGRESS_EVERY", "PROGRESS_INTERVAL", "LayerOutcome",
           "finishing_order", "pull_layers", "ROOTFS_MISMATCH"]

#: Docker's default ``max-concurrent-downloads``.
MAX_CONCURRENT_DOWNLOADS = 3
#: Bytes between two "Downloading" updates of one layer (Docker's progress reader: 512 kB,
#: or 1% of a smaller blob)...
PROGRESS_EVERY = 512 * 1024
#: ... and seconds between two of them at least (its rate limiter), bar the last one.
PROGRESS_INTERVAL = 0.1
#: moby's error when the layers and the config's rootfs disagree.
ROOTFS_MISMATCH = "layers from manifest don't match image configuration"


@dataclass(frozen=True)
class LayerOutcome:
    """What happened to one layer of a pull: ``status`` is its last line."""

    id: str         #: 12 hex digits of the compressed digest, as the pull lines show
    digest: str
    status: str     #: "Already exists" or "Pull complete"
    size: int       #: compressed bytes (downloaded, or not needed)

    def __repr__(self) -> str:
        return f"<{self.id}: {self.status} ({self.size} bytes)>"


class _Cancelled(Exception):
    """Internal: another layer failed, so this download stops."""


@dataclass(eq=False)
class _Layer:
    index: int
    descriptor: Descriptor
    short: str
    diff_id: str = ""                   # the config's, once it is in
    source: _Layer | None = None        # an identical blob lower in this manifest
    facts: LayerFacts | None = None
    complete: bool = False              # "Download complete" was reported
    status: str = ""


def finishing_order(sizes: list[int], slots: int = MAX_CONCURRENT_DOWNLOADS) -> list[int]:
    """Return the positions of downloads in the order they finish at equal speed.

    ``slots`` downloads run at once, started in list order; a download of
    ``n`` bytes takes ``n`` units of time. Ties go to the lower position.

    >>> finishing_order([1_000_000, 359, 279])
    [2, 1, 0]
    """
    running = [(size, position) for position, size in enumerate(sizes[:slots])]
    heapq.heapify(running)
    waiting = iter(range(slots, len(sizes)))
    order = []
    while running:
        finished_at, position = heapq.heappop(running)
        order.append(position)
        following = next(waiting, None)
        if following is not None:
            heapq.heappush(running, (finished_at + sizes[following], following))
    return order


def present_layers(records, has_blob, blob_digests: list[str], chain_ids: list[str]) -> int:
    """Return how many bottom layers a pull reports as "Already exists".

    Docker's rule: the bottom run of layers whose ChainID the store records.
    imgkit adds that the very blob the manifest names must be stored, since
    the OCI layout must hold it: a layer known only under another compression
    is fetched again.
    """
    present = 0
    for blob, chain_id in zip(blob_digests, chain_ids, strict=True):
        if chain_id not in records.layers or not has_blob(blob):
            break
        present += 1
    return present


def pull_layers(client, repository: str, layers: tuple[Descriptor, ...],
                diff_ids: Sequence[str] | Callable[[], Sequence[str]],
                store, records, emit, *, concurrency: int = MAX_CONCURRENT_DOWNLOADS,
                max_uncompressed: int | None = None
                ) -> tuple[list[LayerFacts], list[LayerOutcome], int]:
    """Bring every layer of a manifest into the store; return facts, outcomes and bytes fetched.

    ``diff_ids`` are the config's ``rootfs.diff_ids`` (one per layer), or a
    function that fetches the config and returns them: then, as Docker does,
    the config is fetched while the layers download - unless the bottom
    layer's blob is stored, when "Already exists" must be decided (by
    ChainID) before anything is downloaded. ``records`` is a snapshot of the
    store's records (which layers exist); ``emit`` receives each
    ``ProgressEvent``. On any failure every temporary file is removed, no
    blob is added, and the error is raised. ``max_uncompressed`` bounds the
    bytes one layer may decompress to.
    """
    for descriptor in layers:
        if descriptor.media_type not in mediatypes.LAYER_TYPES:
            raise ManifestError(f"unsupported media type {descriptor.media_type}")
    stack = [_Layer(i, d, digests.short(d.digest)) for i, d in enumerate(layers)]
    # Without the bottom blob nothing can "Already exist" (present_layers), so the config
    # may come while the layers download; with it, the ChainIDs decide first.
    config_later = callable(diff_ids) and bool(layers) and not store.blobs.has(layers[0].digest)
    present, chain_ids = 0, []
    if not config_later:
        _set_diff_ids(stack, diff_ids() if callable(diff_ids) else diff_ids)
        chain_ids = digests.chain_ids([layer.diff_id for layer in stack])
        present = present_layers(records, store.blobs.has, [d.digest for d in layers], chain_ids)
    for layer, chain_id in zip(stack[:present], chain_ids, strict=False):
        known = records.layers[chain_id]
        emit(ProgressEvent("Already exists", layer.short))
        layer.status = "Already exists"
        layer.facts = LayerFacts(layer.descriptor.digest, layer.descriptor.media_type,
                                 known.diff_id, layer.descriptor.size,
                                 known.uncompressed_size, known.content_size)

    downloads: list[_Layer] = []
    first_of: dict[str, _Layer] = {}
    for layer in stack[present:]:
        # Docker downloads a blob listed twice once, and says nothing of the copy.
        source = first_of.get(layer.descriptor.digest)
        if source is not None:
            layer.source = source
            continue
        first_of[layer.descriptor.digest] = layer
        emit(ProgressEvent("Pulling fs layer", layer.short))
        downloads.append(layer)
    for layer in downloads[concurrency:]:
        emit(ProgressEvent("Waiting", layer.short))

    def diff_ids_now() -> None:         # (config_later implies a download: the bottom layer)
        _set_diff_ids(stack, diff_ids())
        _check_copies(stack)

    if not config_later:
        _check_copies(stack)
    if downloads:
        _Downloads(client, repository, store, emit, concurrency, max_uncompressed).run(
            stack, present, downloads, diff_ids_now if config_later else None)

    facts = []
    for layer in stack:
        got = layer.facts if layer.source is None else layer.source.facts
        assert got is not None
        if got.diff_id != layer.diff_id:
            raise DigestMismatchError(layer.diff_id, got.diff_id,
                                      f"{ROOTFS_MISMATCH}: layer {layer.short}")
        facts.append(LayerFacts(got.digest, got.media_type, got.diff_id, got.size,
                                got.uncompressed_size, got.content_size))
    outcomes = [LayerOutcome(layer.short, layer.descriptor.digest, layer.status,
                             layer.descriptor.size) for layer in stack]
    return facts, outcomes, sum(layer.facts.size for layer in downloads if layer.facts)


def _set_diff_ids(stack: list[_Layer], diff_ids: Sequence[str]) -> None:
    """Give each layer its diff_id from the config, which must name one per layer."""
    if len(diff_ids) != len(stack):
        raise ManifestError(f"{ROOTFS_MISMATCH}: the manifest has {len(stack)} layers, "
                            f"the config {len(diff_ids)} diff_ids")
    for layer, diff_id in zip(stack, diff_ids, strict=True):
        layer.diff_id = diff_id


def _check_copies(stack: list[_Layer]) -> None:
    """A blob listed twice must be listed with one diff_id: one blob cannot unpack to two tars."""
    for layer in stack:
        if layer.source is not None and layer.source.diff_id != layer.diff_id:
            raise DigestMismatchError(layer.diff_id, layer.source.diff_id,
                                      f"{ROOTFS_MISMATCH}: layer {layer.short}")


class _Downloads:
    """Run the downloads of one pull on a few threads, reporting from the caller's thread.

    Workers never call ``emit``: they post messages on a queue, and the
    thread that called ``pull`` turns them into events - so a notebook's
    listener is always called from the thread that runs the cell.

    On an error or a Ctrl-C the caller's thread throws every temporary file
    away at once - verified ones and those still being written - and returns
    without waiting: a worker stuck on a stalled connection must not keep a
    learner waiting for the network's timeout. Workers are daemon threads (they
    never hold up the end of the program) and stop at their next chunk.
    """

    def __init__(self, client, repository: str, store, emit, concurrency: int,
                 max_uncompressed: int | None = None):
        self.client = client
        self.max_uncompressed = max_uncompressed
        self.repository = repository
        self.store = store
        self.emit = emit
        self.concurrency = max(1, concurrency)
        self.messages: queue.Queue = queue.Queue()
        self.cancel = threading.Event()
        self.lock = threading.Lock()      # guards `writing` and `writers`, and `cancel` with them
        self.writing: set = set()         # temporary blobs being written
        self.writers: list = []           # verified, waiting to be committed
        # Set once every layer has its diff_id (at the start, or when the config is in),
        # and on an abort: a verified download compares its diff_id only after it.
        self.diff_ids_known = threading.Event()

    def run(self, stack: list[_Layer], present: int, downloads: list[_Layer],
            late_diff_ids: Callable[[], None] | None = None) -> None:
        """Download, report and commit; ``late_diff_ids`` (the config) runs once they started."""
        predicted = [downloads[p] for p in finishing_order(
            [layer.descriptor.size for layer in downloads], self.concurrency)]
        reported = 0            # how many of `predicted` have said "Download complete"
        stacked = present       # layers of `stack` that are "Pull complete"
        todo: queue.SimpleQueue = queue.SimpleQueue()
        for layer in downloads:             # started in manifest order, as Docker does
            todo.put(layer)
        try:
            for number in range(min(self.concurrency, len(downloads))):
                threading.Thread(target=self._work, args=(todo,), daemon=True,
                                 name=f"imgkit-pull-{number}").start()
            if late_diff_ids is not None:
                late_diff_ids()
            self.diff_ids_known.set()
            remaining = len(downloads)
            while remaining:
                kind, layer, value = self.messages.get()
                if kind == "progress":
                    self.emit(ProgressEvent("Downloading", layer.short, value,
                                            layer.descriptor.size))
                    continue
                if kind == "error":
                    raise _explain(value, layer)
                remaining -= 1
                layer.facts = value
                while reported < len(predicted) and predicted[reported].facts is not None:
                    finished = predicted[reported]
                    reported += 1
                    self.emit(ProgressEvent("Verifying Checksum", finished.short))
                    self.emit(ProgressEvent("Download complete", finished.short))
                    finished.complete = True
                    stacked = self._stack(stack, stacked)
            with self.lock:
                writers, self.writers = self.writers, []
            for position, writer in enumerate(writers):
                try:
                    writer.commit()
                except BaseException:
                    for rest in writers[position + 1:]:
                        rest.abort()
                    raise
        except BaseException:
            self._abort()
            raise

    def _stack(self, stack: list[_Layer], stacked: int) -> int:
        """Report "Pull complete" for each layer whose own download and all below are done."""
        while stacked < len(stack):
            layer = stack[stacked]
            if not (layer.source or layer).complete:
                break
            if layer.source is None:
                self.emit(ProgressEvent("Pull complete", layer.short))
            layer.status = "Pull complete"
            stacked += 1
        return stacked

    def _abort(self) -> None:
        with self.lock:
            self.cancel.set()
            self.diff_ids_known.set()
            writers = [*self.writing, *self.writers]
            self.writing.clear()
            self.writers = []
        for writer in writers:
            writer.abort()

    def _work(self, todo: queue.SimpleQueue) -> None:
        while not self.cancel.is_set():
            try:
                layer = todo.get_nowait()
            except queue.Empty:
                return
            self._download(layer)

    def _download(self, layer: _Layer) -> None:
        """Stream one blob into a temporary file of the blob store, verifying it (a worker)."""
        descriptor = layer.descriptor
        try:
            with self.lock:     # so an abort cannot miss a temporary file begun meanwhile
                if self.cancel.is_set():
                    return
                # LayerIngest hashes every byte and raises before commit on a
                # mismatch, so neither the stream nor the writer hash again.
                writer = self.store.blobs.writer(descriptor.digest, verified=True)
                self.writing.add(writer)
        except BaseException as exc:
            self.messages.put(("error", layer, exc))
            return
        try:
            # `with`: an ingest given up on stops its decompressing thread at once.
            with LayerIngest(descriptor.digest, descriptor.media_type, sink=writer,
                             expected_size=descriptor.size) as ingest, \
                    self.client.open_blob(self.repository, descriptor.digest,
                                          descriptor.size, check_digest=False) as stream:
                told, every, quiet_until = 0, _progress_step(descriptor.size), 0.0
                for chunk in stream:
                    if self.cancel.is_set():
                        raise _Cancelled()
                    ingest.feed(chunk)
                    if self.max_uncompressed is not None and \
                            ingest.uncompressed_size > self.max_uncompressed:
                        raise _bomb(descriptor.digest, self.max_uncompressed)
                    if ingest.size - told > every or ingest.size == descriptor.size:
                        told, now = ingest.size, time.monotonic()
                        if now >= quiet_until or told == descriptor.size:
                            quiet_until = now + PROGRESS_INTERVAL
                            self.messages.put(("progress", layer, told))
                facts = ingest.finish()
            self.diff_ids_known.wait()      # the config may still be on its way
            if self.cancel.is_set():
                raise _Cancelled()
            if facts.diff_id != layer.diff_id:
                if layer.diff_id.partition(":")[0] == facts.diff_id.partition(":")[0]:
                    raise DigestMismatchError(layer.diff_id, facts.diff_id,
                                              f"layer {facts.digest} diff_id")
                # The config names the tar by another algorithm (sha512...): hash it that way.
                writer.file.flush()
                facts = ingest_file(writer.path, descriptor.digest, descriptor.media_type,
                                    expected_diff_id=layer.diff_id, expected_size=descriptor.size)
            writer.sync()        # here, so flushing this layer overlaps the other downloads
        except BaseException as exc:
            writer.abort()
            with self.lock:
                self.writing.discard(writer)
            self.messages.put(("error", layer, exc))
            return
        with self.lock:
            self.writing.discard(writer)
            if self.cancel.is_set():
                writer.abort()
                return
            self.writers.append(writer)
        self.messages.put(("done", layer, LayerFacts(
            facts.digest, descriptor.media_type, facts.diff_id, facts.size,
            facts.uncompressed_size, facts.content_size)))


def _progress_step(size: int) -> int:
    """Bytes between two progress updates of a blob of ``size`` bytes, as moby's progress reader."""
    return min(PROGRESS_EVERY, int(0.01 * size)) if size > 0 else PROGRESS_EVERY


def _bomb(digest: str, limit: int) -> LayerTooLargeError:
    return LayerTooLargeError(
        f"layer {digest} is bigger than {limit} bytes uncompressed (a decompression bomb?): "
        f"over the limit max_bytes={limit} (IMGKIT_MAX_LAYER_SIZE)")


def _explain(exc: BaseException, layer: _Layer) -> BaseException:
    """Return the error a failed download should raise, in moby's words where it has some."""
    if isinstance(exc, DigestMismatchError):
        if exc.expected == layer.diff_id and exc.expected != layer.descriptor.digest:
            error = DigestMismatchError(exc.expected, exc.actual)
            error.args = (f"{ROOTFS_MISMATCH}: layer {layer.short} unpacks to {exc.actual}, "
                          f"the config says {exc.expected}",)
            return error
        error = DigestMismatchError(layer.descriptor.digest, exc.actual)
        error.args = (f"filesystem layer verification failed for digest "
                      f"{layer.descriptor.digest} (got {exc.actual})",)
        return error
    return exc
