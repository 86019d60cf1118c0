"""fsck finds real damage, calls leftovers garbage, and repair removes only old garbage."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from imgkit import digest
from imgkit.lab import recipes
from imgkit.store import Store, store_built_image
from imgkit.store.fsck import check, repair


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "store")
    store_built_image(store, recipes.alpine("3.20").images[0], ["docker.io/library/alpine:3.20"])
    store_built_image(store, recipes.redis().images[0], ["docker.io/library/redis:latest"])
    return store


def test_a_healthy_store_is_clean_and_counts_shared_layers(store):
    report = check(store)
    assert report.clean and report.garbage == []
    base = recipes.alpine("3.20").images[0].chain_ids[0]
    assert report.refcounts[base] == 2
    assert report.images == 2 and report.layers == 4


def test_a_corrupt_layer_blob_is_an_error(store):
    layer = recipes.redis().images[0].layers[-1].digest
    store.blobs.path(layer).write_bytes(b"not the layer")
    report = check(store)
    assert not report.clean
    assert any(f"blob {layer} is corrupt" in e for e in report.errors)


def test_a_missing_config_is_an_error(store):
    store.blobs.path(recipes.redis().images[0].id).unlink()
    assert any("is missing" in e for e in check(store).errors)


def test_a_reference_to_a_missing_image_is_an_error(store):
    with store.transaction() as records:
        records.references["docker.io/library/ghost:latest"] = "sha256:" + "1" * 64
    assert any("ghost" in e for e in check(store).errors)


def test_leftovers_are_garbage_not_errors_and_repair_waits_for_them_to_age(store):
    stray = store.blobs.put(b"a blob nobody recorded")
    partial = store.blobs.directory / ".partial-abc"
    partial.write_bytes(b"half")
    report = check(store)
    assert report.clean and len(report.garbage) == 2
    repair(store)                          # too young: kept
    assert store.blobs.has(stray) and partial.exists()
    old = 1_000_000_000
    os.utime(store.blobs.path(stray), (old, old))
    os.utime(partial, (old, old))
    repair(store)
    assert not store.blobs.has(stray) and not partial.exists()
    assert check(store).garbage == []


def test_a_stale_index_is_found_and_repair_rewrites_it(store):
    (store.root / "index.json").write_text('{"schemaVersion": 2, "manifests": []}')
    assert any("index.json" in e for e in check(store).errors)
    repair(store)
    assert check(store).clean


def test_fsck_command_prints_the_verdict_and_exits_1_on_damage(store, tmp_path):
    home = store.root.parent
    ok = subprocess.run([sys.executable, "-m", "imgkit", "--home", str(home), "fsck"],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.startswith("store is consistent: 2 images, 4 layers")
    store.blobs.path(recipes.redis().images[0].digest).write_bytes(b"x")
    bad = subprocess.run([sys.executable, "-m", "imgkit", "--home", str(home), "fsck"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "error: image" in bad.stdout
    assert digest.short(recipes.redis().images[0].id) in bad.stdout
