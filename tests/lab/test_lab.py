"""The lab: a real Distribution registry on loopback, seeded with the course images."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from imgkit import config
from imgkit import lab as labmod
from imgkit.errors import LabError
from imgkit.lab import catalog
from imgkit.lab.server import RegistryServer
from imgkit.registry import RegistryClient

pytestmark = pytest.mark.registry


def _cli(*args, home, check=True):
    result = subprocess.run([sys.executable, "-m", "imgkit", "--home", str(home), *args],
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_every_course_tag_is_served_with_its_reproducible_digest(lab, course_builds):
    client = RegistryClient(lab.address)
    for (repository, tag), built in course_builds.items():
        assert client.head_manifest(repository, tag).digest == built.digest, f"{repository}:{tag}"


def test_the_catalog_of_the_lab_lists_every_repository(lab):
    client = RegistryClient(lab.address)
    assert set(client.catalog()) == {entry.repository for entry in catalog.CATALOG}
    assert set(client.tags("library/alpine")) == {"3.19", "3.20", "latest"}


def test_start_makes_the_lab_the_docker_io_mirror(lab):
    assert config.mirrors(lab.home) == [lab.url]


def test_a_second_start_reuses_the_running_registry_and_pushes_nothing(lab):
    before = json.loads((lab.server.root / "state.json").read_text())
    lines = []
    again = labmod.start(lab.home, progress=lines.append)
    assert again.url == lab.url
    assert json.loads((lab.server.root / "state.json").read_text())["pid"] == before["pid"]
    assert lines == []


def test_a_lab_that_lost_an_image_gets_only_that_one_back(tmp_path):
    home = tmp_path / "home"
    first = labmod.start(home)
    try:
        client = RegistryClient(first.address)
        digest = client.head_manifest("library/busybox", "glibc").digest
        client.delete_manifest("library/busybox", digest)
        lines = []
        labmod.start(home, progress=lines.append)
        assert lines == [lines[0]] and "busybox:glibc" in lines[0]
        assert client.head_manifest("library/busybox", "glibc").digest == digest
    finally:
        labmod.stop(home)


def test_publish_moves_the_tags_to_a_new_build_and_reset_moves_them_back(tmp_path):
    home = tmp_path / "home"
    running = labmod.start(home)
    try:
        client = RegistryClient(running.address)
        first = client.head_manifest("library/alpine", "latest").digest
        new = labmod.publish("alpine:latest", home=home)
        assert new != first
        assert client.head_manifest("library/alpine", "latest").digest == new
        assert client.head_manifest("library/alpine", "3.20").digest == new
        assert client.head_manifest("library/alpine", "3.19").digest != new
        labmod.reset(home)
        assert client.head_manifest("library/alpine", "latest").digest == first
    finally:
        labmod.stop(home)


def test_publish_of_an_unknown_course_image_names_it(lab):
    with pytest.raises(LabError, match="no course image nginx:latest"):
        labmod.publish("nginx", home=lab.home)


def test_the_next_free_port_is_taken_when_the_preferred_one_is_busy(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with RegistryServer(tmp_path / "reg", preferred_port=taken) as server:
            assert server.port != taken and server.port > taken
            with urllib.request.urlopen(server.url + "/v2/") as answer:
                assert answer.status == 200


def test_the_registry_listens_on_loopback_only(tmp_path):
    with RegistryServer(tmp_path / "reg") as server:
        assert json.loads((tmp_path / "reg" / "config.yml").read_text())["http"]["addr"] \
            == f"127.0.0.1:{server.port}"


def test_a_missing_registry_program_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("IMGKIT_REGISTRY_BINARY", str(tmp_path / "no-such-registry"))
    with pytest.raises(LabError, match="apt-get install docker-registry"):
        labmod.start(tmp_path / "home")


def test_the_cli_starts_reports_and_stops_the_lab(tmp_path):
    home = tmp_path / "home"
    started = _cli("lab", "start", "--no-seed", home=home)
    url = started.stdout.strip().rsplit(" ", 1)[-1]
    assert started.stdout.startswith("lab registry running at http://127.0.0.1:")
    status = _cli("lab", "status", home=home)
    assert status.stdout.strip() == f"lab registry running at {url}"
    assert _cli("lab", "stop", home=home).stdout.strip() == "lab registry stopped"
    after = _cli("lab", "status", home=home, check=False)
    assert after.returncode == 1 and "not running" in after.stdout
    assert config.mirrors(home) == []


def test_the_cli_reports_a_missing_registry_in_one_line(tmp_path):
    env = dict(os.environ, IMGKIT_REGISTRY_BINARY=str(tmp_path / "nothing"))
    result = subprocess.run([sys.executable, "-m", "imgkit", "--home", str(tmp_path / "h"),
                             "lab", "start"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and "docker-registry" in result.stderr


def test_stop_ends_the_registry_process(tmp_path):
    home = tmp_path / "home"
    running = labmod.start(home, seed=False)
    pid = json.loads((running.server.root / "state.json").read_text())["pid"]
    assert labmod.stop(home) is True
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the registry process outlived stop()")
    assert labmod.status(home) is None
    assert labmod.stop(home) is False
