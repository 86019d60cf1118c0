"""Offline bundles: ``save`` writes an OCI layout in a tar, ``load`` checks every byte of it."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile

import pytest
from classroomhelpers import cli

import imgkit
from imgkit import digest as digests
from imgkit.api import Host
from imgkit.api.bundle import BundleError

FULL = {"alpine:3.20": "docker.io/library/alpine:3.20", "redis:7.2": "docker.io/library/redis:7.2"}


def _members(path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() if m.isfile() else b"" for m in tar}


def _snapshot(home):
    records = Host(home).store.records()
    return {ref: image for ref, image in records.references.items() if "@" not in ref}


def test_save_writes_an_oci_layout_with_dockers_manifest_json(course_tar, filled_home):
    members = _members(course_tar)
    assert members["oci-layout"] == b'{"imageLayoutVersion":"1.0.0"}'
    index = json.loads(members["index.json"])
    names = [d["annotations"]["org.opencontainers.image.ref.name"] for d in index["manifests"]]
    assert names == sorted(FULL.values())
    docker = json.loads(members["manifest.json"])
    assert [item["RepoTags"] for item in docker] == [["alpine:3.20"], ["redis:7.2"]]
    records = Host(filled_home).store.records()
    for item in docker:
        image_id = records.references[FULL[item["RepoTags"][0]]]
        assert item["Config"] == f"blobs/sha256/{image_id[7:]}"
        for path in [item["Config"], *item["Layers"]]:
            assert digests.compute(members[path]) == "sha256:" + path.rsplit("/", 1)[1]
    # alpine's layer is redis's bottom layer: stored once.
    blobs = [name for name in members if name.startswith("blobs/sha256/") and name[13:]]
    assert len(blobs) == len(set(blobs)) == 8


def test_the_same_images_give_the_same_bytes(course_tar, filled_home, tmp_path):
    again = imgkit.save("redis:7.2", "alpine:3.20", output=tmp_path / "again.tar",
                        host=Host(filled_home))
    assert again.blobs == 8 and again.size == course_tar.stat().st_size
    assert hashlib.sha256((tmp_path / "again.tar").read_bytes()).digest() == \
        hashlib.sha256(course_tar.read_bytes()).digest()
    with tarfile.open(course_tar) as tar:
        assert all(m.mtime == 0 and m.uid == 0 and m.gid == 0 for m in tar)
        names = tar.getnames()
    assert names == sorted(names)


def test_load_round_trip_keeps_ids_tags_and_shared_layers(course_tar, filled_home, tmp_path):
    result = imgkit.load(course_tar, host=Host(tmp_path / "home"))
    assert result.lines == ["Loaded image: alpine:3.20", "Loaded image: redis:7.2"]
    assert _snapshot(tmp_path / "home") == {ref: image for ref, image in
                                            _snapshot(filled_home).items() if ref in FULL.values()}
    records = Host(tmp_path / "home").store.records()
    users = records.layer_users()
    assert sorted(len(ids) for ids in users.values()) == [1, 1, 1, 2]     # alpine's layer is shared
    assert imgkit.fsck(host=Host(tmp_path / "home")).clean


def test_a_bare_repository_name_saves_every_tag_and_an_id_saves_no_tag(filled_home, tmp_path):
    host = Host(filled_home)
    busybox = host.store.records().references["docker.io/library/busybox:latest"]
    imgkit.save("alpine", busybox[7:19], output=tmp_path / "b.tar", host=host)
    lines = imgkit.load(tmp_path / "b.tar", host=Host(tmp_path / "h")).lines
    assert lines == ["Loaded image: alpine:3.20", f"Loaded image ID: {busybox}"]


def test_load_moves_a_tag_as_docker_says(course_tar, tmp_path):
    host = Host(tmp_path / "home")
    imgkit.load(course_tar, host=host)
    imgkit.tag("redis:7.2", "alpine:3.20", host=host)
    old = host.store.records().references["docker.io/library/alpine:3.20"]
    lines = imgkit.load(course_tar, host=host).lines
    assert lines[0] == (f"The image alpine:3.20 already exists, renaming the old one with ID "
                        f"{old} to empty string")


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
def test_skopeo_reads_the_archive(course_tar, filled_home):
    out = subprocess.run(["skopeo", "inspect", f"oci-archive:{course_tar}:docker.io/library/redis:7.2"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    records = Host(filled_home).store.records()
    redis = records.images[records.references["docker.io/library/redis:7.2"]]
    assert json.loads(out.stdout)["Digest"] == redis.manifest_digest


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
def test_load_reads_what_skopeo_writes(course_tar, tmp_path):
    out = tmp_path / "skopeo.tar"
    copied = subprocess.run(["skopeo", "copy", f"oci-archive:{course_tar}:docker.io/library/alpine:3.20",
                             f"oci-archive:{out}:alpine:3.20"], capture_output=True, text=True,
                            timeout=60)
    assert copied.returncode == 0, copied.stderr
    assert imgkit.load(out, host=Host(tmp_path / "h")).lines == ["Loaded image: alpine:3.20"]


def test_load_reads_an_archive_of_docker_save_before_docker_25(filled_home, tmp_path):
    # Old `docker save`: no index.json, only manifest.json, layers as plain tars.
    host = Host(filled_home)
    records = host.store.records()
    image = records.images[records.references["docker.io/library/redis:7.2"]]
    config = host.store.blobs.read(image.id)
    archive = tmp_path / "old.tar"
    with tarfile.open(archive, "w") as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add(f"{image.id[7:]}.json", config)
        layers = []
        for position, blob in enumerate(image.blobs):
            add(f"layer{position}/layer.tar", gzip.decompress(host.store.blobs.read(blob)))
            layers.append(f"layer{position}/layer.tar")
        add("manifest.json", json.dumps([{"Config": f"{image.id[7:]}.json",
                                          "RepoTags": ["redis:7.2"], "Layers": layers}]).encode())
    loaded = imgkit.load(archive, host=Host(tmp_path / "h"))
    assert loaded.lines == ["Loaded image: redis:7.2"] and loaded.images[0][0] == image.id


def _damaged(course_tar, tmp_path, what: str, host):
    data = bytearray(course_tar.read_bytes())
    with tarfile.open(course_tar) as tar:
        # The biggest blob the store lacks (one it has is not read again, as with Docker).
        biggest = max((m for m in tar if m.isfile() and m.name.startswith("blobs/") and
                       not host.store.blobs.has("sha256:" + m.name[13:])), key=lambda m: m.size)
    if what == "flip":
        data[biggest.offset_data + biggest.size // 2] ^= 0xFF
    elif what == "cut":
        del data[biggest.offset_data + 1000:]
    path = tmp_path / f"{what}.tar"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("what, message", [
    ("flip", r"invalid image archive .*flip\.tar: layer digest mismatch"),
    ("cut", r"(damaged|cut short|not a tar)"),
])
def test_a_damaged_archive_is_refused_and_nothing_is_recorded(course_tar, tmp_path, what, message):
    host = Host(tmp_path / "home")
    imgkit.load(course_tar, host=host)          # a store that has something already
    imgkit.rmi("redis:7.2", host=host)
    before = (host.store.records(), sorted(host.store.blobs))
    with pytest.raises(BundleError, match=message) as refused:
        imgkit.load(_damaged(course_tar, tmp_path, what, host), host=host)
    assert "\n" not in str(refused.value)
    assert (host.store.records(), sorted(host.store.blobs)) == before
    assert not host.store.blobs.partials()


def test_what_is_not_an_image_archive_says_so(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a tar")
    with pytest.raises(BundleError, match="is not a tar archive of images"):
        imgkit.load(junk, host=Host(tmp_path / "h"))
    empty = tmp_path / "empty.tar"
    with tarfile.open(empty, "w"):
        pass
    with pytest.raises(BundleError, match="neither index.json"):
        imgkit.load(empty, host=Host(tmp_path / "h"))
    with pytest.raises(BundleError, match="no such file"):
        imgkit.load(tmp_path / "missing.tar", host=Host(tmp_path / "h"))


def test_the_cli_saves_and_loads_as_docker_does(filled_home, tmp_path):
    cli("save", "-o", str(tmp_path / "a.tar"), "alpine:3.20", home=filled_home)
    streamed = cli("image", "save", "alpine:3.20", home=filled_home).stdout
    assert streamed == (tmp_path / "a.tar").read_bytes()
    loaded = cli("load", "-i", str(tmp_path / "a.tar"), home=tmp_path / "h")
    assert loaded.stdout == b"Loaded image: alpine:3.20\n"
    from_stdin = cli("image", "load", home=tmp_path / "h2", input=streamed)
    assert from_stdin.stdout == b"Loaded image: alpine:3.20\n"
    assert cli("load", "-q", "-i", str(tmp_path / "a.tar"), home=tmp_path / "h3").stdout == b""
    refused = cli("load", "-i", str(tmp_path / "nothing.tar"), home=tmp_path / "h", check=False)
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    missing = cli("save", "-o", str(tmp_path / "x.tar"), "nope:1", home=filled_home, check=False)
    assert missing.stderr == b"No such image: nope:1\n" and not (tmp_path / "x.tar").exists()
