"""A real registry behind htpasswd: Basic credentials, from arguments or config.json."""

from __future__ import annotations

import base64
import json

import pytest
from sample_images import USERS, make_image, no_sleep, push

from imgkit.errors import AuthenticationError, RepositoryNotFoundError
from imgkit.registry import RegistryClient

pytestmark = pytest.mark.registry

PASSWORD = USERS["alice"]


def test_the_challenge_is_basic(basic_registry):
    client = RegistryClient(basic_registry.address, anonymous=True)
    challenge = client.ping()
    assert challenge.scheme == "basic" and challenge.realm == "imgkit-test"


def test_right_credentials_push_and_pull(basic_registry, repo):
    client = RegistryClient(basic_registry.address, credentials=("alice", PASSWORD))
    image = make_image("basic", (100, 5000))
    push(client, repo, image)
    assert client.get_manifest(repo, "v1").digest == image.digest
    assert client.get_blob(repo, image.layer_digests[1]) == image.layers[1]
    assert client.tags(repo) == ["v1"]


def test_wrong_password_names_the_registry_and_user_but_not_the_password(basic_registry,
                                                                         repo):
    secret = "not-the-password-9"
    client = RegistryClient(basic_registry.address, credentials=("alice", secret),
                            sleep=no_sleep)
    with pytest.raises(AuthenticationError) as caught:
        client.get_manifest(repo, "v1")
    message = str(caught.value)
    assert basic_registry.address in message and "'alice'" in message
    assert caught.value.status == 401
    basic_header = base64.b64encode(f"alice:{secret}".encode()).decode()
    for text in (message, repr(caught.value), repr(client), repr(client.auth)):
        assert secret not in text and basic_header not in text
    assert no_sleep.calls == []  # a refused login is not retried


def test_no_credentials_reads_as_pull_access_denied(basic_registry, repo):
    client = RegistryClient(basic_registry.address)  # nothing in $DOCKER_CONFIG
    with pytest.raises(RepositoryNotFoundError) as caught:
        client.get_manifest(repo, "v1")
    assert caught.value.status == 401 and caught.value.code == "UNAUTHORIZED"


@pytest.mark.parametrize("key_form", ["{address}", "http://{address}/v2/"])
@pytest.mark.parametrize("entry_form", ["auth", "username"])
def test_credentials_come_from_docker_config(basic_registry, repo, tmp_path, monkeypatch,
                                             key_form, entry_form):
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    if entry_form == "auth":
        entry = {"auth": base64.b64encode(f"alice:{PASSWORD}".encode()).decode()}
    else:
        entry = {"username": "alice", "password": PASSWORD}
    key = key_form.format(address=basic_registry.address)
    (config_dir / "config.json").write_text(json.dumps({"auths": {key: entry}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))

    client = RegistryClient(basic_registry.address)
    assert client.auth.credentials.username == "alice"
    image = make_image("from-config", (64,))
    push(client, repo, image)
    assert client.get_manifest(repo, "v1").data == image.manifest
    # anonymous=True ignores the saved login.
    with pytest.raises(RepositoryNotFoundError):
        RegistryClient(basic_registry.address, anonymous=True).get_manifest(repo, "v1")
