"""``imgkit doctor``: the preflight, on a healthy and on a broken classroom machine."""

from __future__ import annotations

import base64
import email.utils
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from classroomhelpers import cli, closed_port_url

import imgkit
from imgkit import lab as labmod
from imgkit.api import Host

pytestmark = pytest.mark.registry


class _FakeHub(BaseHTTPRequestHandler):
    """Docker Hub as doctor sees it: a registry whose clock is 10 minutes fast, 7 pulls left."""

    def log_message(self, *args):
        pass

    def _answer(self):
        self.send_response_only(200)        # no automatic Date: this one is 10 minutes fast
        self.send_header("Date", email.utils.formatdate(time.time() + 600, usegmt=True))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("ratelimit-limit", "100;w=21600")
        self.send_header("ratelimit-remaining", "7;w=21600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = _answer


@pytest.fixture
def fake_hub(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeHub)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                     daemon=True).start()
    monkeypatch.setenv("IMGKIT_DOCKER_HUB_URL", f"http://127.0.0.1:{server.server_address[1]}")
    yield
    server.shutdown()
    server.server_close()


def test_a_healthy_classroom_machine(lab, upstream, tmp_path, monkeypatch):
    monkeypatch.setenv("IMGKIT_DOCKER_HUB_URL", upstream.url)
    report = imgkit.doctor(host=Host(tmp_path / "ada", mirrors=[lab.url]))
    statuses = {check.name: check.status for check in report}
    assert statuses["registry program"] == "ok"
    assert statuses[f"mirror {lab.url}"] == "ok"
    assert report.check("Docker Hub").detail == "reachable (no rate-limit headers)"
    assert report.check("clock").detail.startswith("within ")
    assert report.check("graphviz").status == "ok"
    assert report.ok and report.check("disk space").status in ("ok", "warn")


def test_a_broken_machine_gets_a_fix_for_every_problem(tmp_path, monkeypatch):
    dead = closed_port_url()
    monkeypatch.setenv("PATH", str(tmp_path))           # no `dot`
    report = imgkit.doctor(host=Host(tmp_path / "ada", mirrors=[dead]))
    mirror = report.check(f"mirror {dead}")
    assert (mirror.status, mirror.detail) == ("fail", "connection refused")
    assert "imgkit lab start" in mirror.fix
    hub = report.check("Docker Hub")
    assert hub.status == "fail" and "nothing to pull from" in hub.detail
    dot = report.check("graphviz")
    assert dot.status == "warn" and "apt-get install graphviz" in dot.fix
    assert not report.ok
    assert all(check.fix for check in report if check.status != "ok")


def test_the_cli_exits_1_when_a_check_fails(tmp_path):
    home = tmp_path / "ada"
    cli("config", "mirror", closed_port_url(), home=home)
    env = dict(os.environ, PATH=str(tmp_path))
    result = cli("doctor", "--offline", home=home, check=False, env=env)
    out = result.stdout.decode()
    assert result.returncode == 1, result.stderr
    assert "fail  mirror http://127.0.0.1:" in out and "      fix: start the lab" in out
    assert "warn  graphviz: `dot` not found" in out
    assert out.rstrip().splitlines()[-1] == "1 problem(s), 1 warning(s)"


def test_pulls_left_and_clock_skew_are_read_from_the_registry(fake_hub, tmp_path):
    report = imgkit.doctor(host=Host(tmp_path / "ada", mirrors=[]))
    hub = report.check("Docker Hub")
    assert (hub.status, hub.detail) == ("warn", "7 of 100 pulls left for this address")
    assert "imgkit lab serve --proxy" in hub.fix
    clock = report.check("clock")
    assert clock.status == "fail" and clock.detail == "10 minutes behind Docker Hub"
    assert "timedatectl" in clock.fix


def test_a_mirror_that_asks_for_a_login(upstream, tmp_path, monkeypatch):
    home = tmp_path / "instructor"
    mirror = labmod.serve("127.0.0.1:0", proxy=upstream.url, users={"ada": "lovelace"},
                          home=home)
    try:
        host = Host(tmp_path / "ada", mirrors=[mirror.url])
        login = imgkit.doctor(host=host, hub=False).check(f"login {mirror.url}")
        assert login.status == "fail" and f"docker login {mirror.server.address}" in login.fix
        config_dir = tmp_path / "docker"
        config_dir.mkdir()
        for password, status in (("wrong", "fail"), ("lovelace", "ok")):
            (config_dir / "config.json").write_text(json.dumps({"auths": {mirror.server.address: {
                "auth": base64.b64encode(f"ada:{password}".encode()).decode()}}}))
            monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
            assert imgkit.doctor(host=host, hub=False).check(f"login {mirror.url}").status == status
    finally:
        labmod.stop_serving(home)
