"""Print progress events the way the ``docker`` command does: lines when piped, bars on a terminal.

``docker pull`` shows the same events two ways (docker/cli's
``jsonmessage.DisplayJSONMessagesStream``):

- **Not a terminal** (a pipe, a file, CI): one line per event, and events
  that only move a byte count (``Downloading``) are left out::

      1a8e1b7ec4f5: Pulling fs layer
      1a8e1b7ec4f5: Download complete

- **A terminal**: each layer owns one line, redrawn in place. A layer seen
  for the first time gets a new line; an update moves the cursor up to the
  layer's line (``ESC[nA``), erases it (``ESC[2K``), writes the new status
  and moves back down (``ESC[nB``). A byte count is drawn as a 50-column
  bar when the terminal is wider than 110 columns::

      1a8e1b7ec4f5: Downloading [=====================>                             ]  1.235MB/2.87MB

  Any line that is not a layer's (``Digest: ...``) starts a new block, so
  the layers of the next tag of ``pull -a`` get lines of their own.

Sizes use Docker's ``HumanSize``: decimal units, 4 significant digits.
"""

from __future__ import annotations

import os
from typing import TextIO

from ..events import ProgressEvent
from ..format import human_size

__all__ = ["progress_bar", "is_layer_line", "PlainRenderer", "TerminalRenderer",
           "renderer_for", "BAR_MIN_WIDTH", "DEFAULT_WIDTH"]

#: The bar is drawn only on terminals wider than this (docker/cli's rule).
BAR_MIN_WIDTH = 110
#: The width assumed when the terminal cannot say (docker/cli assumes 200).
DEFAULT_WIDTH = 200

_ERASE_LINE = "\x1b[2K"


def _size(n: int) -> str:
    return human_size(n, 4)


def progress_bar(current: int | None, total: int | None, width: int = DEFAULT_WIDTH) -> str:
    """Return Docker's progress text: ``[====>   ]  1.2MB/3.4MB`` (the bar only if wide enough).

    >>> progress_bar(512, 1024, width=80)
    '    512B/1.024kB'
    """
    current, total = current or 0, total or 0
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return f"{_size(current):>8}"
    filled = min(int(current / total * 100) // 2, 50)
    bar = f"[{'=' * filled}>{' ' * (50 - filled)}] " if width > BAR_MIN_WIDTH else ""
    numbers = f"{_size(current):>8}" if current > total else \
        f"{_size(current):>8}/{_size(total)}"
    return bar + numbers


def is_layer_line(event: ProgressEvent) -> bool:
    """Tell whether an event updates a layer's own line (rather than printing a message).

    A layer's statuses carry its 12-hex id; the only message that carries an
    id is ``<tag>: Pulling from <repository>``, which starts a block instead.
    """
    return event.id is not None and not event.status.startswith("Pulling from ")


class PlainRenderer:
    """Write each event as one line, leaving byte progress out (not a terminal)."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def __call__(self, event: ProgressEvent) -> None:
        if event.has_progress:
            return
        self.stream.write(event.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Nothing to finish: every line already ended."""


class TerminalRenderer:
    """Redraw one line per layer in place with ANSI cursor movement (a terminal).

    ``width`` fixes the terminal width (tests); by default it is asked of the
    terminal at each event, as Docker does, so resizing the window works.
    """

    def __init__(self, stream: TextIO, width: int | None = None):
        self.stream = stream
        self.width = width
        self._lines: dict[str, int] = {}     # layer id -> its line in the current block

    def _width(self) -> int:
        if self.width is not None:
            return self.width
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            return DEFAULT_WIDTH

    def __call__(self, event: ProgressEvent) -> None:
        out = []
        if is_layer_line(event):
            assert event.id is not None
            line = self._lines.get(event.id)
            if line is None:
                line = self._lines[event.id] = len(self._lines)
                out.append("\n")
            up = len(self._lines) - line
            if up:
                out.append(f"\x1b[{up}A")
            # Docker writes "<status> <progress>" even when the progress is empty.
            bar = progress_bar(event.current, event.total, self._width())
            out.append(f"{_ERASE_LINE}\r{event.id}: {event.status} {bar}\r")
            if up:
                out.append(f"\x1b[{up}B")
        else:
            self._lines = {}
            out.append(event.line() + "\n")
        self.stream.write("".join(out))
        self.stream.flush()

    def close(self) -> None:
        """Nothing to finish: the cursor is already below the last line."""


def renderer_for(stream: TextIO, width: int | None = None) -> PlainRenderer | TerminalRenderer:
    """Return the renderer Docker would use for ``stream``: bars only on a terminal.

    A notebook's ``!imgkit pull`` runs on a pseudo-terminal, but the notebook
    shows text, not a screen: cursor movements would come out as garbage.
    Inside a Jupyter kernel (``JPY_PARENT_PID`` is set) the plain lines are used.
    """
    import os

    try:
        terminal = stream.isatty() and "JPY_PARENT_PID" not in os.environ
    except (AttributeError, ValueError):
        terminal = False
    return TerminalRenderer(stream, width) if terminal else PlainRenderer(stream)
