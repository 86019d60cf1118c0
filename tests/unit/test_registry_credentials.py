"""Reading `docker login`'s saved credentials from config.json (no sockets)."""

from __future__ import annotations

import base64
import json

import pytest

from imgkit.errors import ConfigError
from imgkit.registry.credentials import (
    DOCKER_HUB_KEY,
    Credentials,
    config_dir,
    hostname_of,
    load_auths,
    lookup,
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def write_config(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))

    def write(auths, **extra):
        (tmp_path / "config.json").write_text(json.dumps({"auths": auths, **extra}))
    return write


def test_config_dir_honours_docker_config(tmp_path):
    assert config_dir({"DOCKER_CONFIG": str(tmp_path)}) == tmp_path
    assert config_dir({}).name == ".docker"


@pytest.mark.parametrize("key, hostname", [
    ("https://index.docker.io/v1/", "index.docker.io"),
    ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
    ("127.0.0.1:5000", "127.0.0.1:5000"),
    ("ghcr.io", "ghcr.io"),
])
def test_hostname_of(key, hostname):
    assert hostname_of(key) == hostname


@pytest.mark.parametrize("auths, domain, expected", [
    # The base64 `auth` field; a password may itself contain ':'.
    ({"127.0.0.1:5000": {"auth": b64("alice:pa:ss")}}, "127.0.0.1:5000",
     Credentials("alice", "pa:ss")),
    ({"127.0.0.1:5000": {"username": "bob", "password": "pw"}}, "127.0.0.1:5000",
     Credentials("bob", "pw")),
    # Docker Hub: only the historic key counts, for docker.io and its alias.
    ({DOCKER_HUB_KEY: {"auth": b64("hub:pw")}}, "docker.io", Credentials("hub", "pw")),
    ({DOCKER_HUB_KEY: {"auth": b64("hub:pw")}}, "index.docker.io", Credentials("hub", "pw")),
    ({"docker.io": {"auth": b64("hub:pw")}}, "docker.io", None),
    # Other registries: any key with the same host part.
    ({"https://ghcr.io/v2/": {"auth": b64("g:pw")}}, "ghcr.io", Credentials("g", "pw")),
    ({"http://127.0.0.1:5000": {"auth": b64("a:b")}}, "127.0.0.1:5000", Credentials("a", "b")),
    ({"127.0.0.1:5001": {"auth": b64("a:b")}}, "127.0.0.1:5000", None),
    # Logins kept by a credential helper leave an empty entry: nothing to read.
    ({"ghcr.io": {}}, "ghcr.io", None),
    ({}, "ghcr.io", None),
])
def test_lookup(write_config, auths, domain, expected):
    write_config(auths, credsStore="desktop")
    assert lookup(domain) == expected


def test_missing_file_means_no_logins(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "nowhere"))
    assert load_auths() == {} and lookup("ghcr.io") is None


@pytest.mark.parametrize("content", [
    "{not json", '{"auths": []}',
    json.dumps({"auths": {"r": {"auth": "!!!not-base64-secret!!!"}}}),
    json.dumps({"auths": {"r": {"auth": b64("no-colon-secret")}}}),
])
def test_broken_files_raise_config_error_without_their_contents(tmp_path, content):
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_auths(path)
    assert str(path) in str(caught.value)
    assert "secret" not in str(caught.value)


def test_credentials_hide_the_password():
    creds = Credentials("alice", "hunter2")
    assert "hunter2" not in repr(creds) and "alice" in repr(creds)
    user, password = creds
    assert (user, password) == ("alice", "hunter2")
