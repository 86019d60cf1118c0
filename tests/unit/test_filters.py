"""The --filter language of `docker images`: parsing, errors, globs and times (records only)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from imgkit.errors import ImgkitError
from imgkit.filters import (
    Filters,
    InvalidFilterError,
    glob_match,
    parse,
    parse_go_duration,
    parse_until,
    timestamp_ns,
)

S = 1_000_000_000
NOW = datetime(2024, 7, 1, 12, 0, 0, tzinfo=timezone.utc)
NOW_NS = int(NOW.timestamp()) * S


# --- parsing and its errors --------------------------------------------------------------

@pytest.mark.parametrize("given,expected", [
    ([], {}),
    (["dangling=true"], {"dangling": ("true",)}),
    (["label=tier", "label=team=tools"], {"label": ("tier", "team=tools")}),
    (["label=a=b=c"], {"label": ("a=b=c",)}),                 # the value keeps its "="
    ([" Label = tier "], {"label": ("tier",)}),                # key lowered, both sides stripped
    (["reference=alpine", "reference=alpine"], {"reference": ("alpine",)}),   # a set
    ([""], {}),                                                # an empty flag is ignored
    ({"dangling": True, "label": ["a", "b=c"]}, {"dangling": ("true",), "label": ("a", "b=c")}),
    ("until=10m", {"until": ("10m",)}),
])
def test_parse(given, expected):
    assert dict(parse(given).values) == expected


@pytest.mark.parametrize("given,message", [
    (["dangling"], "bad format of filter (expected name=value)"),
    (["foo=bar"], "invalid filter 'foo'"),
    (["label!=x"], "invalid filter 'label!'"),                 # prune has label!, images does not
    ({"nope": 1}, "invalid filter 'nope'"),
])
def test_parse_errors(given, message):
    with pytest.raises(InvalidFilterError) as err:
        parse(given)
    assert str(err.value) == message
    assert isinstance(err.value, ValueError) and isinstance(err.value, ImgkitError)


@pytest.mark.parametrize("values,expected", [
    (None, None),
    (["true"], True), (["1"], True), (["false"], False), (["0"], False),
    (["true", "1"], True),
])
def test_dangling(values, expected):
    flt = Filters({"dangling": tuple(values)}) if values else Filters()
    assert flt.dangling() is expected


@pytest.mark.parametrize("values,message", [
    (["true", "false"], "invalid filter 'dangling=[false true]'"),
    (["1", "0"], "invalid filter 'dangling=[0 1]'"),
    (["maybe"], "invalid filter 'dangling=[maybe]'"),
    ([""], "invalid filter 'dangling=[]'"),
])
def test_dangling_errors(values, message):
    with pytest.raises(InvalidFilterError, match=r"^" + message.replace("[", r"\[") + "$"):
        parse([f"dangling={v}" for v in values]).dangling()


# --- labels ---------------------------------------------------------------------------

@pytest.mark.parametrize("filters,labels,expected", [
    ([], {}, True),
    (["label=tier"], {"tier": "web"}, True),
    (["label=tier"], {"team": "web"}, False),
    (["label=tier=web"], {"tier": "web"}, True),
    (["label=tier=web"], {"tier": "backend"}, False),
    (["label=tier="], {"tier": ""}, True),                     # key=<empty> wants an empty value
    (["label=tier="], {"tier": "web"}, False),
    (["label=tier", "label=team=tools"], {"tier": "x", "team": "tools"}, True),
    (["label=tier", "label=team=tools"], {"tier": "x"}, False),  # every label filter must hold
    (["label=tier"], {}, False),                               # no labels never match
    (["label=tier"], None, False),
])
def test_labels(filters, labels, expected):
    assert parse(filters).match_labels(labels) is expected


# --- reference globs: Go's path.Match ------------------------------------------------------

@pytest.mark.parametrize("pattern,name,expected", [
    ("alpine", "alpine", True),
    ("alpine", "alpine:3.20", False),
    ("alpine:*", "alpine:3.20", True),
    ("alp*", "alpine", True),
    ("*", "alpine", True),
    ("*", "library/alpine", False),              # * never crosses /
    ("*/*", "tools/cli", True),
    ("*/cli:*", "tools/cli:2", True),
    ("tools*", "tools/cli", False),
    ("*cli", "tools/cli", False),
    ("?lpine", "alpine", True),
    ("?", "/", False),                           # ? never matches /
    ("a?c", "a/c", False),
    ("alpine:3.?0", "alpine:3.20", True),
    ("alpine:3.[12]0", "alpine:3.20", True),
    ("alpine:3.[^12]0", "alpine:3.20", False),
    ("alpine:3.[0-9]*", "alpine:3.19", True),
    ("alpine:3.[a-z]*", "alpine:3.19", False),
    ("alpine\\:3.20", "alpine:3.20", True),      # \ escapes
    ("localhost:5000/*", "localhost:5000/team", True),
    ("localhost:5000/*", "localhost:5000/team/db", False),
    ("*/*/*", "localhost:5000/team/db", True),
    ("a*b*c", "axxbyyc", True),
    ("a*b", "axxbyy", False),
    ("", "", True),
    ("", "x", False),
])
def test_glob_match(pattern, name, expected):
    assert glob_match(pattern, name) is expected


@pytest.mark.parametrize("pattern", ["[", "[a", "alpine[", "a\\", "[]a]", "[-]", "x*[z"])
def test_glob_syntax_errors(pattern):
    with pytest.raises(InvalidFilterError, match="^syntax error in pattern$"):
        glob_match(pattern, "alpine-something")


def test_match_reference_any_pattern_any_target():
    flt = parse(["reference=redis", "reference=alp*:3.20"])
    assert flt.match_reference(["alpine:3.20", "alpine"])
    assert flt.match_reference(["redis:latest", "redis"])
    assert not flt.match_reference(["alpine:latest", "alpine"])
    assert parse([]).match_reference(["anything"])


# --- times ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("2024-07-01T12:00:00Z", NOW_NS),
    ("2024-07-01T12:00:00.5Z", NOW_NS + S // 2),
    ("2024-07-01T12:00:00.123456789Z", NOW_NS + 123_456_789),
    ("2024-07-01T14:00:00+02:00", NOW_NS),
    ("2024-07-01T07:30:00-04:30", NOW_NS),
    ("", None), (None, None), ("yesterday", None),
])
def test_timestamp_ns(text, expected):
    assert timestamp_ns(text) == expected


@pytest.mark.parametrize("text,ns", [
    ("10m", 600 * S), ("2h30m", 9000 * S), ("1.5h", 5400 * S), (".5s", S // 2),
    ("300ms", 300_000_000), ("1h1m1s", 3661 * S), ("-5s", -5 * S), ("+5s", 5 * S),
    ("0", 0), ("2us", 2000), ("2µs", 2000), ("7ns", 7),
])
def test_parse_go_duration(text, ns):
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize("text", ["", "10", "10x", "h", ".s", "1d", "2024-06-01", "1e3s", "-"])
def test_parse_go_duration_errors(text):
    with pytest.raises(ValueError):
        parse_go_duration(text)


@pytest.mark.parametrize("value,expected", [
    ("10m", NOW_NS - 600 * S),                                   # a duration: that long ago
    ("2h30m", NOW_NS - 9000 * S),
    ("-1h", NOW_NS + 3600 * S),                                  # negative: in the future
    ("2024-07-01T12:00:00Z", NOW_NS),
    ("2024-07-01T12:00:00.25Z", NOW_NS + S // 4),
    ("2024-07-01T14:00:00+02:00", NOW_NS),
    ("2024-07-01", NOW_NS - 12 * 3600 * S),                      # a date: midnight, local time (UTC here)
    ("2024-07-01T12", NOW_NS),
    ("2024-07-01T12:00", NOW_NS),
    ("2024-07-01T12:00:00", NOW_NS),
    ("1719835200", NOW_NS),                                      # a Unix time
    ("1719835200.5", NOW_NS + S // 2),
    ("0", 0),                                                    # "0" is a Unix time, not a duration
])
def test_parse_until(value, expected):
    assert parse_until(value, NOW_NS, timezone.utc) == expected


def test_parse_until_counts_a_bare_date_in_the_local_zone():
    berlin_summer = timezone(__import__("datetime").timedelta(hours=2))
    assert parse_until("2024-07-01T14:00", NOW_NS, berlin_summer) == NOW_NS


@pytest.mark.parametrize("value,message", [
    ("", "invalid value for 'until' filter: failed to parse value as time or duration: "
         "value is empty"),
    ("abc", "invalid value for 'until' filter: failed to parse value as time or duration: "
            'invalid seconds "abc": invalid syntax'),
    ("10x", "invalid value for 'until' filter: failed to parse value as time or duration: "
            'invalid seconds "10x": invalid syntax'),
    ("2024-13-01", "invalid value for 'until' filter: parsing time \"2024-13-01\""),
])
def test_parse_until_errors(value, message):
    with pytest.raises(InvalidFilterError) as err:
        parse_until(value, NOW_NS, timezone.utc)
    assert str(err.value).startswith(message)


# --- docker image prune --filter ------------------------------------------------------------

from types import SimpleNamespace  # noqa: E402

from imgkit.filters import parse_prune_filters  # noqa: E402


def record(created="2024-07-01T11:00:00Z", **labels):
    return SimpleNamespace(created=created, labels=labels)


@pytest.mark.parametrize("filters,image,expected", [
    ([], record(), True),
    (["until=1h"], record("2024-07-01T11:00:00Z"), True),        # exactly `until`: kept (not strict)
    (["until=1h"], record("2024-07-01T11:00:01Z"), False),
    (["until=2024-07-01T12:00:00Z"], record(""), False),          # no date: never old enough
    (["label=tier"], record(tier="web"), True),
    (["label=tier"], record(), False),
    (["label!=tier"], record(tier="web"), False),
    (["label!=tier"], record(), True),
    (["label!=tier=web"], record(tier="db"), True),
    (["label!=a", "label!=b"], record(a="1"), True),              # only images with all of them go
    (["label!=a", "label!=b"], record(a="1", b="2"), False),
    (["label=tier", "label!=keep"], record(tier="x", keep="y"), False),
])
def test_prune_filters_match(filters, image, expected):
    assert parse_prune_filters(filters, now_ns=NOW_NS, local_zone=timezone.utc)(image) is expected


@pytest.mark.parametrize("filters,dangling", [
    ([], None), (["dangling=true"], True), (["dangling=false"], False),
])
def test_prune_filters_dangling(filters, dangling):
    assert parse_prune_filters(filters).dangling is dangling


@pytest.mark.parametrize("filters,message", [
    (["reference=x"], "invalid filter 'reference'"),
    (["before=x"], "invalid filter 'before'"),
    (["until=1h", "until=2h"], "more than one until filter specified"),
    (["until=soon"], "invalid value for 'until' filter: failed to parse value as time or "
                     'duration: invalid seconds "soon": invalid syntax'),
    (["dangling=true", "dangling=false"], "invalid filter 'dangling=[false true]'"),
])
def test_prune_filter_errors(filters, message):
    with pytest.raises(InvalidFilterError) as err:
        parse_prune_filters(filters)
    assert str(err.value) == message
