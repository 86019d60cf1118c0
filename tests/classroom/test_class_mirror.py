"""The class mirror: two real Distribution registries on loopback, an upstream and the room's proxy.

The upstream stands in for Docker Hub; ``imgkit.lab.serve(proxy=...)`` puts
a pull-through cache in front of it, as an instructor does for a room.
The upstream's access log shows what reached it.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from classroomhelpers import blob_requests, cli, closed_port_url, make_certificate

import imgkit
from imgkit import lab as labmod
from imgkit.api import Host
from imgkit.errors import RegistryError, RegistryUnreachableError
from imgkit.lab.serve import parse_address

pytestmark = pytest.mark.registry


def quiet(event):
    pass


@pytest.fixture
def instructor(tmp_path):
    """The instructor's imgkit home; whatever it serves is stopped after the test."""
    home = tmp_path / "instructor"
    yield home
    labmod.stop_serving(home)


def _stored_in_proxy(mirror, digests) -> bool:
    blobs = mirror.server.root / "data" / "docker" / "registry" / "v2" / "blobs" / "sha256"
    return all((blobs / d[7:9] / d[7:] / "data").is_file() for d in digests)


def test_the_second_learner_is_served_by_the_mirror_without_reaching_the_upstream(
        upstream, instructor, tmp_path):
    mirror = labmod.serve("127.0.0.1:0", proxy=upstream.url, home=instructor)
    assert mirror.learner_command == f"imgkit config mirror {mirror.url}"
    first = imgkit.pull("alpine:3.20", host=Host(tmp_path / "ada", mirrors=[mirror.url]),
                        listener=quiet)
    layers = [layer.digest for layer in first.layers]
    # The proxy stores what it fetched in the background: wait until it holds every layer.
    deadline = time.monotonic() + 10
    while not _stored_in_proxy(mirror, layers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(layers) <= set(blob_requests(upstream))
    before = len(blob_requests(upstream))
    second = imgkit.pull("alpine:3.20", host=Host(tmp_path / "bob", mirrors=[mirror.url]),
                         listener=quiet)
    assert second.image_id == first.image_id
    assert second.downloaded_bytes > 0          # Bob really downloaded it - from the mirror
    assert len(blob_requests(upstream)) == before


def test_a_learner_falls_back_to_docker_hub_when_the_mirror_is_down(upstream, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("IMGKIT_DOCKER_HUB_URL", upstream.url)
    result = imgkit.pull("hello-world", host=Host(tmp_path / "ada", mirrors=[closed_port_url()]),
                         listener=quiet)
    assert result.lines[-1] == "docker.io/library/hello-world:latest"


def test_the_serve_command_prints_the_line_learners_run_and_stops(upstream, instructor):
    served = cli("lab", "serve", "--addr", "127.0.0.1:0", "--proxy", upstream.url,
                 home=instructor).stdout.decode()
    lines = served.splitlines()
    assert lines[0].startswith(f"class mirror serving a pull-through cache of {upstream.url} at "
                               "http://127.0.0.1:")
    url = lines[0].rsplit(" ", 1)[1]
    assert f"  imgkit config mirror {url}" in lines
    assert f"  export IMGKIT_REGISTRY_MIRROR={url}" in lines
    status = cli("lab", "serve", "--status", home=instructor).stdout.decode()
    assert status.splitlines()[0] == lines[0]
    assert cli("lab", "serve", "--stop", home=instructor).stdout == b"class mirror stopped\n"
    assert cli("lab", "serve", "--status", home=instructor, check=False).returncode == 1


def test_a_chosen_port_that_is_busy_is_refused(upstream, instructor):
    mirror = labmod.serve("127.0.0.1:0", proxy=upstream.url, home=instructor / "one")
    try:
        with pytest.raises(imgkit.errors.LabError, match=f"port {mirror.server.port} .* in use"):
            labmod.serve(f"127.0.0.1:{mirror.server.port}", proxy=upstream.url, home=instructor)
    finally:
        labmod.stop_serving(instructor / "one")


def test_htpasswd_users_must_log_in(upstream, instructor, tmp_path, monkeypatch):
    mirror = labmod.serve("127.0.0.1:0", proxy=upstream.url, users={"ada": "lovelace"},
                          home=instructor)
    assert mirror.users == ("ada",)
    assert any(line.strip() == f"docker login {mirror.server.address}"
               for line in mirror.instructions())
    host = Host(tmp_path / "learner", mirrors=[mirror.url])
    with pytest.raises(RegistryError, match="may require 'docker login'"):
        imgkit.pull("hello-world", host=host, listener=quiet)
    # What `docker login 127.0.0.1:PORT` saves; imgkit reads it for the mirror's host.
    docker_config = tmp_path / "docker-config"
    docker_config.mkdir(exist_ok=True)
    (docker_config / "config.json").write_text(json.dumps({"auths": {mirror.server.address: {
        "auth": base64.b64encode(b"ada:lovelace").decode()}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config))
    assert imgkit.pull("hello-world", host=host, listener=quiet).image_id


def test_tls_is_refused_until_the_learner_trusts_the_class_certificate(
        upstream, instructor, tmp_path, monkeypatch):
    cert, key = make_certificate(tmp_path)
    mirror = labmod.serve("127.0.0.1:0", proxy=upstream.url, tls_certificate=cert,
                          tls_key=key, home=instructor)
    assert mirror.url.startswith("https://127.0.0.1:")
    assert any(str(cert) in line for line in mirror.instructions())
    host = Host(tmp_path / "learner", mirrors=[mirror.url])
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(RegistryUnreachableError) as refused:
        imgkit.pull("hello-world", host=host, listener=quiet)
    assert f"mirror {mirror.url}: TLS certificate not trusted" in str(refused.value)
    assert "\n" not in str(refused.value)
    check = imgkit.doctor(host=host, hub=False).check(f"mirror {mirror.url}")
    assert check.status == "fail" and check.detail.startswith("TLS certificate not trusted")
    assert "REQUESTS_CA_BUNDLE" in check.fix
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    assert imgkit.pull("hello-world", host=host, listener=quiet).image_id


@pytest.mark.parametrize("text, expected", [
    (None, ("0.0.0.0", 5000)),
    ("", ("0.0.0.0", 5000)),
    ("5001", ("0.0.0.0", 5001)),
    (":5002", ("0.0.0.0", 5002)),
    ("192.168.1.20", ("192.168.1.20", 5000)),
    ("10.0.0.1:0", ("10.0.0.1", 0)),
    ("[::]:5003", ("::", 5003)),
])
def test_addresses_the_instructor_may_give(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["host:port", "1.2.3.4:70000", "[::]:x"])
def test_bad_addresses_are_refused(text):
    with pytest.raises(imgkit.errors.LabError, match="invalid address"):
        parse_address(text)
