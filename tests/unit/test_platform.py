"""Platforms: parsing, containerd's normalisation, matching and ranking."""

from __future__ import annotations

import pytest

from imgkit.oci import platform as plat
from imgkit.oci.platform import Platform, best, host, matches, parse, rank


@pytest.fixture
def amd64_host(monkeypatch):
    """Pretend to run on an x86-64 machine, so one-word specifiers are stable."""
    monkeypatch.setattr(plat, "_machine", lambda: "x86_64")


# text -> str() of the parsed platform, as containerd's Parse + Format give it
PARSE_CASES = [
    ("linux/amd64", "linux/amd64"),
    ("linux/x86_64", "linux/amd64"),
    ("linux/x86-64", "linux/amd64"),
    ("linux/AMD64", "linux/amd64"),
    ("Linux/amd64", "linux/amd64"),
    ("linux/amd64/v1", "linux/amd64"),
    ("linux/amd64/v3", "linux/amd64/v3"),
    ("linux/aarch64", "linux/arm64"),
    ("linux/arm64", "linux/arm64"),
    ("linux/arm64/v8", "linux/arm64/v8"),
    ("linux/aarch64/v8", "linux/arm64/v8"),
    ("linux/arm64/8", "linux/arm64/v8"),
    ("linux/arm64/v8.0", "linux/arm64/v8"),
    ("linux/arm64/9", "linux/arm64/v9"),
    ("linux/arm64/v8.2", "linux/arm64/v8.2"),
    ("linux/arm", "linux/arm"),
    ("linux/arm/v7", "linux/arm/v7"),
    ("linux/arm/7", "linux/arm/v7"),
    ("linux/arm/6", "linux/arm/v6"),
    ("linux/arm/v5", "linux/arm/v5"),
    ("linux/armhf", "linux/arm"),
    ("linux/armel", "linux/arm/v6"),
    ("linux/i386", "linux/386"),
    ("linux/i686", "linux/386"),
    ("linux/386", "linux/386"),
    ("linux/ppc64le", "linux/ppc64le"),
    ("linux/s390x", "linux/s390x"),
    ("linux/riscv64", "linux/riscv64"),
    ("windows/amd64", "windows/amd64"),
    ("macos/arm64", "darwin/arm64"),
    ("arm64", "linux/arm64"),
    ("aarch64", "linux/arm64"),
    ("armhf", "linux/arm"),
    ("linux", "linux/amd64"),
]


@pytest.mark.parametrize("text, expected", PARSE_CASES)
def test_parse(amd64_host, text, expected):
    assert str(parse(text)) == expected
    assert str(Platform.parse(text)) == expected


BAD_PLATFORMS = [
    "", "/", "linux/", "/amd64", "linux//v7", "linux/amd64/v2/x", "linux/amd 64",
    "linux/*", "nonsense", "linux/amd64/", "lin(ux)/amd64", "linux/amd64\n", "linux\n/arm",
]


@pytest.mark.parametrize("text", BAD_PLATFORMS)
def test_parse_rejects(text):
    with pytest.raises(ValueError, match="invalid platform") as caught:
        parse(text)
    assert "\n" not in str(caught.value)


def test_parse_error_message():
    with pytest.raises(ValueError) as caught:
        parse("linux/amd 64")
    assert str(caught.value) == ('invalid platform "linux/amd 64": "amd 64" is not a valid '
                                 "component (letters, digits, '_', '.', '-')")


def test_parse_rejects_non_string():
    with pytest.raises(ValueError, match="invalid platform"):
        parse(None)  # type: ignore[arg-type]


# (os, arch, variant) as written -> the normal form containerd compares
NORMALIZE_CASES = [
    (("linux", "x86_64", None), "linux/amd64"),
    (("linux", "x86-64", None), "linux/amd64"),
    (("linux", "amd64", "v1"), "linux/amd64"),
    (("linux", "amd64", "v2"), "linux/amd64/v2"),
    (("linux", "amd64", "v3"), "linux/amd64/v3"),
    (("linux", "aarch64", None), "linux/arm64"),
    (("linux", "arm64", "v8"), "linux/arm64"),
    (("linux", "arm64", "8"), "linux/arm64"),
    (("linux", "arm64", "v8.0"), "linux/arm64"),
    (("linux", "arm64", "v9.0"), "linux/arm64/v9"),
    (("linux", "arm64", "V8.1"), "linux/arm64/v8.1"),
    (("linux", "armhf", None), "linux/arm/v7"),
    (("linux", "armel", None), "linux/arm/v6"),
    (("linux", "arm", None), "linux/arm/v7"),
    (("linux", "arm", "7"), "linux/arm/v7"),
    (("linux", "arm", "5"), "linux/arm/v5"),
    (("linux", "arm", "8"), "linux/arm/v8"),
    (("linux", "i386", None), "linux/386"),
    (("linux", "i686", None), "linux/386"),
    (("LINUX", "S390X", None), "linux/s390x"),
    (("macos", "arm64", None), "darwin/arm64"),
    (("unknown", "unknown", None), "unknown/unknown"),
]


@pytest.mark.parametrize("written, expected", NORMALIZE_CASES)
def test_normalize(written, expected):
    assert str(Platform(*written).normalize()) == expected


def test_normalize_is_idempotent():
    for written, _ in NORMALIZE_CASES:
        once = Platform(*written).normalize()
        assert once.normalize() == once


def test_arm64_and_arm64_v8_are_the_same_platform():
    assert Platform("linux", "arm64").normalize() == Platform("linux", "arm64", "v8").normalize()
    assert matches("linux/arm64", "linux/arm64/v8")
    assert matches("linux/arm64/v8", "linux/arm64")


def test_value_keeps_its_spelling_and_is_hashable():
    p = Platform("linux", "aarch64", "v8")
    assert str(p) == "linux/aarch64/v8"
    assert repr(p) == "<Platform linux/aarch64/v8>"
    assert len({p, Platform("linux", "aarch64", "v8")}) == 1
    with pytest.raises(AttributeError):
        p.os = "windows"  # type: ignore[misc]


def test_empty_variant_means_none_and_windows_repr():
    assert Platform("linux", "amd64", "").variant is None
    win = Platform("windows", "amd64", os_version="10.0.17763.5329", os_features=["win32k"])
    assert win.os_features == ("win32k",)
    assert repr(win) == "<Platform windows/amd64 os.version=10.0.17763.5329 os.features=win32k>"
    assert win.to_dict() == {"architecture": "amd64", "os": "windows",
                             "os.version": "10.0.17763.5329", "os.features": ["win32k"]}


@pytest.mark.parametrize("fields", [
    ("", "amd64"), ("linux", ""), (None, "amd64"), ("linux", 5), ("linux", "arm", 7),
    ("linux", "amd64", None, 10), ("linux", "amd64", None, None, "win32k"),
    ("linux", "amd64", None, None, [1]),
])
def test_constructor_rejects_bad_fields(fields):
    with pytest.raises(ValueError, match="invalid platform"):
        Platform(*fields)


# wanted, candidate, can the wanted machine run the candidate?
MATCH_CASES = [
    ("linux/amd64", "linux/amd64", True),
    ("linux/amd64", "linux/x86_64", True),
    ("linux/amd64", "linux/386", True),
    ("linux/amd64", "linux/arm64", False),
    ("linux/amd64", "windows/amd64", False),
    ("linux/amd64", "linux/amd64/v2", False),
    ("linux/amd64/v3", "linux/amd64/v2", True),
    ("linux/amd64/v3", "linux/amd64", True),
    ("linux/amd64/v2", "linux/amd64/v3", False),
    ("linux/386", "linux/amd64", False),
    ("linux/arm64", "linux/arm64/v8", True),
    ("linux/arm64/v8", "linux/aarch64", True),
    ("linux/arm64", "linux/arm/v7", True),
    ("linux/arm64", "linux/arm/v8", True),
    ("linux/arm64", "linux/arm/v5", True),
    ("linux/arm64", "linux/arm64/v8.1", False),
    ("linux/arm64/v8.2", "linux/arm64/v8.1", True),
    ("linux/arm64/v9", "linux/arm64/v8.5", True),
    ("linux/arm64/v9", "linux/arm64/v8.6", False),
    ("linux/arm/v7", "linux/arm/v7", True),
    ("linux/arm/v7", "linux/arm", True),
    ("linux/arm/v7", "linux/armhf", True),
    ("linux/arm/v7", "linux/arm/v6", True),
    ("linux/arm/v7", "linux/arm/v5", True),
    ("linux/arm/v7", "linux/arm/v8", False),
    ("linux/arm/v7", "linux/arm64", False),
    ("linux/arm/v6", "linux/arm/v7", False),
    ("linux/arm/v6", "linux/armel", True),
    ("linux/arm/v5", "linux/arm/v6", False),
    ("linux/s390x", "linux/s390x", True),
    ("linux/ppc64le", "linux/ppc64", False),
    ("unknown/unknown", "unknown/unknown", True),  # only Index refuses attestations
]


@pytest.mark.parametrize("wanted, candidate, expected", MATCH_CASES)
def test_matches(wanted, candidate, expected):
    assert matches(wanted, candidate) is expected
    assert matches(parse(wanted), parse(candidate)) is expected


def test_os_features_must_be_offered():
    base = Platform("windows", "amd64", os_version="10.0.17763.1")
    needs = Platform("windows", "amd64", os_version="10.0.17763.1", os_features=("win32k",))
    offers = Platform("windows", "amd64", os_version="10.0.17763.1", os_features=("win32k",))
    assert not matches(base, needs)
    assert matches(offers, needs)
    assert matches(offers, base)


def test_windows_build_must_match():
    want = Platform("windows", "amd64", os_version="10.0.17763.5329")
    assert matches(want, Platform("windows", "amd64", os_version="10.0.17763.1"))
    assert not matches(want, Platform("windows", "amd64", os_version="10.0.20348.1"))
    assert matches(want, Platform("windows", "amd64"))


# wanted -> every platform it runs, best first
COMPATIBLE_CASES = [
    ("linux/amd64", ["linux/amd64", "linux/386"]),
    ("linux/amd64/v3", ["linux/amd64/v3", "linux/amd64/v2", "linux/amd64", "linux/386"]),
    ("linux/arm/v7", ["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]),
    ("linux/arm/v5", ["linux/arm/v5"]),
    ("linux/arm64", ["linux/arm64", "linux/arm/v8", "linux/arm/v7", "linux/arm/v6",
                     "linux/arm/v5"]),
    ("linux/arm64/v8.2", ["linux/arm64/v8.2", "linux/arm64/v8.1", "linux/arm64",
                          "linux/arm/v8", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]),
    ("linux/arm64/v9.1", ["linux/arm64/v9.1", "linux/arm64/v9", "linux/arm64/v8.6",
                          "linux/arm64/v8.5", "linux/arm64/v8.4", "linux/arm64/v8.3",
                          "linux/arm64/v8.2", "linux/arm64/v8.1", "linux/arm64",
                          "linux/arm/v8", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]),
    ("linux/s390x", ["linux/s390x"]),
    ("linux/arm64/v42", ["linux/arm64/v42"]),
]


@pytest.mark.parametrize("wanted, expected", COMPATIBLE_CASES)
def test_compatible_order(wanted, expected):
    assert [str(p) for p in parse(wanted).compatible()] == expected


def test_rank():
    assert rank("linux/arm/v7", "linux/arm/v7") == 0
    assert rank("linux/arm/v7", "linux/arm/v6") == 1
    assert rank("linux/arm/v7", "linux/arm/v5") == 2
    assert rank("linux/arm/v7", "linux/arm64") is None


# wanted, candidates in index order, expected order of matching positions
BEST_CASES = [
    ("linux/arm/v7", ["linux/arm/v5", "linux/arm/v6", "linux/arm/v7"], [2, 1, 0]),
    ("linux/arm/v6", ["linux/arm/v7", "linux/arm/v6", "linux/amd64"], [1]),
    ("linux/amd64", ["linux/386", "linux/arm64", "linux/amd64"], [2, 0]),
    ("linux/arm64", ["linux/arm/v7", "linux/arm64/v8", None], [1, 0]),
    ("linux/amd64", ["linux/amd64", "linux/amd64"], [0, 1]),  # ties keep index order
    ("linux/riscv64", ["linux/amd64", "linux/arm64"], []),
]


@pytest.mark.parametrize("wanted, candidates, expected", BEST_CASES)
def test_best(wanted, candidates, expected):
    assert best(wanted, candidates) == expected


def test_best_prefers_more_os_features():
    wanted = Platform("windows", "amd64", os_features=("win32k",))
    plain = Platform("windows", "amd64")
    featured = Platform("windows", "amd64", os_features=("win32k",))
    assert best(wanted, [plain, featured]) == [1, 0]


# platform.machine() -> host()
HOST_CASES = [
    ("x86_64", "linux/amd64"),
    ("AMD64", "linux/amd64"),  # Windows spells it so
    ("aarch64", "linux/arm64/v8"),
    ("arm64", "linux/arm64/v8"),  # macOS on Apple silicon
    ("armv7l", "linux/arm/v7"),
    ("armv6l", "linux/arm/v6"),
    ("armv5tel", "linux/arm/v5"),
    ("i686", "linux/386"),
    ("ppc64le", "linux/ppc64le"),
    ("s390x", "linux/s390x"),
    ("riscv64", "linux/riscv64"),
    ("loongarch64", "linux/loong64"),
    ("", "linux/unknown"),
]


@pytest.mark.parametrize("machine, expected", HOST_CASES)
def test_host(machine, expected):
    assert str(host(machine)) == expected


def test_host_defaults_to_this_machine(monkeypatch):
    monkeypatch.setattr(plat, "_machine", lambda: "aarch64")
    assert str(host()) == "linux/arm64/v8"
    assert str(parse("linux")) == "linux/arm64"  # containerd names no arm64 variant here
    monkeypatch.setattr(plat, "_machine", lambda: "armv6l")
    assert str(parse("linux")) == "linux/arm/v6"


def test_host_always_runs_its_own_images():
    for machine, _ in HOST_CASES:
        me = host(machine)
        assert matches(me, me)


def test_the_machine_is_what_platform_machine_says():
    import platform

    assert plat._machine() == platform.machine()
