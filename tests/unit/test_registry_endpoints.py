"""Endpoint rules: which URL a registry domain means (no sockets)."""

from __future__ import annotations

import pytest

import imgkit.registry
from imgkit.registry import registry_url
from imgkit.registry.transport import host_of, is_loopback, same_origin


@pytest.mark.parametrize("domain, insecure, listed, url", [
    ("docker.io", None, (), "https://registry-1.docker.io"),
    ("index.docker.io", None, (), "https://registry-1.docker.io"),
    ("registry-1.docker.io", None, (), "https://registry-1.docker.io"),
    ("ghcr.io", None, (), "https://ghcr.io"),
    ("quay.io:443", None, (), "https://quay.io:443"),
    # Loopback is insecure by default, as in Docker.
    ("127.0.0.1:5000", None, (), "http://127.0.0.1:5000"),
    ("127.1.2.3:5000", None, (), "http://127.1.2.3:5000"),
    ("localhost:5000", None, (), "http://localhost:5000"),
    ("localhost", None, (), "http://localhost"),
    ("[::1]:5000", None, (), "http://[::1]:5000"),
    # ...unless told otherwise.
    ("127.0.0.1:5000", False, (), "https://127.0.0.1:5000"),
    ("myregistry.local:5000", True, (), "http://myregistry.local:5000"),
    # insecure-registries by host:port, by host, by CIDR, with a scheme.
    ("myregistry.local:5000", None, ["myregistry.local:5000"], "http://myregistry.local:5000"),
    ("myregistry.local:5000", None, ["myregistry.local"], "http://myregistry.local:5000"),
    ("10.1.2.3:5000", None, ["10.0.0.0/8"], "http://10.1.2.3:5000"),
    ("11.1.2.3:5000", None, ["10.0.0.0/8"], "https://11.1.2.3:5000"),
    ("myregistry.local", None, ["http://myregistry.local/"], "http://myregistry.local"),
    ("other.local:5000", None, ["myregistry.local:5000"], "https://other.local:5000"),
])
def test_registry_url(domain, insecure, listed, url):
    assert registry_url(domain, insecure, listed) == url


@pytest.mark.parametrize("domain, host", [
    ("127.0.0.1:5000", "127.0.0.1"), ("localhost", "localhost"), ("[::1]:5000", "::1"),
    ("[fc00::1]", "fc00::1"), ("ghcr.io", "ghcr.io"), ("a.b:443", "a.b"),
])
def test_host_of(domain, host):
    assert host_of(domain) == host


@pytest.mark.parametrize("domain, loopback", [
    ("127.0.0.1", True), ("127.255.0.9:80", True), ("localhost:1", True), ("[::1]:5000", True),
    ("LOCALHOST", True), ("128.0.0.1", False), ("localhost.example.com", False),
    ("docker.io", False), ("[fc00::1]:5000", False),
])
def test_is_loopback(domain, loopback):
    assert is_loopback(domain) is loopback


@pytest.mark.parametrize("a, b, same", [
    ("http://127.0.0.1:5000/v2/x", "http://127.0.0.1:5000", True),
    ("https://r.io/v2/", "https://r.io:443", True),
    ("https://R.IO/v2/", "https://r.io", True),
    ("http://r.io/v2/", "https://r.io", False),             # scheme differs
    ("http://127.0.0.1:5001/x", "http://127.0.0.1:5000", False),  # port differs
    ("https://cdn.r.io/blob", "https://r.io", False),        # host differs
])
def test_same_origin(a, b, same):
    assert same_origin(a, b) is same


def test_public_api_is_curated():
    exported = set(imgkit.registry.__all__)
    assert {"RegistryClient", "push_image", "Credentials", "RateLimit",
            "registry_url"} <= exported
    assert all(hasattr(imgkit.registry, name) for name in exported)
