"""``imgkit lab reset``: a learner's machine back at the start of the course."""

from __future__ import annotations

import pytest
from classroomhelpers import cli

import imgkit
from imgkit import lab as labmod
from imgkit.api import Host
from imgkit.registry import RegistryClient

pytestmark = pytest.mark.registry


def _fill(home, lab) -> None:
    host = Host(home, mirrors=[lab.url])
    for name in ("alpine:3.20", "hello-world"):
        imgkit.pull(name, host=host, listener=lambda e: None)
    imgkit.tag("alpine:3.20", "mine:1", host=host)


def test_reset_host_empties_the_store_removes_lessons_and_puts_course_images_back(lab):
    home = lab.home
    _fill(home, lab)
    _fill(home / "lessons" / "05-Pulling-Images", lab)
    imgkit.create("hello-world", host=Host(home))
    with RegistryClient(lab.address) as client:
        first = client.head_manifest("library/alpine", "latest").digest
        labmod.publish("alpine:latest", home=home)
        done = labmod.reset_host(home)
        assert client.head_manifest("library/alpine", "latest").digest == first
    assert (done.containers, done.images, done.lessons, done.course_images) == \
        (1, 2, ["05-Pulling-Images"], 1)
    records = Host(home).store.records()
    assert not records.images and not records.containers and not records.references
    assert not list(Host(home).store.blobs)
    assert not (home / "lessons" / "05-Pulling-Images").exists()
    assert labmod.status(home) is not None          # the lab itself keeps running


def test_the_cli_asks_first_and_does_nothing_unless_told_yes(lab, tmp_path):
    home = tmp_path / "learner"
    _fill(home, lab)
    declined = cli("lab", "reset", home=home, input=b"n\n")
    assert b"WARNING! This will remove every image and container" in declined.stdout
    assert b"Are you sure you want to continue? [y/N] " in declined.stdout
    assert len(Host(home).store.records().images) == 2
    done = cli("lab", "reset", "-f", home=home).stdout.decode().splitlines()
    assert done == ["removed 0 container(s) and 2 image(s)", "removed 0 lesson host(s)",
                    "the lab was not running: its images were left as they are"]
    assert not Host(home).store.records().images
