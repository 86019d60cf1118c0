"""Fixtures for the classroom: an "upstream" registry, a store full of images, certificates.

Nothing here leaves the machine: "Docker Hub" is always a loopback address
(a closed port unless a test points it at the upstream), so a test can
never spend a real pull.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from classroomhelpers import closed_port_url

from imgkit.api import Host
from imgkit.lab import catalog
from imgkit.lab.seed import push_built
from imgkit.lab.server import RegistryServer
from imgkit.registry import RegistryClient

#: The course images the upstream holds (few, so it starts quickly).
UPSTREAM_IMAGES = (("library/alpine", "3.20"), ("library/hello-world", "latest"))


@pytest.fixture(autouse=True)
def _no_real_docker_hub(monkeypatch):
    monkeypatch.setenv("IMGKIT_DOCKER_HUB_URL", closed_port_url())
    monkeypatch.setenv("IMGKIT_WIDGETS", "0")


@pytest.fixture(scope="session")
def upstream(tmp_path_factory):
    """A Distribution registry holding a couple of course images, logging every request."""
    server = RegistryServer(tmp_path_factory.mktemp("upstream"), port=0, accesslog=True).start()
    with RegistryClient(server.address) as client:
        for entry in catalog.CATALOG:
            if any(entry.repository == repo and tag in entry.tags for repo, tag in UPSTREAM_IMAGES):
                push_built(client, entry.repository, catalog.build(entry), entry.tags)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def filled_home(lab, tmp_path_factory) -> Path:
    """An imgkit home that pulled alpine:3.20, redis:7.2 and busybox from the lab (do not change it)."""
    import imgkit

    home = tmp_path_factory.mktemp("filled")
    host = Host(home, mirrors=[lab.url])
    for name in ("alpine:3.20", "redis:7.2", "busybox"):
        imgkit.pull(name, host=host, listener=lambda event: None)
    return home


@pytest.fixture(scope="session")
def course_tar(filled_home, tmp_path_factory) -> Path:
    """A bundle of alpine:3.20 and redis:7.2, written by ``imgkit.save``."""
    import imgkit

    path = tmp_path_factory.mktemp("bundle") / "course.tar"
    imgkit.save("alpine:3.20", "redis:7.2", output=path, host=Host(filled_home))
    return path
