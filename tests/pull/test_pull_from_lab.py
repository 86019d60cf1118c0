"""Pulling the course images from the lab: Docker's transcript, Docker's store, Docker's errors."""

from __future__ import annotations

import json
import subprocess

import pytest
from pullhelpers import assert_store_consistent
from servers import FaultyProxy

from imgkit import digest as digests
from imgkit import lab as labmod
from imgkit.api import Host
from imgkit.api.pulling import pull, ratelimit
from imgkit.errors import (
    ManifestUnknownError,
    NoMatchingManifestError,
    PullError,
    RepositoryNotFoundError,
    TooManyRequestsError,
)
from imgkit.oci import Index, parse_any
from imgkit.registry import RateLimit

pytestmark = pytest.mark.registry


def resolve(client, repository: str, tag: str, platform=None):
    """Return (digest the tag resolves to, the platform manifest) as the lab serves them."""
    top = client.get_manifest(repository, tag)
    document = parse_any(top.data, top.media_type)
    if isinstance(document, Index):
        child = client.get_manifest(repository, document.select(platform).digest)
        document = parse_any(child.data, child.media_type)
    return top.digest, document


def short_ids(manifest) -> list[str]:
    return [digests.short(layer.digest) for layer in manifest.layers]


def test_a_cold_pull_of_redis_after_alpine_prints_dockers_transcript(host, lab_client):
    pull("alpine", host=host)
    events = []
    result = pull("redis", host=host, listener=events.append)

    index_digest, manifest = resolve(lab_client, "library/redis", "latest")
    a, b, c, d = short_ids(manifest)
    sizes = [layer.size for layer in manifest.layers]
    assert sizes[3] < sizes[1] < sizes[2]          # what decides the order of the lines below
    assert result.lines == [
        "Using default tag: latest",
        "latest: Pulling from library/redis",
        f"{a}: Already exists",
        f"{b}: Pulling fs layer",
        f"{c}: Pulling fs layer",
        f"{d}: Pulling fs layer",
        f"{d}: Verifying Checksum",
        f"{d}: Download complete",
        f"{b}: Verifying Checksum",
        f"{b}: Download complete",
        f"{b}: Pull complete",
        f"{c}: Verifying Checksum",
        f"{c}: Download complete",
        f"{c}: Pull complete",
        f"{d}: Pull complete",                      # waited for the layers below it
        f"Digest: {index_digest}",
        "Status: Downloaded newer image for redis:latest",
        "docker.io/library/redis:latest",
    ]
    assert repr(result) == "\n".join(result.lines)
    assert result._repr_html_().startswith("<pre>Using default tag: latest\n")
    assert events == result.events
    progress = [e for e in events if e.has_progress]
    assert {e.id for e in progress} == {b, c, d}
    finals = {e.id: (e.current, e.total) for e in progress}
    assert finals == {i: (s, s) for i, s in zip((b, c, d), sizes[1:], strict=True)}
    assert result.image_id == manifest.config.digest
    assert result.digest == index_digest
    assert result.status == "Downloaded newer image"
    assert [(x.id, x.status, x.size) for x in result.layers] == [
        (a, "Already exists", sizes[0]), (b, "Pull complete", sizes[1]),
        (c, "Pull complete", sizes[2]), (d, "Pull complete", sizes[3])]
    assert result.downloaded_bytes == sum(sizes[1:])


def test_pulling_again_is_up_to_date_and_downloads_nothing(host, lab_client):
    first = pull("redis:7.2", host=host)
    again = pull("redis:7.2", host=host)
    index_digest, _ = resolve(lab_client, "library/redis", "7.2")
    assert again.lines == [
        "7.2: Pulling from library/redis",
        f"Digest: {index_digest}",
        "Status: Image is up to date for redis:7.2",
        "docker.io/library/redis:7.2",
    ]
    assert (again.status, again.layers, again.downloaded_bytes) == ("Image is up to date", (), 0)
    assert again.image_id == first.image_id
    # Another tag of the same image downloads nothing either, but the tag is new.
    other = pull("redis:7.2.5", host=host)
    assert other.lines[-2] == "Status: Downloaded newer image for redis:7.2.5"
    assert other.layers == ()


def test_a_pull_by_digest_records_the_digest_reference_only(host, lab_client):
    index_digest, manifest = resolve(lab_client, "library/alpine", "latest")
    result = pull(f"alpine@{index_digest}", host=host)
    (layer,) = short_ids(manifest)
    assert result.lines == [
        f"docker.io/library/alpine@{index_digest}: Pulling from library/alpine",
        f"{layer}: Pulling fs layer",
        f"{layer}: Verifying Checksum",
        f"{layer}: Download complete",
        f"{layer}: Pull complete",
        f"Digest: {index_digest}",
        f"Status: Downloaded newer image for alpine@{index_digest}",
        f"docker.io/library/alpine@{index_digest}",
    ]
    records = host.store.records()
    assert records.references == {f"docker.io/library/alpine@{index_digest}": result.image_id}
    again = pull(f"alpine@{index_digest}", host=host)
    assert again.lines[-2] == f"Status: Image is up to date for alpine@{index_digest}"


def test_platform_picks_the_arm64_image_of_a_multi_platform_tag(host, lab_client):
    amd64 = pull("alpine:3.20", host=host, platform="linux/amd64")
    arm64 = pull("alpine:3.20", host=host, platform="linux/arm64")
    index_digest, manifest = resolve(lab_client, "library/alpine", "3.20", "linux/arm64")
    assert arm64.image_id == manifest.config.digest != amd64.image_id
    assert arm64.status == "Downloaded newer image"
    records = host.store.records()
    image = records.images[arm64.image_id]
    assert (image.os, image.architecture, image.variant) == ("linux", "arm64", "v8")
    # The tag moved; the digest reference stays where it was, as in moby.
    assert records.references["docker.io/library/alpine:3.20"] == arm64.image_id
    assert records.references[f"docker.io/library/alpine@{index_digest}"] == amd64.image_id
    # A Host can carry the platform too (like DOCKER_DEFAULT_PLATFORM).
    other = Host(host.home.parent / "arm-home", platform="linux/aarch64")
    assert pull("alpine:3.20", host=other).image_id == arm64.image_id


def test_a_platform_no_entry_matches_fails_with_dockers_message(host):
    with pytest.raises(NoMatchingManifestError) as caught:
        pull("alpine", host=host, platform="linux/s390x")
    assert str(caught.value) == "no matching manifest for linux/s390x in the manifest list entries"
    assert host.store.records().images == {}


def test_a_single_platform_image_of_another_platform_comes_with_a_warning(host):
    result = pull("alpine:3.19", host=host, platform="linux/arm64")
    assert result.lines[-3:] == [
        "Status: Downloaded newer image for alpine:3.19",
        "WARNING: image with reference alpine was found but does not match the specified "
        "platform: wanted linux/arm64, actual: linux/amd64",
        "docker.io/library/alpine:3.19",
    ]


def test_all_tags_pulls_every_tag_of_the_repository(host, lab_client):
    result = pull("alpine", host=host, all_tags=True)
    digest_319, manifest_319 = resolve(lab_client, "library/alpine", "3.19")
    digest_320, manifest_320 = resolve(lab_client, "library/alpine", "3.20")
    (x,), (y,) = short_ids(manifest_319), short_ids(manifest_320)
    assert result.lines == [
        "3.19: Pulling from library/alpine",
        f"{x}: Pulling fs layer", f"{x}: Verifying Checksum", f"{x}: Download complete",
        f"{x}: Pull complete",
        f"Digest: {digest_319}",
        "3.20: Pulling from library/alpine",
        f"{y}: Pulling fs layer", f"{y}: Verifying Checksum", f"{y}: Download complete",
        f"{y}: Pull complete",
        f"Digest: {digest_320}",
        "latest: Pulling from library/alpine",
        f"Digest: {digest_320}",
        "Status: Downloaded newer image for alpine",
        "docker.io/library/alpine",
    ]
    assert result.reference == "docker.io/library/alpine"
    assert [t.reference for t in result.tags] == [
        "docker.io/library/alpine:3.19", "docker.io/library/alpine:3.20",
        "docker.io/library/alpine:latest"]
    assert set(host.store.records().references) == {
        "docker.io/library/alpine:3.19", "docker.io/library/alpine:3.20",
        "docker.io/library/alpine:latest", f"docker.io/library/alpine@{digest_319}",
        f"docker.io/library/alpine@{digest_320}"}
    again = pull("alpine", host=host, all_tags=True)
    assert again.lines[-2] == "Status: Image is up to date for alpine"


def test_all_tags_refuses_a_tag(host):
    with pytest.raises(PullError, match=r"^tag can't be used with --all-tags/-a$"):
        pull("alpine:3.19", host=host, all_tags=True)


def test_a_new_build_of_the_tag_leaves_the_old_image_dangling(host, lab):
    first = pull("alpine:latest", host=host)
    try:
        new_digest = labmod.publish("alpine:latest", home=lab.home)
        second = pull("alpine:latest", host=host)
    finally:
        labmod.publish("alpine:latest", revision=1, home=lab.home)
    assert second.image_id != first.image_id
    assert second.lines[-3:] == [f"Digest: {new_digest}",
                                 "Status: Downloaded newer image for alpine:latest",
                                 "docker.io/library/alpine:latest"]
    records = host.store.records()
    assert set(records.images) == {first.image_id, second.image_id}
    old_names = records.references_to(first.image_id)
    assert [name for name in old_names if "@" not in name] == []      # no tag left
    assert old_names == [f"docker.io/library/alpine@{first.digest}"]  # "alpine <none>"
    assert records.references["docker.io/library/alpine:latest"] == second.image_id
    assert_store_consistent(host.store)


@pytest.mark.interop
def test_the_store_holds_the_image_as_docker_and_oci_tools_see_it(host, lab_client, tmp_path):
    result = pull("redis", host=host)
    store = host.store
    records = store.records()
    config_bytes = store.blobs.read(result.image_id)
    assert digests.compute(config_bytes) == result.image_id
    config = json.loads(config_bytes)
    image = records.images[result.image_id]
    assert [records.layers[c].diff_id for c in image.layers] == config["rootfs"]["diff_ids"]
    assert image.layers == digests.chain_ids(config["rootfs"]["diff_ids"])
    _, manifest = resolve(lab_client, "library/redis", "latest")
    assert image.manifest_digest == manifest.digest
    assert [records.layers[c].digest for c in image.layers] == [
        layer.digest for layer in manifest.layers]
    assert records.references == {"docker.io/library/redis:latest": result.image_id,
                                  f"docker.io/library/redis@{result.digest}": result.image_id}
    assert_store_consistent(store)
    assert store.blobs.partials() == []

    layout, bundle = tmp_path / "copy", tmp_path / "bundle"
    for argv in (["skopeo", "copy", "--quiet", f"oci:{store.root}:docker.io/library/redis:latest",
                  f"oci:{layout}:r"],
                 ["umoci", "unpack", "--rootless", "--image", f"{layout}:r", str(bundle)]):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert (bundle / "rootfs/usr/local/bin/redis-server").exists()
    assert (bundle / "rootfs/etc/alpine-release").exists()


def test_an_unknown_tag_or_repository_fails_with_dockers_words(host):
    with pytest.raises(ManifestUnknownError) as caught:
        pull("alpine:nope", host=host)
    assert str(caught.value) == "manifest for alpine:nope not found: manifest unknown: manifest unknown"
    denied = ("pull access denied for nope, repository does not exist or may require "
              "'docker login': denied: requested access to the resource is denied")
    for kwargs in ({}, {"all_tags": True}):
        with pytest.raises(RepositoryNotFoundError) as caught:
            pull("nope", host=host, **kwargs)
        assert str(caught.value) == denied
        assert isinstance(caught.value, LookupError)
    assert host.store.records().images == {}


def test_a_spent_rate_limit_names_docker_hubs_limit_and_the_way_out(lab, host, monkeypatch):
    body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message":
                       "You have reached your unauthenticated pull rate limit. "
                       "https://www.docker.com/increase-rate-limit"}]}).encode()
    with FaultyProxy(lab.url) as proxy:
        proxy.add("GET", r"/manifests/", "status", status=429, body=body,
                  headers={"Content-Type": "application/json", "Retry-After": "0",
                           "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600"})
        monkeypatch.setenv("IMGKIT_DOCKER_HUB_URL", proxy.url)
        with pytest.raises(TooManyRequestsError) as caught:
            pull("alpine", host=host)
    message = str(caught.value)
    assert message.startswith("toomanyrequests: You have reached your unauthenticated pull rate "
                              "limit. https://www.docker.com/increase-rate-limit (")
    assert "imgkit lab start" in message and "\n" not in message
    assert (caught.value.limit, caught.value.remaining) == (100, 0)


def test_ratelimit_reads_docker_hubs_headers_or_says_none(lab, host, monkeypatch):
    assert ratelimit(host) is None          # the lab sends no rate-limit headers
    with FaultyProxy(lab.url) as proxy:
        proxy.add("HEAD", r"^/v2/ratelimitpreview/test/manifests/latest$", "status", status=200,
                  headers={"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600",
                           "Content-Type": "application/vnd.oci.image.index.v1+json"})
        monkeypatch.setenv("IMGKIT_DOCKER_HUB_URL", proxy.url)
        assert ratelimit(host) == RateLimit(100, 76)
