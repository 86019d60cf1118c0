"""`imgkit.inspect()` gives Docker 29's `docker image inspect` document."""

from __future__ import annotations

import json

import pytest

from imgkit import inspect
from imgkit.api.host import Host
from imgkit.api.inspecting import rfc3339_nano
from imgkit.build import BUILDKIT_COMMENT, ImageBuilder
from imgkit.errors import ImageNotFoundError
from imgkit.lab import recipes
from imgkit.store import add_digest_reference, store_built_image
from imgkit.tarlayer import Entry

TAGGED = "2024-07-01T10:00:00.120000000Z"


@pytest.fixture
def host(tmp_path):
    host = Host(tmp_path / "home")
    redis = recipes.redis().images[0]
    store_built_image(host.store, redis, ["docker.io/library/redis:latest"])
    with host.store.transaction() as records:
        records.images[redis.id].last_tag_time = TAGGED
    return host


def test_redis_document(host):
    redis = recipes.redis().images[0]
    (doc,) = inspect("redis", host=host)
    assert list(doc) == ["Id", "RepoTags", "RepoDigests", "Created", "Config", "Architecture",
                         "Os", "Size", "RootFS", "Metadata"]
    assert doc["Id"] == redis.id
    assert doc["RepoTags"] == ["redis:latest"]
    assert doc["RepoDigests"] == []                      # never null
    assert doc["Created"] == "2024-06-10T10:00:00Z"
    assert list(doc["Config"]) == ["ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes",
                                   "WorkingDir", "Labels", "ArgsEscaped"]
    assert doc["Config"]["ExposedPorts"] == {"6379/tcp": {}}
    assert doc["Config"]["Volumes"] == {"/data": {}}
    assert doc["Config"]["Entrypoint"] == ["docker-entrypoint.sh"]
    assert doc["Config"]["Cmd"] == ["redis-server"]
    assert doc["Architecture"] == "amd64" and doc["Os"] == "linux" and "Variant" not in doc
    assert doc["Size"] == redis.size
    assert doc["RootFS"] == {"Type": "layers", "Layers": redis.diff_ids}
    assert doc["Metadata"] == {"LastTagTime": "2024-07-01T10:00:00.12Z"}


def test_json_text_is_a_four_space_array(host):
    text = repr(inspect("redis", host=host))
    assert text.startswith('[\n    {\n        "Id": "sha256:')
    assert '\n            "ExposedPorts": {\n                "6379/tcp": {}\n            },\n' in text
    assert '\n        "RepoDigests": [],\n' in text
    assert text.endswith('\n        }\n    }\n]')
    assert json.loads(text)[0]["Id"] == recipes.redis().images[0].id
    assert inspect("redis", host=host).to_json() == text


def test_several_names_and_lookups(host):
    redis = recipes.redis().images[0]
    docs = inspect("redis:latest", redis.id[7:19], redis.id, host=host)
    assert [d["Id"] for d in docs] == [redis.id] * 3


def test_unknown_name(host):
    with pytest.raises(ImageNotFoundError, match="^No such image: nope:latest$"):
        inspect("nope", host=host)
    with pytest.raises(ImageNotFoundError):
        inspect("redis", "nope", host=host)


def test_repo_digests_variant_comment_and_never_tagged(tmp_path):
    host = Host(tmp_path / "home")
    arm = recipes.alpine("3.20").images[1]
    record = store_built_image(host.store, arm, [])
    with host.store.transaction() as records:
        add_digest_reference(records, f"docker.io/library/alpine@{arm.digest}", record.id)
    built = (ImageBuilder(created="2024-07-01T10:00:00.500+00:00", comment=BUILDKIT_COMMENT)
             .add_layer([Entry.file("x", b"x")], created_by="COPY x / # buildkit").build())
    store_built_image(host.store, built, [])
    alpine, made = inspect(arm.id, built.id, host=host)
    assert alpine["RepoTags"] == [] and alpine["RepoDigests"] == [f"alpine@{arm.digest}"]
    assert alpine["Variant"] == "v8" and list(alpine)[5:8] == ["Architecture", "Variant", "Os"]
    assert alpine["Metadata"] == {"LastTagTime": "0001-01-01T00:00:00Z"}
    assert made["Comment"] == BUILDKIT_COMMENT             # from the last history entry
    assert made["Created"] == "2024-07-01T10:00:00.5Z"
    assert made["Config"] == {}


def test_a_parent_makes_docker_sort_every_key(tmp_path):
    # Docker 29 adds "Parent" through a generic map, which writes keys in sorted order.
    host = Host(tmp_path / "home")
    base = ImageBuilder().add_layer([Entry.file("b", b"b")], created_by="ADD b /").build()
    child = ImageBuilder(base=base).label("b", "2").label("a", "1").cmd(["x"]).build()
    store_built_image(host.store, base, [])
    store_built_image(host.store, child, ["docker.io/library/child:1"], parent=base.id)
    (doc,) = inspect("child:1", host=host)
    assert doc["Parent"] == base.id
    assert list(doc) == sorted(doc)
    assert list(doc["Config"]) == ["ArgsEscaped", "Cmd", "Labels"]


@pytest.mark.parametrize("text,expected", [
    ("2024-06-10T10:00:00Z", "2024-06-10T10:00:00Z"),
    ("2024-06-10T10:00:00.000000000Z", "2024-06-10T10:00:00Z"),
    ("2024-06-10T10:00:00.123456789Z", "2024-06-10T10:00:00.123456789Z"),
    ("2024-06-10T10:00:00.1200Z", "2024-06-10T10:00:00.12Z"),
    ("2024-06-10T12:00:00+02:00", "2024-06-10T12:00:00+02:00"),
    ("2024-06-10T10:00:00+00:00", "2024-06-10T10:00:00Z"),
])
def test_rfc3339_nano(text, expected):
    assert rfc3339_nano(text) == expected


def test_the_verbs_work_after_their_modules_were_imported(host):
    # A verb must not share its module's name, or importing the module hides the verb.
    import imgkit.api.inspecting  # noqa: F401
    import imgkit.api.pulling  # noqa: F401

    assert imgkit.inspect("redis", host=host)[0]["RepoTags"] == ["redis:latest"]
    assert imgkit.api.inspect("redis", host=host)[0]["RepoTags"] == ["redis:latest"]
    assert callable(imgkit.api.pull) and callable(imgkit.pull)
