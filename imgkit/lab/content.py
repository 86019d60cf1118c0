"""Deterministic file contents for the course images.

The course images must be byte-for-byte the same on every machine (so their
digests, and every lesson's output, are too), yet look like real images:
a shell, libraries, config files, a package database. Everything here is
derived from fixed seeds with SHA-256, never from ``random`` or the clock.

"Binaries" are made to compress about as well as real machine code (roughly
2:1), so the lab's compressed and uncompressed sizes relate the way Docker
Hub's and ``docker images``'s do.
"""

from __future__ import annotations

import hashlib

__all__ = ["noise", "binary", "text_lines", "package_db", "os_release", "passwd", "group"]


def noise(seed: str, size: int) -> bytes:
    """Return ``size`` bytes that look random, the same for the same ``seed`` everywhere."""
    out = bytearray()
    counter = 0
    key = seed.encode()
    while len(out) < size:
        out += hashlib.sha256(key + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


def binary(seed: str, size: int) -> bytes:
    """Return bytes shaped like an executable: an ELF magic, then half noise, half repeats."""
    block = 4096
    out = bytearray(b"\x7fELF\x02\x01\x01\x00" + bytes(8))
    filler = (seed.encode() + b"\x00" * 24)[:32]
    i = 0
    while len(out) < size:
        out += noise(f"{seed}/{i}", block // 2)
        out += filler * (block // 2 // len(filler))
        i += 1
    return bytes(out[:size])


_WORDS = ("image layer registry manifest digest config tag repository container "
          "runtime kernel namespace cgroup filesystem overlay snapshot blob index "
          "platform architecture variant history entrypoint command volume network "
          "library package service socket process signal terminal user group").split()


def text_lines(seed: str, lines: int, width: int = 8) -> bytes:
    """Return ``lines`` lines of word-salad text (compresses like real documentation)."""
    digest = noise(seed, lines * width)
    out = []
    for n in range(lines):
        row = digest[n * width:(n + 1) * width]
        out.append(" ".join(_WORDS[b % len(_WORDS)] for b in row))
    return ("\n".join(out) + "\n").encode()


def package_db(packages: list[tuple[str, str, int]], arch: str) -> bytes:
    """Return an apk-style installed-packages database for ``(name, version, size)`` rows."""
    rows = []
    for name, version, size in packages:
        checksum = hashlib.sha1(f"{name}-{version}-{arch}".encode()).hexdigest()
        rows.append(f"C:Q1{checksum[:27]}=\nP:{name}\nV:{version}\nA:{arch}\n"
                    f"S:{size // 2}\nI:{size}\nT:{name} (course copy)\n"
                    f"U:https://example.invalid/{name}\nL:MIT\n")
    return "\n".join(rows).encode()


def os_release(name: str, ident: str, version_id: str, pretty: str, extra: str = "") -> bytes:
    """Return an ``/etc/os-release`` file."""
    return (f'NAME="{name}"\nID={ident}\nVERSION_ID={version_id}\n'
            f'PRETTY_NAME="{pretty}"\n{extra}').encode()


def passwd(extra_users: list[str] = ()) -> bytes:
    """Return an ``/etc/passwd`` with root, nobody and the given extra lines."""
    lines = ["root:x:0:0:root:/root:/bin/sh", "daemon:x:2:2:daemon:/sbin:/sbin/nologin",
             *extra_users, "nobody:x:65534:65534:nobody:/:/sbin/nologin"]
    return ("\n".join(lines) + "\n").encode()


def group(extra_groups: list[str] = ()) -> bytes:
    """Return an ``/etc/group`` with root, nogroup and the given extra lines."""
    lines = ["root:x:0:root", "daemon:x:2:root,bin,daemon", *extra_groups,
             "nogroup:x:65533:", "nobody:x:65534:"]
    return ("\n".join(lines) + "\n").encode()
