"""A live ``docker pull`` in a notebook: one bar per layer, with Docker's own status words.

``imgkit.pull`` shows one of these by itself when it runs in JupyterLab (see
``imgkit.widgets.auto``); any code can make one and pass it as the listener::

    display = PullDisplay("redis")
    display.show()
    imgkit.pull("redis", listener=display)

It draws what a terminal draws for ``docker pull``, one line per layer
updated in place, as widgets::

    Using default tag: latest
    latest: Pulling from library/redis
    6015d6faa173  [##########]  Already exists                          (its own colour)
    0cf8c8199a7c  [#####     ]  Downloading     1.235MB/2.87MB  4.1MB/s
    ...
    Digest: sha256:010bd24e051e...
    Status: Downloaded newer image for redis:latest

Where no widget can show (a terminal, a notebook opened without its
kernel) the object's text is that same screen, in Docker's words.
Byte counts only move the bar at most every ``redraw_every`` seconds per
layer; a new status is always drawn at once.
"""

from __future__ import annotations

import html
import time
from typing import Callable

import ipywidgets as widgets

from ..events import STATUSES_WITH_PROGRESS, ProgressEvent
from ..format import human_size
from .style import MONO, bar_colour_of, colour_of

__all__ = ["PullDisplay", "LayerRow", "REDRAW_EVERY"]

#: Seconds between two redraws of one layer's byte count.
REDRAW_EVERY = 0.1
#: Statuses after which the layer's bytes are all there: the bar is full.
_FULL = frozenset({"Verifying Checksum", "Download complete", "Pull complete", "Already exists"})


def _size(n: int) -> str:
    return human_size(n, 4)         # Docker's progress numbers: 4 significant digits


def _is_layer_event(event: ProgressEvent) -> bool:
    # As on a terminal: a layer's statuses carry its id; "<tag>: Pulling from" starts a block.
    return event.id is not None and not event.status.startswith("Pulling from ")


class LayerRow:
    """One layer's line: its id, a bar, Docker's status, the bytes so far and the speed."""

    def __init__(self, layer_id: str, clock: Callable[[], float]):
        self.id = layer_id
        self.status = ""
        self.current = 0
        self.total: int | None = None
        self._clock = clock
        self._started: float | None = None      # first byte count seen, and when
        self._start_bytes = 0
        self._last_draw = float("-inf")
        self.speed: float | None = None         # bytes per second, once measurable
        mono = {"font_family": MONO, "font_size": "12px"}
        self.id_label = widgets.Label(layer_id, style=mono, layout=widgets.Layout(width="9.5em"))
        self.bar = widgets.IntProgress(value=0, min=0, max=1,
                                       style={"bar_color": bar_colour_of("Waiting")},
                                       layout=widgets.Layout(width="16em", height="14px",
                                                             margin="0 10px 0 0"))
        self.status_label = widgets.Label("", style={**mono, "font_weight": "bold"},
                                          layout=widgets.Layout(width="11em"))
        self.bytes_label = widgets.Label("", style=mono,
                                         layout=widgets.Layout(width="10.5em"))
        self.speed_label = widgets.Label("", style={**mono, "text_color": "#757575"},
                                         layout=widgets.Layout(width="7em"))
        self.box = widgets.HBox([self.id_label, self.bar, self.status_label, self.bytes_label,
                                 self.speed_label],
                                layout=widgets.Layout(align_items="center", min_height="22px"))
        self.box.add_class("imgkit-pull-layer")

    # -- what the row says ------------------------------------------------------
    @property
    def percent(self) -> float:
        """How full the bar is, 0 to 100."""
        return 100.0 * self.bar.value / self.bar.max if self.bar.max else 0.0

    def bytes_text(self) -> str:
        """Docker's byte count: ``1.235MB/2.87MB`` while downloading, the size once done."""
        if self.status in STATUSES_WITH_PROGRESS and (self.current or self.total):
            if self.total and self.current <= self.total:
                return f"{_size(self.current)}/{_size(self.total)}"
            return _size(self.current)
        if self.status in _FULL and self.total:
            return _size(self.total)
        return ""

    def speed_text(self) -> str:
        """The download speed (``4.1MB/s``), once two byte counts are some time apart."""
        return f"{human_size(self.speed)}/s" if self.speed else ""

    def line(self) -> str:
        """The layer's line as a terminal shows it now (no bar: text only)."""
        text = f"{self.id}: {self.status}"
        if self.status in STATUSES_WITH_PROGRESS and self.bytes_text():
            text += f"  {self.bytes_text()}"
        return text

    # -- events -----------------------------------------------------------------
    def update(self, event: ProgressEvent, *, throttle: float) -> None:
        """Take one of this layer's events; draw it unless it only moved bytes too soon."""
        now = self._clock()
        new_status = event.status != self.status
        self.status = event.status
        if event.total is not None:
            self.total = event.total
        if event.has_progress:
            assert event.current is not None
            if self._started is None:
                self._started, self._start_bytes = now, event.current
            elif now > self._started:
                self.speed = (event.current - self._start_bytes) / (now - self._started)
            self.current = event.current
        elif event.status in _FULL and self.total:
            self.current = self.total
        if not new_status and now - self._last_draw < throttle:
            return
        self._last_draw = now
        self.draw()

    def draw(self) -> None:
        """Bring every widget of the row in line with the row's state."""
        with self.bar.hold_sync():
            if self.status in _FULL:
                top = self.total or 1
                self.bar.max, self.bar.value = top, top
            elif self.total:
                self.bar.max, self.bar.value = self.total, min(self.current, self.total)
            else:
                self.bar.max, self.bar.value = 1, 0
            colour = bar_colour_of(self.status)
            if colour:
                self.bar.style.bar_color = colour
        self.status_label.value = self.status
        self.status_label.style.text_color = colour_of(self.status)
        self.bytes_label.value = self.bytes_text()
        self.speed_label.value = self.speed_text() if self.status != "Already exists" else ""
        if self.status == "Already exists":
            self.box.add_class("imgkit-pull-exists")
        else:
            self.box.remove_class("imgkit-pull-exists")


class PullDisplay(widgets.VBox):
    """A live view of one pull: a header, one row per layer, and Docker's closing lines.

    Call it with each ``ProgressEvent`` (it is a listener). ``rows`` holds
    every layer row in order; ``messages`` the lines that are not a layer's.
    ``repr()`` is the screen a terminal would show now.
    """

    def __init__(self, name: str = "", *, redraw_every: float = REDRAW_EVERY,
                 clock: Callable[[], float] = time.monotonic, **kwargs):
        kwargs.setdefault("layout", widgets.Layout(border="1px solid #d0d7de", padding="6px 12px",
                                                   margin="4px 0", width="fit-content",
                                                   max_width="100%"))
        super().__init__(**kwargs)
        self.add_class("imgkit-pull")
        self.name = name
        self.redraw_every = redraw_every
        self._clock = clock
        self._screen: list[str | LayerRow] = []     # what a terminal shows, in order
        self._block: dict[str, LayerRow] = {}       # layer id -> row, in the current block
        self.rows: list[LayerRow] = []
        self.messages: list[str] = []
        self.title = widgets.HTML(self._title_html(), layout=widgets.Layout(margin="0 0 2px 0"))
        self.children = (self.title,)

    def _title_html(self) -> str:
        what = f" <code>{html.escape(self.name)}</code>" if self.name else ""
        return (f"<span style=\"font-size:12px;color:#57606a\">docker pull{what}</span>")

    # -- the listener -------------------------------------------------------------
    def __call__(self, event: ProgressEvent) -> None:
        if _is_layer_event(event):
            assert event.id is not None
            row = self._block.get(event.id)
            if row is None:
                row = self._block[event.id] = LayerRow(event.id, self._clock)
                self.rows.append(row)
                self._screen.append(row)
                self.children = (*self.children, row.box)
            row.update(event, throttle=self.redraw_every)
            return
        # Any other line starts a new block, as on a terminal (the next tag of `pull -a`).
        self._block = {}
        self.messages.append(event.status if event.id is None else event.line())
        line = event.line()
        self._screen.append(line)
        self.children = (*self.children, self._message_widget(event))

    def _message_widget(self, event: ProgressEvent) -> widgets.HTML:
        text = html.escape(event.line())
        if event.id is not None:            # "latest: Pulling from library/redis"
            body = f"<b>{html.escape(event.id)}</b>: {html.escape(event.status)}"
            style = "font-size:13px;margin:2px 0 0 0"
        elif event.status.startswith("Status: "):
            body, style = f"<b>{text}</b>", "font-size:12px;color:#2e7d32"
        elif event.status.startswith("WARNING"):
            body, style = text, "font-size:12px;color:#b26a00"
        else:
            body, style = text, "font-size:12px;color:#424242"
        message = widgets.HTML(f"<div style=\"font-family:{MONO};{style};white-space:pre-wrap;"
                               f"word-break:break-all;line-height:20px\">{body}</div>")
        message.add_class("imgkit-pull-message")
        return message

    # -- showing ------------------------------------------------------------------
    def show(self) -> "PullDisplay":
        """Display the widget in the cell's output (a notebook calls this before the pull)."""
        from IPython.display import display

        display(self)
        return self

    def flush(self) -> None:
        """Draw every row as it is now (byte counts held back by the throttle included)."""
        for row in self.rows:
            row.draw()

    def lines(self) -> list[str]:
        """The screen as text, one string per line."""
        return [item if isinstance(item, str) else item.line() for item in self._screen]

    def __repr__(self) -> str:
        return "\n".join(self.lines()) or f"docker pull {self.name}".rstrip()

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/plain"] = repr(self)
        return bundle
