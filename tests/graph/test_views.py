"""Each view over the fixed course store, against golden DOT files and text trees.

The DOT text is deterministic (IDs from digests, sorted order, no times),
so it is compared byte for byte. After a deliberate change to the look,
regenerate with ``IMGKIT_UPDATE_GOLDEN=1 pytest tests/graph`` and review
the diff of ``tests/graph/golden/``.
"""

from __future__ import annotations

import pytest

import imgkit.graph as graphs
from imgkit.api.removal import rmi

from .helpers import assert_golden, built

VIEWS = {
    "store": lambda host: graphs.graph(host=host),
    "images": lambda host: graphs.graph("redis", "python:3.12-alpine", host=host),
    "stack": lambda host: graphs.stack("redis", host=host),
    "rmi-redis": lambda host: graphs.rmi_preview("redis", host=host),
    "rmi-alpine": lambda host: graphs.rmi_preview("alpine", "alpine:3.20", host=host),
    "store-lr": lambda host: graphs.graph(host=host, rankdir="LR"),
}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_view_matches_its_golden_files(course, view):
    drawn = VIEWS[view](course)
    assert_golden(f"{view}.dot", drawn.to_dot())
    assert_golden(f"{view}.txt", drawn.text() + "\n")


def test_the_same_store_gives_the_same_text_every_time(course):
    assert graphs.graph(host=course).to_dot() == graphs.graph(host=course).to_dot()


def test_the_stack_view_says_where_else_each_layer_is_used(course):
    g = graphs.stack("redis", host=course)
    base = g.layers[built("redis:latest").chain_ids[0]]
    assert base.note == "also in alpine:3.20, python:3.12-alpine"
    assert [image.label for image in g.sorted_images()] == ["redis:latest"]
    assert g.notes == ("4 layers, SIZE 5.71MB",)


@pytest.mark.parametrize("names", [
    ("redis",), ("alpine",), ("alpine", "alpine:3.20"), ("ubuntu:22.04",),
    ("redis", "python:3.12-alpine"), ("hello-world",), ("mongo:4.2.24", "ubuntu:22.04"),
])
def test_the_rmi_preview_marks_exactly_what_rmi_dry_run_says(course, names):
    before = course.store.records()
    expected = rmi(*names, dry_run=True, host=course)
    g = graphs.rmi_preview(*names, host=course)
    freed = {o.chain_id for o in expected.layers if o.freed}
    assert {c for c, layer in g.layers.items() if layer.state == "freed"} == freed
    # A layer one image kept may be freed by the next image removed: freed wins.
    kept = {o.chain_id: o for o in expected.layers if not o.freed and o.chain_id not in freed}
    assert {c for c, layer in g.layers.items() if layer.state == "kept"} == set(kept)
    for chain_id, outcome in kept.items():
        assert g.layers[chain_id].note == "used by " + ", ".join(outcome.used_by)
    deleted = {item.deleted for item in expected.items if item.deleted in before.images}
    assert {i for i, image in g.images.items() if image.state == "deleted"} == deleted
    assert g.notes[-len(expected.explanation()) or len(g.notes):] == tuple(expected.explanation())
    assert course.store.records().to_json() == before.to_json()        # nothing was deleted


def test_the_rmi_preview_shows_an_image_that_only_loses_a_tag(course):
    g = graphs.rmi_preview("alpine", host=course)
    alpine = g.images[built("alpine:3.20").id]
    assert (alpine.state, alpine.note) == ("untagged", "alpine:latest")
    assert not any(layer.state for layer in g.layers.values())
    assert g.notes == ("Untagged: alpine:latest",)


def test_the_rmi_preview_shows_why_rmi_refuses(course):
    from imgkit.store import ContainerRecord

    redis = built("redis:latest")
    with course.store.transaction() as records:
        records.containers["c" * 64] = ContainerRecord(
            id="c" * 64, name="box", image=redis.id, image_reference="redis",
            command=["redis-server"], created="2024-07-01T00:00:00Z", state="running")
    g = graphs.rmi_preview("redis", host=course)
    assert g.notes[-1].startswith("Error: conflict: unable to remove repository reference")
    assert redis.id in g.images and not any(layer.state == "freed" for layer in g.layers.values())


def test_before_and_after_an_rmi(course):
    redis = built("redis:latest")
    comparison = graphs.before_after(lambda: rmi("redis", host=course), label="rmi redis",
                                     host=course)
    assert comparison.result.docker_lines()[0] == "Untagged: redis:latest"
    before, after = comparison.before, comparison.after
    assert before.images[redis.id].state == "removed" and redis.id not in after.images
    assert [before.layers[c].state for c in redis.chain_ids] == ["", "removed", "removed", "removed"]
    assert not any(image.state for image in after.images.values())
    assert after.layers[redis.chain_ids[0]].used_by != before.layers[redis.chain_ids[0]].used_by
    assert_golden("before-after-rmi.dot", comparison.to_dot())
    assert_golden("before-after-rmi.txt", comparison.text() + "\n")


def test_before_and_after_a_tag_shows_the_new_name(course):
    from imgkit.store import tag

    def retag():
        with course.store.transaction() as records:
            tag(records, "docker.io/library/mine:1", built("redis:latest").id)

    comparison = graphs.before_after(retag, host=course)
    changed = comparison.after.images[built("redis:latest").id]
    assert (changed.state, changed.note) == ("changed", "tags +mine:1")
    assert comparison.label == "retag"
    assert "tags changed" in comparison.text()
