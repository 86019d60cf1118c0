"""The Python floor of a pull: the least a CPython puller must do, and nothing more.

    python bench/floor.py HOST:PORT/REPOSITORY:TAG DIR

Imports ``requests``, fetches the manifest and the config, then on two
threads per layer downloads each blob into DIR while hashing it, and
inflates it with ISA-L while hashing the tar - the digest and the diff_id,
which any faithful pull must check - and flushes it to disk. No store, no
records, no progress, no tar headers read, no checks of what it found.

``bench/run.py pull`` times it in the same run as ``imgkit pull`` and
``skopeo copy``: what separates imgkit from skopeo beyond this floor is
imgkit's own doing; what separates this floor from skopeo is Python's
(start-up, importing ``requests``, the GIL) and the diff_id, which skopeo
never computes.
"""

from __future__ import annotations

import hashlib
import os
import queue
import sys
import threading

import requests
from isal import isal_zlib

ACCEPT = "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json"


def pull_layer(session: requests.Session, base: str, digest: str, directory: str) -> None:
    pieces: queue.Queue = queue.Queue(4)

    def inflate() -> None:
        gunzip, tar = isal_zlib.decompressobj(31), hashlib.sha256()
        while (piece := pieces.get()) is not None:
            view = memoryview(piece)
            for start in range(0, len(piece), 128 << 10):
                tar.update(gunzip.decompress(view[start:start + (128 << 10)]))

    worker = threading.Thread(target=inflate)
    worker.start()
    blob = hashlib.sha256()
    with session.get(f"{base}/blobs/{digest}", stream=True) as response, \
            open(os.path.join(directory, digest.partition(":")[2]), "wb") as out:
        response.raise_for_status()
        for piece in response.iter_content(1 << 20):
            out.write(piece)
            blob.update(piece)
            pieces.put(piece)
        pieces.put(None)
        worker.join()
        out.flush()
        os.fsync(out.fileno())


def main(reference: str, directory: str) -> None:
    host, _, rest = reference.partition("/")
    repository, _, tag = rest.rpartition(":")
    base = f"http://{host}/v2/{repository}"
    session = requests.Session()
    manifest = session.get(f"{base}/manifests/{tag}", headers={"Accept": ACCEPT}).json()
    session.get(f"{base}/blobs/{manifest['config']['digest']}").raise_for_status()
    os.makedirs(directory, exist_ok=True)
    failures: list[BaseException] = []

    def pull(digest: str) -> None:
        try:
            pull_layer(requests.Session(), base, digest, directory)
        except BaseException as error:       # a floor that failed must not look fast
            failures.append(error)

    threads = [threading.Thread(target=pull, args=(layer["digest"],)) for layer in manifest["layers"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


if __name__ == "__main__":
    main(*sys.argv[1:3])
