"""`imgkit.tag()` names images as `docker tag` does: silently, moving tags, with Docker's errors."""

from __future__ import annotations

import pytest

from imgkit import images, inspect, tag
from imgkit.errors import ImageNotFoundError, InvalidReferenceError

from .conftest import NOW


def names(fixed):
    return {(r.repository, r.tag): r.image_id for r in images(host=fixed.host, now=NOW)}


@pytest.mark.parametrize("source,target,expected", [
    ("app:1.0", "app:2.0", ("app", "2.0")),
    ("app", "mine", ("mine", "latest")),                      # no tag means latest
    ("064074e232c3", "by-id:1", ("by-id", "1")),              # an ID prefix
    ("sha256:064074e232c3180b40dd439a0d9f03ae847815847c18dfdae0b206b8bc39c089", "full:1",
     ("full", "1")),
    ("064074e232c3180b40dd439a0d9f03ae847815847c18dfdae0b206b8bc39c089", "hex:1", ("hex", "1")),
    ("app", "registry.example.com:5000/team/app:v1", ("registry.example.com:5000/team/app", "v1")),
    ("app", "docker.io/library/again:1", ("again", "1")),
    ("app", "Name:UPPER-tag", None),                          # tags may have capitals, names not
])
def test_tag_adds_a_name(fixed, source, target, expected):
    if expected is None:
        with pytest.raises(InvalidReferenceError):
            tag(source, target, host=fixed.host)
        return
    assert tag(source, target, host=fixed.host) is None
    assert names(fixed)[expected] == fixed.ids["app"]


def test_a_moved_tag_leaves_the_old_image_dangling(fixed):
    before = names(fixed)
    assert before[("tools/cli", "2")] == fixed.ids["cli"]
    tag("app:1.0", "tools/cli:2", host=fixed.host)
    after = images(host=fixed.host, now=NOW)
    assert [(r.repository, r.tag, r.image_id) for r in after][:4] == [
        ("app", "1.0", fixed.ids["app"]), ("app", "latest", fixed.ids["app"]),
        ("tools/cli", "2", fixed.ids["app"]), ("<none>", "<none>", fixed.ids["cli"])]
    assert inspect(fixed.ids["cli"], host=fixed.host)[0]["RepoTags"] == []


def test_tagging_records_the_last_tag_time(fixed):
    tag("localhost:5000/team/db:15", "db:copy", host=fixed.host)
    (doc,) = inspect("db:copy", host=fixed.host)
    assert doc["Metadata"]["LastTagTime"] != "0001-01-01T00:00:00Z"
    assert doc["RepoTags"] == ["db:copy", "localhost:5000/team/db:15"]


def test_tagging_the_same_name_again_is_fine(fixed):
    tag("app:1.0", "app:1.0", host=fixed.host)
    assert names(fixed)[("app", "1.0")] == fixed.ids["app"]


@pytest.mark.parametrize("source,target,error,message", [
    ("nope", "x", ImageNotFoundError, "No such image: nope:latest"),
    ("abc123", "x", ImageNotFoundError, "No such image: abc123:latest"),
    ("app", "x@sha256:" + "a" * 64, InvalidReferenceError,
     "refusing to create a tag with a digest reference"),
    ("app", "x:1@sha256:" + "a" * 64, InvalidReferenceError,
     "refusing to create a tag with a digest reference"),
    ("app", "Foo", InvalidReferenceError, 'error parsing reference: "Foo" is not a valid '
     "repository/tag: invalid reference format: repository name (library/Foo) must be lowercase"),
    ("app", "x:", InvalidReferenceError,
     'error parsing reference: "x:" is not a valid repository/tag: invalid reference format'),
    ("app", "a" * 64, InvalidReferenceError,
     f'error parsing reference: "{"a" * 64}" is not a valid repository/tag: invalid repository '
     f"name ({'a' * 64}), cannot specify 64-byte hexadecimal strings"),
    ("Bad", "x", InvalidReferenceError, 'error parsing reference: "Bad" is not a valid '
     "repository/tag: invalid reference format: repository name (library/Bad) must be lowercase"),
    ("app", "sha256:abc", InvalidReferenceError,
     "refusing to create an ambiguous tag using digest algorithm as name"),
])
def test_tag_errors(fixed, source, target, error, message):
    with pytest.raises(error) as err:
        tag(source, target, host=fixed.host)
    assert str(err.value) == message


def test_an_unknown_source_leaves_an_empty_home_untouched(tmp_path):
    from imgkit.api.host import Host

    host = Host(tmp_path / "fresh")
    with pytest.raises(ImageNotFoundError):
        tag("alpine", "mine", host=host)
    assert not (tmp_path / "fresh" / "store").exists()
