"""A host whose store holds a few course images, filled without a registry."""

from __future__ import annotations

import pytest

from imgkit.api import Host
from imgkit.lab import recipes
from imgkit.store import ContainerRecord, add_digest_reference, store_built_image

ALPINE = recipes.alpine("3.20").images[0]
REDIS = recipes.redis().images[0]
PYTHON = recipes.python().images[0]
ALPINE_INDEX_DIGEST = recipes.alpine("3.20").digest


def full(name: str) -> str:
    return f"docker.io/library/{name}"


@pytest.fixture
def host(tmp_path):
    host = Host(tmp_path / "home")
    store_built_image(host.store, ALPINE, [full("alpine:3.20"), full("alpine:latest")])
    with host.store.transaction() as records:
        add_digest_reference(records, full(f"alpine@{ALPINE_INDEX_DIGEST}"), ALPINE.id)
    store_built_image(host.store, REDIS, [full("redis:latest")])
    store_built_image(host.store, PYTHON, [full("python:3.12-alpine")])
    return host


def add_container(host, image_id: str, state: str, number: int = 1) -> str:
    container_id = f"{number:02d}" + "c0ffee" * 10 + "ab"
    with host.store.transaction() as records:
        records.containers[container_id] = ContainerRecord(
            id=container_id, name=f"box{number}", image=image_id, image_reference="alpine",
            command=["/bin/sh"], created="2024-07-01T00:00:00Z", state=state)
    return container_id
