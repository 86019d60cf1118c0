"""Rendering pull events: Docker's plain lines off a terminal, redrawn bars on one."""

from __future__ import annotations

import io

import pytest

from imgkit.cli.progress import (
    PlainRenderer,
    TerminalRenderer,
    is_layer_line,
    progress_bar,
    renderer_for,
)
from imgkit.events import ProgressEvent as E


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


BAR_CASES = [
    # (current, total, width, expected) - docker/cli's JSONProgress.String()
    (0, 0, 200, ""),
    (None, None, 200, ""),
    (0, 1_140_374, 200, "[>" + " " * 50 + "]       0B/1.14MB"),
    (512, 1024, 200, "[" + "=" * 25 + ">" + " " * 25 + "]     512B/1.024kB"),
    (1_048_576, 1_699_949, 200, "[" + "=" * 30 + ">" + " " * 20 + "]  1.049MB/1.7MB"),
    (1_699_949, 1_699_949, 200, "[" + "=" * 50 + ">]    1.7MB/1.7MB"),
    (12_345_678, 45_678_901, 111, "[" + "=" * 13 + ">" + " " * 37 + "]  12.35MB/45.68MB"),
    (12_345_678, 45_678_901, 110, " 12.35MB/45.68MB"),          # too narrow for the bar
    (2_000, 1_000, 200, "[" + "=" * 50 + ">]      2kB"),           # more than promised
    (1_500, 0, 200, "   1.5kB"),                                  # total unknown
    (999_999, 1_000_000_000, 80, "  1000kB/1GB"),                # Go's %.4g rounds up
]


@pytest.mark.parametrize("current,total,width,expected", BAR_CASES)
def test_progress_bar_is_dockers(current, total, width, expected):
    assert progress_bar(current, total, width) == expected


def test_the_bar_is_fifty_columns_between_brackets_plus_the_arrow():
    bar = progress_bar(300, 1000, 200)
    inside = bar[1:bar.index("]")]
    assert len(inside) == 51 and inside.count("=") == 15 and inside[15] == ">"


def test_layer_lines_are_the_events_of_a_layer_not_messages():
    assert is_layer_line(E("Pull complete", "1a8e1b7ec4f5"))
    assert is_layer_line(E("Downloading", "1a8e1b7ec4f5", 1, 2))
    assert not is_layer_line(E("Pulling from library/redis", "latest"))
    assert not is_layer_line(E("Digest: sha256:abc"))


def test_off_a_terminal_each_event_is_a_line_and_byte_progress_is_left_out():
    out = io.StringIO()
    render = PlainRenderer(out)
    for event in (E("Using default tag: latest"), E("Pulling from library/redis", "latest"),
                  E("Pulling fs layer", "aaaaaaaaaaaa"), E("Downloading", "aaaaaaaaaaaa", 5, 10),
                  E("Download complete", "aaaaaaaaaaaa"), E("Pull complete", "aaaaaaaaaaaa"),
                  E("docker.io/library/redis:latest")):
        render(event)
    assert out.getvalue() == (
        "Using default tag: latest\n"
        "latest: Pulling from library/redis\n"
        "aaaaaaaaaaaa: Pulling fs layer\n"
        "aaaaaaaaaaaa: Download complete\n"
        "aaaaaaaaaaaa: Pull complete\n"
        "docker.io/library/redis:latest\n")


def test_on_a_terminal_each_layer_owns_a_line_redrawn_in_place():
    out = FakeTerminal()
    render = TerminalRenderer(out, width=200)
    render(E("Pulling from library/redis", "latest"))
    render(E("Pulling fs layer", "aaaaaaaaaaaa"))
    render(E("Pulling fs layer", "bbbbbbbbbbbb"))
    render(E("Downloading", "aaaaaaaaaaaa", 512, 1024))
    render(E("Pull complete", "bbbbbbbbbbbb"))
    render(E("Digest: sha256:abc"))
    render(E("Pulling fs layer", "cccccccccccc"))
    bar = "[" + "=" * 25 + ">" + " " * 25 + "]     512B/1.024kB"
    assert out.getvalue() == (
        "latest: Pulling from library/redis\n"
        # a new layer: a new line, then up one, erase, write, back down
        "\n\x1b[1A\x1b[2K\raaaaaaaaaaaa: Pulling fs layer \r\x1b[1B"
        "\n\x1b[1A\x1b[2K\rbbbbbbbbbbbb: Pulling fs layer \r\x1b[1B"
        # the first layer is two lines up from the cursor
        f"\x1b[2A\x1b[2K\raaaaaaaaaaaa: Downloading {bar}\r\x1b[2B"
        "\x1b[1A\x1b[2K\rbbbbbbbbbbbb: Pull complete \r\x1b[1B"
        # a message ends the block: the next layer starts a new one
        "Digest: sha256:abc\n"
        "\n\x1b[1A\x1b[2K\rcccccccccccc: Pulling fs layer \r\x1b[1B")


def test_a_narrow_terminal_shows_numbers_without_the_bar():
    out = FakeTerminal()
    TerminalRenderer(out, width=80)(E("Downloading", "aaaaaaaaaaaa", 512, 1024))
    assert out.getvalue() == "\n\x1b[1A\x1b[2K\raaaaaaaaaaaa: Downloading     512B/1.024kB\r\x1b[1B"


def test_the_renderer_follows_whether_the_stream_is_a_terminal():
    assert isinstance(renderer_for(io.StringIO()), PlainRenderer)
    assert isinstance(renderer_for(FakeTerminal()), TerminalRenderer)
