"""Helpers of the robustness tier: run imgkit as a child process, read its store, judge errors."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from imgkit.digest import compute
from imgkit.oci import mediatypes
from imgkit.oci.canonical import dumps
from imgkit.store import Store
from imgkit.tarlayer import Entry, write_tar


def imgkit_env(home: Path, **extra: str | None) -> dict[str, str]:
    """The environment of an ``imgkit`` child process: its own home, no mirror, no Docker login."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGKIT_")}
    env.update({"IMGKIT_HOME": str(home), "IMGKIT_REGISTRY_MIRROR": "",
                "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}     # None: leave it unset


def run_imgkit(home: Path, *args: str, timeout: float = 60, **env: str | None
               ) -> subprocess.CompletedProcess:
    """Run ``python -m imgkit ARGS`` on ``home``; return the finished process (text output)."""
    return subprocess.run([sys.executable, "-m", "imgkit", *args], capture_output=True,
                          text=True, timeout=timeout, env=imgkit_env(home, **env),
                          stdin=subprocess.DEVNULL)


def assert_one_line_error(stderr: str) -> str:
    """A failed command says why in exactly one line: no traceback, no Python internals."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and 'File "' not in stderr, stderr
    return lines[0]


def store_state(store: Store) -> tuple[bytes, list[str], list[str]]:
    """The records' bytes, the blob names and the temporary files: what a failure must not change."""
    records = store.root / "imgkit.json"
    directory = store.blobs.directory
    names = sorted(os.listdir(directory)) if directory.is_dir() else []
    temporary = sorted(p.name for p in store.root.glob(".*.tmp")) + \
        [n for n in names if n.startswith(".")]
    return (records.read_bytes() if records.exists() else b""), names, temporary


# -- images made by hand ---------------------------------------------------------------

@dataclass
class HandImage:
    """An image whose manifest and config were written here, digests and diff_ids by hand."""

    layers: list[tuple[bytes, str, str]]       #: (blob, digest, diff_id), bottom first
    config: bytes
    manifest: bytes

    @property
    def id(self) -> str:
        return compute(self.config)

    @property
    def digest(self) -> str:
        return compute(self.manifest)

    @property
    def blobs(self) -> dict[str, bytes]:
        return {compute(self.config): self.config, **{d: b for b, d, _ in self.layers}}


def hand_image(tars: list[bytes], label: str = "", *, compress: bool = True) -> HandImage:
    """Wrap layer tars (any bytes, hostile ones too) in a config and an OCI manifest.

    Each tar is gzip'd deterministically (mtime 0) unless ``compress`` is False;
    the config's ``rootfs.diff_ids`` are the tars' digests, as a registry and
    imgkit expect.
    """
    layers = []
    for tar in tars:
        blob = gzip.compress(tar, compresslevel=6, mtime=0) if compress else tar
        layers.append((blob, compute(blob), compute(tar)))
    config = dumps({"architecture": "amd64", "os": "linux",
                    "config": {"Cmd": ["/bin/sh"], "Labels": {"case": label}},
                    "rootfs": {"type": "layers", "diff_ids": [d for _, _, d in layers]},
                    "history": [{"created_by": f"layer {i}"} for i in range(len(layers))]})
    layer_type = mediatypes.OCI_LAYER_GZIP if compress else mediatypes.OCI_LAYER
    manifest = dumps({"schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST,
                      "config": {"mediaType": mediatypes.OCI_CONFIG, "digest": compute(config),
                                 "size": len(config)},
                      "layers": [{"mediaType": layer_type, "digest": d, "size": len(b)}
                                 for b, d, _ in layers]})
    return HandImage(layers, config, manifest)


def push_hand_image(client, repository: str, image: HandImage, tag: str) -> str:
    """Push every blob, then the manifest under ``tag``; return the manifest digest."""
    for digest, data in image.blobs.items():
        if not client.blob_exists(repository, digest):
            client.push_blob(repository, digest, data)
    return client.put_manifest(repository, tag, image.manifest, mediatypes.OCI_MANIFEST)


def files_layer(seed: str, *names: str, size: int = 3000) -> bytes:
    """A tar of files whose bytes derive from ``seed`` (so digests repeat on every run)."""
    entries = [Entry.file(name, hashlib.sha256(f"{seed}/{name}".encode()).digest() * (size // 32))
               for name in names]
    return write_tar(entries)
