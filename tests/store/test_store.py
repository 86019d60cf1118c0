"""The store: verified blobs, atomic records, a lock, Docker's look-up order."""

from __future__ import annotations

import json
import multiprocessing
import subprocess

import pytest

from imgkit import digest
from imgkit.errors import DigestMismatchError, ImageNotFoundError, InvalidReferenceError, StoreError
from imgkit.lab import recipes
from imgkit.store import Store, find_image, store_built_image

ALPINE = "docker.io/library/alpine:3.19"


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store")


@pytest.fixture
def filled(store):
    store_built_image(store, recipes.alpine("3.19"), [ALPINE])
    store_built_image(store, recipes.hello_world(), ["docker.io/library/hello-world:latest"])
    return store


def test_a_blob_is_named_only_after_its_bytes_are_checked(store):
    good = b"layer bytes"
    assert store.blobs.put(good) == digest.compute(good)
    wrong = digest.compute(b"something else")
    with pytest.raises(DigestMismatchError):
        store.blobs.put(good, wrong)
    assert not store.blobs.has(wrong)
    assert store.blobs.partials() == []


def test_an_abandoned_blob_write_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.blobs.writer(digest.compute(b"x")) as out:
            out.write(b"x")
            raise RuntimeError("interrupted")
    assert store.blobs.partials() == [] and list(store.blobs) == []


def test_a_big_blob_is_flushed_to_disk_as_it_is_written(store, monkeypatch):
    from imgkit.store import blobs

    flushed: list[int] = []
    real = blobs.os.fdatasync
    monkeypatch.setattr(blobs.os, "fdatasync", lambda fd: flushed.append(fd) or real(fd))
    piece = bytes(range(256)) * 4096                       # 1 MiB
    data = piece * (2 * blobs.WRITE_BEHIND // len(piece) + 3)
    with store.blobs.writer(digest.compute(data)) as out:
        for start in range(0, len(data), len(piece)):
            out.write(data[start:start + len(piece)])
        assert len(flushed) == 2                           # on the way, before commit
        assert out.commit() == digest.compute(data)
    assert store.blobs.read(digest.compute(data)) == data


def test_a_failed_transaction_saves_nothing(filled):
    before = (filled.root / "imgkit.json").read_bytes()
    with pytest.raises(RuntimeError):
        with filled.transaction() as records:
            records.references.clear()
            raise RuntimeError("boom")
    assert (filled.root / "imgkit.json").read_bytes() == before


def test_the_store_is_an_oci_layout_that_names_each_tag(filled):
    index = json.loads((filled.root / "index.json").read_text())
    names = {m.get("annotations", {}).get("org.opencontainers.image.ref.name")
             for m in index["manifests"]}
    assert names == {ALPINE, "docker.io/library/hello-world:latest"}
    assert json.loads((filled.root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}


def test_skopeo_reads_the_store(filled):
    out = subprocess.run(["skopeo", "inspect", f"oci:{filled.root}:{ALPINE}"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Digest"] == recipes.alpine("3.19").digest


@pytest.mark.parametrize("text", ["alpine:3.19", "docker.io/library/alpine:3.19", "IDFULL",
                                  "IDHEX", "IDSHORT", "IDPREFIX"])
def test_lookup_finds_by_name_full_id_and_id_prefix(filled, text):
    image_id = recipes.alpine("3.19").id
    text = {"IDFULL": image_id, "IDHEX": image_id[7:], "IDSHORT": image_id[7:19],
            "IDPREFIX": image_id[7:11]}.get(text, text)
    assert find_image(filled.records(), text).id == image_id


@pytest.mark.parametrize("text,message", [
    ("alpine", "No such image: alpine:latest"),
    ("abc123", "No such image: abc123:latest"),
    ("localhost:5000/x", "No such image: localhost:5000/x:latest"),
    ("sha256:" + "0" * 64, "No such image: sha256:" + "0" * 64),
])
def test_lookup_failures_use_dockers_words(filled, text, message):
    with pytest.raises(ImageNotFoundError) as caught:
        find_image(filled.records(), text)
    assert str(caught.value) == message


def test_lookup_of_a_malformed_name_is_a_reference_error(filled):
    with pytest.raises(InvalidReferenceError):
        find_image(filled.records(), "Alpine")


def test_records_refuse_an_image_whose_blobs_are_missing(store):
    built = recipes.hello_world()
    with pytest.raises(StoreError, match="is not stored"):
        with store.transaction() as records:
            from imgkit.store import add_image
            add_image(store, records, manifest=built.manifest_bytes,
                      manifest_media_type=built.media_type, config=built.config_bytes, layers=[])
    assert store.records().images == {}


def _bump(root, rounds):
    store = Store(root)
    for _ in range(rounds):
        with store.transaction() as records:
            count = int(records.references.get("counter", "0"))
            records.references["counter"] = str(count + 1)


def test_the_lock_serialises_changes_from_several_processes(tmp_path):
    root = tmp_path / "shared"
    workers = [multiprocessing.Process(target=_bump, args=(root, 25)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert Store(root).records().references["counter"] == "100"
