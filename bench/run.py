"""Benchmarks: imgkit against the tools people would use instead, in the same run.

    make bench                 # everything
    .venv/bin/python bench/run.py pull --rounds 5

Each benchmark alternates the contenders round by round and prints medians
and ratios; the figures are also written to bench/RESULTS.md. Nothing here
is a pass/fail test: targets are read off the ratios by a person.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bigimage  # noqa: E402
from harness import alternate, fresh_dir, machine, run_once  # noqa: E402

from imgkit.lab.server import RegistryServer  # noqa: E402
from imgkit.registry import RegistryClient, push_image  # noqa: E402

IMGKIT = [sys.executable, "-m", "imgkit"]


def _push(server, repository, built):
    client = RegistryClient(server.address)
    push_image(client, repository, "latest", built.blobs, built.manifest_bytes, built.media_type)


def bench_pull(work: Path, rounds: int) -> list[str]:
    """Cold pull: imgkit pull vs skopeo copy docker:// -> oci:, and a warm re-pull."""
    image = bigimage.build()
    size_mb = sum(layer.size for layer in image.layers) / 1e6
    with RegistryServer(work / "registry") as server:
        _push(server, "bench/big", image)
        ref = f"{server.address}/bench/big:latest"

        def imgkit_pull(n):
            home = fresh_dir(str(work / "imgkit-home"))
            return run_once(IMGKIT + ["--home", home, "pull", ref])

        def skopeo_copy(n):
            target = fresh_dir(str(work / "skopeo-layout"))
            return run_once(["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                             f"docker://{ref}", f"oci:{target}:big"])

        cold = alternate({"imgkit pull": imgkit_pull, "skopeo copy": skopeo_copy}, rounds)
        warm_home = fresh_dir(str(work / "warm-home"))
        run_once(IMGKIT + ["--home", warm_home, "pull", ref])
        warm = alternate({"imgkit re-pull (up to date)":
                          lambda n: run_once(IMGKIT + ["--home", warm_home, "pull", ref])}, rounds)
    ratio = cold["imgkit pull"].median / cold["skopeo copy"].median
    return [
        f"### Cold pull of a {size_mb:.0f} MB (compressed) two-layer image from a loopback registry",
        "",
        "| command | median s | peak RSS MiB |",
        "|---|---:|---:|",
        *[f"| {s.name} | {s.median:.2f} | {s.peak_rss_mib:.0f} |" for s in cold.values()],
        *[f"| {s.name} | {s.median:.3f} | {s.peak_rss_mib:.0f} |" for s in warm.values()],
        "",
        f"Ratio imgkit / skopeo (cold pull): **{ratio:.2f}**",
    ]


def bench_startup(work: Path, rounds: int) -> list[str]:
    """Start-up cost: `imgkit images` on an empty store and `import imgkit`."""
    home = fresh_dir(str(work / "empty-home"))
    series = alternate({
        "imgkit images (empty store)": lambda n: run_once(IMGKIT + ["--home", home, "images"]),
        "python -c 'import imgkit'": lambda n: run_once([sys.executable, "-c", "import imgkit"]),
        "python -c 'pass'": lambda n: run_once([sys.executable, "-c", "pass"]),
    }, rounds)
    return ["### Start-up", "", "| command | median s |", "|---|---:|",
            *[f"| {s.name} | {s.median:.3f} |" for s in series.values()]]


BENCHMARKS = {"pull": bench_pull, "startup": bench_startup}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"which of {', '.join(BENCHMARKS)} (default all)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}")
    work = Path(tempfile.mkdtemp(prefix="imgkit-bench-"))
    lines = ["# Benchmark results", "",
             f"Measured {datetime.date.today()} on {machine()}, {args.rounds} rounds each, "
             "contenders alternating; `make bench` to measure again.", ""]
    try:
        for name in names:
            section = BENCHMARKS[name](work, args.rounds)
            print("\n".join(section), flush=True)
            lines += section + [""]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    Path(args.results).write_text("\n".join(lines))
    print(f"\nwritten to {args.results}")


if __name__ == "__main__":
    os.environ.pop("IMGKIT_REGISTRY_MIRROR", None)
    main()
