"""Fixtures shared by every test tier."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Never let a test read or write the developer's own ~/.imgkit or Docker config."""
    monkeypatch.setenv("IMGKIT_HOME", str(tmp_path / "imgkit-home"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.delenv("IMGKIT_REGISTRY_MIRROR", raising=False)
    monkeypatch.delenv("IMGKIT_REGISTRY_BINARY", raising=False)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A seeded lab registry in its own imgkit home, shared by the whole session."""
    from imgkit import lab as labmod

    home = tmp_path_factory.mktemp("lab-home")
    running = labmod.start(home)
    yield running
    labmod.stop(home)


@pytest.fixture(scope="session")
def course_builds():
    """Every course image built once: {(repository, tag): built image or index}."""
    from imgkit.lab import catalog

    return {(entry.repository, tag): catalog.build(entry)
            for entry in catalog.CATALOG for tag in entry.tags}


def pytest_report_header(config):
    return f"imgkit tests; IMGKIT_HOME is isolated per test (was {os.environ.get('IMGKIT_HOME')})"
