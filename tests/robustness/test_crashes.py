"""``kill -9`` at random moments: pull, rmi, image prune, commit and build must leave a sound store.

Each trial copies a prepared home, starts ``python -m imgkit COMMAND`` on it,
and sends SIGKILL after a delay drawn from a seeded ``random.Random`` (so a
failure can be replayed). Pulls go through a proxy that slows the network,
so they die in the middle of downloads; the fast commands die at sub-second
delays, 0 included, spread over their whole run. After every kill:

1. ``fsck`` (``imgkit.store.fsck.check``) reports no error - leftovers
   (partial downloads, blobs no record names, an index.json older than the
   records) are garbage, which is allowed;
2. no image is half listed: every recorded image has all of its blobs and
   every reference names a recorded image;
3. the same command run again succeeds; for rmi and prune the records end
   exactly as one uninterrupted run leaves them.

Trials run three at a time (each on its own home) to keep the tier short.
Deselect with ``-m "not crash"``.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from pullhelpers import assert_store_consistent
from robusthelpers import files_layer, hand_image, imgkit_env, push_hand_image, run_imgkit
from servers import FaultyProxy

from imgkit.api import Host
from imgkit.api.containers import cp, create
from imgkit.api.pulling import pull
from imgkit.api.tagging import tag
from imgkit.registry import RegistryClient
from imgkit.store.fsck import check

pytestmark = [pytest.mark.crash, pytest.mark.registry]

SEED = 20240611
#: Kills per command; the report quotes the total.
TRIALS = {"pull": 14, "rmi": 10, "prune": 10, "commit": 10, "build": 10}
CRASH_TRIAL_COUNT = 54
PARALLEL = 3

BASE = files_layer("crash/base", "etc/os-release", "bin/sh", size=60_000)
BASE_IMAGE = hand_image([BASE], "base")
APP = hand_image([BASE, files_layer("crash/app", "app/main", "app/lib", size=80_000)], "app")
OTHER = hand_image([BASE, files_layer("crash/other", "srv/data")], "other")
OLD = hand_image([files_layer("crash/old", "old/file")], "old")
NEWER = hand_image([files_layer("crash/newer", "old/file")], "newer")
# The image pulled under a slow network: five layers of about 200 kB (random, so gzip keeps
# their size), about a second to download.
SLOW = hand_image([BASE] + [files_layer(f"crash/slow/{i}", *(f"d{i}/f{j}" for j in range(4)),
                                        size=50_000) for i in range(4)], "slow")


def test_the_trials_are_counted():
    assert sum(TRIALS.values()) == CRASH_TRIAL_COUNT >= 50


@dataclass
class Prepared:
    template: Path
    registry: object
    context: Path
    container: str


@pytest.fixture(scope="module")
def prepared(scratch_registry, tmp_path_factory) -> Prepared:
    """A home with images (shared layers, a dangling one, a container with changes) and a build context."""
    with RegistryClient(scratch_registry.address) as client:
        for name, image in (("base", BASE_IMAGE), ("app", APP), ("other", OTHER), ("old", OLD),
                            ("slow", SLOW)):
            push_hand_image(client, f"crash/{name}", image, "v1")
    root = tmp_path_factory.mktemp("crash")
    template = root / "template"
    host = Host(template)
    registry = scratch_registry.address
    for name in ("base", "app", "other", "old"):
        pull(f"{registry}/crash/{name}:v1", host=host)
    with RegistryClient(registry) as client:        # a new crash/old:v1 leaves the old dangling
        push_hand_image(client, "crash/old", NEWER, "v1")
    pull(f"{registry}/crash/old:v1", host=host)
    tag(f"{registry}/crash/app:v1", "crash/app:v1", host=host)
    container = create("crash/app:v1", name="worker", host=host)
    changed = root / "changed.txt"
    changed.write_bytes(random.Random(2).randbytes(30_000))
    cp(changed, "worker:/app/changed.txt", host=host)
    context = root / "context"
    (context / "data").mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\nCOPY data /data\n")
    (context / "hello.txt").write_text("hello\n")
    (context / "data" / "blob").write_bytes(random.Random(1).randbytes(150_000))
    records = host.store.records()
    assert len(records.images) == 5 and records.containers
    assert not [r for r in records.references_to(OLD.id) if "@" not in r]     # dangling
    return Prepared(template, scratch_registry, context, container)


def _commands(prepared: Prepared) -> dict[str, list[str]]:
    registry = prepared.registry.address
    return {
        "rmi": ["rmi", f"{registry}/crash/other:v1", f"{registry}/crash/base:v1"],
        "prune": ["image", "prune", "-f", "-a"],
        "commit": ["commit", "worker", "crash/committed:v1"],
        "build": ["build", "-t", "crash/built:v1", str(prepared.context)],
    }


def _state(store) -> tuple:
    records = store.records()
    return (sorted(records.images), dict(sorted(records.references.items())),
            sorted(records.layers), sorted(records.containers))


def _check_after_kill(home: Path, what: str) -> None:
    store = Host(home).store
    report = check(store)
    assert report.clean, (what, report.errors)
    assert_store_consistent(store)


def _kill_after(process: subprocess.Popen, delay: float) -> None:
    deadline = time.monotonic() + delay
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()


def _start(home: Path, argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "imgkit", *argv], env=imgkit_env(home),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)


def _duration(home: Path, argv: list[str]) -> float:
    started = time.monotonic()
    done = run_imgkit(home, *argv)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - started


def _fingerprint(root: Path) -> tuple:
    blobs = root / "blobs" / "sha256"
    try:
        records = (root / "imgkit.json").stat().st_mtime_ns
    except FileNotFoundError:
        records = None
    return (records, tuple(sorted(os.listdir(root))) if root.is_dir() else (),
            len(os.listdir(blobs)) if blobs.is_dir() else 0)


def _wait_for_first_write(root: Path, process: subprocess.Popen, limit: float = 20) -> None:
    """Spin until the command changes its store (a temporary file, a blob, the records)."""
    before = _fingerprint(root)
    deadline = time.monotonic() + limit
    while process.poll() is None and time.monotonic() < deadline and _fingerprint(root) == before:
        time.sleep(0.0003)      # a short nap: trials share two cores with their commands


def _fast_trial(prepared: Prepared, kind: str, argv: list[str], plan: tuple[str, float],
                expected, home: Path) -> str:
    mode, delay = plan
    shutil.copytree(prepared.template, home)
    process = _start(home, argv)
    if mode == "after-first-write":
        _wait_for_first_write(home / "store", process)
    _kill_after(process, delay)
    what = f"{kind} killed {mode} after {delay:.4f}s"
    _check_after_kill(home, what)
    again = run_imgkit(home, *argv)
    store = Host(home).store
    if kind in ("rmi", "prune"):
        if again.returncode != 0:       # the killed run had finished: nothing is left to remove
            assert kind == "rmi" and all(line.startswith("No such image")
                                         for line in again.stderr.splitlines()), (what, again.stderr)
        assert _state(store) == expected, what
    else:
        assert again.returncode == 0, (what, again.stderr)
        made = {"commit": "docker.io/crash/committed:v1", "build": "docker.io/crash/built:v1"}
        assert made[kind] in store.records().references, what
    _check_after_kill(home, what + ", then run again")
    return what


@pytest.mark.parametrize("kind", ["rmi", "prune", "commit", "build"])
def test_fast_commands_killed_at_random_moments(kind, prepared, tmp_path):
    argv = _commands(prepared)[kind]
    reference = tmp_path / "reference"
    shutil.copytree(prepared.template, reference)
    duration = _duration(reference, argv) * 1.3     # trials run side by side: a little slower
    expected = _state(Host(reference).store)
    rng = random.Random(f"{SEED}/{kind}")
    # Half the delays anywhere in the run (0 first); half a few milliseconds after the
    # command first writes to its store, where records are saved and blobs deleted.
    plan = [("from-start", 0.0)] + [
        ("from-start", rng.uniform(0, duration)) if i % 2 else
        ("after-first-write", rng.uniform(0, rng.choice((0.003, 0.03))))
        for i in range(TRIALS[kind] - 1)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        done = list(pool.map(lambda i: _fast_trial(prepared, kind, argv, plan[i], expected,
                                                   tmp_path / f"trial-{i}"),
                             range(len(plan))))
    assert len(done) == TRIALS[kind]


def _pull_trial(prepared: Prepared, index: int, rng_value: tuple[str, float], home: Path) -> str:
    mode, delay = rng_value
    shutil.copytree(prepared.template, home)
    with FaultyProxy(prepared.registry.url) as proxy:
        proxy.add("GET", r"/blobs/sha256:", "throttle", chunk=32 * 1024, delay=0.02)
        argv = ["pull", f"{proxy.address}/crash/slow:v1"]
        process = _start(home, argv)
        if mode == "mid-download":
            # Wait for the first layer request, then kill somewhere in the downloads.
            deadline = time.monotonic() + 20
            while len(proxy.requests_to(r"/blobs/")) < 2 and process.poll() is None \
                    and time.monotonic() < deadline:
                time.sleep(0.002)
        _kill_after(process, delay)
        what = f"pull killed {mode} after {delay:.3f}s"
        _check_after_kill(home, what)
        proxy.rules.clear()                 # the network is fine again
        again = run_imgkit(home, *argv)
        assert again.returncode == 0, (what, again.stderr)
    records = Host(home).store.records()
    assert SLOW.id in records.images, what
    _check_after_kill(home, what + ", then pulled again")
    return what


def test_pulls_killed_mid_download(prepared, tmp_path):
    rng = random.Random(f"{SEED}/pull")
    plan = [("from-start", 0.0)] + [
        ("mid-download", rng.uniform(0, 0.8)) if i % 2 else ("from-start", rng.uniform(0, 1.5))
        for i in range(TRIALS["pull"] - 1)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        done = list(pool.map(lambda i: _pull_trial(prepared, i, plan[i], tmp_path / f"trial-{i}"),
                             range(len(plan))))
    assert len(done) == TRIALS["pull"]
