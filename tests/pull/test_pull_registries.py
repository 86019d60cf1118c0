"""Pulling from registries other than the lab: skopeo's images, Docker Hub's flow, failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from pullhelpers import USERS, assert_store_consistent, push_built, small_image
from servers import CDNServer, FaultyProxy

from imgkit.api import Host
from imgkit.api.pulling import pull
from imgkit.errors import DigestMismatchError, ManifestUnknownError, RegistryUnreachableError
from imgkit.lab.server import free_port
from imgkit.oci import mediatypes, parse_any
from imgkit.registry import RegistryClient
from imgkit.store import Store, store_built_image

pytestmark = pytest.mark.registry


def blob_file(server, digest: str):
    """Where a Distribution registry keeps a blob's bytes on disk."""
    hexpart = digest.split(":", 1)[1]
    return (server.root / "data/docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data")


def store_snapshot(store) -> tuple[bytes, list[str]]:
    records = store.root / "imgkit.json"
    names = sorted(os.listdir(store.blobs.directory)) if store.blobs.directory.is_dir() else []
    return (records.read_bytes() if records.exists() else b""), names


# -- images other tools pushed ------------------------------------------------------

SKOPEO_CASES = {
    # case: (layers written into the OCI layout, skopeo options, manifest and layer type)
    "docker-schema2": ("gzip", ["--format", "v2s2"],
                       mediatypes.DOCKER_MANIFEST, mediatypes.DOCKER_LAYER_GZIP),
    "oci": ("gzip", [], mediatypes.OCI_MANIFEST, mediatypes.OCI_LAYER_GZIP),
    "oci-zstd": ("none", ["--dest-compress-format", "zstd"],
                 mediatypes.OCI_MANIFEST, mediatypes.OCI_LAYER_ZSTD),
    # skopeo always compresses for a registry, so imgkit pushes this one itself.
    "oci-uncompressed": ("none", None, mediatypes.OCI_MANIFEST, mediatypes.OCI_LAYER),
}


@pytest.mark.interop
@pytest.mark.parametrize("case", list(SKOPEO_CASES))
def test_images_pushed_by_skopeo_pull_with_the_same_id_and_diff_ids(case, spare_registry,
                                                                    tmp_path):
    compression, options, manifest_type, layer_type = SKOPEO_CASES[case]
    # Fresh bytes every run: skopeo's blob cache must not reuse another run's blobs.
    built = small_image(f"{case}/{uuid.uuid4()}", compression=compression)
    repository = f"interop/{case}"
    if options is None:
        with RegistryClient(spare_registry.address) as client:
            push_built(client, repository, built, "v1")
    else:
        layout = tmp_path / "layout"
        store_built_image(Store(layout), built, ["docker.io/library/app:v1"])
        done = subprocess.run(
            ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", *options,
             f"oci:{layout}:docker.io/library/app:v1",
             f"docker://{spare_registry.address}/{repository}:v1"],
            capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    host = Host(tmp_path / "home")
    result = pull(f"{spare_registry.address}/{repository}:v1", host=host)
    assert result.image_id == built.id
    records = host.store.records()
    image = records.images[built.id]
    assert image.manifest_media_type == manifest_type
    assert image.layers == built.chain_ids
    assert [records.layers[c].diff_id for c in image.layers] == built.diff_ids
    assert {records.layers[c].media_type for c in image.layers} == {layer_type}
    assert image.size == built.size
    manifest = parse_any(host.store.blobs.read(image.manifest_digest), manifest_type)
    assert [records.layers[c].digest for c in image.layers] == [d.digest for d in manifest.layers]


# -- Docker Hub's own flow, offline ---------------------------------------------------

def test_docker_hubs_flow_token_then_cdn_never_sees_the_token(token_server, token_registry,
                                                               tmp_path, monkeypatch):
    built = small_image("hub-alpine")
    with RegistryClient(token_registry.address, credentials=("alice", USERS["alice"])) as client:
        push_built(client, "library/alpine", built, "latest")
    with CDNServer() as cdn, FaultyProxy(token_registry.url) as proxy:
        for digest, data in built.blobs.items():
            cdn.objects[f"/blobs/{digest}"] = data
        # Docker Hub answers blob GETs with a redirect to a signed CDN address.
        proxy.add("GET", r"/blobs/sha256:", "redirect",
                  location=lambda path: f"{cdn.url}/blobs/{path.rsplit('/', 1)[1]}"
                                        "?X-Amz-Signature=c0ffee")
        monkeypatch.setenv("IMGKIT_DOCKER_HUB_URL", proxy.url)
        monkeypatch.setenv("IMGKIT_REGISTRY_MIRROR", "")
        token_server.requests.clear()
        result = pull("alpine", host=Host(tmp_path / "home"))
    assert result.image_id == built.id
    assert result.lines[1] == "latest: Pulling from library/alpine"
    assert len(cdn.seen) == len(built.blobs)
    assert all("authorization" not in {k.lower() for k in headers} for _, headers in cdn.seen)
    assert any("repository:library/alpine:pull" in r["scopes"] for r in token_server.requests)
    manifest_gets = proxy.requests_to(r"/manifests/", "GET")
    assert manifest_gets and all(h.get("Authorization", "").startswith("Bearer ")
                                 for _, _, h in manifest_gets)


# -- mirrors and unreachable registries ------------------------------------------------

def test_an_unreachable_mirror_hands_over_to_docker_hub(lab, tmp_path, monkeypatch):
    dead_mirror = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("IMGKIT_DOCKER_HUB_URL", lab.url)
    result = pull("hello-world", host=Host(tmp_path / "home", mirrors=[dead_mirror]))
    assert result.lines[-1] == "docker.io/library/hello-world:latest"


def test_nothing_reachable_is_one_line_naming_the_registries(tmp_path, monkeypatch):
    dead_mirror = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("IMGKIT_DOCKER_HUB_URL", f"http://127.0.0.1:{free_port(40000)}")
    with pytest.raises(RegistryUnreachableError) as caught:
        pull("alpine", host=Host(tmp_path / "home", mirrors=[dead_mirror]))
    message = str(caught.value)
    assert message.startswith("cannot reach registry docker.io: connection refused")
    assert f"mirror {dead_mirror}: connection refused" in message
    assert "imgkit lab start" in message and "\n" not in message


def test_a_mirrors_not_found_beats_an_unreachable_docker_hub(lab, tmp_path, monkeypatch):
    monkeypatch.setenv("IMGKIT_DOCKER_HUB_URL", f"http://127.0.0.1:{free_port(40000)}")
    with pytest.raises(ManifestUnknownError) as caught:
        pull("alpine:nope", host=Host(tmp_path / "home", mirrors=[lab.url]))
    assert str(caught.value) == "manifest for alpine:nope not found: manifest unknown: manifest unknown"


# -- damaged blobs and killed pulls -------------------------------------------------------

def test_a_corrupted_blob_is_refused_and_leaves_the_store_as_it_was(spare_registry, tmp_path):
    other, victim = small_image("kept"), small_image("corrupt", sizes=(2000, 300_000, 5000))
    with RegistryClient(spare_registry.address) as client:
        push_built(client, "test/kept", other, "v1")
        push_built(client, "test/corrupt", victim, "v1")
    host = Host(tmp_path / "home")
    pull(f"{spare_registry.address}/test/kept:v1", host=host)
    before = store_snapshot(host.store)

    damaged = victim.layers[1].digest
    path = blob_file(spare_registry, damaged)
    original = path.read_bytes()
    path.write_bytes(original[:1000] + bytes(len(original) - 1000))
    try:
        with pytest.raises(DigestMismatchError) as caught:
            pull(f"{spare_registry.address}/test/corrupt:v1", host=host)
    finally:
        path.write_bytes(original)
    assert str(caught.value).startswith(
        f"filesystem layer verification failed for digest {damaged}")
    assert store_snapshot(host.store) == before        # no record, no blob, no partial file

    result = pull(f"{spare_registry.address}/test/corrupt:v1", host=host)
    assert result.image_id == victim.id
    assert_store_consistent(host.store)


def test_a_pull_killed_at_any_point_leaves_no_half_image(spare_registry, tmp_path):
    built = small_image("killed", sizes=(200_000, 150_000, 100_000, 50_000, 25_000))
    with RegistryClient(spare_registry.address) as client:
        push_built(client, "test/killed", built, "v1")
    home = tmp_path / "home"
    store = Store(home / "store")
    layer_files = [store.blobs.path(layer.digest) for layer in built.layers]

    def mid_download():
        return bool(store.blobs.partials())

    def after_every_request(proxy):
        return len(proxy.requests_to(r"/blobs/", "GET")) >= 1 + len(built.layers)

    def while_committing():
        return any(path.exists() for path in layer_files)

    with FaultyProxy(spare_registry.url) as proxy:
        def slow(status, headers, body):
            time.sleep(0.2)     # long enough to be caught half-way
            return status, headers, body
        proxy.add("GET", r"/blobs/sha256:", "rewrite", rewrite=slow)
        name = f"{proxy.address}/test/killed:v1"
        for when in (lambda: bool(proxy.seen), mid_download, lambda: after_every_request(proxy),
                     while_committing):
            process = subprocess.Popen([sys.executable, "-m", "imgkit", "--home", str(home),
                                        "pull", name], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while not when() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            assert_store_consistent(store)
        result = pull(name, host=Host(home))
    assert result.image_id == built.id
    assert_store_consistent(store)
