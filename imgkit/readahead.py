"""Read a stream on a thread of its own, a few pieces ahead of its reader.

Unpacking a layer is two jobs: inflating the blob (C code that lets go of
the GIL) and creating files (system calls, which let go of it too). Done one
after the other they use one core; with the inflating on a thread of its own,
a few pieces ahead, they use two::

    with ReadAhead(inflow.read, 128 << 10) as ahead:
        for piece in iter(ahead.read, b""): ...

At most ``depth`` pieces wait, so memory stays bounded; an exception in the
thread (a bomb stopped, a broken stream) is raised by the ``read`` that
would have returned the piece it stopped at, never lost.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable

__all__ = ["ReadAhead"]

_POLL = 0.1          # seconds between two looks at "stopped" while the reader is not taking


class ReadAhead:
    """Call ``read(size)`` on a worker thread until it returns ``b""``; hand the pieces over."""

    def __init__(self, read: Callable[[int], bytes], size: int, depth: int = 4):
        self._pieces: queue.Queue[bytes | BaseException] = queue.Queue(depth)
        self._stopped = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, args=(read, size), daemon=True,
                                        name="imgkit-read-ahead")
        self._thread.start()

    def _run(self, read: Callable[[int], bytes], size: int) -> None:
        while not self._stopped.is_set():
            try:
                piece: bytes | BaseException = read(size)
            except BaseException as error:      # handed to the reader, raised there
                piece = error
            while not self._stopped.is_set():
                try:
                    self._pieces.put(piece, timeout=_POLL)
                    break
                except queue.Full:
                    continue
            if not piece or isinstance(piece, BaseException):
                return

    def read(self, size: int = -1) -> bytes:
        """Return the next piece (its size is the worker's, not ``size``); ``b""`` at the end."""
        if self._done:
            return b""
        piece = self._pieces.get()
        if isinstance(piece, BaseException):
            self._done = True
            raise piece
        if not piece:
            self._done = True
        return piece

    def close(self, wait: float = 5.0) -> None:
        """Stop the worker and wait for it (``wait`` seconds at most: a stalled source may hold it)."""
        self._stopped.set()
        try:
            while True:
                self._pieces.get_nowait()       # frees a worker blocked on a full queue
        except queue.Empty:
            pass
        self._thread.join(wait)

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
