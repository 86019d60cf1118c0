"""A host whose store holds a few course images, filled without a registry."""

from __future__ import annotations

import pytest
from removal_images import ALPINE, ALPINE_INDEX_DIGEST, PYTHON, REDIS, full

from imgkit.api import Host
from imgkit.store import add_digest_reference, store_built_image


@pytest.fixture
def host(tmp_path):
    host = Host(tmp_path / "home")
    store_built_image(host.store, ALPINE, [full("alpine:3.20"), full("alpine:latest")])
    with host.store.transaction() as records:
        add_digest_reference(records, full(f"alpine@{ALPINE_INDEX_DIGEST}"), ALPINE.id)
    store_built_image(host.store, REDIS, [full("redis:latest")])
    store_built_image(host.store, PYTHON, [full("python:3.12-alpine")])
    return host
