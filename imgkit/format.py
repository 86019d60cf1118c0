"""Human-readable sizes, times and tables, exactly as Docker prints them.

Docker formats sizes with decimal units (1 kB = 1000 bytes) and a fixed
number of significant digits, with no space before the unit: ``docker
images`` uses 3 digits (``77.8MB``), ``Total reclaimed space`` uses 4
(``72.78MB``). Like Docker's, the formatting is ``%g``, so a size just under
a unit boundary can print as ``1e+03kB`` - that is what Docker shows too.

Ages (``5 minutes ago``) follow go-units' ``HumanDuration``, and tables
follow the tab writer ``docker`` uses for every listing: each column is as
wide as its widest cell plus 3 spaces, but at least 10; the last column is
never padded. So a learner can lay imgkit's output over Docker's, column
for column.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
import unicodedata
from typing import Iterable, Sequence

__all__ = ["human_size", "human_duration", "created_ago", "truncate_id", "ellipsis",
           "display_width", "tabwrite", "table", "html_table", "epoch_seconds",
           "rfc3339_local", "go_time_string", "go_json",
           "MIN_COLUMN_WIDTH", "COLUMN_PADDING"]

_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")

#: docker/cli's table writer: ``tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)``.
MIN_COLUMN_WIDTH = 10
COLUMN_PADDING = 3


def human_size(size: float, precision: int = 3) -> str:
    """Return ``size`` bytes the way ``docker images`` shows them: ``7.8MB``, ``188MB``, ``0B``."""
    value = float(size)
    unit = 0
    while value >= 1000.0 and unit < len(_DECIMAL_UNITS) - 1:
        value /= 1000.0
        unit += 1
    return f"{value:.{precision}g}{_DECIMAL_UNITS[unit]}"


# --- times -------------------------------------------------------------------

def human_duration(seconds: float | _dt.timedelta) -> str:
    """Return a duration the way Docker words an age: ``5 minutes``, ``About an hour``, ``3 weeks``.

    The steps are go-units' ``HumanDuration``: seconds and minutes are cut
    down (89 s is ``About a minute``), hours are rounded (1 h 30 min is
    ``2 hours``), then ``N days`` below 14 days, ``N weeks`` below 60 days,
    ``N months`` (of 30 days) below 2 years, and ``N years`` (of 365 days).
    """
    if isinstance(seconds, _dt.timedelta):
        seconds = seconds.total_seconds()
    whole = int(seconds)                    # Go's int() truncates toward zero
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)       # rounded, unlike the units above
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def epoch_seconds(when: float | int | str | _dt.datetime | None) -> float:
    """Return ``when`` as seconds since 1970: a number, an aware ``datetime`` or RFC 3339 text.

    ``None`` means now.
    """
    if when is None:
        return time.time()
    if isinstance(when, (int, float)):
        return float(when)
    if isinstance(when, str):
        from .oci.imageconfig import parse_time

        when = parse_time(when)
    if when.tzinfo is None:
        raise ValueError("a datetime needs a time zone (e.g. timezone.utc)")
    return when.timestamp()


def created_ago(timestamp: float | int | str | _dt.datetime,
                now: float | int | str | _dt.datetime | None = None) -> str:
    """Return Docker's CREATED cell for ``timestamp`` seen at ``now``: ``2 weeks ago``.

    Docker counts from the creation time cut to whole seconds.
    """
    created = int(epoch_seconds(timestamp) // 1)
    return human_duration(epoch_seconds(now) - created) + " ago"


def _local(seconds: int) -> _dt.datetime:
    """Return ``seconds`` since 1970 as a local time (UTC where the year would fall out of range)."""
    moment = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(seconds=seconds)
    try:
        return moment.astimezone()
    except (OverflowError, ValueError, OSError):
        return moment


def rfc3339_local(seconds: int) -> str:
    """Return whole ``seconds`` since 1970 as RFC 3339 in local time, as Go prints it (``Z`` for UTC)."""
    moment = _local(seconds)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S%z")
    zone = text[19:]
    return text[:19] + ("Z" if zone in ("+0000", "-0000") else f"{zone[:3]}:{zone[3:]}")


def go_time_string(seconds: int) -> str:
    """Return whole ``seconds`` since 1970 the way Go's ``Time.String`` prints local time.

    ``2024-05-22 18:18:12 +0000 UTC``: what ``docker images --format json`` puts in ``CreatedAt``.
    """
    moment = _local(seconds)
    return moment.strftime("%Y-%m-%d %H:%M:%S %z ") + (moment.tzname() or moment.strftime("%z"))


def go_json(value, *, indent: int | None = None, escape_html: bool = True) -> str:
    """Return ``value`` as JSON text the way Go's ``encoding/json`` writes it.

    Non-ASCII text stays as it is (Go writes UTF-8), ``<``, ``>`` and ``&``
    become ``\\u003c`` ... unless ``escape_html`` is false (the Docker
    daemon turns that off; the docker CLI's ``--format json`` keeps it), and
    U+2028/U+2029 are always escaped. ``indent`` gives ``docker inspect``'s
    layout.
    """
    if indent is None:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(value, ensure_ascii=False, indent=indent)
    if escape_html:
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def truncate_id(image_id: str) -> str:
    """Return the short ID Docker shows: drop ``sha256:`` and keep 12 characters."""
    _, colon, rest = image_id.partition(":")
    return (rest if colon else image_id)[:12]


# --- widths and truncation -------------------------------------------------------

def _char_width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Return how many terminal columns ``text`` takes (wide CJK characters take 2)."""
    return sum(0 if unicodedata.combining(c) else _char_width(c) for c in text)


def ellipsis(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` columns, ending in ``…`` when cut (docker/cli's ``Ellipsis``).

    ``docker history`` cuts CREATED BY this way to 45 columns: 44 characters
    and the ``…``.
    """
    if width <= 0:
        return ""
    if width == 1:
        return text[:1]
    widths = [_char_width(c) for c in text]
    if sum(widths) <= width:
        return text
    used = 0
    for index, w in enumerate(widths):
        if used + w > width - 1:
            return text[:index] + "…"
        used += w
    return text


# --- tables ------------------------------------------------------------------------

def tabwrite(text: str, minwidth: int = MIN_COLUMN_WIDTH, padding: int = COLUMN_PADDING) -> str:
    """Align tab-separated text the way Go's ``text/tabwriter`` does (as docker/cli sets it up).

    A cell ends at a tab; the text after a line's last tab is not part of a
    column and is never padded. Columns are laid out in *blocks* of
    consecutive lines that have that column, each block as wide as its
    widest cell plus ``padding``, but at least ``minwidth``. A line with no
    tab ends every block (Go flushes there).
    """
    lines = [[(cell, display_width(cell)) for cell in line.split("\t")]
             for line in text.split("\n")]
    out: list[str] = []
    start = 0
    for index, cells in enumerate(lines):
        if len(cells) == 1 and index < len(lines) - 1:
            _format_block(lines, start, index + 1, [], out, minwidth, padding)
            start = index + 1
    _format_block(lines, start, len(lines), [], out, minwidth, padding)
    # Every line but the last ended with a newline in the input.
    return "\n".join(out)


def _format_block(lines, line0: int, line1: int, widths: list[int], out: list[str],
                  minwidth: int, padding: int) -> None:
    column = len(widths)
    this = line0
    while this < line1:
        if column >= len(lines[this]) - 1:
            this += 1
            continue
        _write_lines(lines, line0, this, widths, out)
        line0 = this
        width = minwidth
        while this < line1 and column < len(lines[this]) - 1:
            width = max(width, lines[this][column][1] + padding)
            this += 1
        _format_block(lines, line0, this, widths + [width], out, minwidth, padding)
        line0 = this
    _write_lines(lines, line0, line1, widths, out)


def _write_lines(lines, line0: int, line1: int, widths: list[int], out: list[str]) -> None:
    for cells in lines[line0:line1]:
        parts = []
        for j, (text, width) in enumerate(cells):
            parts.append(text)
            if j < len(widths):
                parts.append(" " * (widths[j] - width))
        out.append("".join(parts))


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Return ``headers`` and ``rows`` as Docker prints a listing (no final newline).

    >>> print(table(["REPOSITORY", "TAG"], [["alpine", "3.20"]]))
    REPOSITORY   TAG
    alpine       3.20
    """
    text = "\t".join(headers) + "\n" + "".join("\t".join(row) + "\n" for row in rows)
    return tabwrite(text).removesuffix("\n")


def html_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Return ``headers`` and ``rows`` as a plain HTML table (what a notebook shows)."""
    import html  # here: its entity table costs a command-line start-up 1 ms for nothing

    head = "".join(f"<th style=\"text-align:left\">{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td style=\"text-align:left\"><code>{html.escape(c)}"
                                    "</code></td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
