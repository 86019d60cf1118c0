"""Reading what a layer changes: any compression, whiteouts, and files replacing directories."""

from __future__ import annotations

import io

import pytest

from imgkit.compress import compress, zstd_available
from imgkit.tarlayer import Entry, write_tar
from imgkit.widgets.layerfiles import FileChange, LayerEntry, changes, read_entries, stack

ENTRIES = [Entry.directory("etc"), Entry.file("etc/motd", b"hello\n"),
           Entry.symlink("etc/localtime", "/usr/share/zoneinfo/UTC"),
           Entry.hardlink("etc/motd.bak", "etc/motd"), Entry.whiteout("etc/old"),
           Entry.opaque("var/cache")]
EXPECTED = [LayerEntry("etc", "dir"), LayerEntry("etc/localtime", "symlink", 0, "/usr/share/zoneinfo/UTC"),
            LayerEntry("etc/motd", "file", 6), LayerEntry("etc/motd.bak", "hardlink", 0, "etc/motd"),
            LayerEntry("etc/old", "whiteout"), LayerEntry("var", "dir"), LayerEntry("var/cache", "dir"),
            LayerEntry("var/cache", "opaque")]


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_every_compression_reads_the_same_entries(compression):
    if compression == "zstd" and not zstd_available():
        pytest.skip("zstandard is not installed")
    tar = write_tar(ENTRIES)
    blob = tar if compression == "none" else compress(tar, compression)[0]
    assert sorted(read_entries(io.BytesIO(blob)), key=lambda e: (e.path, e.kind)) == \
        sorted(EXPECTED, key=lambda e: (e.path, e.kind))


def test_a_file_replacing_a_directory_hides_what_it_held():
    below = {"opt": "dir", "opt/tool": "dir", "opt/tool/bin": "file", "optional": "file"}
    after = stack(below, [LayerEntry("opt/tool", "file", 3)])
    assert after == {"opt": "dir", "opt/tool": "file", "optional": "file"}


def test_whiteouts_delete_trees_and_say_what_they_deleted():
    below = {"app": "dir", "app/a": "file", "app/sub": "dir", "app/sub/b": "file", "apple": "file"}
    layer = [LayerEntry("app", "whiteout")]
    assert stack(below, layer) == {"apple": "file"}
    assert changes(below, layer) == [FileChange("D", "/app", "dir")]
    assert changes(below, [LayerEntry("gone", "whiteout")]) == [FileChange("D", "/gone", "")]


def test_an_opaque_directory_keeps_what_its_own_layer_adds():
    below = {"app": "dir", "app/old": "file"}
    layer = [LayerEntry("app", "dir"), LayerEntry("app/new", "file", 1), LayerEntry("app", "opaque")]
    assert stack(below, layer) == {"app": "dir", "app/new": "file"}
    assert [c.line() for c in changes(below, layer)] == ["C /app", "A /app/new", "D /app/*"]
