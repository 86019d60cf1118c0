"""Colours and small HTML helpers shared by the widgets (one look for the whole kit)."""

from __future__ import annotations

import html
from typing import Iterable, Sequence

__all__ = ["STATUS_COLOURS", "BAR_COLOURS", "MONO", "colour_of", "bar_colour_of", "table_html",
           "note_html", "error_html", "heading_html"]

#: The font stack of every id, size and path (what a terminal would show).
MONO = "SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"

#: Text colour of each of Docker's layer statuses.
STATUS_COLOURS = {
    "Waiting": "#757575",
    "Pulling fs layer": "#616161",
    "Downloading": "#1565c0",
    "Verifying Checksum": "#b26a00",
    "Download complete": "#00796b",
    "Extracting": "#6d4c41",
    "Pull complete": "#2e7d32",
    "Already exists": "#7b1fa2",
}

#: Bar colour of each status (a status without an entry keeps the last colour).
BAR_COLOURS = {
    "Waiting": "#bdbdbd",
    "Pulling fs layer": "#bdbdbd",
    "Downloading": "#1e88e5",
    "Verifying Checksum": "#fbc02d",
    "Download complete": "#26a69a",
    "Extracting": "#8d6e63",
    "Pull complete": "#43a047",
    "Already exists": "#ba68c8",
}

_CELL = "text-align:left;padding:2px 10px 2px 0;vertical-align:top;white-space:nowrap"


def colour_of(status: str) -> str:
    """Return the text colour for a status (black for one Docker has no colour for here)."""
    return STATUS_COLOURS.get(status, "#212121")


def bar_colour_of(status: str) -> str | None:
    """Return the bar colour for a status, or None to keep the bar's colour."""
    return BAR_COLOURS.get(status)


def table_html(headers: Sequence[str], rows: Iterable[Sequence[str]], *,
               highlight: int | None = None, row_colours: Sequence[str | None] | None = None,
               wrap: Sequence[int] = ()) -> str:
    """Return a compact table of text cells (escaped here), monospace like Docker's tables.

    ``highlight`` is the position of a row to shade (the chosen layer);
    ``row_colours`` a text colour per row; columns in ``wrap`` may wrap.
    """
    head = "".join(f"<th style=\"{_CELL};font-weight:600;border-bottom:1px solid #bdbdbd\">"
                   f"{html.escape(h)}</th>" for h in headers)
    body = []
    for number, row in enumerate(rows):
        shade = "background:#e3f2fd;" if number == highlight else ""
        colour = ""
        if row_colours is not None and number < len(row_colours) and row_colours[number]:
            colour = f"color:{row_colours[number]};"
        cells = "".join(
            f"<td style=\"{_CELL};{'white-space:pre-wrap;word-break:break-all;' if i in wrap else ''}\">"
            f"{html.escape(cell)}</td>" for i, cell in enumerate(row))
        body.append(f"<tr style=\"{shade}{colour}\">{cells}</tr>")
    return (f"<table style=\"border-collapse:collapse;font-family:{MONO};font-size:12px;"
            f"line-height:1.45\"><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def heading_html(text: str) -> str:
    """Return a small section heading."""
    return (f"<div style=\"font-weight:600;font-size:13px;margin:6px 0 2px 0;color:#37474f\">"
            f"{html.escape(text)}</div>")


def note_html(text: str) -> str:
    """Return a line of quiet explanatory text."""
    return f"<div style=\"color:#616161;font-size:12px\">{html.escape(text)}</div>"


def error_html(text: str) -> str:
    """Return an error message as Docker would print it, in red."""
    return (f"<pre style=\"color:#c62828;background:#ffebee;padding:4px 8px;margin:2px 0;"
            f"font-family:{MONO};font-size:12px;white-space:pre-wrap\">{html.escape(text)}</pre>")
