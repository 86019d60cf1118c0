"""The parts a build is made of, alone: ``.dockerignore`` patterns and the image's files so far."""

from __future__ import annotations

import pytest

from imgkit.api.buildcontext import _Ignore
from imgkit.api.rootfs import Rootfs
from imgkit.tarlayer import Entry, Layer


@pytest.mark.parametrize("patterns, path, ignored", [
    (["*.log"], "debug.log", True),
    (["*.log"], "logs/debug.log", False),          # "*" stays in one directory
    (["**/*.log"], "logs/debug.log", True),
    (["**/*.log"], "debug.log", True),
    (["logs"], "logs/a/b.txt", True),              # a parent directory matches
    (["/logs/"], "logs/a", True),
    (["*", "!src"], "src/main.py", False),         # re-included with its contents
    (["*", "!src", "src/*.tmp"], "src/x.tmp", True),
    (["**.tmp"], "a/b/c.tmp", True),
    (["doc?"], "docs", True),
    (["[a-c]*.txt"], "b1.txt", True),
    (["[a-c]*.txt"], "d1.txt", False),
])
def test_dockerignore_patterns(patterns, path, ignored):
    assert _Ignore(patterns).ignored(path) is ignored


def test_rootfs_applies_whiteouts_and_follows_symlinks():
    lower = Layer.from_entries([Entry.directory("usr/bin"), Entry.symlink("bin", "usr/bin"),
                                Entry.file("usr/bin/sh", "#!", 0o755), Entry.directory("old"),
                                Entry.file("old/x", "x"), Entry.directory("cache"),
                                Entry.file("cache/a", "a"), Entry.file("etc/passwd", "root:x:0:0::/:/bin/sh\n")])
    upper = Layer.from_entries([Entry.whiteout("old"), Entry.opaque("cache"), Entry.file("cache/b", "b")])
    rootfs = Rootfs([lower, upper])
    assert rootfs.resolve("/bin/sh") == "usr/bin/sh" and rootfs.is_dir("/bin")
    assert not rootfs.is_dir("/old") and "old/x" not in rootfs.files()
    assert sorted(p for p in rootfs.files() if p.startswith("cache/")) == ["cache/b"]
    assert rootfs.read("/etc/passwd").startswith(b"root:") and rootfs.read("/nope") is None
