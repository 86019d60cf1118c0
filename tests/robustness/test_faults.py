"""A flaky network between ``imgkit pull`` and a real registry, one fault at a time.

A ``FaultyProxy`` stands in front of a Distribution registry and, by rule,
drops connections (before the answer or in the middle of a body), answers
500/503/429, cuts bodies short, flips bytes, stalls (for a set time, then
closes) or ignores ``Range``. For every scenario the pull must:

- retry a bounded number of times (the proxy counts the requests it saw);
- resume a broken download with ``Range`` where the registry allows it,
  fetching less than twice the blob in all;
- never record bad content: on failure the records are byte-for-byte the
  same, no blob file is new and no temporary file is left;
- when it gives up, say why in one line that names the registry or the
  cause (the ``imgkit`` command prints no traceback).

Scenarios that recover run in this process through ``imgkit.pull`` (a Host
with short timeouts); scenarios that give up run ``python -m imgkit pull``
with ``IMGKIT_REGISTRY_TIMEOUT`` set, so the environment knob is used too.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest
from pullhelpers import assert_store_consistent, push_built, small_image
from robusthelpers import assert_one_line_error, imgkit_env, run_imgkit, store_state
from servers import FaultyProxy

from imgkit import cli, config
from imgkit.api import Host
from imgkit.api.pulling import pull
from imgkit.errors import ConfigError
from imgkit.registry import RegistryClient
from imgkit.registry.download import CHUNK_SIZE
from imgkit.registry.transport import Transport
from imgkit.store.fsck import check

pytestmark = pytest.mark.registry

REPOSITORY = "robust/faults"
PING = r"^/v2/$"
MANIFEST = r"/manifests/"
TIMEOUT = 0.5           # seconds the client waits for a stalled registry
STALL = 2.5             # seconds the proxy stalls before it closes (longer than TIMEOUT)

IMAGE = small_image("robustness/faults", sizes=(2000, 2_500_000))
OTHER = small_image("robustness/other", sizes=(1500,))
BIG = IMAGE.layers[1].digest
BIG_SIZE = len(IMAGE.layers[1].blob)
CONFIG = IMAGE.id
BLOB_BIG = re.escape(f"/blobs/{BIG}")
BLOB_CONFIG = re.escape(f"/blobs/{CONFIG}")


# -- rewrites for the stranger faults ---------------------------------------------------

def _wrong_content_range(status, headers, body):
    if status != 206:
        return status, headers, body
    size = BIG_SIZE
    return status, [(k, v) if k.lower() != "content-range" else (k, f"bytes 7-{size - 1}/{size}")
                    for k, v in headers], body


def _huge_manifest(status, headers, body):
    return status, headers, body + b" " * (5 * 1024 * 1024)


def _overlong(status, headers, body):
    return status, headers, body + b"more bytes than the manifest promised"


def _captive_portal(status, headers, body):
    # Classroom Wi-Fi: every answer is a 200 login page.
    return 200, [("Content-Type", "text/html")], b"<html><body>Log in to the Wi-Fi</body></html>"


def _no_digest_header(status, headers, body):
    return status, [(k, v) for k, v in headers if k.lower() != "docker-content-digest"], body


TOO_MANY = json.dumps({"errors": [{"code": "TOOMANYREQUESTS",
                                   "message": "You have reached your pull rate limit."}]}).encode()
SERVER_ERROR = json.dumps({"errors": [{"code": "UNKNOWN", "message": "unknown error"}]}).encode()


@dataclass
class Scenario:
    """One fault: the proxy's rules, what the pull must end with, and the requests allowed.

    ``error`` is None when the pull must succeed, else a fragment of its one-line
    message. ``requests`` maps a path pattern to the (fewest, most) requests the
    proxy may see for it. ``resumes`` asks for a ``Range`` request and less than
    twice the big blob's bytes in all.
    """

    rules: list[tuple[str, str, str, dict]]
    error: str | None = None
    requests: dict[str, tuple[int, int]] = field(default_factory=dict)
    resumes: bool = False
    timeout: bool = False       # the scenario needs the short client timeout


def rule(method: str, path: str, action: str, **options) -> tuple[str, str, str, dict]:
    return (method, path, action, options)


HALF = 1_200_000    # where a cut body breaks off: after the first 1 MiB chunk
SCENARIOS: dict[str, Scenario] = {
    # -- transient faults: the pull recovers ---------------------------------------------
    "drop-ping-once": Scenario([rule("GET", PING, "drop", times=1)], requests={PING: (2, 2)}),
    "503-ping-once": Scenario([rule("GET", PING, "status", status=503, times=1)],
                              requests={PING: (2, 2)}),
    "drop-manifest-once": Scenario([rule("GET", MANIFEST, "drop", times=1)],
                                   requests={MANIFEST: (2, 2)}),
    "500-manifest-once": Scenario([rule("GET", MANIFEST, "status", status=500, body=SERVER_ERROR,
                                        times=1)], requests={MANIFEST: (2, 2)}),
    "drop-config-once": Scenario([rule("GET", BLOB_CONFIG, "drop", times=1)],
                                 requests={BLOB_CONFIG: (2, 2)}),
    "drop-blob-once": Scenario([rule("GET", BLOB_BIG, "drop", times=1)],
                               requests={BLOB_BIG: (2, 2)}),
    "503-blob-twice": Scenario([rule("GET", BLOB_BIG, "status", status=503, times=2)],
                               requests={BLOB_BIG: (3, 3)}),
    "429-blob-once": Scenario([rule("GET", BLOB_BIG, "status", status=429, body=TOO_MANY,
                                    headers={"Retry-After": "0"}, times=1)],
                              requests={BLOB_BIG: (2, 2)}),
    "cut-mid-body-once": Scenario([rule("GET", BLOB_BIG, "truncate", keep=HALF, times=1)],
                                  requests={BLOB_BIG: (2, 2)}, resumes=True),
    "short-body-once": Scenario([rule("GET", BLOB_BIG, "short", keep=HALF, times=1)],
                                requests={BLOB_BIG: (2, 2)}, resumes=True),
    # Every cut after new bytes: the download goes on resuming until it is whole.
    "cut-mid-body-every-time": Scenario([rule("GET", BLOB_BIG, "truncate", keep=HALF)],
                                        requests={BLOB_BIG: (3, 3)}, resumes=True),
    "stall-before-answer-once": Scenario([rule("GET", BLOB_BIG, "stall", stall=STALL, times=1)],
                                         requests={BLOB_BIG: (2, 2)}, timeout=True),
    # The config is fetched while the layers download: they wait for it, then verify.
    "stall-config-once": Scenario([rule("GET", BLOB_CONFIG, "stall", stall=STALL, times=1)],
                                  requests={BLOB_CONFIG: (2, 2), BLOB_BIG: (1, 1)}, timeout=True),
    "stall-mid-body-once": Scenario([rule("GET", BLOB_BIG, "stall-body", keep=HALF, stall=STALL,
                                          times=1)],
                                    requests={BLOB_BIG: (2, 2)}, resumes=True, timeout=True),
    "resume-where-range-is-ignored": Scenario(
        [rule("GET", BLOB_BIG, "truncate", keep=HALF, times=1), rule("GET", BLOB_BIG, "no-range")],
        requests={BLOB_BIG: (2, 2)}),
    "no-digest-header": Scenario([rule("GET", MANIFEST, "rewrite", rewrite=_no_digest_header)],
                                 requests={MANIFEST: (1, 1)}),
    # -- persistent faults: the pull gives up, in one line ---------------------------------
    "connection-refused": Scenario([], error="connection refused", requests={PING: (0, 0)}),
    "drop-ping-always": Scenario([rule("GET", PING, "drop")],
                                 error="connection closed by the server", requests={PING: (3, 3)}),
    "500-ping-always": Scenario([rule("GET", PING, "status", status=500)],
                                error="does not answer like a registry (GET /v2/ gave HTTP 500)",
                                requests={PING: (3, 3)}),
    "drop-manifest-always": Scenario([rule("GET", MANIFEST, "drop")],
                                     error="connection closed by the server",
                                     requests={MANIFEST: (3, 3)}),
    "500-manifest-always": Scenario([rule("GET", MANIFEST, "status", status=500, body=SERVER_ERROR,
                                          headers={"Content-Type": "application/json"})],
                                    error="HTTP 500 from registry {registry}: unknown: unknown error",
                                    requests={MANIFEST: (3, 3)}),
    "503-blob-always": Scenario([rule("GET", BLOB_BIG, "status", status=503)],
                                error="HTTP 503 from registry {registry}",
                                requests={BLOB_BIG: (3, 3)}),
    "429-always": Scenario([rule("GET", MANIFEST, "status", status=429, body=TOO_MANY,
                                 headers={"Content-Type": "application/json"})],
                           error="toomanyrequests: You have reached your pull rate limit.",
                           requests={MANIFEST: (3, 3)}),
    "429-retry-after-an-hour": Scenario([rule("GET", MANIFEST, "status", status=429, body=TOO_MANY,
                                              headers={"Retry-After": "3600"})],
                                        error="toomanyrequests", requests={MANIFEST: (1, 1)}),
    "drop-blob-always": Scenario([rule("GET", BLOB_BIG, "drop")],
                                 error="cannot reach registry {registry}: connection closed",
                                 requests={BLOB_BIG: (3, 3)}),
    # After one cut that brought bytes, every resume brings none: four in a row end it.
    "cut-mid-body-always": Scenario([rule("GET", BLOB_BIG, "truncate", keep=HALF, times=1),
                                     rule("GET", BLOB_BIG, "truncate", keep=1000)],
                                    error=f"download of {BIG} broke off at byte {CHUNK_SIZE}",
                                    resumes=True, requests={BLOB_BIG: (5, 5)}),
    "short-body-always": Scenario([rule("GET", BLOB_BIG, "short", keep=HALF, times=1),
                                   rule("GET", BLOB_BIG, "short", keep=0)],
                                  error="the body ended early", resumes=True,
                                  requests={BLOB_BIG: (5, 5)}),
    "stall-before-answer-always": Scenario([rule("GET", MANIFEST, "stall", stall=STALL)],
                                           error="cannot reach registry {registry}: timed out",
                                           requests={MANIFEST: (3, 3)}, timeout=True),
    # ... and when it never comes, the downloads already under way are thrown away.
    "stall-config-always": Scenario([rule("GET", BLOB_CONFIG, "stall", stall=STALL)],
                                    error="cannot reach registry {registry}: timed out",
                                    requests={BLOB_CONFIG: (3, 3), BLOB_BIG: (0, 1)},
                                    timeout=True),
    "stall-mid-body-always": Scenario([rule("GET", BLOB_BIG, "stall-body", keep=HALF, stall=STALL,
                                            times=1),
                                       rule("GET", BLOB_BIG, "stall-body", keep=0, stall=STALL)],
                                      error="timed out", resumes=True, timeout=True,
                                      requests={BLOB_BIG: (5, 5)}),
    "flipped-byte-in-layer": Scenario([rule("GET", BLOB_BIG, "flip")],
                                      error=f"filesystem layer verification failed for digest {BIG}",
                                      requests={BLOB_BIG: (1, 1)}),
    "flipped-byte-in-config": Scenario([rule("GET", BLOB_CONFIG, "flip")],
                                       error=f"image config verification failed for digest {CONFIG}",
                                       requests={BLOB_CONFIG: (1, 1)}),
    "flipped-byte-in-manifest": Scenario([rule("GET", MANIFEST, "flip")],
                                         error="manifest digest mismatch",
                                         requests={MANIFEST: (1, 1)}),
    "resumed-at-the-wrong-place": Scenario(
        [rule("GET", BLOB_BIG, "truncate", keep=HALF, times=1),
         rule("GET", BLOB_BIG, "rewrite", rewrite=_wrong_content_range)],
        error=f"registry {{registry}} resumed blob {BIG} at the wrong place",
        requests={BLOB_BIG: (2, 2)}),
    "longer-blob-than-promised": Scenario([rule("GET", BLOB_BIG, "rewrite", rewrite=_overlong)],
                                          error="more than", requests={BLOB_BIG: (1, 1)}),
    "manifest-over-4-MiB": Scenario([rule("GET", MANIFEST, "rewrite", rewrite=_huge_manifest)],
                                    error="sent a manifest larger than 4 MiB",
                                    requests={MANIFEST: (1, 1)}),
    "redirect-loop": Scenario([rule("GET", BLOB_BIG, "redirect",
                                    location=lambda path: path)],
                              error="redirected more than 5 times", requests={BLOB_BIG: (6, 6)}),
    "captive-portal": Scenario([rule("*", r".", "rewrite", rewrite=_captive_portal)],
                               error="manifest", requests={MANIFEST: (1, 1)}),
}

#: How many network faults a pull is put through (the report quotes it).
FAULT_SCENARIO_COUNT = 38


def test_the_scenarios_are_counted():
    assert len(SCENARIOS) == FAULT_SCENARIO_COUNT
    recover = [name for name, s in SCENARIOS.items() if s.error is None]
    assert len(recover) == 16 and len(SCENARIOS) - len(recover) == 22


@pytest.fixture(scope="module")
def pushed(scratch_registry):
    with RegistryClient(scratch_registry.address) as client:
        push_built(client, REPOSITORY, IMAGE, "v1")
        push_built(client, "robust/other", OTHER, "v1")
    return scratch_registry


@pytest.fixture(scope="module")
def template(pushed, tmp_path_factory):
    """A home whose store already holds another image: the records a failure must not touch."""
    home = tmp_path_factory.mktemp("fault-template") / "home"
    pull(f"{pushed.address}/robust/other:v1", host=Host(home))
    return home


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_pull_through_a_faulty_network(name, pushed, template, tmp_path, monkeypatch, capsys):
    scenario = SCENARIOS[name]
    # Retry as often, but without the back-off waits (the child-process test keeps them).
    monkeypatch.setattr(Transport, "_delay", lambda self, attempt: 0.01)
    home = tmp_path / "home"
    shutil.copytree(template, home)
    # Short waits only where the fault is a stall: elsewhere a busy machine must not time out.
    timeout = TIMEOUT if scenario.timeout else 20.0
    host = Host(home, timeout=timeout)
    before = store_state(host.store)
    proxy = FaultyProxy(pushed.url).start()
    try:
        for method, path, action, options in scenario.rules:
            proxy.add(method, path, action, **options)
        registry = proxy.address
        if name == "connection-refused":
            proxy.stop()
        reference = f"{registry}/{REPOSITORY}:v1"
        if scenario.error is None:
            result = pull(reference, host=host)
            assert result.image_id == IMAGE.id
            assert_store_consistent(host.store)
            assert check(host.store).clean and not store_state(host.store)[2]
        else:
            # The command's own entry point, in this process (a child process per scenario
            # would double the time; `test_giving_up_in_a_real_child_process` runs some so).
            monkeypatch.setenv("IMGKIT_HOME", str(home))
            monkeypatch.setenv("IMGKIT_REGISTRY_TIMEOUT", str(timeout))
            status = cli.main(["pull", reference])
            out, err = capsys.readouterr()
            assert status == 1, out + err
            line = assert_one_line_error(err)
            assert scenario.error.format(registry=registry) in line
            assert store_state(host.store) == before     # nothing recorded, no new blob, no temp
        for pattern, (fewest, most) in scenario.requests.items():
            seen = len(proxy.requests_to(pattern, "GET"))
            assert fewest <= seen <= most, f"{seen} requests to {pattern}"
        assert len(proxy.seen) <= 12            # the whole pull, retries included, stays bounded
        if scenario.resumes:
            big = proxy.requests_to(BLOB_BIG, "GET")
            assert "Range" not in big[0][2]
            # Resumed after what arrived whole: the last full chunk, or all of a short body.
            ranges = [re.fullmatch(r"bytes=(\d+)-", h.get("Range", "")) for _, _, h in big[1:]]
            assert ranges and all(r and int(r[1]) >= CHUNK_SIZE for r in ranges), big
            assert proxy.bytes_to(BLOB_BIG) < 2 * BIG_SIZE
    finally:
        if name != "connection-refused":
            proxy.stop()


@pytest.mark.parametrize("name", ["stall-before-answer-always", "flipped-byte-in-layer"])
def test_giving_up_in_a_real_child_process(name, pushed, template, tmp_path):
    scenario = SCENARIOS[name]
    home = tmp_path / "home"
    shutil.copytree(template, home)
    before = store_state(Host(home).store)
    with FaultyProxy(pushed.url) as proxy:
        for method, path, action, options in scenario.rules:
            proxy.add(method, path, action, **options)
        done = run_imgkit(home, "pull", f"{proxy.address}/{REPOSITORY}:v1",
                          IMGKIT_REGISTRY_TIMEOUT=str(TIMEOUT) if scenario.timeout else None)
    assert done.returncode == 1
    assert scenario.error.format(registry=proxy.address) in assert_one_line_error(done.stderr)
    assert store_state(Host(home).store) == before


# -- giving up must not wait for the network ---------------------------------------------

def _start_pull(home, reference):
    return subprocess.Popen([sys.executable, "-m", "imgkit", "pull", reference],
                            env=imgkit_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_ctrl_c_during_a_stalled_download_returns_at_once(pushed, template, tmp_path):
    """Before: the pull waited for its stalled worker (up to the 60 s read timeout)."""
    home = tmp_path / "home"
    shutil.copytree(template, home)
    before = store_state(Host(home).store)
    with FaultyProxy(pushed.url) as proxy:
        proxy.add("GET", BLOB_BIG, "stall-body", keep=HALF, stall=30)
        process = _start_pull(home, f"{proxy.address}/{REPOSITORY}:v1")
        deadline = time.monotonic() + 20
        while not proxy.requests_to(BLOB_BIG) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)                          # the download is stalled now
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        waited = time.monotonic() - interrupted
    assert process.returncode == 130 and err.strip() == "interrupted", err
    assert waited < 5, f"Ctrl-C took {waited:.1f} s"
    assert store_state(Host(home).store) == before


def test_a_failed_layer_is_reported_while_another_is_still_stalled(pushed, template, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(template, home)
    before = store_state(Host(home).store)
    small = re.escape(f"/blobs/{IMAGE.layers[0].digest}")
    with FaultyProxy(pushed.url) as proxy:
        proxy.add("GET", BLOB_BIG, "stall-body", keep=HALF, stall=30)
        proxy.add("GET", small, "flip")
        started = time.monotonic()
        process = _start_pull(home, f"{proxy.address}/{REPOSITORY}:v1")   # default timeouts
        out, err = process.communicate(timeout=60)
        took = time.monotonic() - started
    assert process.returncode == 1
    assert "filesystem layer verification failed" in assert_one_line_error(err)
    assert took < 8, f"the error took {took:.1f} s to be reported"
    assert store_state(Host(home).store) == before


# -- the timeout knob ----------------------------------------------------------------------

def test_registry_timeouts_come_from_the_environment_with_sane_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("IMGKIT_REGISTRY_TIMEOUT", raising=False)
    assert config.registry_timeout() == (10.0, 60.0)
    assert Host(tmp_path).timeout == (10.0, 60.0)
    monkeypatch.setenv("IMGKIT_REGISTRY_TIMEOUT", "0.5")
    assert Host(tmp_path).timeout == (0.5, 0.5)
    [client] = Host(tmp_path).registry_clients("127.0.0.1:5000")
    assert client.transport.timeout == (0.5, 0.5) and client.auth._timeout == (0.5, 0.5)
    monkeypatch.setenv("IMGKIT_REGISTRY_TIMEOUT", "5,120")
    assert config.registry_timeout() == (5.0, 120.0)
    assert Host(tmp_path, timeout=2).timeout == (2.0, 2.0)      # the Host's own wins
    for bad in ("soon", "0", "-1", "1,2,3", "nan", "inf"):
        monkeypatch.setenv("IMGKIT_REGISTRY_TIMEOUT", bad)
        with pytest.raises(ConfigError, match="IMGKIT_REGISTRY_TIMEOUT"):
            config.registry_timeout()


def test_a_bad_timeout_setting_is_one_line_from_the_command(tmp_path):
    done = run_imgkit(tmp_path / "home", "pull", "127.0.0.1:1/x", IMGKIT_REGISTRY_TIMEOUT="soon")
    assert done.returncode == 1
    assert "IMGKIT_REGISTRY_TIMEOUT must be" in assert_one_line_error(done.stderr)
