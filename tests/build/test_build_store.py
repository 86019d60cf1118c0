"""Storing what a build made: the ``FROM`` image's layers are taken from the records, not read again."""

from __future__ import annotations

import pytest

from imgkit.api.building import build
from imgkit.build import ImageBuilder
from imgkit.lab import recipes
from imgkit.store import Store, store_built_image
from imgkit.store.blobs import BlobStore
from imgkit.tarlayer import Entry, Layer

ALPINE = recipes.alpine("3.20").images[0]
SHARED = Layer.from_entries([Entry.file("etc/motd", "hi\n")])


@pytest.fixture
def blob_reads(monkeypatch) -> list[str]:
    """Every blob digest read or opened from any store, in order."""
    reads: list[str] = []
    read, open_ = BlobStore.read, BlobStore.open
    monkeypatch.setattr(BlobStore, "read", lambda self, digest: (reads.append(digest), read(self, digest))[1])
    monkeypatch.setattr(BlobStore, "open", lambda self, digest: (reads.append(digest), open_(self, digest))[1])
    return reads


def facts(store: Store, image_id: str) -> list[tuple]:
    records = store.records()
    return [(chain_id, records.layers[chain_id].size, records.layers[chain_id].uncompressed_size,
             records.layers[chain_id].content_size) for chain_id in records.images[image_id].layers]


def test_building_on_a_stored_base_reads_none_of_its_layers(host, context, blob_reads):
    store_built_image(host.store, ALPINE, ["docker.io/library/alpine:3.20"])
    blob_reads.clear()
    result = build(context({}, "FROM alpine:3.20\nENV A=1\nLABEL b=2\n"), host=host)
    assert not {layer.digest for layer in ALPINE.layers} & set(blob_reads)
    assert facts(host.store, result.image_id) == facts(host.store, ALPINE.id)
    assert host.store.records().images[result.image_id].size == ALPINE.size


def test_a_stored_blob_under_a_new_chain_is_measured(tmp_path):
    store = Store(tmp_path / "store")
    alone = ImageBuilder().add_layer(SHARED).build()
    on_base = ImageBuilder(base=ALPINE).add_layer(SHARED).build()
    store_built_image(store, alone, [])
    record = store_built_image(store, on_base, [])          # SHARED's blob is stored, its chain is new
    top = store.records().layers[record.layers[-1]]
    assert (top.digest, top.size, top.uncompressed_size, top.content_size) == (
        SHARED.digest, len(SHARED.blob), len(SHARED.tar), SHARED.uncompressed_size)
    bottom = ALPINE.layers[0]
    assert facts(store, on_base.id)[0][1:] == (len(bottom.blob), len(bottom.tar), bottom.uncompressed_size)


def test_a_layer_removed_meanwhile_is_stored_again(tmp_path, monkeypatch):
    store = Store(tmp_path / "store")
    base = ImageBuilder().add_layer(SHARED).build()
    store_built_image(store, base, [])
    stale = store.records()
    with store.transaction() as records:                    # what a concurrent rmi would leave
        records.images.clear()
        records.layers.clear()
    store.blobs.delete(SHARED.digest)
    real = Store.records
    calls = iter([stale])
    monkeypatch.setattr(store, "records", lambda: next(calls, None) or real(store))
    record = store_built_image(store, ImageBuilder(base=base).env("A", "1").build(), [])
    assert store.blobs.has(SHARED.digest)
    layer = store.records().layers[record.layers[0]]
    assert (layer.size, layer.uncompressed_size) == (len(SHARED.blob), len(SHARED.tar))
