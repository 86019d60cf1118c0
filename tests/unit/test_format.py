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
