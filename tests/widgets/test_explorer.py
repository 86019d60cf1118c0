"""The image explorer, driven from Python: choosing an image or a layer redraws what is shown."""

from __future__ import annotations

import functools

import pytest

from imgkit import digest as digests
from imgkit.api.host import Host
from imgkit.build import ImageBuilder
from imgkit.lab import recipes
from imgkit.store import store_built_image
from imgkit.tarlayer import Entry
from imgkit.widgets import ImageExplorer, explorer

LISTS = "/var/lib/apt/lists/archive.ubuntu.com_ubuntu_dists_noble_"


@functools.lru_cache(maxsize=None)
def built():
    return (recipes.alpine_image("3.20"), recipes.redis().images[0], recipes.ubuntu_noble())


@pytest.fixture
def host(tmp_path) -> Host:
    host = Host(tmp_path / "home")
    alpine, redis, ubuntu = built()
    store_built_image(host.store, alpine, ["docker.io/library/alpine:3.20"])
    store_built_image(host.store, redis, ["docker.io/library/redis:latest"])
    store_built_image(host.store, ubuntu, ["docker.io/library/ubuntu:latest"])
    return host


def test_the_images_are_listed_by_name_and_the_first_is_shown(host):
    shown = explorer(host)
    assert isinstance(shown, ImageExplorer)
    assert [label for label, _ in shown.image.options] == ["alpine:3.20", "redis:latest",
                                                           "ubuntu:latest"]
    assert shown.image.value == built()[0].id
    assert len(shown.layers) == 1 and "alpine:3.20" in shown.summary.value
    assert "imgkit-explorer" in shown._dom_classes


def test_choosing_an_image_updates_its_layers_history_and_files(host):
    alpine, redis, _ = built()
    shown = explorer(host)
    shown.image.value = redis.id
    assert [info.number for info in shown.layers] == [1, 2, 3, 4]
    chain_ids = digests.chain_ids(redis.diff_ids)
    assert [info.chain_id for info in shown.layers] == chain_ids
    assert [info.size for info in shown.layers] == [layer.uncompressed_size for layer in redis.layers]
    assert shown.layers[1].created_by.startswith("RUN /bin/sh -c addgroup")
    assert shown.layers[0].shared_with == ("alpine:3.20",)     # redis is built on alpine
    assert shown.layers[3].shared_with == ()
    for info in shown.layers:
        assert digests.short(info.chain_id) in shown.layers_html.value
    assert "redis:latest" in shown.summary.value
    assert [value for _, value in shown.layer.options] == [1, 2, 3, 4]
    assert shown.layer.value == 4                               # the top layer, to start with
    assert [f.line() for f in shown.files][-1] == "A /usr/local/bin/docker-entrypoint.sh"
    assert "docker-entrypoint.sh" in shown.files_html.value
    assert len(shown.history_rows) == len(redis.config["history"])
    assert "ENTRYPOINT" in shown.history_html.value


def test_ubuntus_third_layer_deletes_the_apt_lists_with_whiteouts(host):
    ubuntu = built()[2]
    shown = explorer(host)
    shown.select("ubuntu")
    assert shown.image.value == ubuntu.id
    shown.layer.value = 3
    assert shown.layers[2].created_by.endswith("rm -rf /var/lib/apt/lists/*")
    deleted = [f for f in shown.files if f.change == "D"]
    assert [f.path for f in deleted] == [LISTS + "InRelease", LISTS + "main"]
    assert all(f.kind == "file" for f in deleted)               # what the whiteout hides
    assert {f.change for f in shown.files} == {"C", "D"}        # the parents were there already
    assert "2 deleted" in shown.files_note.value
    assert "#c62828" in shown.files_html.value and "InRelease" in shown.files_html.value
    text = repr(shown)
    assert f"D {LISTS}InRelease" in text and "Files of layer 3: 4 changed, 2 deleted:" in text
    assert "background:#e3f2fd" in shown.layers_html.value      # the chosen row is shaded


def test_added_and_changed_files_are_told_apart(host):
    shown = explorer(host)
    shown.select("ubuntu:latest")
    shown.layer.value = 1
    assert {f.change for f in shown.files} == {"A"}
    assert "A /etc/os-release" in [f.line() for f in shown.files]
    links = {f.path: f.target for f in shown.files if f.kind == "symlink"}
    assert links["/bin"] == "usr/bin"
    shown.layer.value = 5
    assert "C /etc/apt/sources.list" in [f.line() for f in shown.files]


def test_an_opaque_whiteout_hides_what_the_layers_below_had(tmp_path):
    builder = ImageBuilder(created="2024-01-01T00:00:00Z")
    builder.add_layer([Entry.directory("app"), Entry.file("app/old.txt", b"old"),
                       Entry.file("keep.txt", b"k")], created_by="COPY . /")
    builder.add_layer([Entry.opaque("app"), Entry.file("app/new.txt", b"new"),
                       Entry.whiteout("keep.txt")], created_by="RUN swap")
    builder.add_layer([Entry.file("app/old.txt", b"back")], created_by="RUN restore")
    host = Host(tmp_path / "home")
    store_built_image(host.store, builder.build(), ["docker.io/library/opaque:1"])
    shown = explorer(host)
    shown.layer.value = 2
    assert sorted(f.line() for f in shown.files) == ["A /app/new.txt", "C /app", "D /app/*",
                                                     "D /keep.txt"]
    shown.layer.value = 3
    assert "A /app/old.txt" in [f.line() for f in shown.files]  # the opaque layer hid it


def test_refresh_sees_images_added_later_and_an_empty_store_says_so(tmp_path):
    host = Host(tmp_path / "home")
    shown = explorer(host)
    assert shown.image.options == () and shown.layers == []
    assert repr(shown) == "Image explorer: no images in the store yet"
    assert "No images" in shown.summary.value
    store_built_image(host.store, built()[0], ["docker.io/library/alpine:3.20"])
    shown.refresh()
    assert shown.image.value == built()[0].id and len(shown.layers) == 1
    store_built_image(host.store, built()[2], [])               # dangling: no name
    shown.refresh()
    assert shown.image.value == built()[0].id                   # the choice is kept
    assert shown.image.options[-1][0] == f"<none>:<none> ({digests.short(built()[2].id)})"
