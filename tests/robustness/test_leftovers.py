"""What a killed command leaves behind is garbage for ``fsck``, never damage - and only that is.

The crash trials found one: the records are saved, then ``index.json`` is
rewritten from them, so a command killed between the two left an index that
no longer matched the records, and ``fsck`` called the store damaged. An
index *older* than the records, naming only blobs the store holds, is now
garbage ("an interrupted command; repair rewrites it"); an index that is
newer, or names missing blobs, is still an error. Temporary files of the
records' atomic writes are garbage too, and ``repair`` removes them once old.
"""

from __future__ import annotations

import json
import os

import pytest

from imgkit.lab import recipes
from imgkit.store import Store, store_built_image
from imgkit.store.fsck import check, repair

OLD = 1_000_000_000


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "store")
    store_built_image(store, recipes.alpine("3.20").images[0], ["docker.io/library/alpine:3.20"])
    return store


def _killed_between_records_and_index(store):
    """Save records that add a tag, as a transaction does, but leave the old index.json."""
    index = (store.root / "index.json").read_bytes()
    stamp = (store.root / "index.json").stat().st_mtime_ns
    with store.transaction() as records:
        records.references["docker.io/library/alpine:copy"] = next(iter(records.images))
    (store.root / "index.json").write_bytes(index)
    os.utime(store.root / "index.json", ns=(stamp, stamp))
    os.utime(store.root / "imgkit.json", ns=(stamp + 1_000_000, stamp + 1_000_000))


def test_an_index_older_than_the_records_is_garbage_and_repair_rewrites_it(store):
    _killed_between_records_and_index(store)
    report = check(store)
    assert report.clean, report.errors
    assert any("index.json is older than the records" in g for g in report.garbage)
    repair(store)
    report = check(store)
    assert report.clean and report.garbage == []


def test_an_index_naming_a_missing_blob_is_still_an_error(store):
    _killed_between_records_and_index(store)
    index = json.loads((store.root / "index.json").read_text())
    index["manifests"][0]["digest"] = "sha256:" + "0" * 64
    stamp = (store.root / "index.json").stat().st_mtime_ns
    (store.root / "index.json").write_text(json.dumps(index))
    os.utime(store.root / "index.json", ns=(stamp, stamp))
    assert any("index.json" in e for e in check(store).errors)


def test_an_index_changed_after_the_records_is_still_an_error(store):
    (store.root / "index.json").write_text('{"schemaVersion": 2, "manifests": []}')
    assert any("index.json" in e for e in check(store).errors)


def test_unfinished_record_writes_are_garbage_that_repair_removes_once_old(store):
    stray = store.root / ".imgkit.json.k1ll3d.tmp"
    stray.write_bytes(b'{"half": ')
    report = check(store)
    assert report.clean and report.garbage == ["unfinished write .imgkit.json.k1ll3d.tmp"]
    repair(store)
    assert stray.exists()                            # young: a command may be writing it
    os.utime(stray, (OLD, OLD))
    repair(store)
    assert not stray.exists() and check(store).garbage == []
