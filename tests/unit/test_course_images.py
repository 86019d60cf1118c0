"""The course images: reproducible, small, and shaped like the real ones."""

from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path

import pytest

from imgkit.build import BuiltIndex
from imgkit.lab import catalog, catalogdoc, recipes
from imgkit.lab.elf import GREETING, hello_program

ROOT = Path(__file__).resolve().parents[2]


def _image(built, arch="amd64"):
    if isinstance(built, BuiltIndex):
        return next(i for i in built.images if i.platform[1] == arch)
    return built


def _history(image):
    return json.loads(image.config_bytes)["history"]


def test_the_catalog_page_is_generated_from_the_recipes():
    # Regenerate with: python -m imgkit.lab.catalogdoc > docs/course-images.md
    assert (ROOT / "docs" / "course-images.md").read_text() == catalogdoc.markdown()


def test_two_builds_give_the_same_digests(course_builds):
    for (repository, tag), built in course_builds.items():
        entry = catalog.find(repository, tag)
        recipes.alpine_image.cache_clear()
        recipes.ubuntu_jammy.cache_clear()
        assert catalog.build(entry).digest == built.digest, f"{repository}:{tag}"


def test_the_whole_lab_stays_under_25_mb_compressed_even_after_a_new_build(course_builds):
    builds = list({b.digest: b for b in course_builds.values()}.values())
    builds.append(recipes.alpine("3.20", revision=2))
    assert catalogdoc.unique_blob_bytes(builds) <= 25_000_000


def test_alpine_latest_is_a_two_platform_index_equal_to_3_20(course_builds):
    latest = course_builds[("library/alpine", "latest")]
    assert latest.digest == course_builds[("library/alpine", "3.20")].digest
    assert isinstance(latest, BuiltIndex)
    assert {i.platform for i in latest.images} == {("linux", "amd64", None),
                                                   ("linux", "arm64", "v8")}
    assert _image(latest, "amd64").diff_ids != _image(latest, "arm64").diff_ids


def test_redis_and_python_share_exactly_the_alpine_base_layer(course_builds):
    alpine = _image(course_builds[("library/alpine", "3.20")])
    redis = _image(course_builds[("library/redis", "latest")])
    python = _image(course_builds[("library/python", "3.12-alpine")])
    assert len(redis.layers) == len(alpine.layers) + 3
    assert redis.chain_ids[0] == python.chain_ids[0] == alpine.chain_ids[0]
    assert set(redis.chain_ids) & set(python.chain_ids) == {alpine.chain_ids[0]}


def test_redis_carries_server_metadata_without_extra_layers(course_builds):
    redis = _image(course_builds[("library/redis", "latest")])
    settings = json.loads(redis.config_bytes)["config"]
    assert settings["ExposedPorts"] == {"6379/tcp": {}}
    assert settings["Entrypoint"] == ["docker-entrypoint.sh"]
    assert settings["Cmd"] == ["redis-server"]
    assert "REDIS_VERSION=7.2.5" in settings["Env"]
    history = _history(redis)
    steps_with_layers = [h for h in history if not h.get("empty_layer")]
    assert len(steps_with_layers) == len(redis.layers) == 4
    metadata = [h["created_by"].split()[0] for h in history if h.get("empty_layer")]
    for instruction in ("ENV", "EXPOSE", "CMD", "ENTRYPOINT"):
        assert instruction in metadata


def test_ubuntu_latest_has_five_layers_one_of_them_only_whiteouts(course_builds):
    ubuntu = _image(course_builds[("library/ubuntu", "latest")])
    assert len(ubuntu.layers) == 5
    assert b".wh.archive.ubuntu.com_ubuntu_dists_noble_main" in ubuntu.layers[2].tar


def test_mongo_is_built_on_the_ubuntu_22_04_layer(course_builds):
    jammy = _image(course_builds[("library/ubuntu", "22.04")])
    mongo = _image(course_builds[("library/mongo", "4.2.24")])
    assert mongo.chain_ids[0] == jammy.chain_ids[0]
    assert len(mongo.layers) > 5


def test_busybox_tags_are_different_images(course_builds):
    assert course_builds[("library/busybox", "latest")].digest != \
        course_builds[("library/busybox", "glibc")].digest


def test_every_course_image_says_it_is_a_course_copy(course_builds):
    for built in course_builds.values():
        labels = json.loads(_image(built).config_bytes)["config"]["Labels"]
        assert labels["org.opencontainers.image.vendor"] == "imgkit course images"
        assert "course copy" in labels["org.opencontainers.image.description"]


def test_sizes_differ_and_stay_small(course_builds):
    sizes = {key: _image(b).size for key, b in course_builds.items()}
    assert len(set(sizes.values())) >= 7
    assert max(sizes.values()) < 20_000_000


def test_a_new_build_of_alpine_is_a_different_image_with_a_later_date():
    first, second = recipes.alpine_image("3.20", "amd64", 1), recipes.alpine_image("3.20", "amd64", 2)
    assert first.id != second.id
    assert json.loads(second.config_bytes)["created"] > json.loads(first.config_bytes)["created"]


def test_hello_world_holds_one_executable_file(course_builds):
    image = _image(course_builds[("library/hello-world", "latest")])
    assert len(image.layers) == 1
    assert hello_program() in image.layers[0].tar


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                    reason="the program is x86-64 machine code")
def test_the_hello_program_runs_and_prints_its_greeting(tmp_path):
    program = tmp_path / "hello"
    program.write_bytes(hello_program())
    program.chmod(0o755)
    result = subprocess.run([str(program)], capture_output=True, timeout=10)
    assert (result.returncode, result.stdout.decode()) == (0, GREETING)
