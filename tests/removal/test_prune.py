"""prune removes what Docker's prune removes, name by name, and counts what it reclaimed."""

from __future__ import annotations

from removal_images import ALPINE, ALPINE_INDEX_DIGEST, PYTHON, REDIS, add_container, full

from imgkit.api.pruning import prune
from imgkit.api.removal import rmi
from imgkit.lab import recipes
from imgkit.store import store_built_image, tag
from imgkit.store.fsck import check

NEW_ALPINE = recipes.alpine_image("3.20", "amd64", 2)


def _republish(host):
    """Move alpine's tags to a new build, as a re-pull after a publish does."""
    store_built_image(host.store, NEW_ALPINE, [])
    with host.store.transaction() as records:
        for name in ("alpine:3.20", "alpine:latest"):
            tag(records, full(name), NEW_ALPINE.id)


def test_nothing_to_prune(host):
    assert prune(host=host).lines() == ["Total reclaimed space: 0B"]


def test_a_dangling_image_that_kept_its_digest_is_pruned_name_by_name(host):
    _republish(host)
    result = prune(host=host)
    assert result.lines()[:3] == [
        "Deleted Images:",
        f"untagged: alpine@{ALPINE_INDEX_DIGEST}",
        f"deleted: {ALPINE.id}",
    ]
    assert result.lines()[-1] == "Total reclaimed space: 0B"     # its layer is still used
    assert ALPINE.id not in host.store.records().images
    assert check(host.store).clean


def test_prune_all_removes_every_image_no_container_uses(host):
    add_container(host, PYTHON.id, "exited")
    result = prune(all=True, host=host)
    records = host.store.records()
    assert set(records.images) == {PYTHON.id}
    assert "untagged: redis:latest" in result.lines() and f"deleted: {REDIS.id}" in result.lines()
    freed = sum(layer.uncompressed_size for layer in REDIS.layers[1:])
    assert result.reclaimed == freed
    assert check(host.store).clean


def test_prune_all_with_a_label_filter(host):
    result = prune(all=True, filters=["label=org.opencontainers.image.title=redis"], host=host)
    assert set(host.store.records().images) == {ALPINE.id, PYTHON.id}
    assert f"deleted: {REDIS.id}" in result.lines()


def test_several_images_explain_the_final_state(host):
    result = rmi("redis", "python:3.12-alpine", host=host)
    assert result.explanation() == [
        f"imgkit: freed {len(REDIS.layers) - 1 + len(PYTHON.layers) - 1} layers, "
        + result.explanation()[0].rsplit(", ", 1)[1],
        "imgkit: kept 1 layer, 3.46MB, still used by alpine:3.20"]
    everything = rmi(ALPINE.id[7:19], force=True, host=host)
    assert all("kept" not in line for line in everything.explanation())
