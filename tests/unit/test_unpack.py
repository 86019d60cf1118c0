"""Applying layers: whiteouts and opaque directories as Docker does, and never a step outside the root."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import stat
import tarfile
import tempfile
import traceback
import tracemalloc
import uuid

import pytest
from hostile_layers import (
    MTIME,
    GeneratedStream,
    dir_,
    gzip_bomb_pieces,
    hardlink,
    link,
    many_entries_pieces,
    meta_bomb_pieces,
    reg,
    special,
    tar,
    tree_with_times,
)

from imgkit.compress import zstd_available, zstd_bytes
from imgkit.errors import ImgkitError
from imgkit.tarlayer import Entry, write_tar
from imgkit.unpack import (
    ApplyStats,
    LayerTooLargeError,
    Limits,
    UnsafeLayerError,
    apply_layer,
    remove_tree,
    unpack_image,
)


@pytest.fixture
def box(tmp_path):
    """``box/root`` to unpack into, next to ``box/sentinel``, which must never change."""
    root = tmp_path / "box" / "root"
    root.mkdir(parents=True)
    sentinel = tmp_path / "box" / "sentinel"
    (sentinel / "sub").mkdir(parents=True)
    (sentinel / "secret").write_bytes(b"keep me\n")
    (sentinel / "sub" / "file").write_bytes(b"keep me too\n")
    os.chmod(sentinel / "sub", 0o750)
    return tmp_path


# -- hostile inputs ------------------------------------------------------------------------
# Each case: (layers, expected). ``layers`` is a function of (sentinel, outside) - absolute
# paths of the sentinel directory and of a /tmp path that must never appear - returning the
# tars to apply in order. ``expected`` is an exception (type, text in its message), or a
# check(root, stats, sentinel, outside) on the last layer's result.

def _unsafe(text):
    return (UnsafeLayerError, text)


def _too_large(text):
    return (LayerTooLargeError, text)


def _exists(relpath, data=None):
    def check(root, stats, sentinel, outside):
        path = root / relpath.format(sentinel=str(sentinel).lstrip("/"), outside=outside.lstrip("/"))
        assert os.path.lexists(path), path
        if data is not None:
            assert not path.is_symlink() and path.read_bytes() == data
    return check


def _is_link(relpath):
    def check(root, stats, sentinel, outside):
        assert os.path.islink(root / relpath)
    return check


def _skipped(count):
    def check(root, stats, sentinel, outside):
        assert stats.skipped == count
    return check


def _mode(relpath, mode):
    def check(root, stats, sentinel, outside):
        assert stat.S_IMODE(os.lstat(root / relpath).st_mode) == mode
    return check


HOSTILE = {
    "dotdot": (lambda s, o: [tar(reg("../escaped"))],
               _unsafe("layer entry '../escaped' would be written outside the root")),
    "dotdot-deep": (lambda s, o: [tar(reg("a/../../escaped"))], _unsafe("'a/../../escaped' would be written outside")),
    "dotdot-to-sentinel": (lambda s, o: [tar(reg("../sentinel/secret", b"pwned"))], _unsafe("outside the root")),
    "dotdot-after-slash": (lambda s, o: [tar(reg("/../escaped"))], _unsafe("outside the root")),
    "dotdot-dir": (lambda s, o: [tar(dir_("../newdir"))], _unsafe("outside the root")),
    "dotdot-symlink-name": (lambda s, o: [tar(link("../evil", "/"))], _unsafe("outside the root")),
    "absolute-name": (lambda s, o: [tar(reg("/abs/x", b"in root"))], _exists("abs/x", b"in root")),
    "absolute-sentinel-name": (lambda s, o: [tar(reg(f"{s}/secret", b"pwned"))],
                               _exists("{sentinel}/secret", b"pwned")),
    "write-through-abs-symlink": (lambda s, o: [tar(link("evil", str(s)), reg("evil/secret", b"pwned"))],
                                  _exists("{sentinel}/secret", b"pwned")),
    "write-through-tmp-symlink": (lambda s, o: [tar(link("evil", o), reg("evil/file", b"pwned"))],
                                  _exists("{outside}/file", b"pwned")),
    "write-through-dotdot-symlink": (lambda s, o: [tar(link("up", "../../.."), reg("up/escaped", b"x"))],
                                     _exists("escaped", b"x")),
    "write-through-symlink-chain": (lambda s, o: [tar(link("a", "b"), link("b", "../../sentinel"),
                                                      reg("a/secret", b"pwned"))],
                                    _exists("sentinel/secret", b"pwned")),
    "write-through-symlink-in-lower-layer": (lambda s, o: [tar(link("evil", str(s))),
                                                           tar(reg("evil/sub/file", b"pwned"))],
                                             _exists("{sentinel}/sub/file", b"pwned")),
    "dir-through-symlink": (lambda s, o: [tar(link("evil", str(s)), dir_("evil/sub", 0o777))],
                            _exists("{sentinel}/sub")),
    "file-replaces-symlink": (lambda s, o: [tar(link("evil", f"{s}/secret")), tar(reg("evil", b"pwned"))],
                              _exists("evil", b"pwned")),
    "dir-replaces-symlink": (lambda s, o: [tar(link("evil", str(s))), tar(dir_("evil", 0o777))],
                             _mode("evil", 0o777)),
    "symlink-replaces-symlink": (lambda s, o: [tar(link("evil", str(s))), tar(link("evil", o))],
                                 _exists("evil")),
    "symlink-loop": (lambda s, o: [tar(link("loop", "loop"), reg("loop/x"))], _unsafe("symlinks (a loop?)")),
    "symlink-ping-pong": (lambda s, o: [tar(link("a", "b/x"), link("b", "a/y"), reg("a/z"))],
                          _unsafe("symlinks")),
    "hardlink-etc-passwd": (lambda s, o: [tar(hardlink("passwd", "/etc/passwd"))],
                            _unsafe("'passwd' is a hard link to '/etc/passwd', which the root does not hold")),
    "hardlink-dotdot": (lambda s, o: [tar(hardlink("h", "../sentinel/secret"))],
                        _unsafe("'h' is a hard link to '../sentinel/secret', outside the root")),
    "hardlink-absolute-sentinel": (lambda s, o: [tar(hardlink("h", f"{s}/secret"))],
                                   _unsafe("which the root does not hold")),
    "hardlink-through-symlink": (lambda s, o: [tar(link("evil", str(s)), hardlink("h", "evil/secret"))],
                                 _unsafe("which the root does not hold")),
    "hardlink-to-symlink-to-outside": (lambda s, o: [tar(link("evil", f"{s}/secret"), hardlink("h", "evil"))],
                                       _is_link("h")),      # a second name of the symlink itself
    "write-through-root-symlink": (lambda s, o: [tar(link("self", "/"), reg("self/self/self/x", b"x"))],
                                   _exists("x", b"x")),
    "hardlink-to-directory": (lambda s, o: [tar(dir_("d"), hardlink("h", "d"))], _unsafe("to a directory")),
    "hardlink-to-itself": (lambda s, o: [tar(reg("h"), hardlink("h", "h"))], _unsafe("hard link to itself")),
    "hardlink-name-dotdot": (lambda s, o: [tar(reg("x"), hardlink("../h", "x"))], _unsafe("outside the root")),
    "whiteout-dotdot-name": (lambda s, o: [tar(reg(".wh..."))], _unsafe("whiteout that names no file")),
    "whiteout-dot-name": (lambda s, o: [tar(reg("sub/.wh.."))], _unsafe("whiteout that names no file")),
    "whiteout-empty-name": (lambda s, o: [tar(reg(".wh."))], _unsafe("whiteout that names no file")),
    "whiteout-escaping-path": (lambda s, o: [tar(reg("a/../../.wh.sentinel"))], _unsafe("outside the root")),
    "whiteout-escaping-dotdot-dir": (lambda s, o: [tar(reg("../.wh.sentinel"))], _unsafe("outside the root")),
    "whiteout-through-symlink": (lambda s, o: [tar(link("evil", str(s))), tar(reg("evil/.wh.secret"),
                                                                             reg("evil/.wh.sub"))],
                                 _exists("evil")),
    "whiteout-of-symlink-to-outside": (lambda s, o: [tar(link("evil", str(s))), tar(reg(".wh.evil"))],
                                       lambda root, stats, sentinel, outside: not os.path.lexists(root / "evil")),
    "opaque-through-symlink": (lambda s, o: [tar(link("evil", str(s))), tar(reg("evil/.wh..wh..opq"))],
                               _exists("evil")),
    "opaque-with-symlinked-child": (lambda s, o: [tar(dir_("d"), link("d/evil", str(s)), link("d/up", "../..")),
                                                  tar(reg("d/.wh..wh..opq"))],
                                    lambda root, stats, sentinel, outside: os.listdir(root / "d") == []),
    "whiteout-through-dotdot-symlink": (lambda s, o: [tar(link("up", "../..")), tar(reg("up/.wh.sentinel"))],
                                        _exists("up")),
    "root-as-file": (lambda s, o: [tar(reg("./"))], _unsafe("would replace the root itself")),
    "root-as-symlink": (lambda s, o: [tar(link(".", str(s)))], _unsafe("would replace the root itself")),
    "root-via-dotdot-as-file": (lambda s, o: [tar(reg("a/.."))], _unsafe("would replace the root itself")),
    "char-device": (lambda s, o: [tar(special("dev/null", tarfile.CHRTYPE))], _skipped(1)),
    "block-device": (lambda s, o: [tar(special("dev/sda", tarfile.BLKTYPE))], _skipped(1)),
    "fifo": (lambda s, o: [tar(special("run/fifo", tarfile.FIFOTYPE))], _skipped(1)),
    "device-escaping": (lambda s, o: [tar(special("../null", tarfile.CHRTYPE))], _unsafe("outside the root")),
    "aufs-metadata": (lambda s, o: [tar(reg(".wh..wh.plnk/1.2", b"x"), reg(".wh..wh.aufs"))], _skipped(2)),
    "setuid-file": (lambda s, o: [tar(reg("bin/su", b"#!", 0o4755))], _mode("bin/su", 0o755)),
    "setgid-file": (lambda s, o: [tar(reg("bin/wall", b"#!", 0o2755))], _mode("bin/wall", 0o755)),
    "sticky-file": (lambda s, o: [tar(reg("f", b"", 0o1644))], _mode("f", 0o644)),
    "setgid-sticky-dir": (lambda s, o: [tar(dir_("tmp", 0o3777))], _mode("tmp", 0o1777)),
    "long-name": (lambda s, o: [tar(reg("a" * 200 + "/" + "b" * 5000))], _too_large("max_path=4096")),
    "long-link-target": (lambda s, o: [tar(link("l", "x" * 5000))], _too_large("max_path=4096")),
    "parent-is-a-file": (lambda s, o: [tar(reg("f"), reg("f/x"))], _unsafe("needs 'f' to be a directory")),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_layer_changes_nothing_outside_the_root(box, case):
    sentinel = box / "box" / "sentinel"
    outside = f"/tmp/imgkit-outside-{uuid.uuid4().hex}"
    root = box / "box" / "root"
    make_layers, expected = HOSTILE[case]
    before = tree_with_times(box, skip=root)
    passwd = os.stat("/etc/passwd") if os.path.exists("/etc/passwd") else None
    layers = make_layers(sentinel, outside)
    try:
        if isinstance(expected, tuple):
            for layer in layers[:-1]:
                apply_layer(layer, root)
            with pytest.raises(expected[0]) as caught:
                apply_layer(layers[-1], root)
            assert expected[1] in str(caught.value)
            assert "\n" not in str(caught.value)
            assert isinstance(caught.value, ImgkitError)
        else:
            stats = unpack_image(layers, root)[-1]
            assert expected(root, stats, sentinel, outside) is not False
    finally:
        assert tree_with_times(box, skip=root) == before
        assert not os.path.lexists(outside)
        if passwd is not None:
            after = os.stat("/etc/passwd")
            assert (after.st_ino, after.st_nlink, after.st_mtime_ns) == (passwd.st_ino, passwd.st_nlink,
                                                                          passwd.st_mtime_ns)


def test_hard_link_to_an_absolute_name_means_the_roots_own_file(box):
    root = box / "box" / "root"
    apply_layer(tar(dir_("etc"), reg("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"), hardlink("pw", "/etc/passwd")),
                root)
    assert os.stat(root / "pw").st_ino == os.stat(root / "etc" / "passwd").st_ino
    assert os.stat(root / "pw").st_ino != os.stat("/etc/passwd").st_ino


def test_a_new_file_never_writes_into_an_old_inode(box):
    root = box / "box" / "root"
    apply_layer(tar(reg("a", b"old\n"), hardlink("b", "a")), root)
    apply_layer(tar(reg("a", b"new\n")), root)
    assert (root / "a").read_bytes() == b"new\n"
    assert (root / "b").read_bytes() == b"old\n"      # the other name of the old file is untouched


# -- limits ------------------------------------------------------------------------------------

def test_gzip_bomb_stops_at_max_bytes_in_little_memory(box):
    root = box / "box" / "root"
    stream = GeneratedStream(gzip_bomb_pieces(50 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(LayerTooLargeError, match=r"max_bytes=1048576") as caught:
            apply_layer(stream, root, limits=Limits(max_bytes=1 << 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "decompression bomb" in str(caught.value)
    assert peak < 8 << 20, f"peak memory {peak} bytes"
    assert os.path.getsize(root / "zeros") <= 1 << 20


def test_gzip_bomb_within_a_bigger_limit_is_just_a_big_file(box):
    root = box / "box" / "root"
    stats = apply_layer(GeneratedStream(gzip_bomb_pieces(3 << 20)), root, limits=Limits(max_bytes=8 << 20))
    assert stats.bytes_written == 3 << 20 and os.path.getsize(root / "zeros") == 3 << 20


def test_a_gzip_of_only_zeros_is_an_empty_layer_read_no_further(box):
    root = box / "box" / "root"
    blob = gzip.compress(bytes(50 << 20))
    stream = io.BytesIO(blob)
    assert apply_layer(stream, root, limits=Limits(max_bytes=1 << 20)) == ApplyStats()
    assert os.listdir(root) == []


def test_two_million_entries_stop_at_max_entries(box):
    root = box / "box" / "root"
    stream = GeneratedStream(many_entries_pieces(2_000_000))
    with pytest.raises(LayerTooLargeError, match=r"more than 1000 entries.*max_entries=1000"):
        apply_layer(stream, root, limits=Limits(max_entries=1000))
    assert stream.produced < 2 << 20                     # 1 GB if it had read on
    assert len(os.listdir(root / "f")) == 1000           # the root keeps what came before the limit


@pytest.mark.parametrize("kind", [tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK])
def test_huge_tar_meta_header_is_refused_before_it_is_read(box, kind):
    stream = GeneratedStream(meta_bomb_pieces(kind))
    with pytest.raises(LayerTooLargeError, match="meta header"):
        apply_layer(stream, box / "box" / "root")
    assert stream.produced < 1 << 20


def test_written_bytes_count_against_max_bytes(box):
    layer = tar(reg("a", bytes(600)), reg("b", bytes(600)))
    with pytest.raises(LayerTooLargeError, match="max_bytes=1000"):
        apply_layer(layer, box / "box" / "root", limits=Limits(max_bytes=1000))


# -- ordinary layers -------------------------------------------------------------------------

def layer(*entries, mtime=MTIME):
    return write_tar(entries, mtime)


def test_course_like_ubuntu_apt_lists_deleted_by_a_later_layer(box):
    root = box / "box" / "root"
    base = layer(Entry.file("etc/os-release", "NAME=Ubuntu\n"), Entry.directory("var/lib/apt/lists/partial", 0o700),
                 Entry.file("var/lib/apt/lists/archive.ubuntu.com_dists_jammy_InRelease", b"x" * 100),
                 Entry.file("var/lib/apt/lists/lock", b"", 0o640), Entry.symlink("bin", "usr/bin"),
                 Entry.directory("usr/bin"))
    installed = layer(Entry.file("usr/bin/curl", b"\x7fELF", 0o755),
                      Entry.whiteout("var/lib/apt/lists/archive.ubuntu.com_dists_jammy_InRelease"),
                      Entry.whiteout("var/lib/apt/lists/lock"), Entry.whiteout("var/lib/apt/lists/partial"))
    stats = unpack_image([base, installed], root)
    assert os.listdir(root / "var/lib/apt/lists") == []
    assert (root / "bin").is_symlink() and (root / "bin" / "curl").read_bytes() == b"\x7fELF"
    assert stats[1] == ApplyStats(files=1, dirs=6, links=0, whiteouts=3, skipped=0, bytes_written=4)


def test_whiteout_of_a_directory_removes_its_tree(box):
    root = box / "box" / "root"
    apply_layer(layer(Entry.file("a/b/c/d", b"1"), Entry.directory("a/b/ro", 0o555), Entry.file("keep")), root)
    apply_layer(layer(Entry.whiteout("a/b")), root)
    assert sorted(os.listdir(root)) == ["a", "keep"] and os.listdir(root / "a") == []


def test_opaque_directory_hides_lower_content_and_keeps_this_layers(box):
    root = box / "box" / "root"
    apply_layer(layer(Entry.file("d/old"), Entry.file("d/sub/old"), Entry.file("other")), root)
    apply_layer(layer(Entry.opaque("d"), Entry.file("d/new", b"n"), Entry.file("d/sub/new")), root)
    assert sorted(os.listdir(root / "d")) == ["new", "sub"] and os.listdir(root / "d" / "sub") == ["new"]
    assert (root / "other").exists()


def test_opaque_marker_after_this_layers_entries_keeps_them(box):
    root = box / "box" / "root"
    apply_layer(tar(reg("d/old"), reg("d/sub/old")), root)
    apply_layer(tar(reg("d/new", b"n"), reg("d/sub/new"), reg("d/.wh..wh..opq")), root)
    assert sorted(os.listdir(root / "d")) == ["new", "sub"] and os.listdir(root / "d" / "sub") == ["new"]


def test_whiteout_never_deletes_what_its_own_layer_wrote(box):
    # OCI: "Files that are present in the same layer as a whiteout file can only be
    # hidden by whiteout files in subsequent layers."
    root = box / "box" / "root"
    apply_layer(tar(reg("x", b"old")), root)
    apply_layer(tar(reg("x", b"new"), reg(".wh.x")), root)
    assert (root / "x").read_bytes() == b"new"


@pytest.mark.parametrize("lower, upper, check", [
    (Entry.file("p", b"f"), Entry.directory("p", 0o750), lambda p: p.is_dir() and not p.is_symlink()),
    (Entry.directory("p"), Entry.file("p", b"f"), lambda p: p.read_bytes() == b"f"),
    (Entry.symlink("p", "/etc"), Entry.directory("p"), lambda p: p.is_dir() and not p.is_symlink()),
    (Entry.directory("p"), Entry.symlink("p", "/nowhere"), lambda p: os.readlink(p) == "/nowhere"),
    (Entry.file("p", b"f"), Entry.symlink("p", "q"), lambda p: os.readlink(p) == "q"),
], ids=["file-to-dir", "dir-to-file", "symlink-to-dir", "dir-to-symlink", "file-to-symlink"])
def test_an_entry_replaces_a_different_kind(box, lower, upper, check):
    root = box / "box" / "root"
    extra = [Entry.file("p/inside")] if lower.kind == "dir" else []
    apply_layer(layer(lower, *extra), root)
    apply_layer(layer(upper), root)
    assert check(root / "p")


def test_directory_on_directory_merges_and_takes_the_new_mode(box):
    root = box / "box" / "root"
    apply_layer(layer(Entry.directory("d", 0o755), Entry.file("d/a")), root)
    apply_layer(layer(Entry.directory("d", 0o700), Entry.file("d/b")), root)
    assert sorted(os.listdir(root / "d")) == ["a", "b"] and stat.S_IMODE(os.stat(root / "d").st_mode) == 0o700


def test_read_only_directories_are_filled_then_restored(box):
    root = box / "box" / "root"
    apply_layer(layer(Entry.directory("ro", 0o555), Entry.file("ro/f", b"1", 0o444),
                      Entry.directory("ro/deeper", 0o500), Entry.file("ro/deeper/g")), root)
    # tarfile, not tarlayer: tarlayer would add "ro/" and "ro/deeper/" with mode 0755.
    apply_layer(tar(reg("ro/deeper/h"), reg("ro/.wh.f")), root)
    assert stat.S_IMODE(os.stat(root / "ro").st_mode) == 0o555
    assert stat.S_IMODE(os.stat(root / "ro" / "deeper").st_mode) == 0o500
    assert sorted(os.listdir(root / "ro" / "deeper")) == ["g", "h"] and not (root / "ro" / "f").exists()


def test_read_only_directories_as_an_unprivileged_user():
    """Run as nobody (when we are root) so that permission bits are really enforced."""
    base = tempfile.mkdtemp(prefix="imgkit-unpack-")
    try:
        if os.geteuid() == 0:
            os.chown(base, 65534, 65534)
        first = layer(Entry.directory("ro", 0o555), Entry.directory("ro/none", 0o000), Entry.file("ro/f"))
        second = tar(reg("ro/g"), reg("ro/.wh.none"), reg("ro/sub/x", b"x", 0o400))

        def work():
            root = os.path.join(base, "root")
            unpack_image([first, second], root)
            assert sorted(os.listdir(os.path.join(root, "ro"))) == ["f", "g", "sub"]
            assert stat.S_IMODE(os.stat(os.path.join(root, "ro")).st_mode) == 0o555
            remove_tree(root)
            assert not os.path.exists(root)

        _run_unprivileged(work)
    finally:
        shutil.rmtree(base)


def _run_unprivileged(work):
    if os.geteuid() != 0:
        return work()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                   # the child: drop to nobody, report back
        os.close(read)
        status = 0
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            work()
        except BaseException:
            os.write(write, traceback.format_exc().encode())
            status = 1
        os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        report = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, report


def test_symlinks_stay_symlinks_and_are_never_followed(box):
    root = box / "box" / "root"
    apply_layer(layer(Entry.symlink("abs", "/etc/passwd"), Entry.symlink("rel", "../x"),
                      Entry.symlink("dangling", "/nope/nope")), root)
    for name, target in [("abs", "/etc/passwd"), ("rel", "../x"), ("dangling", "/nope/nope")]:
        assert os.readlink(root / name) == target
    assert os.lstat(root / "abs").st_mtime == MTIME


def test_hard_links_share_an_inode(box):
    root = box / "box" / "root"
    stats = apply_layer(layer(Entry.file("a", b"same", 0o755), Entry.hardlink("b", "a", 0o755)), root)
    assert os.stat(root / "a").st_ino == os.stat(root / "b").st_ino and os.stat(root / "a").st_nlink == 2
    assert (stats.files, stats.links, stats.bytes_written) == (1, 1, 4)


def test_modes_and_mtimes_come_from_the_tar(box):
    root = box / "box" / "root"
    apply_layer(layer(Entry.directory("d", 0o711, mtime=1000), Entry.file("d/f", b"x", 0o600, mtime=2000)), root)
    assert (os.stat(root / "d").st_mtime, os.stat(root / "d" / "f").st_mtime) == (1000, 2000)
    assert stat.S_IMODE(os.stat(root / "d").st_mode) == 0o711
    assert stat.S_IMODE(os.stat(root / "d" / "f").st_mode) == 0o600


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o777])
def test_file_modes_are_the_tars_whatever_the_umask(box, umask):
    modes = {"rw-all": 0o666, "rwx-all": 0o777, "read-only": 0o444, "none": 0o000,
             "private": 0o600, "setuid": 0o4755, "sticky": 0o1644}
    root = box / "box" / "root"
    old = os.umask(umask)
    try:
        apply_layer(layer(*(Entry.file(name, b"data", mode) for name, mode in modes.items())), root)
    finally:
        os.umask(old)
    for name, mode in modes.items():
        assert stat.S_IMODE(os.stat(root / name).st_mode) == mode & 0o777, name
        assert (root / name).read_bytes() == b"data"


def test_times_out_of_range_are_bounded(box):
    root = box / "box" / "root"
    apply_layer(tar(reg("old", mtime=-100), reg("far", mtime=8 ** 12)), root)
    assert os.stat(root / "old").st_mtime == 0 and os.stat(root / "far").st_mtime == 8 ** 11 - 1


def test_corrupt_gzip_is_a_read_error(box):
    blob = bytearray(gzip.compress(layer(Entry.file("a", b"x" * 5000))))
    blob[20:40] = bytes(20)
    with pytest.raises(tarfile.ReadError):
        apply_layer(bytes(blob), box / "box" / "root")


def test_missing_parents_are_made_0755(box):
    root = box / "box" / "root"
    old = os.umask(0o077)
    try:
        apply_layer(tar(reg("a/b/c")), root)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(root / "a" / "b").st_mode) == 0o755


def test_owners_only_when_asked_and_root(box):
    root = box / "box" / "root"
    blob = tar(reg("f", b"x", uid=1234, gid=4321))
    apply_layer(blob, root)
    assert os.stat(root / "f").st_uid == os.geteuid()
    apply_layer(blob, root, preserve_owner=True)
    expected = 1234 if os.geteuid() == 0 else os.geteuid()
    assert os.stat(root / "f").st_uid == expected


def test_the_roots_own_entry_is_ignored(box):
    root = box / "box" / "root"
    os.chmod(root, 0o755)
    assert apply_layer(tar(dir_("./", 0o700), reg("./x")), root).files == 1
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o755


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
@pytest.mark.parametrize("given", [None, "named"])
def test_compressions_and_sources(box, tmp_path, compression, given):
    if compression == "zstd" and not zstd_available():
        pytest.skip("zstandard is not installed")
    plain = layer(Entry.file("etc/motd", b"hi\n"))
    blob = {"gzip": gzip.compress(plain), "zstd": zstd_bytes(plain) if compression == "zstd" else b"",
            "none": plain}[compression]
    path = tmp_path / "layer.blob"
    path.write_bytes(blob)
    kwargs = {"compression": compression} if given else {}
    for source in (blob, path, str(path), io.BytesIO(blob)):
        root = tmp_path / f"r-{uuid.uuid4().hex}"
        assert apply_layer(source, root, **kwargs).files == 1
        assert (root / "etc" / "motd").read_bytes() == b"hi\n"


def test_multi_member_gzip_is_read_whole(box):
    plain = layer(Entry.file("a", b"1"), Entry.file("b", b"2"))
    blob = gzip.compress(plain[:1024]) + gzip.compress(plain[1024:])
    assert apply_layer(blob, box / "box" / "root").files == 2


def test_unknown_compression_is_refused(box):
    with pytest.raises(ValueError, match="compression must be"):
        apply_layer(b"", box / "box" / "root", compression="bzip2")


def test_remove_tree_never_follows_symlinks(box):
    root = box / "box" / "root"
    sentinel = box / "box" / "sentinel"
    before = tree_with_times(sentinel)
    apply_layer(layer(Entry.symlink("evil", str(sentinel)), Entry.directory("ro", 0o500), Entry.file("ro/x")), root)
    remove_tree(root)
    assert not root.exists() and tree_with_times(sentinel) == before
    remove_tree(root)                        # already gone: fine
