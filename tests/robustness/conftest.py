"""Fixtures for the robustness tier: registries to break, stores to check, commands to run.

The servers of ``tests/registry/servers.py`` (``FaultyProxy``, ``TokenServer``,
``CDNServer``) and the helpers of ``tests/pull/pullhelpers.py`` are reused.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for extra in (HERE, HERE.parent / "registry", HERE.parent / "pull"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from imgkit.lab.server import RegistryServer  # noqa: E402


@pytest.fixture(scope="session")
def scratch_registry(tmp_path_factory):
    """An anonymous Distribution registry of the robustness tier's own."""
    with RegistryServer(tmp_path_factory.mktemp("robust-registry")) as server:
        yield server
