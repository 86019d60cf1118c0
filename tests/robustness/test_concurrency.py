"""Several imgkit commands on one store at once: pulls, tags and deletes of images that share layers.

The store's promise: records change only under its lock, a blob is deleted
only when no record names it, and a pull that relies on a layer it found
("Already exists") checks again under the lock before recording its image.

Two tests pin the race down deterministically (``rmi`` between a pull's
"Already exists" and its record step); the stress test runs four processes
for several rounds against the lab and then checks the store from scratch.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pullhelpers import assert_store_consistent
from robusthelpers import files_layer, hand_image, imgkit_env, push_hand_image

from imgkit import digest as digests
from imgkit.api import Host
from imgkit.api.pulling import pull
from imgkit.api.removal import rmi
from imgkit.registry import RegistryClient
from imgkit.store import BlobStore
from imgkit.store.fsck import check

pytestmark = pytest.mark.registry

BASE = files_layer("race/base", "etc/os-release", "bin/sh", size=40_000)
FIRST = hand_image([BASE, files_layer("race/first", "app/first")], "first")
SECOND = hand_image([BASE, files_layer("race/second", "app/second")], "second")
BASE_DIGEST = FIRST.layers[0][1]


@pytest.fixture(scope="module")
def race_registry(scratch_registry):
    with RegistryClient(scratch_registry.address) as client:
        push_hand_image(client, "race/first", FIRST, "v1")
        push_hand_image(client, "race/second", SECOND, "v1")
    return scratch_registry


def _names(registry):
    return f"{registry.address}/race/first:v1", f"{registry.address}/race/second:v1"


def test_the_images_share_their_base_layer():
    assert SECOND.layers[0][1] == BASE_DIGEST and FIRST.layers[1][1] != SECOND.layers[1][1]


def test_rmi_between_already_exists_and_the_record_step_makes_the_pull_fetch_it_again(
        race_registry, tmp_path):
    first, second = _names(race_registry)
    home = tmp_path / "home"
    pull(first, host=Host(home))
    removed = []

    def meanwhile(event):
        # The pull has decided the base layer "Already exists"; now another
        # command deletes the only image that holds it - layer, blob and all.
        if event.status == "Already exists" and not removed:
            removed.append(rmi(first, host=Host(home)))

    result = pull(second, host=Host(home), listener=meanwhile)
    assert removed and f"Deleted: {FIRST.id}" in removed[0].docker_lines()
    assert result.image_id == SECOND.id
    store = Host(home).store
    assert store.blobs.has(BASE_DIGEST)
    assert_store_consistent(store)
    report = check(store)
    assert report.clean, report.errors


def test_rmi_deletes_its_blobs_under_the_lock_so_a_pull_cannot_record_in_between(
        race_registry, tmp_path, monkeypatch):
    """The window the brief names: rmi's transaction is saved, its blobs not yet deleted."""
    first, second = _names(race_registry)
    home = tmp_path / "home"
    pull(first, host=Host(home))
    saved, pulled = threading.Event(), {}
    real_delete = BlobStore.delete

    def slow_delete(self, digest):
        if digest == BASE_DIGEST and not saved.is_set():
            saved.set()                     # rmi's records are saved ...
            time.sleep(0.5)                 # ... and the pull gets every chance to record now
        return real_delete(self, digest)

    monkeypatch.setattr(BlobStore, "delete", slow_delete)

    remover = threading.Thread(target=rmi, args=(first,), kwargs={"host": Host(home)})

    def pull_second():
        def wait_for_rmi(event):
            if event.status == "Already exists":
                remover.start()
                assert saved.wait(10)
        pulled["result"] = pull(second, host=Host(home), listener=wait_for_rmi)

    worker = threading.Thread(target=pull_second)
    worker.start()
    worker.join(30)
    remover.join(30)
    assert pulled["result"].image_id == SECOND.id
    store = Host(home).store
    records = store.records()
    assert FIRST.id not in records.images and SECOND.id in records.images
    assert store.blobs.has(BASE_DIGEST)
    report = check(store)
    assert report.clean, report.errors


# -- four processes at once ------------------------------------------------------------------

WORKERS = 4
ROUNDS = 3
COMMANDS_PER_ROUND = 12
WORKER = Path(__file__).with_name("stress_worker.py")


def _clear(line: str) -> bool:
    return bool(line) and "Traceback" not in line and 'File "' not in line


def test_four_processes_pull_tag_and_delete_overlapping_images(lab, tmp_path):
    home = tmp_path / "shared-home"
    env = imgkit_env(home, IMGKIT_REGISTRY_MIRROR=lab.url, IMGKIT_DOCKER_HUB_URL=lab.url)
    outcomes = []
    for round_ in range(ROUNDS):
        workers = [subprocess.Popen([sys.executable, str(WORKER), str(round_ * WORKERS + i),
                                     str(COMMANDS_PER_ROUND)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=env)
                   for i in range(WORKERS)]
        for worker in workers:
            out, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err
            outcomes += [json.loads(line) for line in out.splitlines()]
        store = Host(home).store
        report = check(store)
        assert report.clean, (round_, report.errors)
        assert_store_consistent(store)
    assert len(outcomes) == ROUNDS * WORKERS * COMMANDS_PER_ROUND
    escaped = [o for o in outcomes if o["escaped"]]
    assert not escaped, escaped[0]["escaped"]
    for outcome in outcomes:
        if outcome["status"] != 0:
            lines = [line for line in outcome["stderr"].splitlines() if line.strip()]
            assert len(lines) == 1 and _clear(lines[0]), outcome
        assert "Traceback" not in outcome["stderr"], outcome
    pulls = [o for o in outcomes if o["argv"][0] == "pull"]
    assert sum(o["status"] == 0 for o in pulls) >= len(pulls) * 0.9, \
        [o["stderr"] for o in pulls if o["status"]]
    # The final store is one a single process could have made: every name names a
    # recorded image, every image's layers and blobs are there, index.json agrees.
    store = Host(home).store
    records = store.records()
    for ref, image_id in records.references.items():
        assert image_id in records.images, ref
    for image in records.images.values():
        for chain_id in image.layers:
            assert store.blobs.has(records.layers[chain_id].digest), digests.short(image.id)
    assert set(check(store).refcounts) == set(records.layers)
