"""Sizes print exactly as Docker prints them."""

import pytest

from imgkit.format import human_size


@pytest.mark.parametrize("size,precision,expected", [
    (0, 3, "0B"),
    (500, 3, "500B"),
    (1230, 3, "1.23kB"),
    (77_800_000, 3, "77.8MB"),
    (187_654_321, 3, "188MB"),
    (1_090_000_000, 3, "1.09GB"),
    (7_800_000, 3, "7.8MB"),
    (999_999, 3, "1e+03kB"),          # Go's %g does this too
    (72_780_000, 4, "72.78MB"),
    (1_000, 3, "1kB"),
])
def test_human_size(size, precision, expected):
    assert human_size(size, precision) == expected


# --- ages: go-units' HumanDuration, every boundary ----------------------------------

from datetime import datetime, timedelta, timezone  # noqa: E402

from imgkit.format import (  # noqa: E402
    created_ago,
    ellipsis,
    go_json,
    human_duration,
    table,
    tabwrite,
    truncate_id,
)

MINUTE, HOUR, DAY = 60, 3600, 86400


@pytest.mark.parametrize("seconds,expected", [
    (-5, "Less than a second"),
    (0, "Less than a second"),
    (0.999, "Less than a second"),
    (1, "1 second"),
    (1.9, "1 second"),
    (2, "2 seconds"),
    (59.9, "59 seconds"),
    (60, "About a minute"),
    (119, "About a minute"),
    (120, "2 minutes"),
    (59 * MINUTE + 59, "59 minutes"),
    (60 * MINUTE, "About an hour"),
    (89 * MINUTE + 59, "About an hour"),          # hours are rounded: 1.49 h
    (90 * MINUTE, "2 hours"),                     # 1.5 h rounds up
    (24 * HOUR, "24 hours"),
    (47 * HOUR + 29 * MINUTE, "47 hours"),
    (47 * HOUR + 30 * MINUTE, "2 days"),          # rounds to 48 h
    (48 * HOUR, "2 days"),
    (13 * DAY + 23 * HOUR, "13 days"),
    (14 * DAY - 31 * MINUTE, "13 days"),
    (14 * DAY, "2 weeks"),
    (59 * DAY + 23 * HOUR, "8 weeks"),
    (60 * DAY, "2 months"),
    (365 * DAY, "12 months"),
    (2 * 365 * DAY - HOUR, "24 months"),
    (2 * 365 * DAY, "2 years"),
    (3 * 365 * DAY - 1, "2 years"),               # years are cut, not rounded
    (10 * 365 * DAY, "10 years"),
])
def test_human_duration(seconds, expected):
    assert human_duration(seconds) == expected


def test_human_duration_takes_a_timedelta():
    assert human_duration(timedelta(minutes=5)) == "5 minutes"


NOW = datetime(2024, 7, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("created,expected", [
    ("2024-07-01T11:00:00Z", "About an hour ago"),
    ("2024-07-01T11:59:59.999Z", "1 second ago"),       # counted from the whole second
    (datetime(2024, 6, 20, 12, tzinfo=timezone.utc), "11 days ago"),
    (NOW.timestamp() - 3 * HOUR, "3 hours ago"),
    ("2024-07-01T14:00:00+02:00", "Less than a second ago"),
])
def test_created_ago(created, expected):
    assert created_ago(created, NOW) == expected


@pytest.mark.parametrize("image_id,expected", [
    ("sha256:44dd6f2230041eede1e27ed7b8e2f5e4bfa7d8c0b4d1e4c4b1c2d3e4f5a6b7c8", "44dd6f223004"),
    ("44dd6f2230041eede1e27ed7b8e2f5e4", "44dd6f223004"),
    ("<missing>", "<missing>"),
])
def test_truncate_id(image_id, expected):
    assert truncate_id(image_id) == expected


# --- Docker's Ellipsis: history cuts CREATED BY to 45 columns -----------------------

@pytest.mark.parametrize("text,width,expected", [
    ("short", 45, "short"),
    ("x" * 45, 45, "x" * 45),
    ("x" * 46, 45, "x" * 44 + "…"),
    ("abcdef", 3, "ab…"),
    ("abcdef", 1, "a"),
    ("abcdef", 0, ""),
    ("日本語のテキスト", 7, "日本語…"),       # wide characters take two columns
    ("日本語", 6, "日本語"),
])
def test_ellipsis(text, width, expected):
    assert ellipsis(text, width) == expected


# --- tables: docker/cli's tabwriter (minwidth 10, padding 3) ------------------------

def test_table_matches_docker_clis_own_golden_output():
    # From docker/cli's formatter tests (image_test.go, "table" format).
    text = table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
                 [["image", "tag1", "imageID1", "24 hours ago", "0B"],
                  ["image", "tag2", "imageID2", "N/A", "0B"],
                  ["<none>", "<none>", "imageID3", "24 hours ago", "0B"]])
    assert text == ("REPOSITORY   TAG       IMAGE ID   CREATED        SIZE\n"
                    "image        tag1      imageID1   24 hours ago   0B\n"
                    "image        tag2      imageID2   N/A            0B\n"
                    "<none>       <none>    imageID3   24 hours ago   0B")


def test_table_pads_every_column_but_the_last_even_when_the_last_is_empty():
    # docker history's golden file: an empty COMMENT leaves SIZE's padding behind.
    text = table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
                 [["123456789012", "Less than a second ago", "", "0B", ""]])
    assert text.splitlines() == [
        "IMAGE          CREATED                  CREATED BY   SIZE      COMMENT",
        "123456789012   Less than a second ago                0B        ",
    ]


def test_table_with_only_headers():
    assert table(["REPOSITORY", "DIGEST"], []) == "REPOSITORY   DIGEST"


def test_table_counts_wide_characters_as_two_columns():
    assert table(["A", "B"], [["日本", "x"]]).splitlines() == ["A         B", "日本      x"]


def test_tabwrite_lays_out_blocks_like_go():
    # A line without a tab ends the column block: the next block has its own widths.
    assert tabwrite("a\tb\nlonger-cell-here\tc\nplain\nx\ty\n") == (
        "a                  b\nlonger-cell-here   c\nplain\nx         y\n")


def test_go_json_escapes_html_like_encoding_json():
    assert go_json({"Tag": "<none>", "A&B": "é"}) == '{"Tag":"\\u003cnone\\u003e","A\\u0026B":"é"}'
    assert go_json(["<x>"], escape_html=False) == '["<x>"]'
    assert go_json({"a": [], "b": {}}, indent=4) == '{\n    "a": [],\n    "b": {}\n}'
