"""rmi follows Docker's rules and words, and says which layers it freed and kept."""

from __future__ import annotations

import pytest
from removal_images import ALPINE, ALPINE_INDEX_DIGEST, PYTHON, REDIS, add_container, full

from imgkit import digest
from imgkit.api.removal import rmi
from imgkit.lab import recipes
from imgkit.store import store_built_image
from imgkit.store.fsck import check

SHORT = digest.short(ALPINE.id)


def test_untagging_one_of_two_tags_keeps_the_image(host):
    result = rmi("alpine:latest", host=host)
    assert result.docker_lines() == ["Untagged: alpine:latest"]
    assert ALPINE.id in host.store.records().images
    assert result.layers == []


def test_the_last_tag_takes_the_digest_reference_and_the_image_but_not_the_shared_layer(host):
    rmi("alpine:3.20", host=host)
    result = rmi("alpine", host=host)
    assert result.docker_lines() == [
        "Untagged: alpine:latest",
        f"Untagged: alpine@{ALPINE_INDEX_DIGEST}",
        f"Deleted: {ALPINE.id}",
    ]
    assert result.explanation() == [
        "imgkit: freed 0 layers, 0B",
        "imgkit: kept 1 layer, 3.46MB, still used by python:3.12-alpine, redis:latest"]
    records = host.store.records()
    assert ALPINE.id not in records.images and ALPINE.chain_ids[0] in records.layers
    assert check(host.store).clean


def test_layers_go_top_down_and_stop_at_the_first_shared_one(host):
    result = rmi("redis", host=host)
    assert result.docker_lines() == [
        "Untagged: redis:latest",
        f"Deleted: {REDIS.id}",
        *[f"Deleted: {c}" for c in reversed(REDIS.chain_ids[1:])],
    ]
    assert [o.freed for o in result.layers] == [True, True, True, False]
    for layer in REDIS.layers[1:]:
        assert not host.store.blobs.has(layer.digest)
    assert host.store.blobs.has(REDIS.layers[0].digest)
    assert check(host.store).clean and check(host.store).garbage == []


def test_by_id_with_tags_in_several_repositories_must_be_forced(host):
    with host.store.transaction() as records:
        records.references[full("myalpine:1")] = ALPINE.id
    result = rmi(ALPINE.id[7:19], host=host)
    assert result.errors == [f"conflict: unable to delete {SHORT} (must be forced) - "
                             "image is referenced in multiple repositories"]
    forced = rmi(ALPINE.id[7:19], force=True, host=host)
    # moby sorts an image's references by their full string: ':' sorts before '@'.
    assert forced.docker_lines()[:4] == [
        "Untagged: alpine:3.20", "Untagged: alpine:latest",
        f"Untagged: alpine@{ALPINE_INDEX_DIGEST}", "Untagged: myalpine:1"]
    assert forced.docker_lines()[-1] == f"Deleted: {ALPINE.id}"


def test_by_id_with_two_tags_of_one_repository_must_be_forced_too(host):
    result = rmi(SHORT, host=host)
    assert result.errors == [f"conflict: unable to delete {SHORT} (must be forced) - "
                             "image is referenced in multiple repositories"]


def test_by_id_with_one_tag_untags_and_deletes(host):
    result = rmi(digest.short(PYTHON.id), host=host)
    assert result.docker_lines()[:2] == ["Untagged: python:3.12-alpine", f"Deleted: {PYTHON.id}"]


def test_a_stopped_container_blocks_removal_unless_forced(host):
    box = add_container(host, PYTHON.id, "exited")
    by_name = rmi("python:3.12-alpine", host=host)
    assert by_name.errors == [
        'conflict: unable to remove repository reference "python:3.12-alpine" (must force) - '
        f"container {box[:12]} is using its referenced image {digest.short(PYTHON.id)}"]
    by_id = rmi(digest.short(PYTHON.id), host=host)
    assert by_id.errors == [f"conflict: unable to delete {digest.short(PYTHON.id)} (must be "
                            f"forced) - image is being used by stopped container {box[:12]}"]
    forced = rmi(digest.short(PYTHON.id), force=True, host=host)
    assert forced.errors == [] and f"Deleted: {PYTHON.id}" in forced.docker_lines()


def test_a_running_container_cannot_be_forced_but_force_by_name_untags(host):
    box = add_container(host, PYTHON.id, "running")
    by_id = rmi(digest.short(PYTHON.id), force=True, host=host)
    assert by_id.errors == [f"conflict: unable to delete {digest.short(PYTHON.id)} (cannot be "
                            f"forced) - image is being used by running container {box[:12]}"]
    by_name = rmi("python:3.12-alpine", force=True, host=host)
    assert by_name.docker_lines() == ["Untagged: python:3.12-alpine"]
    assert PYTHON.id in host.store.records().images


def test_a_parent_with_a_child_image_cannot_be_deleted(host):
    child = recipes.hello_world()
    store_built_image(host.store, child, [full("child:1")], parent=PYTHON.id)
    result = rmi(digest.short(PYTHON.id), force=True, host=host)
    assert result.errors == [f"conflict: unable to delete {digest.short(PYTHON.id)} (cannot be "
                             "forced) - image has dependent child images"]


def test_removing_a_child_prunes_its_untagged_parent(host):
    child = recipes.hello_world()
    store_built_image(host.store, child, [full("child:1")], parent=PYTHON.id)
    rmi("python:3.12-alpine", host=host)               # parent now untagged, kept for the child
    assert PYTHON.id in host.store.records().images
    result = rmi("child:1", host=host)
    assert f"Deleted: {PYTHON.id}" in result.docker_lines()


def test_every_id_twice_with_force_deletes_once_and_reports_the_second(host):
    ids = [digest.short(i) for i in (PYTHON.id, PYTHON.id)]
    result = rmi(*ids, force=True, host=host)
    assert result.errors == [f"No such image: {ids[1]}:latest"]
    assert result.missing_only


def test_unknown_names_and_bad_names(host):
    assert rmi("nope", host=host).errors == ["No such image: nope:latest"]
    assert rmi("abc123", host=host).errors == ["No such image: abc123:latest"]
    bad = rmi("Nope", host=host)
    assert bad.errors and "invalid reference format" in bad.errors[0] and not bad.missing_only


def test_dry_run_explains_without_deleting(host):
    before = host.store.records()
    result = rmi("redis", dry_run=True, host=host)
    assert result.dry_run and len(result.freed) == 3 and len(result.kept) == 1
    assert result.lines()[0] == "(dry run: nothing was deleted)"
    assert "imgkit: would free 3 layers" in result.explanation()[0]
    assert host.store.records() == before


@pytest.mark.parametrize("args", [("redis", "python:3.12-alpine"), ("python:3.12-alpine", "redis")])
def test_several_arguments_release_the_shared_layer_only_with_the_last_user(host, args):
    rmi("alpine:3.20", "alpine:latest", host=host)
    result = rmi(*args, host=host)
    assert result.docker_lines()[-1] == f"Deleted: {ALPINE.chain_ids[0]}"
    assert host.store.records().layers == {}
    assert list(host.store.blobs) == []
