"""The ``--filter key=value`` language of ``docker images``, checked and parsed the way Docker does.

Keys and what they keep (different keys must all hold; values of one key
are combined as noted)::

    dangling=true|false      true: images with no tag; false: images with one  (also 1/0)
    label=KEY                the image has the label KEY          (every label filter must hold)
    label=KEY=VALUE          ... with exactly that value
    before=IMAGE             created strictly before IMAGE          (several: the oldest counts)
    since=IMAGE              created strictly after IMAGE           (several: the newest counts)
    reference=PATTERN        a name matches the glob PATTERN        (several: any may match)
    until=TIME               created before TIME: RFC 3339, a Unix time, or a Go duration
                             such as 10m or 2h30m, meaning that long ago

A ``reference`` glob is Go's ``path.Match``: ``*`` and ``?`` never match a
``/``, ``[a-z]`` and ``[^0-9]`` are classes, ``\\`` escapes. It is tried on
the familiar ``name:tag`` and the familiar name (``alpine:3.20``,
``alpine``), and, as Docker 29.5 does, on the full forms too
(``docker.io/library/alpine:3.20``). ``docker images alpine`` is the same
as ``--filter reference=alpine``.

Everything here is pure: ``parse`` checks the text, ``Filters`` answers
questions about image records; ``imgkit.api.listing`` uses both.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .errors import InvalidFilterError

__all__ = ["InvalidFilterError", "Filters", "PruneFilters", "parse", "parse_prune_filters",
           "glob_match", "parse_until", "parse_go_duration", "timestamp_ns", "ACCEPTED_KEYS",
           "PRUNE_KEYS"]

#: The keys ``docker images --filter`` accepts.
ACCEPTED_KEYS = ("dangling", "label", "before", "since", "reference", "until")
#: The keys ``docker image prune --filter`` accepts.
PRUNE_KEYS = ("dangling", "label", "label!", "until")


# --- parsing -----------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """Parsed filters: each key with the set of values given for it (order kept, no repeats)."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def get(self, key: str) -> tuple[str, ...]:
        """Return the values given for ``key`` (empty when none)."""
        return self.values.get(key, ())

    def add(self, key: str, value: str) -> "Filters":
        """Return these filters plus ``key=value`` (the value is not checked here)."""
        merged = {k: v for k, v in self.values.items()}
        old = merged.get(key, ())
        merged[key] = old if value in old else (*old, value)
        return Filters(merged)

    def validate(self, accepted: Iterable[str] = ACCEPTED_KEYS) -> None:
        """Refuse keys Docker does not know: ``invalid filter 'foo'``."""
        accepted = tuple(accepted)
        for key in self.values:
            if key not in accepted:
                raise InvalidFilterError(f"invalid filter '{key}'")

    def dangling(self) -> bool | None:
        """Return the ``dangling`` filter as True/False, None when not given.

        Anything but true/false/1/0, or both true and false, is
        ``invalid filter 'dangling=[...]'`` as Docker prints it.
        """
        if "dangling" not in self.values:
            return None
        given = set(self.values["dangling"])
        is_true = bool(given & {"1", "true"})
        is_false = bool(given & {"0", "false"})
        if is_true == is_false:
            shown = " ".join(sorted(given))
            raise InvalidFilterError(f"invalid filter 'dangling=[{shown}]'")
        return is_true

    def match_labels(self, labels: Mapping[str, str] | None, key: str = "label") -> bool:
        """Tell whether ``labels`` pass every ``label`` filter (an image without labels never does)."""
        wanted = self.get(key)
        if not wanted:
            return True
        if not labels:
            return False
        for item in wanted:
            key, has_value, value = item.partition("=")
            if key not in labels or (has_value and labels[key] != value):
                return False
        return True

    def match_reference(self, targets: Iterable[str]) -> bool:
        """Tell whether any ``reference`` pattern matches any of ``targets`` (True when none given)."""
        patterns = self.get("reference")
        if not patterns:
            return True
        targets = list(targets)
        return any(glob_match(p, t) for p in patterns for t in targets)


def parse(filters: Iterable[str] | Mapping[str, object] | Filters | None = (),
          accepted: Iterable[str] = ACCEPTED_KEYS) -> Filters:
    """Read filters as a user gives them: ``["dangling=true", "label=tier"]`` or a dict.

    A string must hold ``=`` (``bad format of filter (expected name=value)``);
    the key is lower-cased and both sides are stripped, as the docker CLI
    does. A dict maps a key to a value or a list of values
    (``{"label": ["a", "b=c"], "dangling": True}``). Keys are checked
    against ``accepted``.
    """
    if isinstance(filters, Filters):
        result = filters
    else:
        result = Filters()
        if isinstance(filters, Mapping):
            for key, value in filters.items():
                values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
                for item in values:
                    text = str(item).lower() if isinstance(item, bool) else str(item)
                    result = result.add(str(key).strip().lower(), text.strip())
        else:
            if isinstance(filters, str):
                filters = [filters]
            for text in filters or ():
                if text == "":
                    continue
                if "=" not in text:
                    raise InvalidFilterError("bad format of filter (expected name=value)")
                key, _, value = text.partition("=")
                result = result.add(key.strip().lower(), value.strip())
    result.validate(accepted)
    return result


@dataclass(frozen=True)
class PruneFilters:
    """The filters of ``docker image prune``, as a test on image records.

    ``dangling`` is what the filters said (None when they did not say);
    calling the value with an image record tells whether the ``until``,
    ``label`` and ``label!`` filters keep it as a candidate.
    """

    filters: Filters
    dangling: bool | None
    until_ns: int | None

    def __call__(self, image) -> bool:
        created = timestamp_ns(image.created)
        if self.until_ns is not None and (created is None or created > self.until_ns):
            return False                # prune keeps an image made exactly at `until`
        if not self.filters.match_labels(image.labels):
            return False
        # label!=a label!=b drops only images that have *all* of them (Docker's MatchKVList).
        return not ("label!" in self.filters and self.filters.match_labels(image.labels, "label!"))


def parse_prune_filters(filters: Iterable[str] | Mapping[str, object] | Filters | None = (), *,
                        now_ns: int | None = None,
                        local_zone: _dt.tzinfo | None = None) -> PruneFilters:
    """Read ``docker image prune --filter`` values: ``until``, ``label``, ``label!``, ``dangling``.

    Errors are Docker's: ``invalid filter 'x'``, ``more than one until filter
    specified``, ``invalid value for 'until' filter: ...``.
    """
    import time

    flt = parse(filters, PRUNE_KEYS)
    dangling = flt.dangling()
    until = flt.get("until")
    if len(until) > 1:
        raise InvalidFilterError("more than one until filter specified")
    now_ns = time.time_ns() if now_ns is None else now_ns
    until_ns = parse_until(until[0], now_ns, local_zone) if until else None
    return PruneFilters(flt, dangling, until_ns)


# --- reference globs (Go's path.Match) ------------------------------------------------

_BAD_PATTERN = "syntax error in pattern"


def glob_match(pattern: str, name: str) -> bool:
    """Match ``name`` against the shell pattern as Go's ``path.Match`` does.

    ``*`` matches any run of characters but ``/``, ``?`` one character but
    ``/``; ``[...]`` is a class (``^`` negates, ``a-z`` ranges); ``\\``
    escapes. A malformed pattern raises ``syntax error in pattern``.
    """
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and chunk == "":
            return "/" not in name              # a trailing * takes the rest, but no /
        rest = _match_chunk(chunk, name)
        if rest is not None and (rest == "" or pattern):
            name = rest
            continue
        if star:
            skipped = _match_after_star(chunk, name, last=not pattern)
            if skipped is not None:
                name = skipped
                continue
        # No match: Go still checks that the rest of the pattern is well formed.
        while pattern:
            _, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, "", check_only=True)
        return False
    return name == ""


def _match_after_star(chunk: str, name: str, last: bool) -> str | None:
    """Let the star take 1, 2, ... characters (never a ``/``) until ``chunk`` matches."""
    for i, char in enumerate(name):
        if char == "/":
            return None
        rest = _match_chunk(chunk, name[i + 1:])
        if rest is not None and not (last and rest):
            return rest
    return None


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    star = False
    while pattern.startswith("*"):
        pattern, star = pattern[1:], True
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 1
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "*" and not in_class:
            return star, pattern[:i], pattern[i:]
        i += 1
    return star, pattern, ""


def _match_chunk(chunk: str, s: str, check_only: bool = False) -> str | None:
    """Match a star-free chunk at the start of ``s``; return what is left, or None."""
    failed = check_only
    while chunk:
        if not failed and not s:
            failed = True
        char = chunk[0]
        if char == "[":
            r = ""
            if not failed:
                r, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = chunk.startswith("^")
            if negated:
                chunk = chunk[1:]
            matched, ranges = False, 0
            while True:
                if chunk.startswith("]") and ranges > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _class_char(chunk)
                hi = lo
                if chunk[0] == "-":
                    hi, chunk = _class_char(chunk[1:])
                if not failed and lo <= r <= hi:
                    matched = True
                ranges += 1
            if matched == negated:
                failed = True
        elif char == "?":
            if not failed:
                if s[0] == "/":
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
        else:
            if char == "\\":
                chunk = chunk[1:]
                if not chunk:
                    raise InvalidFilterError(_BAD_PATTERN)
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    return None if failed else s


def _class_char(chunk: str) -> tuple[str, str]:
    if not chunk or chunk[0] in "-]":
        raise InvalidFilterError(_BAD_PATTERN)
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise InvalidFilterError(_BAD_PATTERN)
    char, rest = chunk[0], chunk[1:]
    if not rest:
        raise InvalidFilterError(_BAD_PATTERN)
    return char, rest


# --- times -----------------------------------------------------------------------------

# RFC 3339, possibly cut short after the date, the hour or the minutes (as `until` allows).
_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?)?"
                   r"([Zz]|[+-]\d{2}:\d{2})?", re.ASCII)


def _time_ns(text: str | None, local_zone: _dt.tzinfo | None = None,
             partial: bool = False) -> int | None:
    match = _TIME.fullmatch(text or "")
    if match is None:
        return None
    *fields, fraction, zone = match.groups()
    if not partial and (fields[5] is None or zone is None):
        return None
    try:
        if zone is None:
            tz = local_zone or _dt.datetime.now().astimezone().tzinfo
        elif zone in ("Z", "z"):
            tz = _dt.timezone.utc
        else:       # an offset of 24 hours or more is no offset (Go refuses it too)
            sign = -1 if zone[0] == "-" else 1
            tz = _dt.timezone(sign * _dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:])))
        moment = _dt.datetime(*(int(f or 0) for f in fields), tzinfo=tz)
        seconds = int(moment.timestamp())
    except (ValueError, OverflowError):
        return None
    return seconds * 1_000_000_000 + int((fraction or "0")[:9].ljust(9, "0"))


def timestamp_ns(text: str | None) -> int | None:
    """Return an RFC 3339 time (an image's ``created``) as nanoseconds since 1970, or None."""
    return _time_ns(text)


_DURATION_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
                   "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_DURATION_PART = re.compile(r"(\d*)(?:\.(\d*))?([^\d.]+)")


def parse_go_duration(text: str) -> int:
    """Return a Go duration (``10m``, ``2h30m``, ``1.5h``, ``-5s``) in nanoseconds.

    Raises ``ValueError`` for anything ``time.ParseDuration`` refuses.
    """
    body = text
    sign = 1
    if body and body[0] in "+-":
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    if body == "0":
        return 0
    if not body:
        raise ValueError(f'time: invalid duration "{text}"')
    total = 0
    position = 0
    while position < len(body):
        match = _DURATION_PART.match(body, position)
        if match is None or (match[1] == "" and not match[2]):
            raise ValueError(f'time: invalid duration "{text}"')
        unit = match[3]
        if unit not in _DURATION_UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration "{text}"')
        scale = _DURATION_UNITS[unit]
        whole = int(match[1] or "0") * scale
        fraction = match[2] or ""
        total += whole + (int(fraction) * scale // 10 ** len(fraction) if fraction else 0)
        position = match.end()
    return sign * total


def parse_until(value: str, now_ns: int, local_zone: _dt.tzinfo | None = None) -> int:
    """Return the time an ``until`` value names, in nanoseconds since 1970.

    Docker tries, in turn: a Go duration counted back from now (``10m``,
    ``2h30m``); an RFC 3339 date or time, possibly cut short
    (``2024-06-01``, ``2024-06-01T10:00``; local time when no zone is
    given); a Unix time (``1717236000`` or with a fraction). Errors read
    ``invalid value for 'until' filter: ...``.
    """
    def fail(reason: str) -> InvalidFilterError:
        return InvalidFilterError(f"invalid value for 'until' filter: {reason}")

    if not value.strip():
        raise fail("failed to parse value as time or duration: value is empty")
    if value != "0":
        try:
            return now_ns - parse_go_duration(value)
        except ValueError:
            pass
    if "-" in value:
        parsed = _time_ns(value, local_zone, partial=True)
        if parsed is None:
            raise fail(f'parsing time "{value}": cannot parse as RFC 3339')
        return parsed
    seconds, _, fraction = value.partition(".")
    if not re.fullmatch(r"[+-]?\d+", seconds):
        raise fail(f'failed to parse value as time or duration: invalid seconds "{seconds}": '
                   "invalid syntax")
    if fraction and not fraction.isdigit():
        raise fail("failed to parse value as time or duration: invalid nanoseconds")
    return int(seconds) * 1_000_000_000 + int((fraction or "0")[:9].ljust(9, "0"))
