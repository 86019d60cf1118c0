"""Push and pull against a real Distribution registry with no authentication."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import urlsplit, urlunsplit

import pytest
from sample_images import make_image, push

from imgkit.digest import compute
from imgkit.errors import (
    BlobUnknownError,
    DigestMismatchError,
    ManifestUnknownError,
    RegistryNotFoundError,
    RepositoryNotFoundError,
)
from imgkit.oci import mediatypes
from imgkit.oci.canonical import dumps
from imgkit.registry import RegistryClient, push_image

pytestmark = pytest.mark.registry


def test_ping_of_an_open_registry_has_no_challenge(client):
    assert client.ping() is None
    assert client.url.startswith("http://127.0.0.1:")


def test_push_then_pull_round_trip(client, repo):
    image = make_image("round-trip")
    digest = push(client, repo, image, "v1")
    assert digest == image.digest

    by_tag = client.get_manifest(repo, "v1")
    assert by_tag == (image.manifest, mediatypes.OCI_MANIFEST, image.digest)
    by_digest = client.get_manifest(repo, image.digest)
    assert by_digest.data == image.manifest

    for digest, data in image.blobs.items():
        out = io.BytesIO()
        seen = []
        written = client.fetch_blob_to(repo, digest, out, size=len(data),
                                       progress=lambda *args, seen=seen: seen.append(args))
        assert written == len(data) and out.getvalue() == data
        assert seen[-1] == (len(data), len(data))
    # The 2.5 MB layer arrives in 1 MiB chunks, each reported.
    assert client.get_blob(repo, image.layer_digests[1]) == image.layers[1]


def test_blob_stream_reads_like_a_file_and_verifies(client, repo):
    image = make_image("stream")
    push(client, repo, image)
    with client.open_blob(repo, image.layer_digests[1], size=len(image.layers[1])) as stream:
        head = stream.read(10)
        rest = stream.read()
        assert stream.verified
    assert head + rest == image.layers[1]


def test_open_blob_at_an_offset_with_the_hash_so_far(client, repo):
    image = make_image("offset")
    push(client, repo, image)
    layer = image.layers[1]
    hasher = hashlib.sha256(layer[:1_000_000])
    with client.open_blob(repo, image.layer_digests[1], size=len(layer), offset=1_000_000,
                          hasher=hasher) as stream:
        assert stream.read() == layer[1_000_000:]
        assert stream.verified


def test_head_manifest_tells_type_digest_and_size(client, repo):
    image = make_image("head")
    push(client, repo, image, "latest")
    info = client.head_manifest(repo, "latest")
    assert info.media_type == mediatypes.OCI_MANIFEST
    assert info.digest == image.digest
    assert info.size == len(image.manifest)
    assert info.ratelimit is None  # only Docker Hub sends rate-limit headers
    assert client.ratelimit(repo, "latest") is None


def test_tags_and_catalog_follow_pagination(client, repo, registry):
    image = make_image("tags")
    for tag in ("a", "b", "c"):
        push(client, repo, image, tag)
    assert sorted(client.tags(repo)) == ["a", "b", "c"]
    assert sorted(client.tags(repo, page_size=1)) == ["a", "b", "c"]
    push(client, repo + "-other", image, "x")
    everything = client.catalog()
    assert repo in everything and repo + "-other" in everything
    # One repository per page: the Link header leads through all of them.
    assert client.catalog(page_size=1) == everything


def test_cross_repository_mount(client, repo):
    image = make_image("mount")
    push(client, repo, image)
    target = repo + "-copy"
    layer = image.layer_digests[0]
    assert not client.blob_exists(target, layer)
    assert client.mount_blob(target, layer, repo) is True
    assert client.blob_exists(target, layer)
    # Mounting a blob the source does not have falls back to an upload (202).
    missing = compute(b"not in the registry")
    assert client.mount_blob(target, missing, repo) is False
    assert client.push_blob(target, missing, b"not in the registry", mount_from=repo) == "pushed"
    assert client.push_blob(target, image.layer_digests[1], image.layers[1],
                            mount_from=repo) == "mounted"


def test_push_image_skips_blobs_the_registry_has(client, repo):
    image = make_image("push-image")
    opened = []

    def opener(data):
        def open_blob():
            opened.append(compute(data))
            return io.BytesIO(data)
        return open_blob

    blobs = {digest: opener(data) for digest, data in image.blobs.items()}
    events = []
    digest = push_image(client, repo, "v1", blobs, image.manifest, image.media_type,
                        progress=lambda d, status: events.append(status))
    assert digest == image.digest
    assert events.count("Pushed") == 3 and len(opened) == 3

    opened.clear()
    events.clear()
    push_image(client, repo, "v2", blobs, image.manifest, image.media_type,
               progress=lambda d, status: events.append(status))
    assert events == ["Layer already exists"] * 3
    assert opened == []  # blobs the registry has are never even read
    assert sorted(client.tags(repo)) == ["v1", "v2"]


def test_push_image_with_an_index_and_mounts(client, repo):
    amd64, arm64 = make_image("index-amd64", (500,)), make_image("index-arm64", (600,))
    push(client, repo, amd64, "amd64")
    index = dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": [
        {"mediaType": mediatypes.OCI_MANIFEST, "digest": img.digest, "size": len(img.manifest),
         "platform": {"os": "linux", "architecture": arch}}
        for img, arch in ((amd64, "amd64"), (arm64, "arm64"))]})
    target = repo + "-multi"
    events = []
    digest = push_image(client, target, "latest", {**amd64.blobs, **arm64.blobs}, index,
                        mediatypes.OCI_INDEX,
                        children=[(amd64.manifest, amd64.media_type),
                                  (arm64.manifest, arm64.media_type)],
                        mount_from=repo, progress=lambda d, s: events.append(s))
    assert events.count(f"Mounted from {repo}") == 2  # amd64's config and layer
    got = client.get_manifest(target, "latest")
    assert got.media_type == mediatypes.OCI_INDEX and got.digest == digest == compute(index)
    assert client.get_manifest(target, arm64.digest).data == arm64.manifest


def test_push_blob_from_a_file_and_relative_upload_locations(client, repo, registry,
                                                            proxy_for):
    data = b"a blob pushed from a file" * 1000
    digest = compute(data)
    assert client.push_blob(repo, digest, io.BytesIO(data)) == "pushed"
    assert client.get_blob(repo, digest) == data

    # Some registries answer with a relative Location; resolve it against the request.
    proxy = proxy_for(registry.url)

    def relative(status, headers, body):
        def path_only(url):
            parts = urlsplit(url)
            return urlunsplit(("", "", parts.path, parts.query, ""))
        return status, [(k, path_only(v) if k.lower() == "location" else v)
                        for k, v in headers], body

    proxy.add("POST", r"/blobs/uploads/$", "rewrite", rewrite=relative)
    via_proxy = RegistryClient(proxy.address)
    other = b"pushed through a relative Location"
    assert via_proxy.push_blob(repo, compute(other), other) == "pushed"
    [post] = proxy.requests_to(r"/blobs/uploads/$", "POST")
    [put] = proxy.requests_to(r"/blobs/uploads/.+digest=", "PUT")
    assert client.get_blob(repo, compute(other)) == other


def test_pushing_wrong_bytes_is_refused_before_sending(client, repo):
    with pytest.raises(DigestMismatchError):
        client.push_blob(repo, compute(b"right"), b"wrong")


def test_delete_manifest(client, repo):
    image = make_image("delete", (10,))
    push(client, repo, image)
    client.delete_manifest(repo, image.digest)
    with pytest.raises(ManifestUnknownError):
        client.get_manifest(repo, image.digest)


@pytest.mark.parametrize("call, error, code", [
    (lambda c, r: c.get_manifest(r, "nope"), ManifestUnknownError, "MANIFEST_UNKNOWN"),
    (lambda c, r: c.head_manifest(r, "nope"), ManifestUnknownError, None),
    (lambda c, r: c.get_manifest("test/never-pushed", "v1"), ManifestUnknownError,
     "MANIFEST_UNKNOWN"),
    (lambda c, r: c.tags("test/never-pushed"), RepositoryNotFoundError, "NAME_UNKNOWN"),
    (lambda c, r: c.get_blob(r, "sha256:" + "0" * 64), BlobUnknownError, "BLOB_UNKNOWN"),
])
def test_unknown_things_raise_typed_errors(client, repo, call, error, code):
    push(client, repo, make_image("unknowns", (10,)))
    with pytest.raises(error) as caught:
        call(client, repo)
    assert caught.value.status == 404 and caught.value.code == code
    assert isinstance(caught.value, (RegistryNotFoundError, LookupError))
    assert not client.blob_exists(repo, "sha256:" + "0" * 64)


def test_an_oci_manifest_is_hidden_from_a_docker_only_accept(client, repo):
    # Distribution 2.8 quirk: asked only for Docker schema 2, it answers 404
    # rather than send an OCI manifest the client said it cannot read.
    push(client, repo, make_image("accept", (10,)))
    with pytest.raises(ManifestUnknownError, match="accept header"):
        client.get_manifest(repo, "v1", accept=mediatypes.DOCKER_MANIFEST)
