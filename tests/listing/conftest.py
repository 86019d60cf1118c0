"""A fixed host for the listing tests: six images with known dates, names, labels and sizes.

``NOW`` is the moment every table is read at; the images were made before it::

    app:1.0, app:latest        1 hour before NOW    label tier=web     built on "base" (parent)
    <untagged parent of app>   2 hours before NOW   (an intermediate image)
    tools/cli:2                11 days before NOW   label tier=backend, team=tools
    <dangling>                 61 days before NOW   label tier=web (lost its tag to another)
    localhost:5000/team/db:15  18 months before NOW
    ubuntu@sha256:...          2 years before NOW   (only a digest reference is left)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from imgkit.api.host import Host
from imgkit.build import ImageBuilder
from imgkit.store import add_digest_reference, store_built_image
from imgkit.tarlayer import Entry

NOW = datetime(2024, 7, 1, 12, 0, 0, tzinfo=timezone.utc)


def stamp(delta: timedelta) -> str:
    """Return the RFC 3339 time ``delta`` before NOW."""
    return (NOW - delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def full(name: str) -> str:
    """Return the canonical reference for a familiar one (``app:1.0`` -> ``docker.io/library/app:1.0``)."""
    from imgkit.reference import parse

    return str(parse(name).with_default_tag())


def image(created: str, files: dict[str, int], *, labels=None, base=None, steps=()):
    """Build a small image: one layer of ``files`` (name -> size in bytes), then settings."""
    builder = ImageBuilder(created=created, base=base)
    builder.add_layer([Entry.file(name, b"x" * size) for name, size in files.items()],
                      created_by=f"COPY {' '.join(files)} / # buildkit")
    for label, value in (labels or {}).items():
        builder.label(label, value)
    for step in steps:
        step(builder)
    return builder.build()


@dataclass
class Fixture:
    host: Host
    ids: dict[str, str]


@functools.lru_cache(maxsize=None)
def built_images():
    """Build the six images once per test session (building is the slow part)."""
    parent = image(stamp(timedelta(hours=2)), {"base.txt": 1000})
    app = image(stamp(timedelta(hours=1)), {"app.txt": 230}, labels={"tier": "web"},
                base=parent, steps=[lambda b: b.cmd(["/app"])])
    cli = image(stamp(timedelta(days=11)), {"cli.bin": 77_800_000 // 100},
                labels={"tier": "backend", "team": "tools"})
    old_app = image(stamp(timedelta(days=61)), {"old.txt": 500}, labels={"tier": "web"})
    db = image(stamp(timedelta(days=548)), {"db.bin": 1_500_000})
    ubuntu = image(stamp(timedelta(days=800)), {"ubuntu.txt": 2_000})
    return parent, app, cli, old_app, db, ubuntu


def fill(host: Host) -> dict[str, str]:
    """Put the six images into ``host``'s store; return their IDs by nickname."""
    store = host.store
    parent, app, cli, old_app, db, ubuntu = built_images()
    ids = {}
    ids["parent"] = store_built_image(store, parent, []).id
    ids["app"] = store_built_image(store, app, [full("app:1.0"), full("app:latest")],
                                   parent=ids["parent"]).id
    ids["cli"] = store_built_image(store, cli, [full("tools/cli:2")]).id
    ids["old"] = store_built_image(store, old_app, [full("app:old")]).id
    ids["db"] = store_built_image(store, db, [full("localhost:5000/team/db:15")]).id
    ids["ubuntu"] = store_built_image(store, ubuntu, []).id
    with store.transaction() as records:
        # "old" loses its tag (it moved away): dangling. ubuntu keeps only the digest it was pulled by.
        del records.references[full("app:old")]
        add_digest_reference(records, f"docker.io/library/ubuntu@{ubuntu.digest}", ids["ubuntu"])
    ids["ubuntu_digest"] = ubuntu.digest
    return ids


@pytest.fixture(scope="session")
def _template(tmp_path_factory):
    home = tmp_path_factory.mktemp("listing-template") / "home"
    return home, fill(Host(home))


@pytest.fixture
def fixed(tmp_path, _template) -> Fixture:
    """A host of its own holding the six images described above (a copy of one made once)."""
    import shutil

    home, ids = _template
    shutil.copytree(home, tmp_path / "home")
    return Fixture(Host(tmp_path / "home"), dict(ids))


@pytest.fixture(autouse=True)
def _utc():
    """Print local times in UTC, as a CI machine does, whatever the developer's zone."""
    import os
    import time

    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()
