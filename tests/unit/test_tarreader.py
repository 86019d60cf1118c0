"""imgkit.tarreader: the same members and bytes as Python's tarfile, however the stream is cut."""

from __future__ import annotations

import io
import random
import tarfile

import pytest
from hostile_layers import MTIME, dir_, hardlink, link, reg, special, tar

from imgkit.tarheader import META_LIMIT, checksum_matches
from imgkit.tarlayer import Entry, write_tar
from imgkit.tarreader import MetaTooLargeError, TarReader


def tarfile_members(data: bytes) -> list[tuple]:
    """What Python's tarfile reads: the reference the reader is checked against."""
    out = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:", encoding="utf-8",
                      errors="surrogateescape") as archive:
        for member in archive:
            body = archive.extractfile(member).read() if member.isreg() else b""
            kind = tarfile.REGTYPE if member.type == tarfile.AREGTYPE else member.type
            out.append((member.name.rstrip("/"), kind, member.size if member.isreg() else 0,
                        member.mode, member.uid, member.gid, int(member.mtime), member.linkname,
                        body))
    return out


def reader_members(data: bytes, sizes=None) -> list[tuple]:
    """What ``TarReader`` reads, from a stream handing over ``sizes`` bytes at a time."""
    stream = io.BytesIO(data)
    cuts = iter(sizes or [])

    def read(n: int) -> bytes:
        return stream.read(next(cuts, n))

    reader = TarReader(read, chunk=4096)
    out = []
    for member in reader:
        body = b"".join(bytes(piece) for piece in reader.data()) if member.isreg() else b""
        out.append((member.name.rstrip("/"), member.type, member.size if member.isreg() else 0,
                    member.mode, member.uid, member.gid, int(member.mtime), member.linkname, body))
    return out


def written(fmt: int, **options) -> bytes:
    rng = random.Random(fmt)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt, **options) as archive:
        def add(name, kind=tarfile.REGTYPE, data=b"", linkname="", **attrs):
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size, info.mtime = kind, linkname, len(data), MTIME
            for key, value in attrs.items():
                setattr(info, key, value)
            archive.addfile(info, io.BytesIO(data) if data else None)
        add("usr", tarfile.DIRTYPE, mode=0o755)
        add("usr/" + "deep/" * 30 + "file.txt", data=b"long name\n" * 50)
        add("usr/bin/tool", data=rng.randbytes(5000), mode=0o4755, uid=1000, gid=50)
        add("usr/bin/tool-again", tarfile.LNKTYPE, linkname="usr/bin/tool")
        ustar = fmt == tarfile.USTAR_FORMAT              # no long links or names: a prefix only
        add("usr/bin/" + "l" * (90 if ustar else 120), tarfile.SYMTYPE,
            linkname="/opt/" + "t" * (50 if ustar else 150))
        add("usr/caf\u00e9.txt", data=b"caf\xc3\xa9\n")
        add("usr/exact", data=b"x" * 1024)
        add("dev/null", tarfile.CHRTYPE)
        add("run/fifo", tarfile.FIFOTYPE)
        add("usr/contiguous", tarfile.CONTTYPE, data=b"seven\n")
        if fmt != tarfile.USTAR_FORMAT:
            add("home/big-ids", data=b"ids\n", uid=3_000_000_000, gid=2_500_000_000)
    return out.getvalue()


def sized_header_only_entries() -> bytes:
    """Links, a directory and a FIFO whose size fields claim data: none follows them."""
    blocks = b""
    for name, kind, target in (("d", tarfile.DIRTYPE, ""), ("s", tarfile.SYMTYPE, "t"),
                               ("h", tarfile.LNKTYPE, "f"), ("p", tarfile.FIFOTYPE, "")):
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.size, info.mtime = kind, target, 1024, MTIME
        blocks += info.tobuf(tarfile.USTAR_FORMAT)
    last = tarfile.TarInfo("after")
    last.size, last.mtime = 3, MTIME
    return blocks + last.tobuf(tarfile.USTAR_FORMAT) + b"abc" + bytes(509) + bytes(1024)


CORPUS = {
    "ustar": written(tarfile.USTAR_FORMAT),
    "gnu": written(tarfile.GNU_FORMAT),
    "pax": written(tarfile.PAX_FORMAT),
    "pax-global": written(tarfile.PAX_FORMAT, pax_headers={"comment": "a global record"}),
    "imgkit": write_tar([Entry.directory("etc"), Entry.file("etc/motd", b"hi\n"),
                         Entry.symlink("usr/bin/hi", "/usr/local/bin/hello"),
                         Entry.whiteout("var/cache/old"), Entry.opaque("tmp"),
                         Entry.file("opt/" + "n" * 200 + "/data.bin", b"d" * 3000)]),
    "hostile-shapes": tar(reg("../up"), dir_("d", mode=0o1777), link("evil", "/etc"),
                          reg("evil/passwd"), hardlink("h", "evil/passwd"),
                          special("dev/sda", tarfile.BLKTYPE), reg("a/" + "b" * 300)),
    "hostile-gnu": tar(reg("x" * 150), link("s", "t" * 150), fmt=tarfile.GNU_FORMAT),
    "empty": write_tar([]),
    "sized-header-only": sized_header_only_entries(),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_it_reads_what_tarfile_reads(name):
    assert reader_members(CORPUS[name]) == tarfile_members(CORPUS[name])


@pytest.mark.parametrize("name", list(CORPUS))
def test_any_cutting_of_the_stream_reads_the_same(name):
    data, rng = CORPUS[name], random.Random(name)
    sizes = [rng.choice([1, 7, 511, 512, 513, 4000]) for _ in range(len(data))]
    assert reader_members(data, sizes) == tarfile_members(data)


def test_old_style_directories_and_unread_data():
    info = tarfile.TarInfo("old/")
    info.type = tarfile.AREGTYPE                      # a pre-POSIX directory: \0 and a slash
    block = info.tobuf(tarfile.USTAR_FORMAT)
    data = block + written(tarfile.USTAR_FORMAT)
    reader = TarReader(io.BytesIO(data).read)
    first = next(reader)
    assert first.isdir() and first.name == "old/"
    names = [member.name for member in reader]        # data left unread is skipped
    assert names[-1] == "usr/contiguous" and len(names) == 10


def test_the_archive_may_end_at_a_block_boundary_or_one_zero_block():
    body = written(tarfile.USTAR_FORMAT)
    end = body.rstrip(b"\0")
    end += bytes(-len(end) % 512)
    for data in (end, end + bytes(512)):
        assert len(reader_members(data)) == 10


def read_all(data: bytes) -> None:
    reader = TarReader(io.BytesIO(data).read)
    for _member in reader:
        for _piece in reader.data():
            pass


def header(name: str = "f", size: int = 5, **attrs) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    for key, value in attrs.items():
        setattr(info, key, value)
    return info.tobuf(tarfile.USTAR_FORMAT)


@pytest.mark.parametrize("case, data, message", [
    ("bad checksum", header()[:148] + b"0000000\0" + header()[156:], "bad checksum"),
    ("cut in a header", header()[:300], "inside a header"),
    ("cut in the data", header(size=2000) + b"x" * 700, "inside an entry's data"),
    ("zero block, then more", bytes(512) + header() + b"x" * 512, "zero block inside"),
    ("sparse", header(type=tarfile.GNUTYPE_SPARSE) + bytes(512), "sparse files are not supported"),
])
def test_a_broken_tar_is_one_read_error(case, data, message):
    with pytest.raises(tarfile.ReadError, match=message):
        read_all(data)


def pax_header(records: dict[str, str]) -> bytes:
    info = tarfile.TarInfo("f")
    info.pax_headers = records
    return info.tobuf(tarfile.PAX_FORMAT)


@pytest.mark.parametrize("records", [{"size": "1_0"}, {"size": " 5"}, {"uid": "0x10"},
                                     {"mtime": "nan"}, {"mtime": "1e9"}, {"mtime": "12."}])
def test_pax_numbers_are_read_as_go_reads_them(records):
    with pytest.raises(tarfile.ReadError, match="PAX record is not a number"):
        read_all(pax_header(records) + bytes(1024))


def test_a_pax_time_keeps_its_fraction():
    reader = TarReader(io.BytesIO(pax_header({"mtime": "1700000000.25"}) + bytes(1024)).read)
    assert next(reader).mtime == 1_700_000_000.25


def test_a_meta_entry_over_the_limit_is_refused_before_it_is_read():
    info = tarfile.TarInfo("././@PaxHeader")
    info.type, info.size = tarfile.XHDTYPE, META_LIMIT + 1
    served = []

    def read(n):
        served.append(n)
        return info.tobuf(tarfile.USTAR_FORMAT) if len(served) == 1 else b"x" * n

    with pytest.raises(MetaTooLargeError):
        next(TarReader(read, chunk=512))
    assert len(served) == 1


def test_the_checksum_is_summed_unsigned_or_signed():
    block = bytearray(header(uname="\u00e9t\u00e9".encode().decode("latin-1")))
    assert checksum_matches(bytes(block))
    signed = sum(b - 256 if b > 127 else b for b in block[:148] + b" " * 8 + block[156:])
    block[148:156] = b"%06o\0 " % signed
    assert checksum_matches(bytes(block))
    block[148:156] = b"%06o\0 " % (signed + 1)
    assert not checksum_matches(bytes(block))
