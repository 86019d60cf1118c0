"""Containers: a private copy of the image's files, commit as one new layer, real runs."""

from __future__ import annotations

import io
import json
import platform
import subprocess
import sys
import tarfile

import pytest

from imgkit.api import Host
from imgkit.api.containers import (
    NoSuchContainerError,
    commit,
    container_rootfs,
    cp,
    create,
    export,
    ps,
    rm,
    start,
    stop,
)
from imgkit.api.removal import rmi
from imgkit.errors import ConflictError
from imgkit.lab import recipes
from imgkit.lab.elf import GREETING
from imgkit.store import store_built_image
from imgkit.store.fsck import check

ALPINE = recipes.alpine("3.20").images[0]
HELLO = recipes.hello_world()
NOW = "2024-07-01T00:00:00Z"
x86 = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                         reason="/hello is an x86-64 program")


@pytest.fixture
def host(tmp_path):
    host = Host(tmp_path / "home")
    store_built_image(host.store, ALPINE, ["docker.io/library/alpine:latest"])
    store_built_image(host.store, HELLO, ["docker.io/library/hello-world:latest"])
    return host


def test_create_unpacks_the_image_into_a_private_root(host):
    box = create("alpine", name="box", host=host)
    root = container_rootfs(host, "box")
    assert (root / "etc/alpine-release").read_text() == "3.20.0\n"
    assert (root / "bin/sh").is_symlink()
    assert ps(all=True, host=host)[0][0] == box[:12]
    assert ps(host=host) == []                           # not running


def test_container_names_are_unique(host):
    create("alpine", name="box", host=host)
    with pytest.raises(ConflictError, match='The container name "/box" is already in use'):
        create("alpine", name="box", host=host)


@x86
def test_start_attached_really_runs_hello(host):
    create("hello-world", name="hi", host=host)
    result = start("hi", attach=True, host=host)
    assert result.ran and result.exit_code == 0 and result.output.decode() == GREETING
    row = ps(all=True, host=host)[0]
    assert row[4].startswith("Exited (0)") and row[6] == "hi" and row[2] == '"/hello"'


def test_a_stand_in_binary_fails_like_a_wrong_platform_binary(host):
    create("alpine", ["/bin/sh", "-c", "true"], name="box", host=host)
    result = start("box", attach=True, host=host)
    assert result.exit_code == 255
    assert result.output.decode().strip() == "exec /bin/sh: exec format error"


@x86
def test_a_detached_start_ends_and_records_its_exit(host):
    create("hello-world", name="hi", host=host)
    start("hi", host=host)
    for _ in range(100):
        row = ps(all=True, host=host)[0]
        if row[4].startswith("Exited"):
            break
        import time
        time.sleep(0.05)
    assert row[4].startswith("Exited (0)")
    assert (host.home / "containers").exists()


def test_running_containers_refuse_rm_unless_forced(host):
    box = create("alpine", name="box", host=host)
    with host.store.transaction() as records:
        records.containers[box].state = "running"     # as recorded where runs are impossible
    with pytest.raises(ConflictError, match='cannot remove container "/box": container is running'):
        rm("box", host=host)
    assert rmi("alpine", force=True, host=host).docker_lines() == ["Untagged: alpine:latest"]
    stop("box", host=host)
    assert ps(all=True, host=host)[0][4].startswith("Exited (137)")
    assert rm("box", host=host) == [box]
    assert not (host.home / "containers" / box).exists()


def test_unknown_container(host):
    with pytest.raises(NoSuchContainerError, match="No such container: nope"):
        start("nope", host=host)


def test_commit_makes_one_new_layer_over_the_shared_base(host, tmp_path):
    create("alpine", name="box", host=host)
    note = tmp_path / "note.txt"
    note.write_text("made in a container\n")
    cp(note, "box:/root/", host=host)
    (container_rootfs(host, "box") / "etc/motd").unlink()
    new_id = commit("box", "myalpine:1", message="add a note", created=NOW, host=host)
    records = host.store.records()
    image = records.images[new_id]
    assert image.layers[:-1] == ALPINE.chain_ids and len(image.layers) == 2
    assert image.parent == ALPINE.id
    layer = host.store.blobs.read(records.layers[image.layers[-1]].digest)
    import gzip
    names = tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))).getnames()
    assert "root/note.txt" in names and "etc/.wh.motd" in names
    assert "tmp/" not in names                   # cp kept /tmp and friends untouched
    config = json.loads(host.store.blobs.read(new_id))
    assert config["history"][-1]["comment"] == "add a note"
    assert records.references["docker.io/library/myalpine:1"] == new_id
    again = commit("box", "myalpine:2", message="add a note", created=NOW, host=host)
    assert again == new_id                           # same change, same date: same image
    assert check(host.store).clean


def test_commit_then_rmi_of_the_base_is_refused_for_the_child(host):
    create("alpine", name="box", host=host)
    commit("box", "myalpine:1", created=NOW, host=host)
    rm("box", host=host)
    result = rmi(ALPINE.id[7:19], force=True, host=host)
    assert "image has dependent child images" in result.errors[0]


def test_export_writes_the_whole_filesystem(host, tmp_path):
    create("alpine", name="box", host=host)
    out = tmp_path / "box.tar"
    export("box", out, host=host)
    assert "etc/alpine-release" in tarfile.open(out).getnames()


def test_cli_container_commands(host, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "imgkit", "--home", str(host.home), *args],
                              capture_output=True, text=True, timeout=60)
    created = cli("create", "--name", "web", "alpine")
    assert created.returncode == 0 and len(created.stdout.strip()) == 64
    listing = cli("ps", "-a")
    assert listing.stdout.splitlines()[0].split() == [
        "CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert "web" in listing.stdout and "Created" in listing.stdout
    committed = cli("commit", "web", "snap:1")
    assert committed.returncode == 0 and committed.stdout.startswith("sha256:")
    assert cli("rm", "web").stdout.strip() == "web"
    missing = cli("rm", "web")
    assert missing.returncode == 1 and missing.stderr.strip() == "No such container: web"


def test_a_container_keeps_its_layers_after_rmi_f_and_still_starts(host):
    box = create("hello-world", name="hi", host=host)
    result = rmi("hello-world", force=True, host=host)
    # Docker's classic store: the image goes, its layer stays while a container holds it.
    assert result.docker_lines() == ["Untagged: hello-world:latest", f"Deleted: {HELLO.id}"]
    assert result.explanation()[-1] == "imgkit: kept 1 layer, 563B, still used by container hi"
    assert check(host.store).clean
    if platform.machine() in ("x86_64", "AMD64"):
        assert start("hi", attach=True, host=host).exit_code == 0
    assert rm("hi", host=host) == [box]
    records = host.store.records()
    assert records.layers == {} or HELLO.chain_ids[0] not in records.layers
    assert not host.store.blobs.has(HELLO.layers[0].digest)
    assert check(host.store).clean


def test_commit_then_graph_the_new_image_over_its_base(host, tmp_path):
    import imgkit.graph as graphs

    create("alpine", name="box", host=host)
    note = tmp_path / "note.txt"
    note.write_text("hello\n")
    cp(note, "box:/root/", host=host)
    new_id = commit("box", "noted:1", created=NOW, host=host)
    picture = graphs.stack("noted:1", host=host)
    text = picture.text()
    base = ALPINE.chain_ids[0][7:19]
    assert base in text and "noted:1" in text
    assert "alpine:latest" in text                    # the base layer is shared with alpine
    model = graphs.graph(host=host)
    assert set(model.images) == {ALPINE.id, HELLO.id, new_id}
    assert set(model.layers[ALPINE.chain_ids[0]].used_by) == {ALPINE.id, new_id}
    top = model.images[new_id].layers
    assert len(top) == 2 and top[0] == ALPINE.chain_ids[0]
    assert model.layers[top[1]].used_by == (new_id,)  # the commit's own layer
    assert "<svg" in picture.svg()
