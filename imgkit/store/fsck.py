"""Check a store from scratch: every blob re-hashed, every record and reference resolved.

``imgkit fsck`` trusts nothing it recorded. It re-hashes each blob that a
record names, re-reads each manifest and config, recomputes every image's
ChainIDs, size and every layer's reference count, and compares them with the
records. Problems that mean a damaged store are *errors*; leftovers of an
interrupted command (a partial download, blobs no record names yet) are
*garbage*: harmless, and ``repair`` removes them once they are old enough
that no running command can still be writing them - the same grace period
idea as ``git gc``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from .. import digest as digests
from ..errors import ImgkitError
from ..oci import ImageConfig, Manifest
from .layout import index_document, write_index
from .records import RECORDS_NAME, Records

__all__ = ["FsckReport", "check", "repair", "GRACE_SECONDS"]

#: Garbage younger than this may belong to a command still running; repair leaves it.
GRACE_SECONDS = 3600


@dataclass
class FsckReport:
    """What ``check`` found: errors (a damaged store) and garbage (safe leftovers)."""

    errors: list[str] = field(default_factory=list)
    garbage: list[str] = field(default_factory=list)
    images: int = 0
    layers: int = 0
    blobs_checked: int = 0
    refcounts: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """True when the store has no errors (garbage does not make it unclean)."""
        return not self.errors

    def lines(self) -> list[str]:
        """Return the report as the lines ``imgkit fsck`` prints."""
        out = [f"error: {e}" for e in self.errors] + [f"garbage: {g}" for g in self.garbage]
        verdict = "store is consistent" if self.clean else f"store has {len(self.errors)} error(s)"
        out.append(f"{verdict}: {self.images} images, {self.layers} layers, "
                   f"{self.blobs_checked} blobs re-hashed")
        return out

    def __repr__(self) -> str:
        return "\n".join(self.lines())


def _rehash(store, digest: str, report: FsckReport, what: str, seen: dict) -> bool:
    if digest in seen:
        return seen[digest]
    ok = False
    if not store.blobs.has(digest):
        report.errors.append(f"{what}: blob {digest} is missing")
    else:
        hasher = digests.hasher(digest)
        with store.blobs.open(digest) as blob:
            while chunk := blob.read(1 << 20):
                hasher.update(chunk)
        actual = f"sha256:{hasher.hexdigest()}"
        report.blobs_checked += 1
        ok = actual == digest
        if not ok:
            report.errors.append(f"{what}: blob {digest} is corrupt (hashes to {actual})")
    seen[digest] = ok
    return ok


def check(store) -> FsckReport:
    """Check ``store`` and return a report (changes nothing)."""
    report = FsckReport()
    try:
        records = store.records()
    except ImgkitError as exc:
        report.errors.append(str(exc))
        return report
    seen: dict[str, bool] = {}
    named = _check_images(store, records, report, seen)
    _check_layers(store, records, report, seen, named)
    _check_references(records, report)
    _check_layout(store, records, report)
    _find_garbage(store, report, named)
    report.images, report.layers = len(records.images), len(records.layers)
    return report


def _check_images(store, records: Records, report: FsckReport, seen: dict) -> set[str]:
    named: set[str] = set()   # every blob some record needs
    for image_id, image in records.images.items():
        what = f"image {digests.short(image_id)}"
        named.update({image.manifest_digest, image_id})
        if not (_rehash(store, image.manifest_digest, report, what, seen)
                and _rehash(store, image_id, report, what, seen)):
            continue
        try:
            manifest = Manifest.from_json(store.blobs.read(image.manifest_digest),
                                          image.manifest_media_type)
            config = ImageConfig.from_json(store.blobs.read(image_id))
        except (ImgkitError, ValueError) as exc:
            report.errors.append(f"{what}: unreadable manifest or config: {exc}")
            continue
        if manifest.config.digest != image_id:
            report.errors.append(f"{what}: its manifest names config {manifest.config.digest}")
        for layer in manifest.layers:
            named.add(layer.digest)
            _rehash(store, layer.digest, report, what, seen)
        chain = digests.chain_ids(list(config.diff_ids))
        if chain != image.layers:
            report.errors.append(f"{what}: recorded layers differ from its config's diff_ids")
        missing = [c for c in image.layers if c not in records.layers]
        if missing:
            report.errors.append(f"{what}: layer {digests.short(missing[0])} is not recorded")
        elif image.size != sum(records.layers[c].content_size for c in image.layers):
            report.errors.append(f"{what}: recorded size {image.size} is not the sum of its layers")
        if image.parent and image.parent not in records.images:
            report.errors.append(f"{what}: parent image {digests.short(image.parent)} is gone")
    return named


def _check_layers(store, records: Records, report: FsckReport, seen: dict, named: set) -> None:
    users = records.layer_users()
    held = records.container_layers()
    for chain_id, layer in records.layers.items():
        what = f"layer {digests.short(chain_id)}"
        named.add(layer.digest)
        _rehash(store, layer.digest, report, what, seen)
        expected = layer.diff_id if layer.parent is None else \
            digests.compute(f"{layer.parent} {layer.diff_id}".encode())
        if expected != chain_id:
            report.errors.append(f"{what}: its ChainID does not follow from its parent and diff_id")
        report.refcounts[chain_id] = len(users.get(chain_id, []))
        if not users.get(chain_id) and not held.get(chain_id):
            report.errors.append(f"{what}: recorded but used by no image or container "
                                 "(a leaked layer)")


def _check_references(records: Records, report: FsckReport) -> None:
    for ref, image_id in sorted(records.references.items()):
        if image_id not in records.images:
            report.errors.append(f"reference {ref} names missing image {digests.short(image_id)}")
    for container in records.containers.values():
        # Its image may be gone (`rmi -f`), as in Docker; its layers may not.
        missing = [c for c in container.layers if c not in records.layers]
        if missing or (not container.layers and container.image not in records.images):
            report.errors.append(f"container {container.id[:12]} lost the layers of image "
                                 f"{digests.short(container.image)}")


def _check_layout(store, records: Records, report: FsckReport) -> None:
    path = store.root / "index.json"
    try:
        index = json.loads(path.read_text())
    except (OSError, ValueError):
        index = None
    if not records.images or index == index_document(records):
        return
    if index is not None and _older_than_records(store, path) and _blobs_present(store, index):
        # Records are saved first, then index.json is rewritten from them: a command
        # killed between the two leaves an older index that still names stored blobs.
        report.garbage.append("index.json is older than the records (an interrupted command; "
                              "repair rewrites it)")
        return
    report.errors.append("index.json does not list what the records hold (repair rewrites it)")


def _older_than_records(store, index_path) -> bool:
    try:
        return index_path.stat().st_mtime_ns < (store.root / RECORDS_NAME).stat().st_mtime_ns
    except OSError:
        return False


def _blobs_present(store, index) -> bool:
    try:
        return all(store.blobs.has(entry["digest"]) for entry in index["manifests"])
    except (ImgkitError, KeyError, TypeError):
        return False


def _half_written(store) -> list:
    """Temporary files of ``atomic_write`` in the store's root (a command killed mid-write)."""
    try:
        return sorted(p for p in store.root.iterdir()
                      if p.name.startswith(".") and p.name.endswith(".tmp") and p.is_file())
    except OSError:
        return []


def _find_garbage(store, report: FsckReport, named: set) -> None:
    for path in store.blobs.partials():
        report.garbage.append(f"partial download {path.name}")
    for path in _half_written(store):
        report.garbage.append(f"unfinished write {path.name}")
    for digest in store.blobs:
        if digest not in named:
            report.garbage.append(f"blob {digest} is named by no record")


def repair(store, *, grace_seconds: float = GRACE_SECONDS) -> list[str]:
    """Fix what can be fixed safely; return what was done.

    Rewrites ``index.json`` from the records and removes garbage older than
    ``grace_seconds`` (partial downloads, blobs no record names). Errors in
    the records themselves are left for a person to look at.
    """
    done = []
    with store.lock():
        records = store.records()
        report = check(store)
        write_index(store.root, records)
        done.append("rewrote index.json")
        cutoff = time.time() - grace_seconds
        for path in store.blobs.partials():
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                done.append(f"removed partial download {path.name}")
        for path in _half_written(store):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                done.append(f"removed unfinished write {path.name}")
        for line in report.garbage:
            if line.startswith("blob "):
                digest = line.split()[1]
                path = store.blobs.path(digest)
                if path.exists() and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    done.append(f"removed unreferenced blob {digest}")
    return done
