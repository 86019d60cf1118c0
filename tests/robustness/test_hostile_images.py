"""Hostile layers through the whole path: pushed to a registry, pulled, made into containers.

The crafted tars of the unit tests (``tests/unit/test_unpack.py``'s ``HOSTILE``
table, built with ``tests/unit/hostile_layers``) are wrapped here in real
images - manifest and config written by hand, with correct digests and
diff_ids - pushed to a Distribution registry, pulled with ``imgkit.pull``
and turned into containers with ``imgkit.create``. For each:

- the pull succeeds (a layer's bytes are checked, not judged: Docker pulls
  them too) and the store stays sound;
- ``create`` either refuses with a one-line ``ImgkitError`` (and records no
  container, and leaves no container directory) or builds the root as
  Docker would (absolute names and symlinks resolved inside the root,
  setuid dropped, devices skipped);
- nothing outside the container's root changes: a sentinel directory beside
  it, a path in /tmp, the store's blobs, /etc/passwd.

A decompression bomb is stopped at ``IMGKIT_MAX_LAYER_SIZE`` (the documented
4 GiB limit, lowered here so the test is quick): by ``pull`` before it is
stored, and by ``create`` if the pull allowed more. Two hostile manifests end
the file: a chain of nested indexes, and a config that claims to be 1 GiB.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import sys
import tarfile
import uuid
import zlib
from pathlib import Path

import pytest
from robusthelpers import (
    HandImage,
    assert_one_line_error,
    hand_image,
    push_hand_image,
    run_imgkit,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "unit"))

from hostile_layers import MTIME, link, reg, tar, tree_with_times  # noqa: E402
from test_unpack import HOSTILE  # noqa: E402

from imgkit import config  # noqa: E402
from imgkit.api import Host  # noqa: E402
from imgkit.api.containers import create  # noqa: E402
from imgkit.api.pulling import pull  # noqa: E402
from imgkit.errors import ConfigError, ImgkitError, LayerTooLargeError  # noqa: E402
from imgkit.oci import mediatypes  # noqa: E402
from imgkit.oci.canonical import dumps  # noqa: E402
from imgkit.registry import RegistryClient  # noqa: E402
from imgkit.store.fsck import check  # noqa: E402
from imgkit.unpack import Limits  # noqa: E402

pytestmark = pytest.mark.registry

# Cases that only make sense whole: the layer aims at imgkit's own store.
STORE_CASES = {
    "symlink-into-the-store": lambda home: [tar(link("s", str(home / "store" / "blobs")),
                                                reg("s/sha256/evil", b"pwned"))],
    "absolute-name-of-a-store-file": lambda home: [tar(reg(str(home / "store" / "imgkit.json")
                                                           .lstrip("/"), b"{}"))],
    "dotdot-to-the-records": lambda home: [tar(reg("../../../store/imgkit.json", b"{}"))],
}
BOMB_SIZE = 64 << 20            # 64 MiB of zeros, about 64 kB compressed
LIMIT = "16MiB"

#: Hostile inputs pushed through pull and create: the unit table, the store cases, the bomb.
HOSTILE_INPUT_COUNT = 57


def test_the_hostile_inputs_are_counted():
    assert len(HOSTILE) + len(STORE_CASES) + 1 == HOSTILE_INPUT_COUNT


@pytest.fixture(scope="module")
def client(scratch_registry):
    with RegistryClient(scratch_registry.address) as c:
        yield c


def _repository(case: str) -> str:
    return "hostile/" + "".join(ch if ch.isalnum() else "-" for ch in case.lower())


def _push(client, case: str, tars: list[bytes]) -> str:
    image = hand_image(tars, case)
    repository = f"{_repository(case)}-{uuid.uuid4().hex[:8]}"     # paths differ per run
    push_hand_image(client, repository, image, "v1")
    return f"{client.domain}/{repository}:v1"


def _passwd():
    if not os.path.exists("/etc/passwd"):
        return None
    info = os.stat("/etc/passwd")
    return info.st_ino, info.st_nlink, info.st_mtime_ns, info.st_size


def _no_special_files(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            mode = os.lstat(os.path.join(dirpath, name)).st_mode
            assert stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode), name


def _create_and_judge(host: Host, reference: str, box: Path, outside: str, expected) -> None:
    store = host.store
    before_box = tree_with_times(box)
    before_blobs = tree_with_times(store.blobs.directory)
    passwd = _passwd()
    records_before = store.records()
    try:
        if isinstance(expected, tuple):
            with pytest.raises(expected[0]) as caught:
                create(reference, host=host)
            message = str(caught.value)
            assert expected[1] in message and "\n" not in message
            assert isinstance(caught.value, ImgkitError)
            assert store.records().containers == records_before.containers
            containers = host.home / "containers"
            assert not containers.exists() or not os.listdir(containers)
        else:
            container_id = create(reference, host=host)
            root = host.home / "containers" / container_id / "rootfs"
            if expected.__qualname__.startswith("_skipped"):
                _no_special_files(root)      # devices and FIFOs are skipped, as Docker-in-userns
            else:
                assert expected(root, None, box / "sentinel", outside) is not False
    finally:
        assert tree_with_times(box) == before_box
        assert tree_with_times(store.blobs.directory) == before_blobs
        assert not os.path.lexists(outside)
        assert _passwd() == passwd
    assert check(store).clean


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_layer_pulled_and_created(case, client, tmp_path):
    box = tmp_path / "box"
    sentinel = box / "sentinel"
    (sentinel / "sub").mkdir(parents=True)
    (sentinel / "secret").write_bytes(b"keep me\n")
    (sentinel / "sub" / "file").write_bytes(b"keep me too\n")
    outside = f"/tmp/imgkit-outside-{uuid.uuid4().hex}"
    make_layers, expected = HOSTILE[case]
    reference = _push(client, case, make_layers(sentinel, outside))
    host = Host(tmp_path / "home")
    pull(reference, host=host)
    assert check(host.store).clean
    _create_and_judge(host, reference, box, outside, expected)


def _landed_inside(root, stats, sentinel, outside):
    landed = [p for p in Path(root).rglob("*") if p.is_file() and not p.is_symlink()]
    assert landed and all(p.resolve().is_relative_to(Path(root).resolve()) for p in landed)


STORE_EXPECTED = {"symlink-into-the-store": _landed_inside,
                  "absolute-name-of-a-store-file": _landed_inside,
                  "dotdot-to-the-records": (ImgkitError, "outside the root")}


@pytest.mark.parametrize("case", sorted(STORE_CASES))
def test_layers_aimed_at_imgkits_own_store(case, client, tmp_path):
    home = tmp_path / "home"
    host = Host(home)
    reference = _push(client, case, STORE_CASES[case](home))
    pull(reference, host=host)
    box = tmp_path / "box"
    box.mkdir()
    _create_and_judge(host, reference, box, f"/tmp/imgkit-outside-{uuid.uuid4().hex}",
                      STORE_EXPECTED[case])
    assert not (home / "store" / "blobs" / "sha256" / "evil").exists()
    assert host.store.records().images        # the real records were not replaced by "{}"


# -- a decompression bomb ---------------------------------------------------------------------

def _bomb(size: int) -> tuple[bytes, str]:
    """A gzip'd tar of one file of ``size`` zeros, and its diff_id (made piece by piece)."""
    info = tarfile.TarInfo("zeros")
    info.size, info.mtime = size, MTIME
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    diff = hashlib.sha256()
    out = []
    zeros = bytes(1 << 20)
    pieces = [info.tobuf(tarfile.USTAR_FORMAT)] + [zeros] * (size >> 20) + \
        [bytes(-size % 512 + 1024)]
    for piece in pieces:
        diff.update(piece)
        out.append(compressor.compress(piece))
    out.append(compressor.flush())
    return b"".join(out), f"sha256:{diff.hexdigest()}"


@pytest.fixture(scope="module")
def bomb(client):
    blob, diff_id = _bomb(BOMB_SIZE)
    image = _wrap([(blob, f"sha256:{hashlib.sha256(blob).hexdigest()}", diff_id)], "bomb")
    push_hand_image(client, "hostile/bomb", image, "v1")
    return f"{client.domain}/hostile/bomb:v1", len(blob)


def _wrap(layers: list[tuple[bytes, str, str]], label: str) -> HandImage:
    """Write config and manifest for layers given as (gzip blob, digest, diff_id)."""
    config_doc = dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"case": label}},
                        "rootfs": {"type": "layers", "diff_ids": [d for _, _, d in layers]}})
    manifest = dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
                      "config": {"mediaType": mediatypes.OCI_CONFIG,
                                 "digest": f"sha256:{hashlib.sha256(config_doc).hexdigest()}",
                                 "size": len(config_doc)},
                      "layers": [{"mediaType": mediatypes.OCI_LAYER_GZIP, "digest": d,
                                  "size": len(b)} for b, d, _ in layers]})
    return HandImage(layers, config_doc, manifest)


def test_the_documented_limit_is_4_gib():
    assert config.DEFAULT_MAX_LAYER_SIZE == Limits().max_bytes == 4 << 30


def test_a_bomb_is_refused_by_pull_at_the_limit(bomb, tmp_path):
    reference, compressed = bomb
    assert compressed < BOMB_SIZE // 500                # a real bomb: 500 times and more
    home = tmp_path / "home"
    done = run_imgkit(home, "pull", reference, IMGKIT_MAX_LAYER_SIZE=LIMIT)
    assert done.returncode == 1
    line = assert_one_line_error(done.stderr)
    assert "decompression bomb" in line and f"max_bytes={16 << 20}" in line
    store = Host(home).store
    assert not store.records().images
    assert not [n for n in os.listdir(store.blobs.directory) if n.startswith(".")]
    assert len(os.listdir(store.blobs.directory)) == 0       # not even the config or manifest


def test_a_bomb_pulled_under_a_higher_limit_is_refused_by_create(bomb, tmp_path, monkeypatch):
    reference, _ = bomb
    home = tmp_path / "home"
    pull(reference, host=Host(home))                 # the default limit: 4 GiB
    monkeypatch.setenv("IMGKIT_MAX_LAYER_SIZE", LIMIT)
    with pytest.raises(LayerTooLargeError, match=f"max_bytes={16 << 20}"):
        create(reference, host=Host(home))
    assert not Host(home).store.records().containers
    containers = home / "containers"
    assert not containers.exists() or not os.listdir(containers)
    done = run_imgkit(home, "create", reference, IMGKIT_MAX_LAYER_SIZE=LIMIT)
    assert done.returncode == 1
    assert "decompression bomb" in assert_one_line_error(done.stderr)


def test_the_layer_limit_setting(monkeypatch, tmp_path):
    for value, size in (("", 4 << 30), ("1000", 1000), ("16MiB", 16 << 20), ("2 GiB", 2 << 30),
                        ("512k", 512 << 10)):
        monkeypatch.setenv("IMGKIT_MAX_LAYER_SIZE", value)
        assert config.max_layer_size() == size == Host(tmp_path).layer_limits().max_bytes \
            == Host(tmp_path).max_layer_size
    for value in ("lots", "-5", "12XB", "0", "²", "1.5GiB"):
        monkeypatch.setenv("IMGKIT_MAX_LAYER_SIZE", value)
        with pytest.raises(ConfigError, match="IMGKIT_MAX_LAYER_SIZE must be"):
            config.max_layer_size()


def test_a_bad_layer_limit_is_one_line_before_any_download(tmp_path):
    done = run_imgkit(tmp_path / "home", "pull", "127.0.0.1:1/x", IMGKIT_MAX_LAYER_SIZE="lots")
    assert done.returncode == 1
    assert "IMGKIT_MAX_LAYER_SIZE must be" in assert_one_line_error(done.stderr)


@pytest.mark.parametrize("case", ["dotdot", "hardlink-etc-passwd", "symlink-loop"])
def test_the_create_command_refuses_in_one_line(case, client, tmp_path):
    box = tmp_path / "box"
    (box / "sentinel").mkdir(parents=True)
    make_layers, (_, text) = HOSTILE[case]
    reference = _push(client, case, make_layers(box / "sentinel", "/tmp/imgkit-unused"))
    home = tmp_path / "home"
    pull(reference, host=Host(home))
    done = run_imgkit(home, "create", reference)
    assert done.returncode == 1
    assert text in assert_one_line_error(done.stderr)
    shutil.rmtree(box)


# -- hostile manifests -----------------------------------------------------------------------

def test_a_chain_of_nested_indexes_is_not_followed_forever(client, tmp_path):
    image = hand_image([tar(reg("ok", b"fine"))], "nested")
    push_hand_image(client, "hostile/nested", image, "leaf")
    child = {"mediaType": mediatypes.OCI_MANIFEST, "digest": image.digest,
             "size": len(image.manifest), "platform": {"os": "linux", "architecture": "amd64"}}
    for level in range(6):
        index = dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": [child]})
        client.put_manifest("hostile/nested", f"level{level}", index, mediatypes.OCI_INDEX)
        child = {"mediaType": mediatypes.OCI_INDEX,
                 "digest": f"sha256:{hashlib.sha256(index).hexdigest()}", "size": len(index),
                 "platform": {"os": "linux", "architecture": "amd64"}}
    host = Host(tmp_path / "home")
    assert pull(f"{client.domain}/hostile/nested:level1", host=host).image_id == image.id
    with pytest.raises(ImgkitError, match="nested more than 4 deep"):
        pull(f"{client.domain}/hostile/nested:level5", host=host)


def test_a_config_claiming_to_be_huge_is_refused_before_it_is_fetched(client, tmp_path):
    image = hand_image([tar(reg("ok", b"fine"))], "huge-config")
    manifest = json.loads(image.manifest)
    manifest["config"]["size"] = 1 << 30
    push_hand_image(client, "hostile/huge-config", image, "honest")
    data = dumps(manifest)
    client.put_manifest("hostile/huge-config", "v1", data, mediatypes.OCI_MANIFEST)
    home = tmp_path / "home"
    done = run_imgkit(home, "pull", f"{client.domain}/hostile/huge-config:v1")
    assert done.returncode == 1
    assert "more than the 8 MiB imgkit accepts" in assert_one_line_error(done.stderr)
    assert not Host(home).store.records().images
