"""Platforms: which operating system and CPU an image was built for.

A multi-platform tag (``alpine:latest``) names an *index* that lists one
manifest per platform, each written ``os/architecture[/variant]``:
``linux/amd64``, ``linux/arm64/v8``, ``linux/arm/v7``. A puller picks the
entry that fits the machine it runs on, the way Docker does with ``docker
pull`` (or ``--platform`` to ask for another one).

The same CPU goes by several names, so both sides are *normalised* before
they are compared (containerd's rules, which Docker uses)::

    x86_64, x86-64, amd64          -> amd64        (amd64/v1 is plain amd64)
    aarch64, arm64, arm64/v8       -> arm64        (v8 is the arm64 default)
    armhf                          -> arm/v7       armel -> arm/v6
    arm                            -> arm/v7       i386, i686 -> 386

A machine can also run code built for an older variant of its CPU, so a
match is a *ranked* list of platforms, best first::

    >>> [str(p) for p in parse("linux/arm/v7").compatible()]
    ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']

``linux/amd64`` also accepts ``linux/386``, and ``linux/arm64`` accepts 32-bit
``linux/arm/v8`` down to ``v5``: 64-bit ARM CPUs can run 32-bit ARM code.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidPlatformError

__all__ = ["Platform", "best", "host", "matches", "parse", "rank"]

# Names containerd's Parse accepts in a specifier component.
_COMPONENT = re.compile(r"[A-Za-z0-9_.-]+")

_KNOWN_OS = frozenset({
    "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios",
    "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows", "zos",
})
_KNOWN_ARCH = frozenset({
    "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64",
    "ppc64le", "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32",
    "mips64p32le", "ppc", "riscv", "riscv64", "s390", "s390x", "sparc",
    "sparc64", "wasm",
})

# The arm64 variants containerd knows: v8.0-v8.9 and v9.0-v9.7 (highest minor).
_ARM64_TOP_MINOR = {8: 9, 9: 7}


def _arm64_compatible(variant: str) -> list[str] | None:
    """Return the arm64 variants a CPU of ``variant`` runs, best first.

    An ARMv8.x core runs v8.x down to v8; an ARMv9.x core runs v9.x down to
    v9, then ARMv8.(x+5) down to v8 (containerd's table). ``None`` when the
    variant is not one containerd knows.
    """
    m = re.fullmatch(r"v([0-9]+)(?:\.([0-9]+))?", variant)
    if not m:
        return None
    major, minor = int(m.group(1)), int(m.group(2) or 0)
    if minor > _ARM64_TOP_MINOR.get(major, -1):
        return None
    runs = [(major, minor)] + ([(8, min(minor + 5, 9))] if major == 9 else [])
    return [f"v{line}.{n}" if n else f"v{line}" for line, top in runs
            for n in range(top, -1, -1)]


def _normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    """Return containerd's normal spelling of an architecture and variant."""
    arch, variant = arch.lower(), variant.lower()
    if arch in ("i386", "i486", "i586", "i686"):
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        if variant in ("8", "v8", "v8.0"):
            variant = ""
        elif variant in ("9", "9.0", "v9.0"):
            variant = "v9"
        return "arm64", variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant in ("", "7"):
            variant = "v7"
        elif variant in ("5", "6", "8"):
            variant = "v" + variant
    return arch, variant


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # escapes newlines: messages stay one line


def _normalize_os(os_name: str) -> str:
    os_name = os_name.lower()
    return "darwin" if os_name == "macos" else os_name


@dataclass(frozen=True, repr=False)
class Platform:
    """An ``os/architecture[/variant]`` an image runs on; immutable and hashable.

    ``os_version`` and ``os_features`` matter only for Windows images. The
    value keeps the spelling it was given; ``normalize()`` gives the form
    used to compare, and ``str()`` the familiar ``linux/arm64/v8``.
    """

    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("os", "architecture"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise InvalidPlatformError(f"invalid platform: {name} must be a non-empty string, "
                                 f"got {value!r}")
        for name in ("variant", "os_version"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidPlatformError(f"invalid platform: {name} must be a string, got {value!r}")
            if value == "":
                object.__setattr__(self, name, None)
        features = self.os_features
        if isinstance(features, (list, tuple)) and all(isinstance(f, str) for f in features):
            object.__setattr__(self, "os_features", tuple(features))
        else:
            raise InvalidPlatformError("invalid platform: os_features must be a list of strings, "
                             f"got {features!r}")

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Read ``os[/arch[/variant]]`` as ``docker pull --platform`` does.

        A lone OS (``linux``) takes this machine's architecture; a lone
        architecture (``arm64``) means Linux, since images are Linux. Names
        are normalised as containerd's ``Parse`` does: ``linux/aarch64``
        reads as ``linux/arm64``. Raises ``ValueError`` on anything else.
        """
        if not isinstance(text, str):  # a parse error, so ValueError like the rest
            raise InvalidPlatformError(f"invalid platform {text!r}: must be a string")  # noqa: TRY004
        parts = text.split("/")
        if len(parts) > 3:
            raise InvalidPlatformError(f"invalid platform {_quote(text)}: expected os/arch[/variant]")
        for part in parts:
            if not _COMPONENT.fullmatch(part):
                raise InvalidPlatformError(f"invalid platform {_quote(text)}: {_quote(part)} is not a "
                                 "valid component (letters, digits, '_', '.', '-')")
        if len(parts) == 1:
            word = _normalize_os(parts[0])
            if word in _KNOWN_OS:
                here = host()  # containerd names a variant here only for 32-bit arm
                keep = here.architecture == "arm" and here.variant != "v7"
                return cls(word, here.architecture, here.variant if keep else None)
            arch, variant = _normalize_arch(parts[0], "")
            if arch not in _KNOWN_ARCH:
                raise InvalidPlatformError(f"invalid platform {_quote(text)}: unknown operating "
                                 "system or architecture")
            return cls("linux", arch, None if (arch, variant) == ("arm", "v7") else variant)
        os_name = _normalize_os(parts[0])
        if len(parts) == 2:
            arch, variant = _normalize_arch(parts[1], "")
            # containerd leaves arm's default v7 unsaid when none was written
            return cls(os_name, arch, None if arch == "arm" and variant == "v7" else variant)
        arch, variant = _normalize_arch(parts[1], parts[2])
        if arch == "arm64" and not variant:
            variant = "v8"  # the user wrote a variant: keep saying it
        return cls(os_name, arch, variant)

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def __repr__(self) -> str:
        extra = f" os.version={self.os_version}" if self.os_version else ""
        if self.os_features:
            extra += f" os.features={','.join(self.os_features)}"
        return f"<Platform {self}{extra}>"

    def normalize(self) -> Platform:
        """Return the normal form used for comparing (``aarch64`` -> ``arm64``).

        ``arm64`` and ``arm64/v8`` both become ``arm64``; ``arm`` becomes
        ``arm/v7``; ``amd64/v1`` becomes ``amd64``.
        """
        arch, variant = _normalize_arch(self.architecture, self.variant or "")
        return Platform(_normalize_os(self.os), arch, variant or None, self.os_version,
                        tuple(sorted(set(self.os_features))))

    def compatible(self) -> tuple[Platform, ...]:
        """Return the platforms this one can run, best first (normalised).

        This is containerd's ``platforms.Only``: ``amd64/v3`` runs v3, v2,
        plain amd64, then 386; ``arm/v7`` runs v7, v6, v5; ``arm64`` runs
        arm64 and then 32-bit ``arm/v8`` down to ``arm/v5``.
        """
        me = self.normalize()

        def same(arch: str, variant: str | None) -> Platform:
            return Platform(me.os, arch, variant, me.os_version, me.os_features)

        out = [me]
        number = re.fullmatch(r"v([0-9]+)", me.variant or "")
        if me.architecture == "amd64":
            if number:
                out += [same("amd64", f"v{n}" if n > 1 else None)
                        for n in range(int(number.group(1)) - 1, 0, -1)]
            out.append(same("386", None))
        elif me.architecture == "arm" and number:
            out += [same("arm", f"v{n}") for n in range(int(number.group(1)) - 1, 4, -1)]
        elif me.architecture == "arm64":
            variants = _arm64_compatible(me.variant or "v8")
            if variants is not None:
                out = [same("arm64", None if v == "v8" else v) for v in variants]
                out += same("arm", "v8").compatible()
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object an index entry or config writes for this platform."""
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        return out


def parse(text: str) -> Platform:
    """Read ``os[/arch[/variant]]`` into a ``Platform`` (see ``Platform.parse``)."""
    return Platform.parse(text)


# What platform.machine() says on each kind of CPU, as a Go architecture name.
_MACHINES = {"x86_64": ("amd64", None), "amd64": ("amd64", None),
             "aarch64": ("arm64", "v8"), "arm64": ("arm64", "v8"),
             "aarch64_be": ("arm64be", None), "i386": ("386", None),
             "i486": ("386", None), "i586": ("386", None), "i686": ("386", None),
             "ppc64le": ("ppc64le", None), "ppc64": ("ppc64", None),
             "s390x": ("s390x", None), "riscv64": ("riscv64", None),
             "loongarch64": ("loong64", None), "mips64": ("mips64", None)}


def host(machine: str | None = None) -> Platform:
    """Return the platform this machine pulls: ``linux/<its CPU>[/variant]``.

    Always Linux, even on macOS or Windows, since the images a learner pulls
    are Linux images (Docker Desktop runs them in a Linux VM). Like Docker
    on an ARM machine, the variant is said out loud: ``linux/arm64/v8``,
    ``linux/arm/v7`` (from ``armv7l``). ``machine`` defaults to
    ``platform.machine()``.
    """
    name = (machine if machine is not None else _machine()).lower()
    if name in _MACHINES:
        arch, variant = _MACHINES[name]
        return Platform("linux", arch, variant)
    arm = re.fullmatch(r"armv([0-9])\w*", name)
    if arm:  # armv7l, armv6l, armv5tel: the kernel's name carries the variant
        return Platform("linux", "arm", f"v{arm.group(1)}")
    arch, variant = _normalize_arch(name or "unknown", "")
    return Platform("linux", arch, variant or None)


def _machine() -> str:
    """This CPU's name as the kernel gives it: what ``platform.machine()`` reads on Linux and
    macOS, without importing ``platform`` (2 ms of every command's start-up)."""
    if hasattr(os, "uname"):
        return os.uname().machine
    import platform

    return platform.machine()


def _windows_build(version: str | None) -> tuple[str, ...] | None:
    return tuple(version.split(".")[:3]) if version else None


def rank(wanted: Platform | str, candidate: Platform | str) -> int | None:
    """Return how well ``candidate`` suits ``wanted``: 0 is best, ``None`` is no match.

    The rank is the candidate's place in ``wanted.compatible()``. OS
    features a candidate requires must all be offered by ``wanted``; a
    Windows candidate must also be built for the same Windows build.
    """
    if isinstance(wanted, str):
        wanted = parse(wanted)
    if isinstance(candidate, str):
        candidate = parse(candidate)
    have = candidate.normalize()
    if not set(have.os_features) <= set(wanted.os_features):
        return None
    if have.os == "windows":
        want_build, have_build = _windows_build(wanted.os_version), _windows_build(
            have.os_version)
        if want_build and have_build and want_build != have_build:
            return None
    for place, option in enumerate(wanted.compatible()):
        if (option.os, option.architecture, option.variant) == (
                have.os, have.architecture, have.variant):
            return place
    return None


def matches(wanted: Platform | str, candidate: Platform | str) -> bool:
    """Return whether a machine of platform ``wanted`` can run ``candidate``."""
    return rank(wanted, candidate) is not None


def best(wanted: Platform | str, candidates: Iterable[Platform | str | None]
         ) -> list[int]:
    """Return the positions of the candidates ``wanted`` can run, best first.

    Ties keep their order (an index lists its preferred entry first), and a
    candidate offering more OS features wins a tie, as in containerd.
    ``None`` entries (no platform given) never match.
    """
    if isinstance(wanted, str):
        wanted = parse(wanted)
    scored: list[tuple[int, int, int]] = []
    for position, candidate in enumerate(candidates):
        if candidate is None:
            continue
        if isinstance(candidate, str):
            candidate = parse(candidate)
        place = rank(wanted, candidate)
        if place is not None:
            scored.append((place, -len(candidate.os_features), position))
    return [position for _, _, position in sorted(scored)]
