"""Fixtures for pull tests: the lab as "Docker Hub", spare registries, and store checks.

The registry test servers (token server, faulty proxy, CDN) are reused from
``tests/registry/servers.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "registry"))

from pullhelpers import USERS  # noqa: E402
from servers import TokenServer  # noqa: E402

from imgkit.api import Host  # noqa: E402
from imgkit.lab.server import RegistryServer  # noqa: E402
from imgkit.registry import RegistryClient  # noqa: E402


@pytest.fixture
def hub(lab, monkeypatch):
    """Make the lab stand in for Docker Hub itself, with no mirror in front of it."""
    monkeypatch.setenv("IMGKIT_DOCKER_HUB_URL", lab.url)
    monkeypatch.setenv("IMGKIT_REGISTRY_MIRROR", "")
    return lab


@pytest.fixture
def host(hub, tmp_path) -> Host:
    """A fresh, empty imgkit host whose docker.io is the lab."""
    return Host(tmp_path / "home")


@pytest.fixture
def lab_client(lab):
    with RegistryClient(lab.address) as client:
        yield client


@pytest.fixture(scope="session")
def spare_registry(tmp_path_factory):
    """An anonymous registry of our own, so tests may damage what it stores."""
    with RegistryServer(tmp_path_factory.mktemp("spare-registry")) as server:
        yield server


@pytest.fixture(scope="session")
def token_server():
    with TokenServer(USERS) as server:
        yield server


@pytest.fixture(scope="session")
def token_registry(token_server, tmp_path_factory):
    """A registry trusting ``token_server``, the way Docker Hub trusts auth.docker.io."""
    root = tmp_path_factory.mktemp("token-registry")
    cert = token_server.write_cert(root / "token-signer.pem")
    with RegistryServer(root / "registry", extra_config=token_server.registry_config(cert)) \
            as server:
        yield server
