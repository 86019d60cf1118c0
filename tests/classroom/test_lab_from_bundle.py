"""``imgkit lab start --from course.tar`` and ``lab serve --from``: a lab filled without any network."""

from __future__ import annotations

import pytest
from classroomhelpers import cli

import imgkit
from imgkit import config
from imgkit import lab as labmod
from imgkit.api import Host
from imgkit.registry import RegistryClient

pytestmark = pytest.mark.registry


def test_lab_start_from_a_bundle_serves_its_images_and_nothing_else(course_tar, filled_home,
                                                                   tmp_path):
    home = tmp_path / "offline"
    try:
        started = cli("lab", "start", "--from", str(course_tar), home=home)
        assert b"seeded alpine:3.20" in started.stderr and b"seeded redis:7.2" in started.stderr
        lab = labmod.status(home)
        assert config.mirrors(home) == [lab.url]
        with RegistryClient(lab.address) as client:
            assert sorted(client.catalog()) == ["library/alpine", "library/redis"]
        pulled = imgkit.pull("redis:7.2", host=Host(home), listener=lambda e: None)
        records = Host(filled_home).store.records()
        assert pulled.image_id == records.references["docker.io/library/redis:7.2"]
        again = cli("lab", "start", "--from", str(course_tar), home=home)
        assert again.stdout.decode() == f"lab registry running at {lab.url}\n"
    finally:
        labmod.stop(home)


def test_a_missing_bundle_is_said_in_one_line(tmp_path):
    result = cli("lab", "start", "--from", str(tmp_path / "nope.tar"), home=tmp_path / "h",
                 check=False)
    assert result.returncode == 1
    assert result.stderr.decode().strip() == f"no such bundle: {tmp_path / 'nope.tar'}"


def test_the_class_mirror_serves_a_bundle(course_tar, tmp_path):
    home = tmp_path / "instructor"
    try:
        mirror = labmod.serve("127.0.0.1:0", bundle=course_tar, home=home)
        assert mirror.source == "the images of course.tar"
        result = imgkit.pull("alpine:3.20", host=Host(tmp_path / "ada", mirrors=[mirror.url]),
                             listener=lambda e: None)
        assert result.lines[-1] == "docker.io/library/alpine:3.20"
    finally:
        labmod.stop_serving(home)
