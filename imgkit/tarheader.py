"""The fields of a tar header block, read as Go's ``archive/tar`` (so Docker) reads them.

A tar is 512-byte blocks; a header block holds an entry's name, mode, owner,
size, time, type and a checksum, as fixed-width text fields. Two readers
need them: ``layerstream`` (Docker's SIZE of a layer, while it is pulled) and
``tarreader`` (entries to unpack). Both take the parsing from here, so they
cannot disagree on what a header says.
"""

from __future__ import annotations

import zlib

__all__ = ["BLOCK", "ZERO_BLOCK", "META_LIMIT", "HEADER_ONLY", "parse_number", "parse_pax",
           "checksum_matches", "octal"]

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
#: Go's archive/tar (so Docker) refuses bigger PAX records or long names.
META_LIMIT = 1 << 20
#: Typeflags never followed by data, whatever their size field says: hard links, symlinks,
#: devices, directories, FIFOs (Go's isHeaderOnlyType). A set of byte values: ``kind[0] in``.
HEADER_ONLY = frozenset(b"123456")
_HIGH = bytes(range(128, 256))


def parse_number(field: bytes) -> int:
    """Read a tar numeric field: octal text, or GNU base-256 for big values. Raises ValueError."""
    if field[0] & 0x80:
        if field[0] & 0x40:
            raise ValueError("a tar header holds a negative number")
        return int.from_bytes(field, "big") - (0x80 << (8 * (len(field) - 1)))
    text = field.strip(b" \0").split(b"\0", 1)[0]
    if text.strip(b"01234567"):
        raise ValueError(f"a tar header holds a number that is not octal: {text[:12]!r}")
    return int(text, 8) if text else 0


def parse_pax(data: bytes) -> dict[bytes, bytes]:
    """Parse PAX records, ``"%d %s=%s\\n"`` each, the length counting the whole record."""
    records: dict[bytes, bytes] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos, pos + 20)
        end = pos + int(data[pos:space]) if space > pos and data[pos:space].isdigit() else 0
        key, equals, value = data[space + 1:end - 1].partition(b"=")
        if end <= space + 1 or end > len(data) or data[end - 1] != 0x0A or not equals or not key:
            raise ValueError("a PAX extended header has a malformed record")
        records[key] = value
        pos = end
    return records


def octal(field: bytes) -> int:
    """``parse_number`` for the common case (plain octal digits) in two C calls."""
    text = field.strip(b" \0")
    return int(text, 8) if text.isdigit() else parse_number(field)


def checksum_matches(block: bytes) -> bool:
    """Tell whether a header's checksum field adds up, summed unsigned or (old tars) signed.

    The sum counts the checksum field as eight spaces. Adler-32's low half
    is 1 + the sum of the bytes (exact for 256 of them): two C calls instead
    of a Python loop over 512 bytes.
    """
    counted = block[:148] + b"        " + block[156:]
    unsigned = (zlib.adler32(counted[:256]) & 0xFFFF) + (zlib.adler32(counted[256:]) & 0xFFFF) - 2
    try:
        stored = octal(block[148:156])
    except ValueError:
        return False
    return stored == unsigned or stored == unsigned - 256 * (BLOCK - len(counted.translate(None, _HIGH)))
