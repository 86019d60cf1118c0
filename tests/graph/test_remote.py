"""The views that ask a registry (the lab): pull preview and multi-platform index."""

from __future__ import annotations

import pytest

import imgkit.graph as graphs
from imgkit.api import Host
from imgkit.api.pulling import pull
from imgkit.errors import ManifestUnknownError

from .helpers import assert_golden, built

pytestmark = pytest.mark.registry


@pytest.fixture
def lab_host(lab, tmp_path, monkeypatch) -> Host:
    """An empty amd64 host whose Docker Hub is the lab (no mirror, so nothing leaves the machine)."""
    monkeypatch.setenv("IMGKIT_DOCKER_HUB_URL", lab.url)
    return Host(tmp_path / "home", platform="linux/amd64", mirrors=[])


def states(g, image) -> list[str]:
    return [g.layers[chain_id].state for chain_id in image.chain_ids]


def test_after_alpine_a_redis_pull_would_find_one_layer_and_fetch_three(lab_host):
    pull("alpine", host=lab_host)
    before = lab_host.store.records().to_json()
    g = graphs.pull_preview("redis", host=lab_host)
    redis, alpine = built("redis:latest"), built("alpine:3.20")
    assert states(g, redis) == ["exists", "fetch", "fetch", "fetch"]
    assert g.images[redis.id].state == "pull" and g.images[redis.id].note == "3 layers to download"
    assert g.images[alpine.id].names == ("alpine:latest",)     # why the base already exists
    assert g.notes[:2] == ("latest: Pulling from library/redis",
                           "would download 3 layers (1.14MB compressed); 1 already exists")
    assert lab_host.store.records().to_json() == before       # a preview changes nothing
    assert_golden("pull-redis.dot", g.to_dot())
    assert_golden("pull-redis.txt", g.text() + "\n")

    # The real pull says the same, layer by layer (its lines name the compressed blobs).
    result = pull("redis", host=lab_host)
    said = {outcome.id: outcome.status for outcome in result.layers}
    for chain_id in redis.chain_ids:
        layer = g.layers[chain_id]
        assert layer.note == f"blob {layer.digest[7:19]}"
        assert said[layer.digest[7:19]] == ("Already exists" if layer.state == "exists"
                                            else "Pull complete")


def test_an_empty_store_would_fetch_every_layer(lab_host):
    g = graphs.pull_preview("python:3.12-alpine", host=lab_host)
    python = built("python:3.12-alpine")
    assert states(g, python) == ["fetch"] * 4
    assert list(g.images) == [python.id]
    assert g.images[python.id].size is None and g.images[python.id].download_size > 0


def test_a_pulled_image_is_up_to_date(lab_host):
    pull("alpine", host=lab_host)
    g = graphs.pull_preview("alpine:latest", host=lab_host)
    alpine = built("alpine:3.20")
    assert states(g, alpine) == ["exists"]
    assert g.images[alpine.id].note == "Image is up to date"


def test_the_pull_preview_of_another_platform(lab_host):
    pull("alpine", host=lab_host)
    g = graphs.pull_preview("redis", platform="linux/arm64", host=lab_host)
    (image,) = [i for i in g.images.values() if i.state == "pull"]
    assert image.platform == "linux/arm64/v8"
    assert [g.layers[c].state for c in image.layers] == ["fetch"] * 4     # arm64 alpine is not here


def test_the_pull_preview_fails_as_pull_does(lab_host):
    with pytest.raises(ManifestUnknownError, match="manifest for alpine:nope not found"):
        graphs.pull_preview("alpine:nope", host=lab_host)


def test_the_index_view_shows_each_platform_and_marks_yours(lab_host):
    pull("alpine", host=lab_host)
    g = graphs.index("alpine", host=lab_host)
    assert g.index is not None and g.index.reference == "alpine:latest"
    platforms = {image.platform: image for image in g.images.values()}
    assert sorted(platforms) == ["linux/amd64", "linux/arm64/v8"]
    amd64, arm64 = platforms["linux/amd64"], platforms["linux/arm64/v8"]
    assert (amd64.state, amd64.note) == ("platform", "in your store")
    assert (arm64.state, arm64.note) == ("", "not in your store")
    assert amd64.id == built("alpine:3.20").id
    assert [image.platform for image in g.sorted_images()] == ["linux/amd64", "linux/arm64/v8"]
    assert len([e for e in g.edges() if e.kind == "platform"]) == 2
    assert_golden("index-alpine.dot", g.to_dot())
    assert_golden("index-alpine.txt", g.text() + "\n")
    assert "index alpine:latest" in g.svg()


def test_an_arm_host_has_the_other_platform_marked(lab_host):
    arm = Host(lab_host.home, platform="linux/arm64", mirrors=[])
    g = graphs.index("redis:7.2", host=arm)
    marked = [image.platform for image in g.images.values() if image.state == "platform"]
    assert marked == ["linux/arm64/v8"]


def test_a_single_platform_tag_has_no_index(lab_host):
    g = graphs.index("hello-world", host=lab_host)
    assert g.index is None and len(g.images) == 1
    assert g.notes == ("hello-world:latest is a single-platform image: no index",)
    assert next(iter(g.images.values())).state == "platform"
