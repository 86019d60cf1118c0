"""Walk a byte stream field by field, however it arrives cut into chunks.

A layer comes down in chunks of whatever size the network gives, yet the
formats inside it have fields at fixed places: a tar's 512-byte headers,
a zstd frame's block headers. ``FieldWalker`` lets a reader say "the next
field is N bytes" or "skip N bytes" and be handed each field whole, even
when it straddles two chunks. ``BrokenStream`` is what such a reader raises
when the bytes cannot be what they claim to be.
"""

from __future__ import annotations

__all__ = ["BrokenStream", "FieldWalker"]


class BrokenStream(Exception):
    """Why a stream cannot be read (a layer ingest turns it into ``CorruptLayerError``)."""


class FieldWalker:
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
