"""The graph as data: layers by ChainID, edges, sharing, history steps - no drawing."""

from __future__ import annotations

import pytest

from imgkit import graph as graphs
from imgkit.graph.dot import groups
from imgkit.graph.model import Edge, instruction, step_text
from imgkit.store import add_digest_reference

from .helpers import built, full


@pytest.mark.parametrize("created_by, step", [
    ('/bin/sh -c #(nop)  CMD ["/bin/sh"]', 'CMD ["/bin/sh"]'),
    ("/bin/sh -c #(nop) ADD file:abc in / ", "ADD file:abc in /"),
    ("/bin/sh -c apk add --no-cache redis", "RUN apk add --no-cache redis"),
    ("RUN /bin/sh -c set -eux; make # buildkit", "RUN set -eux; make"),
    ("|2 RELEASE=24.04 ARCH=amd64 /bin/sh -c echo hi", "RUN echo hi"),
    ("COPY hello / # buildkit", "COPY hello /"),
    ("ENV  A=1", "ENV A=1"),
    ("", ""),
])
def test_history_steps_read_as_dockerfile_lines(created_by, step):
    assert step_text(created_by) == step


@pytest.mark.parametrize("created_by, word", [
    ("ENV REDIS_VERSION=7.2.5", "ENV"), ('/bin/sh -c #(nop)  EXPOSE 80/tcp', "EXPOSE"),
    ("EXPOSE map[6379/tcp:{}]", "EXPOSE"), ("/bin/sh -c groupadd -r x", "RUN"),
    ("something odd", "RUN"),
])
def test_the_instruction_of_a_step(created_by, word):
    assert instruction(created_by) == word


def test_layers_are_keyed_by_chain_id_and_images_by_id(course):
    g = graphs.graph(host=course)
    records = course.store.records()
    assert set(g.images) == set(records.images)
    assert set(g.layers) == {c for image in records.images.values() for c in image.layers}
    redis = built("redis:latest")
    assert g.images[redis.id].layers == tuple(redis.chain_ids)
    assert g.images[redis.id].names == ("redis:latest",)
    assert g.images[redis.id].size == records.images[redis.id].size
    assert g.find("redis").id == redis.id and g.find(redis.id[7:19]).id == redis.id
    assert g.find("alpine:3.20") is g.find("alpine")


def test_edges_go_up_the_stack_and_from_each_image_to_its_top_layer(course):
    g = graphs.graph(host=course)
    redis, alpine = built("redis:latest"), built("alpine:3.20")
    chain = redis.chain_ids
    edges = set(g.edges())
    for lower, upper in zip(chain[:-1], chain[1:], strict=True):
        assert Edge(f"layer:{lower}", f"layer:{upper}", "stacked") in edges
    assert Edge(f"image:{redis.id}", f"layer:{chain[-1]}", "top") in edges
    assert Edge(f"image:{alpine.id}", f"layer:{chain[0]}", "top") in edges
    assert len([e for e in edges if e.kind == "top"]) == 6
    # Images sharing a base form a tree: one root per base.
    assert [root.chain_id for root in g.roots()] == [
        chain[0], built("hello-world:latest").chain_ids[0], built("ubuntu:22.04").chain_ids[0]]
    assert g.edges() == sorted(g.edges())


def test_shared_layers_say_how_many_images_use_them(course):
    g = graphs.graph(host=course)
    shared = {layer.chain_id: len(layer.used_by) for layer in g.shared_layers()}
    assert shared == {built("alpine:3.20").chain_ids[0]: 3, built("ubuntu:22.04").chain_ids[0]: 2}
    # A layer shared with images left out of the picture is still shared.
    only_redis = graphs.graph("redis", host=course)
    base = only_redis.layers[built("alpine:3.20").chain_ids[0]]
    assert base.shared and len(base.used_by) == 3


def test_each_layer_carries_the_step_that_made_it_and_images_their_metadata(course):
    g = graphs.graph(host=course)
    redis = built("redis:latest")
    steps = [g.layers[c].step for c in redis.chain_ids]
    assert steps[0].startswith("ADD alpine-minirootfs-3.20.0-x86_64.tar.gz /")
    assert steps[1].startswith("RUN addgroup -S -g 1000 redis")
    assert steps[3] == "COPY docker-entrypoint.sh /usr/local/bin/"
    assert [g.layers[c].size for c in redis.chain_ids] == [
        course.store.records().layers[c].content_size for c in redis.chain_ids]
    # ENV, EXPOSE, CMD ... made no layer: they are listed on the image instead.
    assert g.images[redis.id].metadata == ("LABEL", "CMD", "ENV", "VOLUME", "WORKDIR",
                                           "ENTRYPOINT", "EXPOSE")


def test_chosen_images_bring_all_their_layers_and_nothing_else(course):
    g = graphs.graph("redis", "python:3.12-alpine", "redis:latest", host=course)
    assert sorted(image.label for image in g.sorted_images()) == ["python:3.12-alpine", "redis:latest"]
    assert len(g.layers) == 7
    assert g.notes == ("2 images, 7 layers, 1 shared",)
    with pytest.raises(LookupError, match="No such image: nope:latest"):
        graphs.graph("nope", host=course)


def test_runs_of_unshared_layers_are_drawn_as_one_box(course):
    g = graphs.graph(host=course)
    runs = {tuple(layer.chain_id for layer in run) for run in groups(g)}
    redis, mongo = built("redis:latest"), built("mongo:4.2.24")
    assert tuple(redis.chain_ids[1:]) in runs
    assert (redis.chain_ids[0],) in runs
    assert tuple(mongo.chain_ids[1:]) in runs
    assert len(runs) == 6


def test_images_without_tags_show_as_docker_shows_them(course):
    hello = built("hello-world:latest")
    with course.store.transaction() as records:
        del records.references[full("hello-world:latest")]
        add_digest_reference(records, full(f"hello-world@{hello.digest}"), hello.id)
        del records.references[full("ubuntu:22.04")]
    g = graphs.graph(host=course)
    assert g.images[hello.id].label == "hello-world:<none>"
    assert g.images[built("ubuntu:22.04").id].label == "<none>:<none>"
    assert g.sorted_images()[-1].label == "<none>:<none>"     # dangling images come last


def test_containers_are_counted_on_their_image(course):
    from imgkit.store import ContainerRecord

    alpine = built("alpine:3.20")
    with course.store.transaction() as records:
        records.containers["c" * 64] = ContainerRecord(
            id="c" * 64, name="box", image=alpine.id, image_reference="alpine",
            command=["/bin/sh"], created="2024-07-01T00:00:00Z")
    g = graphs.graph("alpine", host=course)
    assert g.images[alpine.id].containers == 1
    assert "1 container" in g.text() and "1 container" in g.to_dot()
