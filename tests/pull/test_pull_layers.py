"""The layer stage of a pull: ordering, shared and repeated blobs, configs that lie."""

from __future__ import annotations

import threading

import pytest
from pullhelpers import push_built, seeded, small_image

from imgkit import digest as digests
from imgkit.api import Host
from imgkit.api.pulling import pull
from imgkit.api.pulllayers import finishing_order
from imgkit.build import BuiltImage, ImageBuilder
from imgkit.errors import DigestMismatchError, ManifestError
from imgkit.oci import canonical, mediatypes
from imgkit.registry import RegistryClient, push_image
from imgkit.tarlayer import Entry, Layer


@pytest.mark.parametrize("sizes,slots,order", [
    ([], 3, []),
    ([5], 3, [0]),
    ([1_000_000, 359, 279], 3, [2, 1, 0]),
    ([1_699_949, 359, 1_140_374, 279], 3, [1, 3, 2, 0]),    # the 4th starts when the 2nd ends
    ([10, 10, 10], 3, [0, 1, 2]),                           # ties keep manifest order
    ([10, 1, 1, 1], 1, [0, 1, 2, 3]),                       # one at a time: manifest order
])
def test_downloads_are_reported_in_the_order_they_finish_at_equal_speed(sizes, slots, order):
    assert finishing_order(sizes, slots) == order


def relabel(built: BuiltImage, diff_ids: list[str]) -> tuple[bytes, bytes]:
    """Return (config, manifest) of ``built`` with its rootfs.diff_ids replaced."""
    config = built.config
    config["rootfs"]["diff_ids"] = diff_ids
    config_bytes = canonical.dumps(config)
    manifest = built.manifest
    manifest["config"].update(digest=digests.compute(config_bytes), size=len(config_bytes))
    return config_bytes, canonical.dumps(manifest)


def push_relabelled(client, repository, built, diff_ids) -> str:
    config_bytes, manifest_bytes = relabel(built, diff_ids)
    blobs = dict(built.blobs)
    blobs[digests.compute(config_bytes)] = config_bytes
    push_image(client, repository, "v1", blobs, manifest_bytes, mediatypes.OCI_MANIFEST)
    return f"{client.domain}/{repository}:v1"


@pytest.fixture
def spare_client(spare_registry):
    with RegistryClient(spare_registry.address) as client:
        yield client


@pytest.mark.registry
def test_a_config_whose_diff_ids_lie_is_refused_with_mobys_words(spare_client, tmp_path):
    built = small_image("lying-config")
    host = Host(tmp_path / "home")
    wrong = push_relabelled(spare_client, "test/lying", built,
                            [built.diff_ids[0], digests.compute(b"something else")])
    with pytest.raises(DigestMismatchError, match="^layers from manifest don't match image "
                                                   "configuration: layer "):
        pull(wrong, host=host)
    short = push_relabelled(spare_client, "test/short", built, built.diff_ids[:1])
    with pytest.raises(ManifestError, match="^layers from manifest don't match image "
                                            "configuration: the manifest has 2 layers"):
        pull(short, host=host)
    assert host.store.records().images == {}
    assert list(host.store.blobs) == [] and host.store.blobs.partials() == []


@pytest.mark.registry
def test_a_blob_listed_twice_is_downloaded_once_and_shown_once(spare_client, tmp_path):
    twice = Layer.from_entries([Entry.file("same.bin", seeded("twice", 50_000))])
    built = (ImageBuilder().add_layer(twice, created_by="COPY same.bin /")
             .add_layer([Entry.file("other.bin", b"other")], created_by="COPY other.bin /")
             .add_layer(twice, created_by="COPY same.bin /").build())
    push_built(spare_client, "test/twice", built, "v1")
    result = pull(f"{spare_client.domain}/test/twice:v1", host=Host(tmp_path / "home"))
    x, y = digests.short(built.layers[0].digest), digests.short(built.layers[1].digest)
    assert [line for line in result.lines if ": " in line and line[:12] in (x, y)] == [
        f"{x}: Pulling fs layer", f"{y}: Pulling fs layer",
        f"{y}: Verifying Checksum", f"{y}: Download complete",
        f"{x}: Verifying Checksum", f"{x}: Download complete",
        f"{x}: Pull complete", f"{y}: Pull complete"]
    assert result.downloaded_bytes == len(built.layers[0].blob) + len(built.layers[1].blob)
    image = Host(tmp_path / "home").store.records().images[built.id]
    assert image.layers == built.chain_ids and len(set(image.layers)) == 3


@pytest.mark.registry
def test_a_known_layer_in_another_compression_is_fetched_again_for_the_layout(spare_client,
                                                                             tmp_path):
    # Docker would say "Already exists" (same ChainID); the OCI layout needs the very blob.
    base = [Entry.file("base.bin", seeded("base", 40_000))]
    gzip_image = ImageBuilder().add_layer(base, created_by="COPY base.bin /").build()
    zstd_image = (ImageBuilder(compression="zstd").add_layer(base, created_by="COPY base.bin /")
                  .add_layer([Entry.file("top", b"top")], created_by="COPY top /").build())
    push_built(spare_client, "test/gz", gzip_image, "v1")
    push_built(spare_client, "test/zst", zstd_image, "v1")
    host = Host(tmp_path / "home")
    pull(f"{spare_client.domain}/test/gz:v1", host=host)
    again = pull(f"{spare_client.domain}/test/zst:v1", host=host)
    assert [x.status for x in again.layers] == ["Pull complete", "Pull complete"]
    records = host.store.records()
    assert records.images[zstd_image.id].layers[0] == records.images[gzip_image.id].layers[0]
    assert host.store.blobs.has(zstd_image.layers[0].digest)
    # and a third image on the zstd base finds its layer there
    third = (ImageBuilder(compression="zstd", base=zstd_image)
             .add_layer([Entry.file("more", b"more")], created_by="COPY more /").build())
    push_built(spare_client, "test/third", third, "v1")
    statuses = [x.status for x in pull(f"{spare_client.domain}/test/third:v1", host=host).layers]
    assert statuses == ["Already exists", "Already exists", "Pull complete"]


@pytest.mark.registry
def test_the_listener_is_called_from_the_thread_that_pulls(host):
    threads = set()
    pull("busybox", host=host, listener=lambda event: threads.add(threading.current_thread()))
    assert threads == {threading.current_thread()}


class _CallLog:
    """Wrap a client's config fetch and blob opens to see which came first.

    The config fetch waits (a few seconds at most) for a layer download to
    begin: a pull that fetches the config first would wait in vain.
    """

    def __init__(self, monkeypatch, wait: float):
        self.layer_opened = threading.Event()
        self.config_after_a_layer: list[bool] = []
        get_blob, open_blob = RegistryClient.get_blob, RegistryClient.open_blob

        def logged_get_blob(client, repository, digest, *args, **kwargs):
            self.config_after_a_layer.append(self.layer_opened.wait(wait))
            return get_blob(client, repository, digest, *args, **kwargs)

        def logged_open_blob(client, *args, **kwargs):
            self.layer_opened.set()
            return open_blob(client, *args, **kwargs)

        monkeypatch.setattr(RegistryClient, "get_blob", logged_get_blob)
        monkeypatch.setattr(RegistryClient, "open_blob", logged_open_blob)


@pytest.mark.registry
def test_a_cold_pull_fetches_the_config_while_the_layers_download(spare_client, tmp_path,
                                                                   monkeypatch):
    built = small_image("config-alongside")
    push_built(spare_client, "test/alongside", built, "v1")
    calls = _CallLog(monkeypatch, wait=5)
    result = pull(f"{spare_client.domain}/test/alongside:v1", host=Host(tmp_path / "home"))
    assert calls.config_after_a_layer == [True]
    assert [x.status for x in result.layers] == ["Pull complete", "Pull complete"]


@pytest.mark.registry
def test_the_config_comes_first_when_the_bottom_layer_may_already_exist(spare_client, tmp_path,
                                                                         monkeypatch):
    base = small_image("config-first", sizes=(3000,))
    child = (ImageBuilder(base=base)
             .add_layer([Entry.file("top", b"top")], created_by="COPY top /").build())
    push_built(spare_client, "test/first-base", base, "v1")
    push_built(spare_client, "test/first-child", child, "v1")
    host = Host(tmp_path / "home")
    pull(f"{spare_client.domain}/test/first-base:v1", host=host)
    calls = _CallLog(monkeypatch, wait=0.5)
    result = pull(f"{spare_client.domain}/test/first-child:v1", host=host)
    # "Already exists" is decided by ChainID, from the config, before any download begins.
    assert calls.config_after_a_layer == [False]
    assert [x.status for x in result.layers] == ["Already exists", "Pull complete"]


@pytest.mark.registry
def test_diff_ids_of_another_algorithm_are_checked_once_the_config_is_in(spare_client, tmp_path):
    built = small_image("sha512-diff-ids")
    sha512 = [digests.compute(layer.tar, "sha512") for layer in built.layers]
    ref = push_relabelled(spare_client, "test/sha512", built, sha512)
    host = Host(tmp_path / "home")
    pull(ref, host=host)
    records = host.store.records()
    assert [records.layers[chain].diff_id for chain in records.images[next(iter(records.images))]
            .layers] == sha512
    lying = push_relabelled(spare_client, "test/sha512-lies", built,
                            [sha512[0], digests.compute(b"something else", "sha512")])
    with pytest.raises(DigestMismatchError, match="^layers from manifest don't match image "
                                                   "configuration: layer "):
        pull(lying, host=Host(tmp_path / "other"))
