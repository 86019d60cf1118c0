"""imgkit.readahead: every piece once and in order, errors raised where they belong, no thread left."""

from __future__ import annotations

import io
import threading
import time

import pytest

from imgkit.readahead import ReadAhead


def read_ahead_threads() -> list:
    return [t for t in threading.enumerate() if t.name == "imgkit-read-ahead"]


def wait_for_no_thread(seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while read_ahead_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not read_ahead_threads()


def test_it_hands_over_the_whole_stream_in_order():
    data = bytes(range(256)) * 1000
    with ReadAhead(io.BytesIO(data).read, 1000, depth=2) as ahead:
        pieces = list(iter(ahead.read, b""))
        assert ahead.read() == b""                       # the end stays the end
    assert b"".join(pieces) == data and {len(p) for p in pieces[:-1]} == {1000}
    wait_for_no_thread()


def test_an_error_is_raised_after_the_pieces_before_it():
    served = iter([b"one", b"two", ValueError("broken stream")])

    def read(size):
        item = next(served)
        if isinstance(item, Exception):
            raise item
        return item

    with ReadAhead(read, 10) as ahead:
        assert ahead.read() == b"one" and ahead.read() == b"two"
        with pytest.raises(ValueError, match="broken stream"):
            ahead.read()
        assert ahead.read() == b""
    wait_for_no_thread()


def test_it_reads_at_most_depth_pieces_ahead_and_stops_when_closed():
    calls = []

    def endless(size):
        calls.append(size)
        return b"x" * size

    ahead = ReadAhead(endless, 5, depth=3)
    assert ahead.read() == b"xxxxx"
    time.sleep(0.3)
    assert len(calls) <= 1 + 3 + 1                       # taken, queued, one waiting to be queued
    ahead.close()
    wait_for_no_thread()
    settled = len(calls)
    time.sleep(0.2)
    assert len(calls) == settled


def test_closing_does_not_wait_for_ever_on_a_stalled_source():
    release = threading.Event()

    def stalled(size):
        release.wait(10)
        return b""

    ahead = ReadAhead(stalled, 5)
    started = time.monotonic()
    ahead.close(wait=0.2)
    assert time.monotonic() - started < 2
    release.set()
    wait_for_no_thread()
