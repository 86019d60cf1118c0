"""Diffing two root filesystems into a layer, and the round trip back through apply_layer."""

from __future__ import annotations

import io
import os
import shutil
import tarfile

import pytest
from hostile_layers import tree

from imgkit.fsdiff import diff, diff_tar
from imgkit.tarlayer import Entry, write_tar
from imgkit.unpack import apply_layer

BASE = [
    Entry.file("etc/os-release", "NAME=Ubuntu\n"),
    Entry.file("etc/passwd", "root:x:0:0::/root:/bin/bash\n"),
    Entry.directory("etc/ssl/private", 0o700),
    Entry.file("etc/ssl/private/key", b"secret", 0o600),
    Entry.directory("usr/bin"),
    Entry.file("usr/bin/bash", b"\x7fELF bash", 0o755),
    Entry.hardlink("usr/bin/sh", "usr/bin/bash", 0o755),
    Entry.symlink("bin", "usr/bin"),
    Entry.symlink("usr/bin/python3", "python3.11"),
    Entry.file("usr/bin/python3.11", b"\x7fELF py", 0o755),
    Entry.file("var/lib/apt/lists/jammy_InRelease", b"x" * 300),
    Entry.file("var/lib/apt/lists/jammy_Packages", b"y" * 300),
    Entry.directory("var/lib/apt/lists/partial", 0o700),
    Entry.directory("tmp", 0o1777),
    Entry.file("opt/app/config.ini", b"debug = false\n"),
]


@pytest.fixture
def roots(tmp_path):
    """``(lower, upper)``: an unpacked base layer and a copy of it to change."""
    lower = tmp_path / "lower"
    apply_layer(write_tar(BASE, 1_700_000_000), lower)
    upper = tmp_path / "upper"
    shutil.copytree(lower, upper, symlinks=True)       # fresh mtimes on purpose; hard links become copies
    os.unlink(upper / "usr/bin/sh")
    os.link(upper / "usr/bin/bash", upper / "usr/bin/sh")
    return lower, upper


def paths(entries):
    return [entry.path for entry in entries]


def by_path(entries):
    return {entry.path: entry for entry in entries}


def test_a_fresh_copy_is_no_change(roots):
    lower, upper = roots
    os.utime(upper / "etc/passwd", (1, 1))
    assert diff(lower, upper) == []


def test_added_file_comes_with_its_parents(roots):
    lower, upper = roots
    (upper / "opt/app/data").mkdir(mode=0o750)
    os.chmod(upper / "opt/app/data", 0o750)
    (upper / "opt/app/data/new.txt").write_bytes(b"new\n")
    entries = diff(lower, upper)
    assert paths(entries) == ["opt", "opt/app", "opt/app/data", "opt/app/data/new.txt"]
    assert by_path(entries)["opt/app/data"].mode == 0o750
    assert by_path(entries)["opt/app/data/new.txt"].data == b"new\n"


def test_changed_content(roots):
    lower, upper = roots
    (upper / "opt/app/config.ini").write_bytes(b"debug = true\n")
    entries = by_path(diff(lower, upper))
    assert entries["opt/app/config.ini"].data == b"debug = true\n"
    assert sorted(entries) == ["opt", "opt/app", "opt/app/config.ini"]


def test_same_size_different_bytes_is_a_change(roots):
    lower, upper = roots
    (upper / "opt/app/config.ini").write_bytes(b"debug = fals3\n")
    assert "opt/app/config.ini" in by_path(diff(lower, upper))


def test_deleted_file_is_one_whiteout(roots):
    lower, upper = roots
    os.unlink(upper / "etc/passwd")
    assert paths(diff(lower, upper)) == ["etc", "etc/.wh.passwd"]


def test_deleted_directory_is_one_whiteout_not_one_per_file(roots):
    lower, upper = roots
    shutil.rmtree(upper / "var/lib/apt/lists")
    assert paths(diff(lower, upper)) == ["var", "var/lib", "var/lib/apt", "var/lib/apt/.wh.lists"]


def test_emptied_directory_gets_a_whiteout_per_child(roots):
    lower, upper = roots
    shutil.rmtree(upper / "var/lib/apt/lists")
    (upper / "var/lib/apt/lists").mkdir()
    assert paths(diff(lower, upper))[-3:] == ["var/lib/apt/lists/.wh.jammy_InRelease",
                                              "var/lib/apt/lists/.wh.jammy_Packages",
                                              "var/lib/apt/lists/.wh.partial"]


def test_chmod_only(roots):
    lower, upper = roots
    os.chmod(upper / "opt/app/config.ini", 0o600)
    os.chmod(upper / "etc/ssl/private", 0o750)
    entries = by_path(diff(lower, upper))
    assert entries["opt/app/config.ini"].mode == 0o600
    assert entries["opt/app/config.ini"].data == b"debug = false\n"
    assert entries["etc/ssl/private"].kind == "dir" and entries["etc/ssl/private"].mode == 0o750
    assert "etc/ssl/private/key" not in entries


def test_symlink_retarget(roots):
    lower, upper = roots
    os.unlink(upper / "usr/bin/python3")
    os.symlink("python3.12", upper / "usr/bin/python3")
    entries = by_path(diff(lower, upper))
    assert entries["usr/bin/python3"].kind == "symlink" and entries["usr/bin/python3"].target == "python3.12"


@pytest.mark.parametrize("change, expected", [
    ("file-to-dir", {"opt/app/config.ini": "dir", "opt/app/config.ini/part": "file"}),
    ("dir-to-file", {"etc/ssl/private": "file"}),
    ("file-to-symlink", {"opt/app/config.ini": "symlink"}),
    ("symlink-to-dir", {"bin": "dir", "bin/tool": "file"}),
])
def test_type_change(roots, change, expected):
    lower, upper = roots
    if change == "file-to-dir":
        os.unlink(upper / "opt/app/config.ini")
        (upper / "opt/app/config.ini").mkdir()
        (upper / "opt/app/config.ini/part").write_bytes(b"p")
    elif change == "dir-to-file":
        shutil.rmtree(upper / "etc/ssl/private")
        (upper / "etc/ssl/private").write_bytes(b"f")
    elif change == "file-to-symlink":
        os.unlink(upper / "opt/app/config.ini")
        os.symlink("/etc/app.ini", upper / "opt/app/config.ini")
    else:
        os.unlink(upper / "bin")
        (upper / "bin").mkdir()
        (upper / "bin/tool").write_bytes(b"t")
    entries = by_path(diff(lower, upper))
    assert {path: entries[path].kind for path in expected} == expected
    # Replacing is enough: no whiteouts for what the old directory held.
    assert not any(entry.is_whiteout for entry in entries.values())


def test_symlinks_are_compared_never_followed(roots):
    lower, upper = roots
    # "bin" is a symlink to usr/bin in both: adding a file in usr/bin shows under usr/bin only.
    (upper / "usr/bin/new").write_bytes(b"n")
    assert paths(diff(lower, upper)) == ["usr", "usr/bin", "usr/bin/new"]


def test_hard_links_stay_hard_links_when_both_names_are_new(roots):
    lower, upper = roots
    (upper / "opt/app/a").write_bytes(b"shared")
    os.link(upper / "opt/app/a", upper / "opt/app/b")
    entries = by_path(diff(lower, upper))
    assert entries["opt/app/a"].kind == "file" and entries["opt/app/b"].kind == "hardlink"
    assert entries["opt/app/b"].target == "opt/app/a"


def test_a_new_name_for_an_unchanged_file_carries_its_data(roots):
    lower, upper = roots
    os.link(upper / "etc/passwd", upper / "etc/passwd-")
    entries = by_path(diff(lower, upper))
    assert entries["etc/passwd-"].kind == "file" and entries["etc/passwd-"].data.startswith(b"root:")
    assert "etc/passwd" not in entries


def test_against_nothing_is_the_whole_tree(roots):
    lower, _ = roots
    entries = by_path(diff(None, lower))
    assert entries["usr/bin/sh"].kind == "hardlink" and entries["usr/bin/sh"].target == "usr/bin/bash"
    assert entries["tmp"].mode == 0o1777


def test_diff_is_deterministic_and_sorted(roots):
    lower, upper = roots
    os.unlink(upper / "etc/passwd")
    (upper / "etc/zz").write_bytes(b"z")
    (upper / "etc/aa").write_bytes(b"a")
    first = diff_tar(lower, upper)
    os.utime(upper / "etc/aa", (5, 5))
    assert diff_tar(lower, upper) == first
    assert paths(diff(lower, upper)) == ["etc", "etc/.wh.passwd", "etc/aa", "etc/zz"]
    with tarfile.open(fileobj=io.BytesIO(first)) as archive:
        assert [m.name for m in archive] == ["etc", "etc/.wh.passwd", "etc/aa", "etc/zz"]


def test_what_a_layer_cannot_hold_is_refused(roots):
    lower, upper = roots
    os.mkfifo(upper / "fifo")
    with pytest.raises(ValueError, match="only regular files"):
        diff(lower, upper)
    os.unlink(upper / "fifo")
    (upper / ".wh.sneaky").write_bytes(b"")
    with pytest.raises(ValueError, match="whiteout"):
        diff(lower, upper)


def test_round_trip_apply_the_diff_to_a_copy_of_lower_gives_upper(roots, tmp_path):
    lower, upper = roots
    # A bit of everything a RUN step does.
    (upper / "opt/app/config.ini").write_bytes(b"debug = true\n")
    os.chmod(upper / "usr/bin/python3.11", 0o700)
    shutil.rmtree(upper / "var/lib/apt/lists")
    (upper / "var/lib/apt/lists").mkdir()
    os.unlink(upper / "etc/passwd")
    os.unlink(upper / "usr/bin/python3")
    os.symlink("/opt/python/bin/python3", upper / "usr/bin/python3")
    shutil.rmtree(upper / "etc/ssl/private")
    (upper / "etc/ssl/private").write_bytes(b"now a file")
    os.unlink(upper / "bin")
    (upper / "bin/sub").mkdir(parents=True)
    os.chmod(upper / "bin", 0o711)
    (upper / "bin/sub/tool").write_bytes(b"t")
    os.link(upper / "bin/sub/tool", upper / "bin/tool-again")
    (upper / "srv/ro").mkdir(parents=True)
    (upper / "srv/ro/data").write_bytes(b"d")
    os.chmod(upper / "srv/ro", 0o555)
    os.chmod(upper / "tmp", 0o1777)
    (upper / "tmp/cache").mkdir(mode=0o700)
    os.chmod(upper / "tmp/cache", 0o700)
    (upper / "usr/bin/bash").write_bytes(b"\x7fELF bash 2")        # both hard-linked names change
    layer = diff_tar(lower, upper)
    result = tmp_path / "result"
    shutil.copytree(lower, result, symlinks=True)
    apply_layer(layer, result)
    assert tree(result) == tree(upper)
    assert diff(upper, result) == []


def test_round_trip_from_nothing(roots, tmp_path):
    lower, _ = roots
    result = tmp_path / "rebuilt"
    apply_layer(diff_tar(None, lower), result)
    assert tree(result) == tree(lower)
