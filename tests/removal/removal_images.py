"""Course images and a container helper shared by the removal tests."""

from __future__ import annotations

from imgkit.lab import recipes
from imgkit.store import ContainerRecord

ALPINE = recipes.alpine("3.20").images[0]
REDIS = recipes.redis().images[0]
PYTHON = recipes.python().images[0]
ALPINE_INDEX_DIGEST = recipes.alpine("3.20").digest


def full(name: str) -> str:
    return f"docker.io/library/{name}"


def add_container(host, image_id: str, state: str, number: int = 1) -> str:
    container_id = f"{number:02d}" + "c0ffee" * 10 + "ab"
    with host.store.transaction() as records:
        records.containers[container_id] = ContainerRecord(
            id=container_id, name=f"box{number}", image=image_id, image_reference="alpine",
            command=["/bin/sh"], created="2024-07-01T00:00:00Z", state=state)
    return container_id
