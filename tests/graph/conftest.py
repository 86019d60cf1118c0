"""A fixed store of course images for the graph tests, built once and copied per test."""

from __future__ import annotations

import shutil

import pytest

from imgkit.api import Host
from imgkit.store import store_built_image

from .helpers import course_images, full


@pytest.fixture(scope="session")
def _course_template(tmp_path_factory):
    home = tmp_path_factory.mktemp("graph-template") / "home"
    host = Host(home)
    for image, tags in course_images():
        store_built_image(host.store, image, [full(tag) for tag in tags])
    return home


@pytest.fixture
def course(tmp_path, _course_template) -> Host:
    """A host of its own holding alpine:3.20 (also :latest), redis, python, ubuntu:22.04, mongo, hello-world."""
    shutil.copytree(_course_template, tmp_path / "home")
    return Host(tmp_path / "home", platform="linux/amd64")


@pytest.fixture
def no_dot(tmp_path, monkeypatch):
    """Hide Graphviz's dot: PATH holds only an empty directory."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None
