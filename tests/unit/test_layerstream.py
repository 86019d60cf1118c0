"""One pass over a layer blob: digest, diff_id and Docker's SIZE, however it is chunked."""

from __future__ import annotations

import doctest
import gc
import gzip
import hashlib
import io
import random
import re
import sys
import tarfile
import threading
import time
import tracemalloc
import zlib

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from imgkit import inflate, layerstream, streamwalk, tarscan
from imgkit.compress import gzip_bytes, zstd_bytes
from imgkit.digest import compute
from imgkit.errors import DigestMismatchError, ImgkitError
from imgkit.layerstream import CorruptLayerError, LayerFacts, LayerIngest, ingest_file
from imgkit.oci import mediatypes
from imgkit.tarlayer import Entry, Layer, content_size, write_tar

GZIP, ZSTD, PLAIN = mediatypes.OCI_LAYER_GZIP, mediatypes.OCI_LAYER_ZSTD, mediatypes.OCI_LAYER
CHUNK_SIZES = [1, 7, 512, 4096, 1 << 20]
BACKENDS = ["zlib", "isal"]


# --- layers to read ---------------------------------------------------------------------

def tarfile_tar(tar_format: int, **options) -> bytes:
    """A tar written by Python's tarfile: long names, links, a whiteout, a non-ASCII name."""
    rng = random.Random(tar_format)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tar_format, **options) as archive:
        def add(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size, info.mtime = kind, link, len(data), 1_700_000_000
            archive.addfile(info, io.BytesIO(data) if data else None)
        add("usr", tarfile.DIRTYPE)
        add("usr/" + "deep/" * 30 + "file.txt", data=b"long name\n" * 50)   # > 100 chars
        add("usr/bin/tool", data=rng.randbytes(5000))
        add("usr/bin/tool-again", tarfile.LNKTYPE, link="usr/bin/tool")
        add("usr/bin/" + "l" * 120, tarfile.SYMTYPE, link="/opt/" + "t" * 150)   # long link target
        add("usr/empty")
        add("usr/.wh.gone")
        add("usr/.wh..wh..opq")
        add("usr/caf\u00e9.txt", data=b"caf\xc3\xa9\n")
        add("usr/exact", data=b"x" * 1024)                                      # no padding
    return out.getvalue()


def imgkit_tar() -> bytes:
    return write_tar([
        Entry.directory("etc"),
        Entry.file("etc/motd", b"Welcome to imgkit\n"),
        Entry.file("usr/local/bin/hello", b"#!/bin/sh\necho hello\n", 0o755),
        Entry.symlink("usr/bin/hi", "/usr/local/bin/hello"),
        Entry.hardlink("usr/local/bin/hello-again", "usr/local/bin/hello", 0o755),
        Entry.whiteout("var/cache/old"),
        Entry.opaque("tmp"),
        Entry.file("opt/" + "n" * 200 + "/data.bin", random.Random(1).randbytes(3000)),     # needs a PAX path
    ])


def ustar_tar() -> bytes:
    """Plain ustar: a long name split into prefix and name, no PAX, no GNU entries."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in (("p" * 90 + "/" + "n" * 90, b"split name\n"), ("short", b"s" * 700)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def empty_tarfile() -> bytes:
    out = io.BytesIO()
    tarfile.open(fileobj=out, mode="w").close()      # only zero blocks, padded to 10 kB
    return out.getvalue()


TARS = {
    "imgkit": imgkit_tar(),
    "gnu": tarfile_tar(tarfile.GNU_FORMAT),
    "pax": tarfile_tar(tarfile.PAX_FORMAT),
    "pax-global": tarfile_tar(tarfile.PAX_FORMAT, pax_headers={"comment": "a global record"}),
    "ustar": ustar_tar(),
    "empty-layer": write_tar([]),
    "empty-tarfile": empty_tarfile(),
}


def gzip_with_name(tar: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(filename="layer.tar", fileobj=out, mode="wb", mtime=1_700_000_000) as gz:
        gz.write(tar)
    return out.getvalue()


def zstd_stream(tar: bytes) -> bytes:
    """zstd as a streaming writer makes it: no content size in the frame, and a checksum."""
    obj = zstandard.ZstdCompressor(level=3, write_checksum=True).compressobj()
    return obj.compress(tar) + obj.flush()


SKIPPABLE = (0x184D2A53).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"hello"

COMPRESSIONS = {
    "gzip-imgkit": (GZIP, gzip_bytes),
    "gzip-level1": (GZIP, lambda t: gzip_bytes(t, 1)),
    "gzip-python": (GZIP, lambda t: gzip.compress(t, mtime=1_700_000_000)),
    "gzip-filename": (GZIP, gzip_with_name),
    "gzip-multi-member": (GZIP, lambda t: gzip_bytes(t[:700]) + gzip_bytes(b"") + gzip_bytes(t[700:])),
    "docker-gzip": (mediatypes.DOCKER_LAYER_GZIP, gzip_bytes),
    "zstd": (ZSTD, zstd_bytes),
    "zstd-stream": (ZSTD, zstd_stream),
    "zstd-multi-frame": (ZSTD, lambda t: zstd_bytes(t[:1000]) + SKIPPABLE + zstd_stream(t[1000:])),
    "none": (PLAIN, bytes),
}


def expected_facts(tar: bytes, blob: bytes) -> LayerFacts:
    return LayerFacts(compute(blob), compute(tar), len(blob), len(tar), content_size(tar))


def ingest(blob: bytes, media_type: str, chunk: int = 1 << 20, **expect) -> LayerFacts:
    reader = LayerIngest(expect.pop("digest", compute(blob)), media_type, **expect)
    for start in range(0, len(blob), chunk):
        reader.feed(blob[start:start + chunk])
    return reader.finish()


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    """Run gzip cases with zlib and with ISA-L (a dependency: its absence is a failure)."""
    if request.param == "isal":
        from isal import isal_zlib
        monkeypatch.setattr(inflate, "_library", isal_zlib)
    else:
        monkeypatch.setattr(inflate, "_library", zlib)
    return request.param


# --- the facts ----------------------------------------------------------------------------

def with_backends(cases: dict, media_type_of) -> list:
    """Each case once, and gzip cases once per inflate backend."""
    return [pytest.param(name, backend, id=f"{name}-{backend}") for name, case in cases.items()
            for backend in (BACKENDS if media_type_of(case) in (GZIP, mediatypes.DOCKER_LAYER_GZIP)
                            else BACKENDS[:1])]


@pytest.mark.parametrize("compression, backend", with_backends(COMPRESSIONS, lambda c: c[0]), indirect=["backend"])
@pytest.mark.parametrize("tar_name", TARS)
def test_facts_match_the_tar_and_the_blob(tar_name, compression, backend):
    media_type, make = COMPRESSIONS[compression]
    tar = TARS[tar_name]
    blob = make(tar)
    facts = {size: ingest(blob, media_type, size, expected_diff_id=compute(tar),
                          expected_size=len(blob)) for size in CHUNK_SIZES}
    assert set(facts.values()) == {expected_facts(tar, blob)}


def test_content_size_is_dockers_size_of_the_files():
    tar = write_tar([Entry.file("a", b"12345"), Entry.hardlink("b", "a"), Entry.symlink("c", "a"),
                     Entry.directory("d"), Entry.whiteout("e"), Entry.file("f", b"xy")])
    assert ingest(gzip_bytes(tar), GZIP).content_size == 7    # the hard link counts 0


def test_an_uncompressed_layer_has_its_digest_as_diff_id():
    facts = ingest(TARS["imgkit"], PLAIN)
    assert facts.diff_id == facts.digest == compute(TARS["imgkit"])


def test_a_zero_byte_tar_is_an_empty_layer():
    assert ingest(b"", PLAIN) == LayerFacts(compute(b""), compute(b""), 0, 0, 0)
    assert ingest(gzip_bytes(b""), GZIP).content_size == 0


def test_the_layers_imgkit_builds_agree():
    for compression in ("gzip", "zstd", "none"):
        layer = Layer.from_tar(TARS["pax"], compression)
        facts = ingest(layer.blob, layer.media_type, 4096, expected_diff_id=layer.diff_id)
        assert (facts.digest, facts.diff_id, facts.size, facts.content_size) == (
            layer.digest, layer.diff_id, len(layer.blob), layer.uncompressed_size)


def test_other_digest_algorithms_hash_the_blob():
    blob = gzip_bytes(TARS["imgkit"])
    sha512 = "sha512:" + hashlib.sha512(blob).hexdigest()
    facts = ingest(blob, GZIP, digest=sha512, expected_diff_id=compute(TARS["imgkit"]))
    assert (facts.digest, facts.diff_id) == (sha512, compute(TARS["imgkit"]))


def test_the_sink_gets_the_blob_and_ingest_file_reads_it_back(tmp_path):
    tar = TARS["gnu"]
    blob = gzip_bytes(tar)
    sink = io.BytesIO()
    reader = LayerIngest(compute(blob), GZIP, sink=sink)
    for start in range(0, len(blob), 1000):
        reader.feed(blob[start:start + 1000])
        assert reader.size == min(start + 1000, len(blob))      # progress, as it comes
    assert reader.finish() == expected_facts(tar, blob)
    assert sink.getvalue() == blob
    (tmp_path / "blob").write_bytes(blob)
    assert ingest_file(tmp_path / "blob", compute(blob), GZIP, expected_diff_id=compute(tar),
                       expected_size=len(blob), chunk_size=333) == expected_facts(tar, blob)


@pytest.mark.parametrize("media_type, make", COMPRESSIONS.values(), ids=list(COMPRESSIONS))
def test_chunks_may_be_memoryviews_and_bytearrays(media_type, make):
    tar = TARS["pax"]
    blob = make(tar)
    reader = LayerIngest(compute(blob), media_type)
    for start in range(0, len(blob), 999):
        chunk = blob[start:start + 999]
        reader.feed(memoryview(chunk) if start % 2 else bytearray(chunk))
    assert reader.finish() == expected_facts(tar, blob)


# --- tar headers made by hand -------------------------------------------------------------

def header(name: str, size: int, tar_format: int = tarfile.GNU_FORMAT, kind: bytes = tarfile.REGTYPE,
           patch: dict[int, bytes] | None = None) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = size, kind
    if kind == tarfile.LNKTYPE:
        info.linkname = "a"
    block = bytearray(info.tobuf(tar_format))
    for offset, value in (patch or {}).items():          # then fix the checksum of the last block
        block[-512 + offset:-512 + offset + len(value)] = value
    last = block[-512:]
    last[148:156] = b" " * 8
    block[-512 + 148:-512 + 156] = b"%06o\0 " % sum(last)
    return bytes(block)


def scan(tar: bytes) -> tarscan.TarScanner:
    scanner = tarscan.TarScanner()
    scanner.feed(tar)
    return scanner


@pytest.mark.parametrize("tar_format", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_a_file_over_8_gib_is_counted_from_base_256_or_pax(tar_format):
    big = 9 << 30
    head = header("big.img", big, tar_format)
    assert (head[-512 + 124] == 0x80) == (tar_format == tarfile.GNU_FORMAT)   # base-256 size field
    scanner = scan(head)
    assert (scanner.content_size, scanner._skip) == (big, big)   # the data is skipped, not read
    with pytest.raises(streamwalk.BrokenStream, match="inside an entry's data"):
        scanner.finish()


def test_a_hard_link_with_a_size_counts_it_but_carries_no_data():
    # Go (so Docker) and tarfile both add the size field and read no data after it.
    tar = header("a", 0, kind=tarfile.LNKTYPE) + header("b", 3) + b"abc".ljust(512, b"\0") + bytes(1024)
    tar = header("l", 100, kind=tarfile.LNKTYPE) + tar
    assert scan(tar).content_size == content_size(tar) == 103


def test_old_gnu_sparse_files_count_their_real_size():
    sparse = {156: b"S", 483: b"%011o\0" % 65536}            # realsize 64 KiB, 512 bytes stored
    plain = header("s", 512, patch=sparse) + bytes(512) + bytes(1024)
    extended = header("s", 512, patch={**sparse, 482: b"\1"}) + bytes(512) + bytes(512) + bytes(1024)
    for tar in (plain, extended):
        assert ingest(tar, PLAIN).content_size == content_size(tar) == 65536


def test_a_typeflag_nul_entry_is_a_file_unless_its_name_ends_in_a_slash():
    tar = header("old", 5, patch={156: b"\0"}) + b"hello".ljust(512, b"\0") + bytes(1024)
    assert ingest(tar, PLAIN).content_size == content_size(tar) == 5
    tar = header("dir/", 5, patch={156: b"\0"}) + bytes(1024)      # no data follows a directory
    assert ingest(tar, PLAIN).content_size == 5


def test_random_headers_are_not_a_tar():
    # 1 in ~4000 random blocks once passed: their signed sum met the "unparsable" marker.
    rng = random.Random(3)
    for _ in range(5000):
        with pytest.raises(streamwalk.BrokenStream, match="not a tar archive"):
            scan(rng.randbytes(512))


def test_a_checksum_summed_as_signed_chars_is_accepted():
    block = bytearray(header("caf\u00e9", 4))                    # UTF-8: bytes over 127
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(byte - 256 if byte > 127 else byte for byte in block)
    tar = bytes(block) + b"data".ljust(512, b"\0") + bytes(1024)
    assert ingest(tar, PLAIN).content_size == content_size(tar) == 4


def test_what_follows_the_end_of_the_archive_is_hashed_but_not_read():
    tar = TARS["imgkit"] + b"not a header".ljust(512, b"!")
    facts = ingest(tar, PLAIN)
    assert (facts.diff_id, facts.content_size) == (compute(tar), content_size(TARS["imgkit"]))


def test_a_tar_may_end_without_zero_blocks_or_last_padding():
    entry = header("a", 5) + b"hello"
    assert ingest(entry, PLAIN).content_size == 5
    assert ingest(entry + bytes(507) + bytes(512), PLAIN).content_size == 5   # one zero block


# --- what goes wrong ----------------------------------------------------------------------

def flip(blob: bytes, at: int) -> bytes:
    return blob[:at] + bytes([blob[at] ^ 0x55]) + blob[at + 1:]


TAR = TARS["gnu"]
GZ, ZS = gzip_bytes(TAR), zstd_bytes(TAR)
NOISE = random.Random(2).randbytes(4096)

CORRUPT = {
    # name: (media type, blob, words the error must hold)
    "truncated gzip": (GZIP, GZ[:-10], "gzip stream is truncated"),
    "gzip cut in its header": (GZIP, GZ[:5], "gzip stream is truncated"),
    "garbage after gzip": (GZIP, GZ + b"garbage!", "unexpected data after the end of the gzip stream"),
    "one byte after gzip": (GZIP, GZ + b"\0", "unexpected data after the end of the gzip stream"),
    "zeros after gzip": (GZIP, GZ + bytes(512), "unexpected data after the end of the gzip stream"),
    "corrupt deflate": (GZIP, flip(GZ, len(GZ) // 2), "invalid gzip data"),
    "bad gzip crc": (GZIP, flip(GZ, len(GZ) - 6), "invalid gzip data"),
    "a tar labelled gzip": (GZIP, TAR, "not gzip data"),
    "an empty gzip blob": (GZIP, b"", "empty"),
    "zstd labelled gzip": (GZIP, ZS, "starts like zstd data"),
    "truncated zstd": (ZSTD, ZS[:-3], "zstd stream is truncated"),
    "garbage after zstd": (ZSTD, ZS + b"garbage!", "unexpected data after the end of the zstd stream"),
    "corrupt zstd": (ZSTD, flip(zstd_stream(TAR), len(ZS) // 2), "invalid zstd data"),   # checksum
    "gzip labelled zstd": (ZSTD, GZ, "starts like gzip data"),
    "an empty zstd blob": (ZSTD, b"", "no zstd frame"),
    "not a tar": (GZIP, gzip_bytes(NOISE), "not a tar archive"),
    "zstd, not a tar": (ZSTD, zstd_bytes(NOISE), "not a tar archive"),
    "gzip labelled tar": (PLAIN, GZ, "starts like gzip data"),
    "tar cut in its data": (PLAIN, header("a", 5000) + bytes(1000), "inside an entry's data"),
    "tar cut in a header": (PLAIN, header("a", 5) + bytes(512) + header("b", 5)[:300], "inside a header"),
    "a lone zero block": (PLAIN, bytes(512) + TAR, "zero block inside the tar"),
    "bad checksum": (PLAIN, flip(TAR, 10), "bad header checksum at byte 0"),
    "not octal": (PLAIN, header("a", 5, patch={124: b"0000000009x\0"}), "not octal"),
    "negative size": (PLAIN, header("a", 5, patch={124: b"\xff" * 12}), "negative"),
    "bad pax record": (PLAIN, header("././@PaxHeader", 10, kind=tarfile.XHDTYPE) + b"9 size=1\n".ljust(512, b"\0"),
                       "malformed record"),
    "bad pax size": (PLAIN, header("././@PaxHeader", 11, kind=tarfile.XHDTYPE) + b"11 size=x1\n".ljust(512, b"\0")
                     + header("a", 0) + bytes(1024), "not a number"),
    "huge pax header": (PLAIN, header("././@PaxHeader", 2 << 20, kind=tarfile.XHDTYPE), "too big"),
}


@pytest.mark.parametrize("case, backend", with_backends(CORRUPT, lambda c: c[0]), indirect=["backend"])
def test_a_corrupt_layer_says_what_is_wrong(case, backend):
    media_type, blob, words = CORRUPT[case]
    for chunk in (1 << 20, 7):
        with pytest.raises(CorruptLayerError) as caught:
            ingest(blob, media_type, chunk)
        assert str(caught.value).startswith(f"layer {compute(blob)} is corrupt: ")
        assert words in str(caught.value)
        assert isinstance(caught.value, ImgkitError) and caught.value.digest == compute(blob)


def test_a_wrong_digest_is_a_digest_mismatch():
    with pytest.raises(DigestMismatchError, match="^layer digest mismatch: expected sha256:0+, got") as caught:
        ingest(GZ, GZIP, digest="sha256:" + "0" * 64)
    assert caught.value.actual == compute(GZ)


def test_bytes_damaged_on_the_way_are_a_mismatch_not_corruption():
    # Only the registry's own bad layer is "corrupt"; a damaged download can be tried again.
    with pytest.raises(DigestMismatchError):
        ingest(flip(GZ, 100), GZIP, digest=compute(GZ))


def test_a_wrong_diff_id_is_a_diff_id_mismatch():
    with pytest.raises(DigestMismatchError, match=r"diff_id digest mismatch: expected sha256:1+, got") as caught:
        ingest(GZ, GZIP, expected_diff_id="sha256:" + "1" * 64)
    assert caught.value.actual == compute(TAR)


def test_more_bytes_than_announced_stop_at_once():
    def endless():
        while True:
            yield b"\x1f\x8b" * 512
    reader = LayerIngest(compute(GZ), GZIP, expected_size=10_000)
    with pytest.raises(DigestMismatchError, match="more than 10000 bytes"):
        for chunk in endless():
            reader.feed(chunk)
    assert reader.size <= 10_000


def test_fewer_bytes_than_announced_are_a_mismatch():
    with pytest.raises(DigestMismatchError, match=f"{len(GZ)} bytes instead of {len(GZ) + 1}"):
        ingest(GZ, GZIP, expected_size=len(GZ) + 1)


def test_a_bad_expected_digest_is_refused_up_front():
    with pytest.raises(ValueError, match="invalid checksum digest length"):
        LayerIngest("sha256:abc", GZIP)


def test_zstd_without_its_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(ModuleNotFoundError, match="pip install zstandard"):
        LayerIngest(compute(ZS), ZSTD)


# --- any chunking, bounded memory ---------------------------------------------------------

RANDOM_CASES = {name: (COMPRESSIONS[name][0], COMPRESSIONS[name][1](TARS["pax"]))
                for name in ("gzip-multi-member", "zstd-multi-frame", "zstd-stream", "none")}


@settings(max_examples=60, deadline=None)
@given(case=st.sampled_from(sorted(RANDOM_CASES)), cuts=st.lists(st.integers(0, 1 << 16), max_size=40))
def test_random_chunk_boundaries_never_change_the_facts(case, cuts):
    media_type, blob = RANDOM_CASES[case]
    points = sorted({cut % (len(blob) + 1) for cut in cuts} | {0, len(blob)})
    reader = LayerIngest(compute(blob), media_type)
    for start, end in zip(points, points[1:], strict=False):
        reader.feed(blob[start:end])
    assert reader.finish() == expected_facts(TARS["pax"], blob)


@settings(max_examples=150, deadline=None)
@given(case=st.sampled_from(sorted(RANDOM_CASES)), damage=st.lists(
    st.tuples(st.integers(0, 1 << 16), st.integers(1, 255)), min_size=1, max_size=4))
def test_damaged_blobs_give_imgkit_errors_only(case, damage):
    media_type, blob = RANDOM_CASES[case]
    damaged = bytearray(blob)
    for at, mask in damage:
        damaged[at % len(damaged)] ^= mask
    try:
        ingest(bytes(damaged), media_type, 1000)
    except CorruptLayerError:
        pass                      # some damage lands in file data and changes only the digests


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_as_a_tar_give_facts_or_an_imgkit_error(data):
    try:
        ingest(header("x", 600, kind=tarfile.XHDTYPE) + data, PLAIN, 97)
    except CorruptLayerError:
        pass


def generated_layer(compression: str, total: int = 200 << 20):
    """Yield a layer blob of ``total`` tar bytes as it is made: zeros (a 1000:1 bomb) and text."""
    text = b"".join(b"line %d of a generated file\n" % i for i in range(40_000))[:1 << 20]
    compressor = (zlib.compressobj(1, zlib.DEFLATED, 31) if compression == "gzip"
                  else zstandard.ZstdCompressor(level=1).compressobj())
    written, index = 0, 0
    while written < total:
        size = 16 << 20
        info = tarfile.TarInfo(f"data/{index:04d}.bin")
        info.size = size
        yield compressor.compress(info.tobuf(tarfile.GNU_FORMAT))
        piece = bytes(1 << 20) if index % 2 else text
        for _ in range(size // len(piece)):
            yield compressor.compress(piece)
        written, index = written + 512 + size, index + 1
    yield compressor.compress(bytes(1024)) + compressor.flush()


@pytest.mark.parametrize("compression, media_type", [("gzip", GZIP), ("zstd", ZSTD)])
def test_a_200_mb_layer_needs_little_memory(compression, media_type):
    digest = hashlib.sha256()
    for chunk in generated_layer(compression):
        digest.update(chunk)
    tracemalloc.start()
    try:
        reader = LayerIngest("sha256:" + digest.hexdigest(), media_type)
        for chunk in generated_layer(compression):
            reader.feed(chunk)
        facts = reader.finish()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert facts.content_size == 13 * (16 << 20) and facts.uncompressed_size > 200 << 20
    assert peak < 32 << 20, f"peak {peak / 1e6:.1f} MB"
    print(f"{compression}: peak {peak / 1e6:.1f} MB")


def test_the_module_examples_run():
    assert doctest.testmod(layerstream).failed == 0


# --- the worker thread: big blobs are decompressed beside the feeding thread ----------------

@pytest.fixture
def threaded(monkeypatch):
    """Give every ingest a worker thread, and cut its input into small batches."""
    monkeypatch.setattr(layerstream, "_THREAD_AT", 0)
    monkeypatch.setattr(layerstream, "_BATCH", 1000)


def worker_threads() -> list:
    return [t for t in threading.enumerate() if t.name.startswith("imgkit-layer-")]


def wait_for_no_worker(seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while worker_threads() and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    assert not worker_threads()


@pytest.mark.parametrize("compression, backend", with_backends(COMPRESSIONS, lambda c: c[0]), indirect=["backend"])
@pytest.mark.parametrize("tar_name", ["imgkit", "gnu", "pax-global", "empty-layer"])
def test_a_worker_thread_finds_the_same_facts(tar_name, compression, backend, threaded):
    media_type, make = COMPRESSIONS[compression]
    tar = TARS[tar_name]
    blob = make(tar)
    for size in (7, 999, 1 << 20):
        assert ingest(blob, media_type, size, expected_diff_id=compute(tar),
                      expected_size=len(blob)) == expected_facts(tar, blob)
    wait_for_no_worker()


@pytest.mark.parametrize("case", ["truncated gzip", "corrupt deflate", "garbage after zstd", "not a tar",
                                  "tar cut in its data", "bad checksum", "huge pax header"])
def test_a_worker_thread_says_what_is_wrong(case, threaded):
    media_type, blob, words = CORRUPT[case]
    for chunk in (1 << 20, 7):
        with pytest.raises(CorruptLayerError, match=re.escape(words)):
            ingest(blob, media_type, chunk, expected_size=len(blob))
    with pytest.raises(DigestMismatchError):            # a wrong digest is still told first
        ingest(flip(GZ, 100), GZIP, 999, digest=compute(GZ))


def test_the_chunk_that_completes_the_blob_waits_for_the_tar_side(threaded):
    # The pull's bomb check reads uncompressed_size after every feed(): after the last
    # chunk it must be the whole tar, not what the worker had reached.
    blob = gzip_bytes(TARS["gnu"])
    reader = LayerIngest(compute(blob), GZIP, expected_size=len(blob))
    for start in range(0, len(blob), 500):
        reader.feed(blob[start:start + 500])
        assert reader.uncompressed_size <= len(TARS["gnu"])
    assert reader.uncompressed_size == len(TARS["gnu"])
    assert reader.finish().uncompressed_size == len(TARS["gnu"])


def test_too_many_bytes_never_reach_the_sink(threaded):
    sink = io.BytesIO()
    reader = LayerIngest(compute(GZ), GZIP, sink=sink, expected_size=len(GZ) - 1)
    with pytest.raises(DigestMismatchError, match=f"more than {len(GZ) - 1} bytes"):
        for start in range(0, len(GZ), 100):
            reader.feed(GZ[start:start + 100])
    assert len(sink.getvalue()) <= len(GZ) - 1
    reader.close()
    wait_for_no_worker()


def test_a_reused_buffer_does_not_change_what_the_worker_reads(threaded):
    tar = TARS["pax"]
    blob = gzip_bytes(tar)
    reader = LayerIngest(compute(blob), GZIP)
    buffer = bytearray(300)
    for start in range(0, len(blob), 300):
        piece = blob[start:start + 300]
        buffer[:len(piece)] = piece
        reader.feed(memoryview(buffer)[:len(piece)])
        buffer[:] = bytes(300)                         # the caller reads the next chunk into it
    assert reader.finish() == expected_facts(tar, blob)


def test_a_dropped_or_closed_ingest_stops_its_worker(threaded):
    blob = gzip_bytes(TARS["gnu"])
    reader = LayerIngest(compute(blob), GZIP)
    reader.feed(blob[:2000])
    assert worker_threads()
    del reader                                       # abandoned mid-stream: no thread is left
    wait_for_no_worker()
    with LayerIngest(compute(blob), GZIP) as reader:
        reader.feed(blob[:2000])
        assert worker_threads()
    wait_for_no_worker()
    with pytest.raises(ValueError, match="closed"):
        reader.feed(blob[2000:])
    with pytest.raises(ValueError, match="closed"):
        reader.finish()


def test_an_error_in_the_worker_reaches_the_feeder_without_a_deadlock(threaded, monkeypatch):
    def fail(self, data):
        raise RuntimeError("the worker broke")
    monkeypatch.setattr(tarscan.TarScanner, "feed", fail)
    blob = gzip_bytes(random.Random(4).randbytes(1 << 20))       # more batches than the queue holds
    outcome: list = []

    def consume() -> None:
        reader = LayerIngest(compute(blob), GZIP)
        try:
            for start in range(0, len(blob), 4096):
                reader.feed(blob[start:start + 4096])
            reader.finish()
        except RuntimeError as error:
            outcome.append(error)
    feeder = threading.Thread(target=consume)
    feeder.start()
    feeder.join(20)
    assert not feeder.is_alive(), "feed() or finish() hung after the worker failed"
    assert [str(error) for error in outcome] == ["the worker broke"]
    wait_for_no_worker()


def test_a_finished_ingest_leaves_no_thread():
    wait_for_no_worker()
    tar = write_tar([Entry.file("big", random.Random(5).randbytes(2 << 20))])  # worth a worker
    blob = zstd_bytes(tar)
    reader = LayerIngest(compute(blob), ZSTD, expected_size=len(blob))
    for start in range(0, len(blob), 1 << 16):
        reader.feed(blob[start:start + (1 << 16)])
        assert len(worker_threads()) == 2            # one inflates, one hashes and reads the tar
    assert reader.finish() == expected_facts(tar, blob)
    assert not worker_threads()


def test_ordinary_headers_take_the_fast_path_and_odd_ones_the_full_parser(monkeypatch):
    calls: list[int] = []
    full = tarscan.TarScanner._header
    monkeypatch.setattr(tarscan.TarScanner, "_header",
                        lambda self, block, offset: calls.append(offset) or full(self, block, offset))
    plain = write_tar([Entry.file(f"d/f{i}", b"x" * i) for i in range(200)] + [Entry.directory("e")])
    assert scan(plain).content_size == content_size(plain) and calls == []
    odd = TARS["imgkit"]            # two long paths: each a PAX header and the entry it names
    calls.clear()
    assert scan(odd).content_size == content_size(odd) and len(calls) == 4


def test_a_bomb_is_inflated_in_step_with_feed(threaded):
    # A caller checks uncompressed_size after each feed() to stop a bomb: queued batches
    # must not go on inflating gigabytes behind its back.
    blob = gzip_bytes(bytes(64 << 20), 1)
    reader = LayerIngest(compute(blob), GZIP)
    in_step = []
    for start in range(0, len(blob), 1000):
        reader.feed(blob[start:start + 1000])
        assert reader._worker is not None
        in_step.append(reader._worker.queue.unfinished_tasks == 0)
    # Until the first batch comes out the ratio is unknown; from then on, never a lag.
    assert in_step.index(True) <= layerstream._QUEUE + 2 and all(in_step[in_step.index(True):])
    assert reader.finish().uncompressed_size == 64 << 20
