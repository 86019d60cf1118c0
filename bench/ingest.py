"""Time ``LayerIngest`` alone on the benchmark image's two layers, lever by lever.

    .venv/bin/python bench/ingest.py [--rounds 5] [--cache /tmp/imgkit-bench-layers]

No registry, no store: the layer blobs are fed from memory in 1 MiB chunks,
as a pull feeds them. Variants run alternately, round by round:

* ``full parser``: every tar header through ``TarScanner._header`` (the
  fast path for ordinary ustar headers switched off) - per-entry cost of the scan;
* ``one thread``: no worker thread (``_THREAD_AT`` out of reach): decompress,
  hash and scan in the feeding thread;
* ``whole chunks to gunzip``: 1 MiB inputs to inflate instead of 128 KiB slices;
* ``as shipped``: everything on.

Each variant ingests layer 1 (24,000 small files), layer 2 (4 big files),
and both at once on two threads (what a pull does). Wall and CPU seconds,
medians. The machine's other load shows in wall time: compare CPU too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from imgkit import blobdecode, layerstream, tarscan  # noqa: E402

CHUNK = 1 << 20


def load_layers(cache: str | None) -> list[dict]:
    """The big image's layers: digest, diff_id, media type, blob (built, or read from ``cache``)."""
    if cache and (Path(cache) / "layers.json").exists():
        layers = json.loads((Path(cache) / "layers.json").read_text())
        for number, layer in enumerate(layers):
            layer["blob"] = (Path(cache) / f"layer{number}.blob").read_bytes()
        return layers
    import bigimage
    image = bigimage.build()
    layers = [{"digest": layer.digest, "diff_id": layer.diff_id, "media_type": layer.media_type,
               "blob": layer.blob} for layer in image.layers]
    if cache:
        Path(cache).mkdir(parents=True, exist_ok=True)
        for number, layer in enumerate(layers):
            (Path(cache) / f"layer{number}.blob").write_bytes(layer["blob"])
        (Path(cache) / "layers.json").write_text(json.dumps(
            [{k: v for k, v in layer.items() if k != "blob"} for layer in layers]))
    return layers


def ingest(layer: dict) -> layerstream.LayerFacts:
    blob = layer["blob"]
    reader = layerstream.LayerIngest(layer["digest"], layer["media_type"],
                                     expected_diff_id=layer["diff_id"], expected_size=len(blob))
    view = memoryview(blob)
    for start in range(0, len(blob), CHUNK):
        reader.feed(bytes(view[start:start + CHUNK]))      # a fresh bytes, as requests yields
    return reader.finish()


def timed(work) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def both(layers: list[dict]) -> None:
    threads = [threading.Thread(target=ingest, args=(layer,)) for layer in layers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


VARIANTS = {
    "as shipped": {},
    "full parser": {"fast_scan": False},
    "one thread": {"thread": False},
    "whole chunks to gunzip": {"slices": False},
}


def patched(stack: ExitStack, fast_scan: bool = True, thread: bool = True,
            slices: bool = True) -> None:
    if not fast_scan:
        stack.enter_context(mock.patch.object(tarscan.TarScanner, "_plain_headers",
                                              lambda self, data, pos: pos))
    if not thread:
        stack.enter_context(mock.patch.object(layerstream, "_THREAD_AT", 1 << 62))
    if not slices:
        stack.enter_context(mock.patch.object(blobdecode, "IN_SLICE", 1 << 62))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cache", help="keep the built layer blobs in this directory")
    args = parser.parse_args(argv)
    layers = load_layers(args.cache)
    results: dict[str, dict[str, list[tuple[float, float]]]] = {
        name: {"layer 1": [], "layer 2": [], "both": []} for name in VARIANTS}
    for round_number in range(args.rounds):
        order = list(VARIANTS) if round_number % 2 == 0 else list(reversed(VARIANTS))
        for name in order:
            with ExitStack() as stack:
                patched(stack, **VARIANTS[name])
                results[name]["layer 1"].append(timed(lambda: ingest(layers[0])))
                results[name]["layer 2"].append(timed(lambda: ingest(layers[1])))
                results[name]["both"].append(timed(lambda: both(layers)))
    count = ingest(layers[0])
    print(f"layer 1: {len(layers[0]['blob']) / 1e6:.0f} MB blob, "
          f"{count.uncompressed_size / 1e6:.0f} MB tar; layer 2: "
          f"{len(layers[1]['blob']) / 1e6:.0f} MB blob; {args.rounds} rounds")
    print("| variant | layer 1 s (CPU) | layer 2 s (CPU) | both at once s (CPU) |")
    print("|---|---:|---:|---:|")
    for name, runs in results.items():
        cells = [f"{statistics.median(w for w, _ in runs[k]):.3f} "
                 f"({statistics.median(c for _, c in runs[k]):.3f})" for k in runs]
        print(f"| {name} | " + " | ".join(cells) + " |")
    scan_cost(layers[0], args.rounds)


def scan_cost(layer: dict, rounds: int) -> None:
    """CPU per tar entry of the scan alone, fast path on and off, on layer 1's tar."""
    from isal import isal_zlib
    tar = isal_zlib.decompress(layer["blob"], 31)
    pieces = [tar[start:start + blobdecode.PIECE] for start in range(0, len(tar), blobdecode.PIECE)]
    costs: dict[str, list[float]] = {"fast path": [], "full parser": []}
    for _ in range(rounds):
        for name in costs:
            with ExitStack() as stack:
                patched(stack, fast_scan=name == "fast path")
                scanner = tarscan.TarScanner()
                start = time.process_time()
                for piece in pieces:
                    scanner.feed(piece)
                scanner.finish()
                costs[name].append((time.process_time() - start) / scanner.entries * 1e6)
    print(f"tar scan of layer 1 ({scanner.entries} entries), CPU per entry: " + ", ".join(
        f"{name} {statistics.median(values):.2f} us" for name, values in costs.items()))


if __name__ == "__main__":
    main()
