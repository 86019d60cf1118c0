"""Fixtures: real Distribution registries (anonymous, htpasswd, token) and test servers.

Registries are session-scoped (starting one takes a fraction of a second but
adds up); every test works in a repository of its own (the ``repo`` fixture)
so tests never see each other's images.
"""

from __future__ import annotations

import re

import pytest
from sample_images import USERS, no_sleep
from servers import CDNServer, FaultyProxy, TokenServer, htpasswd_line

from imgkit.lab.server import RegistryServer
from imgkit.registry import RegistryClient


@pytest.fixture(autouse=True)
def _isolated_docker_config(tmp_path, monkeypatch):
    # Never read the developer's own ~/.docker/config.json logins.
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    no_sleep.calls.clear()


@pytest.fixture
def repo(request) -> str:
    """A repository name unique to the test, e.g. ``test/push-and-pull``."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    return f"test/{name[:100]}"


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """An anonymous registry: anyone may pull and push."""
    with RegistryServer(tmp_path_factory.mktemp("anonymous")) as server:
        yield server


@pytest.fixture
def client(registry):
    with RegistryClient(registry.address, sleep=no_sleep) as c:
        yield c


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory):
    """A registry behind htpasswd (Basic) authentication; the user is in ``USERS``."""
    root = tmp_path_factory.mktemp("basic")
    htpasswd = root / "htpasswd"
    htpasswd.write_text("".join(htpasswd_line(u, p) + "\n" for u, p in USERS.items()))
    config = {"auth": {"htpasswd": {"realm": "imgkit-test", "path": str(htpasswd)}}}
    with RegistryServer(root / "registry", extra_config=config) as server:
        yield server


@pytest.fixture(scope="session")
def _token_server():
    with TokenServer(USERS) as server:
        yield server


@pytest.fixture
def token_server(_token_server):
    """The token server, its records cleared and its settings reset for this test."""
    _token_server.requests.clear()
    _token_server.token_field = "token"
    _token_server.expires_in = 300
    yield _token_server


@pytest.fixture(scope="session")
def token_registry(_token_server, tmp_path_factory):
    """A registry trusting ``token_server``: anonymous pull, push for ``USERS``."""
    root = tmp_path_factory.mktemp("token")
    cert = _token_server.write_cert(root / "token-signer.pem")
    with RegistryServer(root / "registry",
                        extra_config=_token_server.registry_config(cert)) as server:
        yield server


@pytest.fixture
def proxy_for():
    """Return a function starting a ``FaultyProxy`` in front of a registry URL."""
    started = []

    def start(upstream: str) -> FaultyProxy:
        proxy = FaultyProxy(upstream).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture
def cdn():
    with CDNServer() as server:
        yield server
