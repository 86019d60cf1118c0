"""Redirects, retries, rate limits, broken connections and unreachable registries.

A ``FaultyProxy`` stands between the client and a real registry and misbehaves
by rule; a ``CDNServer`` plays the host Docker Hub redirects blob downloads to.
"""

from __future__ import annotations

import io
import json

import pytest
from sample_images import USERS, make_image, no_sleep, push

from imgkit.errors import (
    DigestMismatchError,
    RegistryError,
    RegistryUnreachableError,
    TooManyRequestsError,
)
from imgkit.registry import RateLimit, RegistryClient
from imgkit.registry.download import CHUNK_SIZE

pytestmark = pytest.mark.registry

BLOB_GET = r"/v2/.+/blobs/sha256:"
MANIFEST = r"/v2/.+/manifests/"
RATE_HEADERS = {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600",
                "docker-ratelimit-source": "203.0.113.7"}
TOO_MANY = json.dumps({"errors": [{
    "code": "TOOMANYREQUESTS",
    "message": "You have reached your unauthenticated pull rate limit. "
               "https://www.docker.com/increase-rate-limit"}]}).encode()


@pytest.fixture
def image(client, repo):
    image = make_image("faults", (300, 2_500_000))
    push(client, repo, image)
    return image


def redirect_to(cdn, image):
    """Make ``cdn`` hold the image's blobs; return the Location function for a proxy."""
    for digest, data in image.blobs.items():
        cdn.objects[f"/cdn/{digest}"] = data

    def location(path: str) -> str:
        digest = path.rsplit("/", 1)[1].split("?")[0]
        return f"{cdn.url}/cdn/{digest}?Expires=9999&Signature=not-a-token"
    return location


def test_blob_redirect_to_a_cdn_never_carries_the_token(token_registry, token_server,
                                                        proxy_for, cdn, repo):
    with RegistryClient(token_registry.address, credentials=("alice", USERS["alice"])) as c:
        image = make_image("cdn", (300, 1_500_000))
        push(c, repo, image)
    proxy = proxy_for(token_registry.url)
    proxy.add("GET", BLOB_GET, "redirect", location=redirect_to(cdn, image))

    client = RegistryClient(proxy.address)
    assert client.get_manifest(repo, "v1").digest == image.digest
    out = io.BytesIO()
    assert client.fetch_blob_to(repo, image.layer_digests[1], out) == len(image.layers[1])
    assert out.getvalue() == image.layers[1]

    [(method, _, to_registry)] = proxy.requests_to(BLOB_GET)
    assert to_registry["Authorization"].startswith("Bearer ")  # the registry got it...
    [(path, to_cdn)] = cdn.seen
    assert "authorization" not in {k.lower() for k in to_cdn}  # ...the CDN did not
    assert path.endswith("Signature=not-a-token")  # the signed query arrives intact


def test_a_redirect_serving_wrong_bytes_fails_the_digest_check(client, registry, repo, image,
                                                               proxy_for, cdn):
    proxy = proxy_for(registry.url)
    proxy.add("GET", BLOB_GET, "redirect", location=redirect_to(cdn, image))
    digest = image.layer_digests[0]
    cdn.objects[f"/cdn/{digest}"] = b"X" * len(image.layers[0])  # same size, other bytes
    with pytest.raises(DigestMismatchError) as caught:
        RegistryClient(proxy.address).get_blob(repo, digest, size=len(image.layers[0]))
    assert caught.value.expected == digest
    # A longer body is cut off as soon as it passes the promised size.
    cdn.objects[f"/cdn/{digest}"] = image.layers[0] + b"more"
    with pytest.raises(DigestMismatchError, match="more than"):
        RegistryClient(proxy.address).get_blob(repo, digest, size=len(image.layers[0]))


def test_too_many_redirects(client, registry, repo, image, proxy_for):
    proxy = proxy_for(registry.url)
    proxy.add("GET", BLOB_GET, "redirect", location=lambda path: path + "x")
    with pytest.raises(RegistryError, match="redirected more than 5 times"):
        RegistryClient(proxy.address).get_blob(repo, image.layer_digests[0])
    assert len(proxy.requests_to(BLOB_GET)) == 6


def test_503_twice_then_success(registry, repo, image, proxy_for):
    proxy = proxy_for(registry.url)
    proxy.add("GET", MANIFEST, "status", status=503, times=2)
    client = RegistryClient(proxy.address, sleep=no_sleep)
    assert client.get_manifest(repo, "v1").digest == image.digest
    assert len(proxy.requests_to(MANIFEST)) == 3
    assert no_sleep.calls == [0.2, 0.4]  # exponential back-off


def test_503_every_time_gives_up_after_three_tries(registry, repo, image, proxy_for):
    proxy = proxy_for(registry.url)
    proxy.add("GET", MANIFEST, "status", status=503)
    with pytest.raises(RegistryError) as caught:
        RegistryClient(proxy.address, sleep=no_sleep).get_manifest(repo, "v1")
    assert caught.value.status == 503 and caught.value.retryable
    assert len(proxy.requests_to(MANIFEST)) == 3


def test_a_dropped_connection_is_retried(registry, repo, image, proxy_for):
    proxy = proxy_for(registry.url)
    proxy.add("HEAD", MANIFEST, "drop", times=1)
    info = RegistryClient(proxy.address, sleep=no_sleep).head_manifest(repo, "v1")
    assert info.digest == image.digest and no_sleep.calls == [0.2]


def test_429_raises_with_the_rate_limit_parsed(registry, repo, image, proxy_for):
    proxy = proxy_for(registry.url)
    proxy.add("GET", MANIFEST, "status", status=429, body=TOO_MANY,
              headers={**RATE_HEADERS, "Content-Type": "application/json"})
    with pytest.raises(TooManyRequestsError) as caught:
        RegistryClient(proxy.address, sleep=no_sleep).get_manifest(repo, "v1")
    error = caught.value
    assert (error.limit, error.remaining, error.status) == (100, 0, 429)
    assert str(error).startswith("toomanyrequests: You have reached your unauthenticated")
    assert len(proxy.requests_to(MANIFEST)) == 3


def test_429_with_a_long_retry_after_is_not_retried(registry, repo, image, proxy_for):
    proxy = proxy_for(registry.url)
    proxy.add("GET", MANIFEST, "status", status=429, body=TOO_MANY,
              headers={**RATE_HEADERS, "Retry-After": "3600"})
    with pytest.raises(TooManyRequestsError):
        RegistryClient(proxy.address, sleep=no_sleep).get_manifest(repo, "v1")
    assert len(proxy.requests_to(MANIFEST)) == 1 and no_sleep.calls == []


def test_429_with_a_short_retry_after_waits_that_long(registry, repo, image, proxy_for):
    proxy = proxy_for(registry.url)
    proxy.add("GET", MANIFEST, "status", status=429, headers={"Retry-After": "2"}, times=1)
    RegistryClient(proxy.address, sleep=no_sleep).get_manifest(repo, "v1")
    assert no_sleep.calls == [2.0]


def test_ratelimit_is_read_from_a_manifest_head(registry, repo, image, proxy_for):
    proxy = proxy_for(registry.url)

    def add_headers(status, headers, body):
        return status, headers + [("ratelimit-limit", "100;w=21600"),
                                  ("ratelimit-remaining", "76;w=21600")], body

    proxy.add("*", MANIFEST, "rewrite", rewrite=add_headers)
    client = RegistryClient(proxy.address)
    assert client.ratelimit(repo, "v1") == RateLimit(100, 76)
    assert proxy.requests_to(MANIFEST)[-1][0] == "HEAD"  # a HEAD costs no pull
    assert client.last_ratelimit == (100, 76)


def test_a_truncated_blob_resumes_with_range(registry, repo, image, proxy_for):
    proxy = proxy_for(registry.url)
    proxy.add("GET", BLOB_GET, "truncate", keep=1_200_000, times=1)
    client = RegistryClient(proxy.address, sleep=no_sleep)
    layer = image.layers[1]
    with client.open_blob(repo, image.layer_digests[1], size=len(layer)) as stream:
        data = stream.read()
        assert stream.verified and stream.resumes == 1
    assert data == layer
    first, second = proxy.requests_to(BLOB_GET)
    assert "Range" not in first[2]
    # The 1 MiB chunk in flight when the connection broke is lost with it, so
    # the download resumes after the last whole chunk (the registry answers 206).
    assert second[2]["Range"] == f"bytes={CHUNK_SIZE}-"


def test_a_blob_that_keeps_breaking_fails_in_one_line(registry, repo, image, proxy_for):
    proxy = proxy_for(registry.url)
    proxy.add("GET", BLOB_GET, "truncate", keep=1000)
    client = RegistryClient(proxy.address, sleep=no_sleep)
    with pytest.raises(RegistryUnreachableError) as caught:
        client.get_blob(repo, image.layer_digests[1], size=len(image.layers[1]))
    assert "\n" not in str(caught.value) and "broke off" in str(caught.value)
    assert len(proxy.requests_to(BLOB_GET)) == 4  # the first try and three resumes


def test_a_tampered_manifest_fails_its_digest_check(registry, repo, image, proxy_for):
    proxy = proxy_for(registry.url)

    def tamper(status, headers, body):
        return status, headers, body.replace(b'"schemaVersion":2', b'"schemaVersion": 2')

    proxy.add("GET", MANIFEST, "rewrite", rewrite=tamper)
    client = RegistryClient(proxy.address)
    with pytest.raises(DigestMismatchError):  # asked by digest: must hash to it
        client.get_manifest(repo, image.digest)
    with pytest.raises(DigestMismatchError):  # by tag: must hash to Docker-Content-Digest
        client.get_manifest(repo, "v1")


def test_unreachable_registry_in_one_line():
    client = RegistryClient("127.0.0.1:1", sleep=no_sleep)
    with pytest.raises(RegistryUnreachableError) as caught:
        client.get_manifest("library/alpine", "latest")
    assert str(caught.value) == "cannot reach registry 127.0.0.1:1: connection refused"
    assert caught.value.retryable and caught.value.status is None
    assert no_sleep.calls == [0.2, 0.4]
