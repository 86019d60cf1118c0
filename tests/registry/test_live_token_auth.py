"""A real registry that trusts a token server: Docker Hub's handshake, on loopback."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sample_images import USERS, make_image, push

from imgkit.digest import compute
from imgkit.errors import AuthenticationError, RepositoryNotFoundError
from imgkit.registry import RegistryClient

pytestmark = pytest.mark.registry

ALICE = ("alice", USERS["alice"])


@pytest.fixture
def pushed(token_registry, token_server, repo):
    """An image pushed by alice into ``repo`` (token server records cleared after)."""
    with RegistryClient(token_registry.address, credentials=ALICE) as client:
        image = make_image("token", (100, 2000))
        push(client, repo, image)
    token_server.requests.clear()
    return image


def test_the_challenge_names_realm_and_service(token_registry, token_server):
    challenge = RegistryClient(token_registry.address).ping()
    assert challenge.scheme == "bearer"
    assert challenge.realm == f"{token_server.url}/token"
    assert challenge.service == token_server.service


def test_anonymous_pull_uses_one_cached_token_per_scope(token_registry, token_server,
                                                        pushed, repo):
    client = RegistryClient(token_registry.address)
    assert client.get_manifest(repo, "v1").digest == pushed.digest
    assert client.get_manifest(repo, pushed.digest).data == pushed.manifest
    assert client.head_manifest(repo, "v1").digest == pushed.digest
    for digest, data in pushed.blobs.items():
        assert client.get_blob(repo, digest) == data
    # Every request above needed `pull` on this repository: one token did.
    assert token_server.requests == [{
        "scopes": [f"repository:{repo}:pull"], "service": [token_server.service],
        "account": None, "user": None, "rejected": False}]

    other = repo + "-x"
    with pytest.raises(RepositoryNotFoundError):
        client.tags(other)
    assert token_server.requests[-1]["scopes"] == [f"repository:{other}:pull"]


def test_push_asks_for_pull_and_push_with_credentials(token_registry, token_server, repo):
    client = RegistryClient(token_registry.address, credentials=ALICE)
    image = make_image("token-push", (10,))
    push(client, repo, image)
    users = {r["user"] for r in token_server.requests}
    scopes = {s for r in token_server.requests for s in r["scopes"]}
    assert users == {"alice"}
    assert scopes == {f"repository:{repo}:pull,push"}
    assert token_server.requests[0]["account"] == ["alice"]
    # Pulling afterwards needs a different scope, hence one more token.
    before = len(token_server.requests)
    client.get_manifest(repo, "v1")
    assert len(token_server.requests) == before + 1


def test_access_token_field_and_short_expiry(token_registry, token_server, pushed, repo):
    token_server.token_field = "access_token"
    token_server.expires_in = 1  # below Docker's minimum of 60 s: treated as 60
    client = RegistryClient(token_registry.address)
    client.get_manifest(repo, "v1")
    client.get_manifest(repo, "v1")
    assert len(token_server.requests) == 1


def test_anonymous_push_is_denied_with_a_clear_message(token_registry, repo):
    client = RegistryClient(token_registry.address)
    with pytest.raises(AuthenticationError) as caught:
        client.push_blob(repo, compute(b"x" * 10), b"x" * 10)
    assert token_registry.address in str(caught.value)
    assert "denied" in str(caught.value) and caught.value.status == 401


def test_wrong_password_is_refused_by_the_token_server(token_registry, token_server, repo):
    secret = "guessed-password"
    client = RegistryClient(token_registry.address, credentials=("alice", secret))
    with pytest.raises(AuthenticationError) as caught:
        client.get_manifest(repo, "v1")
    message = str(caught.value)
    assert token_registry.address in message and "'alice'" in message
    assert "incorrect username or password" in message
    assert secret not in message and secret not in repr(client)
    assert token_server.requests[-1]["rejected"] is True


def test_a_private_repository_reads_as_pull_access_denied(token_registry, token_server):
    # The token server grants nothing on private/ anonymously; the registry
    # then answers 401 even with a token, which Docker words as
    # "pull access denied ... may require 'docker login'".
    client = RegistryClient(token_registry.address)
    with pytest.raises(RepositoryNotFoundError) as caught:
        client.get_manifest("private/secret", "latest")
    assert caught.value.status == 401
    # A token was fetched, refused, forgotten and fetched again: then we stop.
    assert len(token_server.requests) == 2


def test_catalog_needs_its_own_scope(token_registry, token_server, pushed, repo):
    client = RegistryClient(token_registry.address, credentials=ALICE)
    assert repo in client.catalog()
    assert token_server.requests[-1]["scopes"] == ["registry:catalog:*"]


def test_tokens_never_show_in_errors_or_reprs(token_registry, token_server, pushed, repo):
    client = RegistryClient(token_registry.address)
    client.get_manifest(repo, "v1")
    with pytest.raises(Exception) as caught:
        client.get_manifest(repo, "missing")
    token = token_server.issued[-1]
    for text in (str(caught.value), repr(caught.value), repr(client), repr(client.auth),
                 repr(client.auth._tokens)):
        assert token not in text


def test_concurrent_downloads_share_one_token(token_registry, token_server, repo):
    # Docker downloads 3 layers at a time; they should cost one token request.
    image = make_image("token-threads", (50_000, 60_000, 70_000, 80_000))
    with RegistryClient(token_registry.address, credentials=ALICE) as pusher:
        push(pusher, repo, image)
    token_server.requests.clear()
    client = RegistryClient(token_registry.address)
    with ThreadPoolExecutor(max_workers=3) as pool:
        got = list(pool.map(lambda d: client.get_blob(repo, d), image.layer_digests))
    assert got == image.layers
    assert len(token_server.requests) == 1
