"""Deterministic layers: tar entries, gzip bytes, Docker's layer size."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import random
import shutil
import subprocess
import tarfile
import zlib

import pytest

from imgkit.compress import deterministic_zlib, gzip_bytes, gzip_stream, zstd_available
from imgkit.oci import mediatypes
from imgkit.tarlayer import (
    Entry,
    Layer,
    content_size,
    entries_from_directory,
    tar_from_directory,
    write_tar,
)

#: A small layer whose digests are pinned below: a change in output shows here.
PINNED_ENTRIES = [
    Entry.directory("etc"),
    Entry.file("etc/motd", b"Welcome to imgkit\n"),
    Entry.file("usr/local/bin/hello", b"#!/bin/sh\necho hello\n", 0o755),
    Entry.symlink("usr/bin/hi", "/usr/local/bin/hello"),
    Entry.hardlink("usr/local/bin/hello-again", "usr/local/bin/hello", 0o755),
    Entry.whiteout("var/cache/old"),
    Entry.opaque("tmp"),
    Entry.directory("tmp", 0o1777),
]
PINNED_DIFF_ID = "sha256:6410287df3f2ebf64230412f7cd259eb83a4297b29dfae537b1d9339ca6c5046"
PINNED_DIGEST = "sha256:e767ff5ac267780b0b17d81c0a2408d78bc946ed11794e8f2f13931fe843d530"


def members(tar: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as archive:
        return archive.getmembers()


def raw_names(tar: bytes) -> list[str]:
    """Names as written in the headers (tarfile strips a directory's trailing slash)."""
    names = []
    for member in members(tar):
        block = tar[member.offset:member.offset + 512]
        if member.pax_headers.get("path"):
            names.append(member.pax_headers["path"])
            continue
        name = block[:100].rstrip(b"\0").decode()
        prefix = block[345:500].rstrip(b"\0").decode()
        names.append(f"{prefix}/{name}" if prefix else name)
    return names


# -- tar ----------------------------------------------------------------------

def test_entries_are_sorted_with_every_parent_first():
    tar = write_tar([Entry.file("usr/local/bin/tool", b"x"), Entry.file("etc/motd", b"hi"),
                     Entry.file("etc-old", b""), Entry.directory("etc", 0o700)])
    assert raw_names(tar) == ["etc/", "etc/motd", "etc-old", "usr/", "usr/local/",
                              "usr/local/bin/", "usr/local/bin/tool"]
    modes = {m.name: m.mode for m in members(tar)}
    assert modes == {"etc": 0o700, "etc/motd": 0o644, "etc-old": 0o644, "usr": 0o755,
                     "usr/local": 0o755, "usr/local/bin": 0o755, "usr/local/bin/tool": 0o644}


def test_headers_carry_nothing_from_this_machine():
    for member in members(write_tar(PINNED_ENTRIES)):
        assert (member.mtime, member.uid, member.gid) == (0, 0, 0)
        assert (member.uname, member.gname) == ("", "")
        assert member.pax_headers == {}
        assert not member.name.startswith(("/", "./"))


@pytest.mark.parametrize("path, stored", [
    ("/etc/motd", "etc/motd"), ("./etc/motd", "etc/motd"), ("etc//motd", "etc/motd"),
    ("etc/./motd", "etc/motd"), ("etc/", "etc"),
])
def test_paths_are_stored_relative_and_clean(path, stored):
    assert Entry.file(path).path == stored


@pytest.mark.parametrize("path", ["", "/", ".", "../etc", "etc/../../x", "a\0b"])
def test_bad_paths_are_refused(path):
    with pytest.raises(ValueError):
        Entry.file(path)


def test_given_order_does_not_matter():
    expected = write_tar(PINNED_ENTRIES)
    for seed in range(5):
        shuffled = list(PINNED_ENTRIES)
        random.Random(seed).shuffle(shuffled)
        assert write_tar(shuffled) == expected


def test_umask_does_not_change_the_tar():
    old = os.umask(0o022)
    try:
        first = write_tar(PINNED_ENTRIES)
        os.umask(0o077)
        assert write_tar(PINNED_ENTRIES) == first
    finally:
        os.umask(old)


@pytest.mark.parametrize("entries", [
    [Entry.file("a"), Entry.file("a")],
    [Entry.file("etc/motd"), Entry.file("/etc/motd/")],
    [Entry.directory("etc"), Entry.file("etc")],
])
def test_duplicate_paths_are_an_error(entries):
    with pytest.raises(ValueError, match="duplicate path"):
        write_tar(entries)


def test_a_file_cannot_be_a_parent():
    with pytest.raises(ValueError, match="to be a directory"):
        write_tar([Entry.file("etc"), Entry.file("etc/motd")])


def test_mtime_is_the_layers_unless_the_entry_has_one():
    tar = write_tar([Entry.file("a"), Entry.file("b", mtime=5)], mtime=1_700_000_000)
    assert {m.name: m.mtime for m in members(tar)} == {"a": 1_700_000_000, "b": 5}
    with pytest.raises(TypeError):
        write_tar([Entry.file("a")], mtime=1.5)
    with pytest.raises(ValueError):
        write_tar([Entry.file("a")], mtime=-1)


def test_links_whiteouts_and_data_read_back():
    by_name = {m.name: m for m in members(write_tar(PINNED_ENTRIES))}
    assert by_name["usr/bin/hi"].issym() and by_name["usr/bin/hi"].linkname == "/usr/local/bin/hello"
    link = by_name["usr/local/bin/hello-again"]
    assert link.islnk() and link.linkname == "usr/local/bin/hello" and link.size == 0
    assert by_name["var/cache/.wh.old"].isreg() and by_name["var/cache/.wh.old"].size == 0
    assert by_name["var/cache/.wh.old"].mode == 0o600
    assert by_name["tmp/.wh..wh..opq"].isreg() and by_name["tmp"].mode == 0o1777
    with tarfile.open(fileobj=io.BytesIO(write_tar(PINNED_ENTRIES))) as archive:
        assert archive.extractfile("etc/motd").read() == b"Welcome to imgkit\n"


def test_whiteouts_come_before_their_siblings():
    tar = write_tar([Entry.file("a/b"), Entry.whiteout("a/z"), Entry.opaque("a"),
                     Entry.file("a/-dash")])
    assert raw_names(tar) == ["a/", "a/.wh..wh..opq", "a/.wh.z", "a/-dash", "a/b"]


def test_a_whiteout_must_be_an_empty_file():
    with pytest.raises(ValueError, match="whiteout"):
        write_tar([Entry.file("a/.wh.b", b"not empty")])
    with pytest.raises(ValueError, match="whiteout"):
        write_tar([Entry.directory("a/.wh.b")])


def test_hard_link_must_follow_its_target():
    with pytest.raises(ValueError, match="sorts after"):
        write_tar([Entry.file("b", b"data"), Entry.hardlink("a", "b")])
    with pytest.raises(ValueError, match="directory"):
        write_tar([Entry.directory("d"), Entry.hardlink("e", "d")])


@pytest.mark.parametrize("make, message", [
    (lambda: Entry("a", "fifo"), "kind"),
    (lambda: Entry.file("a", mode=0o10000), "mode"),
    (lambda: Entry("a", "dir", b"x"), "data"),
    (lambda: Entry("a", "symlink"), "target"),
    (lambda: Entry.file("a", uid=-1), "uid"),
])
def test_bad_entries_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_long_and_non_ascii_names():
    splittable = "a" * 80 + "/" + "b" * 80          # fits ustar's prefix + name fields
    too_long = "c" * 120 + "/" + "d" * 120
    tar = write_tar([Entry.file(splittable), Entry.file(too_long), Entry.file("caf\u00e9"),
                     Entry.symlink("link", "t" * 150)])
    by_name = {m.name: m for m in members(tar)}
    assert by_name[splittable].pax_headers == {}
    assert by_name[too_long].pax_headers == {"path": too_long}
    assert by_name["caf\u00e9"].pax_headers == {"path": "caf\u00e9"}
    assert by_name["link"].linkname == "t" * 150
    assert by_name["a" * 80].pax_headers == {}    # the implied parent


def test_archive_ends_with_two_zero_blocks_and_no_record_padding():
    tar = write_tar([Entry.file("a", b"x")])
    assert len(tar) == 512 + 512 + 1024             # header, data block, end
    assert tar.endswith(b"\0" * 1024)
    assert write_tar([]) == b"\0" * 1024


def test_gnu_tar_lists_the_layer_without_warnings(tmp_path):
    tar_tool = shutil.which("tar")
    if tar_tool is None or "GNU tar" not in subprocess.run(
            [tar_tool, "--version"], capture_output=True, text=True).stdout:
        pytest.skip("GNU tar is not installed")
    path = tmp_path / "layer.tar"
    path.write_bytes(write_tar(PINNED_ENTRIES + [Entry.file("x" * 90 + "/" + "y" * 90)]))
    result = subprocess.run([tar_tool, "-tvf", str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("drwxr-xr-x 0/0") and lines[0].endswith(" etc/")
    assert any(line.endswith("usr/local/bin/hello-again link to usr/local/bin/hello")
               for line in lines)
    assert len(lines) == len(members(path.read_bytes()))


# -- real directories ---------------------------------------------------------

def make_tree(root, umask):
    old = os.umask(umask)
    try:
        (root / "bin").mkdir()
        (root / "bin" / "tool").write_bytes(b"#!/bin/sh\n")
        (root / "bin" / "tool").chmod(0o755)
        (root / "bin").chmod(0o755)
        (root / "README").write_bytes(b"read me\n")
        (root / "README").chmod(0o644)
        os.link(root / "README", root / "README.copy")
        os.symlink("bin/tool", root / "run")
    finally:
        os.umask(old)


def test_directory_becomes_entries(tmp_path):
    make_tree(tmp_path, 0o022)
    entries = {e.path: e for e in entries_from_directory(tmp_path, prefix="/app/")}
    assert list(entries) == ["app/README", "app/README.copy", "app/bin", "app/bin/tool",
                             "app/run"]
    assert entries["app/README"].kind == "file" and entries["app/README"].data == b"read me\n"
    assert entries["app/README.copy"].kind == "hardlink"
    assert entries["app/README.copy"].target == "app/README"
    assert entries["app/bin/tool"].mode == 0o755
    assert entries["app/run"].kind == "symlink" and entries["app/run"].target == "bin/tool"
    assert content_size(tar_from_directory(tmp_path)) == len(b"read me\n") + len(b"#!/bin/sh\n")


def test_directory_tar_depends_on_modes_not_on_umask_or_times(tmp_path):
    for name, umask in (("one", 0o022), ("two", 0o077)):
        (tmp_path / name).mkdir()
        make_tree(tmp_path / name, umask)
    os.utime(tmp_path / "two" / "README", (1, 1))
    assert tar_from_directory(tmp_path / "one") == tar_from_directory(tmp_path / "two")


def test_special_files_are_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ValueError, match="regular files"):
        entries_from_directory(tmp_path)


# -- gzip ---------------------------------------------------------------------

@pytest.mark.parametrize("level, xfl", [(1, 4), (6, 0), (9, 2)])
def test_gzip_header_is_fixed(level, xfl):
    blob = gzip_bytes(b"hello", level)
    assert blob[:10] == bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, xfl, 255])
    assert gzip.decompress(blob) == b"hello"
    with gzip.GzipFile(fileobj=io.BytesIO(blob)) as reader:
        reader.read()
        assert reader.mtime == 0 and reader.name == ""


def test_gzip_stream_matches_gzip_bytes():
    data = write_tar(PINNED_ENTRIES) * 50
    out = io.BytesIO()
    result = gzip_stream(io.BytesIO(data), out, chunk_size=1000)
    assert out.getvalue() == gzip_bytes(data)
    assert result.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    assert result.digest == "sha256:" + hashlib.sha256(out.getvalue()).hexdigest()
    assert (result.size, result.tar_size) == (len(out.getvalue()), len(data))


def test_zlib_here_compresses_like_the_reference():
    assert deterministic_zlib(), (
        f"this Python's zlib ({zlib.ZLIB_RUNTIME_VERSION}) compresses differently from "
        "the reference zlib 1.2.13: gzip blob and manifest digests will not match")


# -- layers -------------------------------------------------------------------

def test_pinned_layer():
    layer = Layer.from_entries(PINNED_ENTRIES)
    assert layer.diff_id == PINNED_DIFF_ID
    assert layer.digest == PINNED_DIGEST
    assert layer.diff_id == "sha256:" + hashlib.sha256(layer.tar).hexdigest()
    assert layer.digest == "sha256:" + hashlib.sha256(layer.blob).hexdigest()
    assert layer.size == len(layer.blob)
    assert layer.media_type == mediatypes.OCI_LAYER_GZIP
    assert gzip.decompress(layer.blob) == layer.tar
    assert layer.descriptor() == {"mediaType": mediatypes.OCI_LAYER_GZIP,
                                  "digest": PINNED_DIGEST, "size": layer.size}


def test_uncompressed_layer():
    layer = Layer.from_entries(PINNED_ENTRIES, compression="none")
    assert layer.blob == layer.tar and layer.digest == layer.diff_id == PINNED_DIFF_ID
    assert layer.media_type == mediatypes.OCI_LAYER
    with pytest.raises(ValueError, match="compression"):
        Layer.from_entries(PINNED_ENTRIES, compression="bzip2")


def test_zstd_layer_when_zstandard_is_installed_else_a_clear_error():
    tar = write_tar(PINNED_ENTRIES)
    if zstd_available():
        import zstandard
        layer = Layer.from_tar(tar, compression="zstd")
        assert layer.media_type == mediatypes.OCI_LAYER_ZSTD
        assert zstandard.ZstdDecompressor().decompress(layer.blob) == tar
        assert Layer.from_tar(tar, compression="zstd").digest == layer.digest
    else:
        with pytest.raises(ModuleNotFoundError, match="zstandard"):
            Layer.from_tar(tar, compression="zstd")


def test_content_size_counts_file_bytes_only():
    entries = [Entry.file("a", b"12345"), Entry.file("d/b", b"123"), Entry.hardlink("d/c", "d/b"),
               Entry.symlink("l", "a" * 300), Entry.whiteout("gone"), Entry.directory("e")]
    tar = write_tar(entries)
    assert content_size(tar) == 8
    assert content_size(io.BytesIO(tar)) == 8
    assert Layer.from_tar(tar).uncompressed_size == 8


def test_content_size_of_a_tar_made_elsewhere():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        info = tarfile.TarInfo("x" * 200)             # a GNU long-name entry
        info.size = 10
        archive.addfile(info, io.BytesIO(b"0123456789"))
    assert content_size(buffer.getvalue()) == 10
