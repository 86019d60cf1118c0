"""Fixtures for the build tests: an empty host, and a build context written with fixed modes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imgkit.api.host import Host


@pytest.fixture
def host(tmp_path) -> Host:
    """An empty host; FROM anything but scratch would try Docker Hub, so tests use scratch."""
    return Host(tmp_path / "home", mirrors=[])


@pytest.fixture
def context(tmp_path):
    """Return ``write(files, dockerfile)``: a build context with modes set explicitly.

    ``files`` maps a path to text/bytes (a file, 0644), ``None`` (a directory,
    0755) or ``(data, mode)``; the umask never decides a mode, so digests are
    the same everywhere.
    """
    root = tmp_path / "context"

    def write(files: dict, dockerfile: str | None = None) -> Path:
        root.mkdir(exist_ok=True)
        os.chmod(root, 0o755)
        if dockerfile is not None:
            files = {"Dockerfile": dockerfile, **files}
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            for parent in path.relative_to(root).parents:
                os.chmod(root / parent, 0o755)
            if content is None:
                path.mkdir(exist_ok=True)
                os.chmod(path, 0o755)
                continue
            data, mode = content if isinstance(content, tuple) else (content, 0o644)
            path.write_bytes(data.encode() if isinstance(data, str) else data)
            os.chmod(path, mode)
        return root

    return write
