"""Benchmarks: imgkit against the tools people would use instead, in the same run.

    make bench                 # everything
    .venv/bin/python bench/run.py pull --rounds 5
    .venv/bin/python bench/run.py pull unpack shared memory images startup notebooks

Each benchmark alternates the contenders round by round and prints medians
(wall and CPU seconds) and ratios; the figures are also written to
bench/RESULTS.md. Nothing here is a pass/fail test: targets are read off the
ratios by a person. Images are built and pushed by a child process
(``bench/bigimage.py push``) and stores filled by another (``bench/fill.py``),
so this process stays small: a command it starts inherits its memory until
``exec``, and the peak RSS reported for the command would include it.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Series, alternate, fresh_dir, machine, run_once, run_steps  # noqa: E402

import imgkit  # noqa: E402
from imgkit.lab.server import RegistryServer  # noqa: E402

PYTHON = sys.executable
# The `imgkit` command a learner types (its console script), else the module.
_SCRIPT = Path(PYTHON).with_name("imgkit")
IMGKIT = [str(_SCRIPT)] if _SCRIPT.exists() else [PYTHON, "-m", "imgkit"]
FLOOR = "python floor (bench/floor.py)"
SKOPEO = ["skopeo", "copy", "--quiet", "--src-tls-verify=false"]


def _push(server, repository: str, kind: str = "big") -> dict:
    """Build an image and push it, in a child process; return what it printed (JSON)."""
    out = subprocess.run([PYTHON, str(HERE / "bigimage.py"), "push", server.address,
                          "--repository", repository, "--kind", kind],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def _mb(pushed: dict) -> float:
    return sum(layer["size"] for layer in pushed["layers"]) / 1e6


def _table(series: dict[str, Series], digits: int = 2) -> list[str]:
    return ["| command | median s | median CPU s | peak RSS MiB |", "|---|---:|---:|---:|",
            *[f"| {s.name} | {s.median:.{digits}f} | {s.cpu_median:.{digits}f} | "
              f"{s.peak_rss_mib:.0f} |" for s in series.values()]]


def _ratio(series: dict[str, Series], mine: str, theirs: str) -> float:
    return series[mine].median / series[theirs].median


def bench_pull(work: Path, rounds: int) -> list[str]:
    """Cold pull: imgkit pull vs skopeo copy docker:// -> oci:, and a warm re-pull."""
    with RegistryServer(work / "registry") as server:
        pushed = _push(server, "bench/big")
        ref = pushed["reference"]

        def imgkit_pull(n):
            home = fresh_dir(str(work / "imgkit-home"))
            return run_once(IMGKIT + ["--home", home, "pull", ref])

        def skopeo_copy(n):
            target = fresh_dir(str(work / "skopeo-layout"))
            return run_once(SKOPEO + [f"docker://{ref}", f"oci:{target}:big"])

        def python_floor(n):
            target = fresh_dir(str(work / "floor"))
            return run_once([PYTHON, str(HERE / "floor.py"), ref, target])

        cold = alternate({"imgkit pull": imgkit_pull, "skopeo copy": skopeo_copy,
                          FLOOR: python_floor}, rounds)
        warm_home = fresh_dir(str(work / "warm-home"))
        run_once(IMGKIT + ["--home", warm_home, "pull", ref])
        warm = alternate({"imgkit re-pull (up to date)":
                          lambda n: run_once(IMGKIT + ["--home", warm_home, "pull", ref])}, rounds)
    ratio = _ratio(cold, "imgkit pull", "skopeo copy")
    return [
        f"### Cold pull of a {_mb(pushed):.0f} MB (compressed) two-layer image from a loopback registry",
        "",
        *_table(cold),
        *_table(warm, 3)[2:],
        "",
        f"Ratio imgkit / skopeo (cold pull): **{ratio:.2f}** (target 1.5, stretch 1.0); "
        f"warm re-pull {warm['imgkit re-pull (up to date)'].median:.3f} s (target 0.3).",
        "",
        f"The Python floor (`bench/floor.py`: requests, ISA-L and hashlib on two threads a layer, "
        f"digest and diff_id, no store) / skopeo: **{_ratio(cold, FLOOR, 'skopeo copy'):.2f}**; "
        f"imgkit / the floor: **{_ratio(cold, 'imgkit pull', FLOOR):.2f}**.",
    ]


def bench_unpack(work: Path, rounds: int) -> list[str]:
    """Pull and unpack into a container root: imgkit pull + create vs skopeo + umoci unpack.

    Run twice: on tmpfs, where the figures are the tools' own work, and on
    this machine's disk, where both also pay the kernel for 24,000 file
    creations - a cost that, on these VMs' ext4 (mounted with ``discard``),
    varies threefold from one minute to the next.
    """
    places = [("this machine's disk", work)]
    if os.access("/dev/shm", os.W_OK):
        places.insert(0, ("tmpfs (/dev/shm)", Path(tempfile.mkdtemp(prefix="imgkit-bench-",
                                                                      dir="/dev/shm"))))
    mine, theirs = "imgkit pull + create", "skopeo copy + umoci unpack --rootless"
    try:
        with RegistryServer(work / "registry") as server:
            pushed = _push(server, "bench/big")
            ref = pushed["reference"]
            lines = [f"### Pull and unpack the {_mb(pushed):.0f} MB image into a container root"]
            for label, place in places:
                def imgkit(n, place=place):
                    home = fresh_dir(str(place / "imgkit-home"))
                    return run_steps(IMGKIT + ["--home", home, "pull", ref],
                                     IMGKIT + ["--home", home, "create", ref])

                def skopeo_umoci(n, place=place):
                    target = fresh_dir(str(place / "skopeo-layout"))
                    bundle = Path(fresh_dir(str(place / "umoci"))) / "bundle"
                    return run_steps(SKOPEO + [f"docker://{ref}", f"oci:{target}:big"],
                                     ["umoci", "unpack", "--rootless", "--image", f"{target}:big",
                                      str(bundle)])

                series = alternate({mine: imgkit, theirs: skopeo_umoci}, rounds)
                lines += ["", f"On {label}:", "", *_table(series), "",
                          f"Ratio imgkit / (skopeo + umoci): **{_ratio(series, mine, theirs):.2f}** "
                          "(target 0.5)."]
                for leftover in ("imgkit-home", "skopeo-layout", "umoci"):
                    shutil.rmtree(place / leftover, ignore_errors=True)
    finally:
        for _label, place in places[:-1]:       # the tmpfs one, if any
            shutil.rmtree(place, ignore_errors=True)
    return lines


def bench_shared(work: Path, rounds: int) -> list[str]:
    """Pull a second image sharing the first one's base layer: only its own layer is fetched."""
    with RegistryServer(work / "registry") as server:
        big = _push(server, "bench/big")
        sibling = _push(server, "bench/sibling", "sibling")
        have = {layer["digest"] for layer in big["layers"]}
        unique = sum(layer["size"] for layer in sibling["layers"] if layer["digest"] not in have)

        # The bytes imgkit fetched, from the pull's own count (a child process, once).
        home = fresh_dir(str(work / "bytes-home"))
        run_once(IMGKIT + ["--home", home, "pull", big["reference"]])
        fetched = int(subprocess.run(
            [PYTHON, "-c", "import sys; from imgkit.api import Host; "
             "from imgkit.api.pulling import pull; "
             "print(pull(sys.argv[1], host=Host(sys.argv[2]), listener=lambda e: None)"
             ".downloaded_bytes)", sibling["reference"], home],
            check=True, capture_output=True, text=True).stdout)

        def imgkit(n):
            home = fresh_dir(str(work / "imgkit-home"))
            run_once(IMGKIT + ["--home", home, "pull", big["reference"]])
            return run_once(IMGKIT + ["--home", home, "pull", sibling["reference"]])

        def skopeo(n):
            target = fresh_dir(str(work / "skopeo-layout"))
            run_once(SKOPEO + [f"docker://{big['reference']}", f"oci:{target}:big"])
            return run_once(SKOPEO + [f"docker://{sibling['reference']}", f"oci:{target}:sibling"])

        series = alternate({"imgkit pull (sibling, base present)": imgkit,
                            "skopeo copy (sibling, base present)": skopeo}, rounds)
    verdict = "equal" if fetched == unique else "NOT EQUAL"
    return ["### Pull an image whose base layer is already there", "",
            f"The sibling image ({_mb(sibling):.0f} MB) shares its {len(sibling['layers']) - 1} "
            "base layer(s) with the big image pulled before it.", "",
            *_table(series), "",
            f"Ratio imgkit / skopeo: **{_ratio(series, *series):.2f}**. Bytes imgkit fetched: "
            f"{fetched:,}; bytes of the layers it lacked: {unique:,} ({verdict})."]


def bench_memory(work: Path, rounds: int) -> list[str]:
    """Peak RSS of a pull as the layer grows: it must not follow the layer's size."""
    kinds = {"random:16": "16 MB random file (16 MB blob)",
             "random:128": "128 MB random file (128 MB blob)",
             "zeros:512": "512 MB of zeros (0.5 MB blob, 1000:1)"}
    lines = ["### Peak memory of a pull against layer size", "",
             "| image | imgkit pull s | imgkit peak RSS MiB | skopeo copy s | skopeo peak RSS MiB |",
             "|---|---:|---:|---:|---:|"]
    rss = []
    with RegistryServer(work / "registry") as server:
        for kind, label in kinds.items():
            ref = _push(server, "bench/" + kind.replace(":", "-"), kind)["reference"]

            def imgkit(n, ref=ref):
                home = fresh_dir(str(work / "imgkit-home"))
                return run_once(IMGKIT + ["--home", home, "pull", ref])

            def skopeo(n, ref=ref):
                target = fresh_dir(str(work / "skopeo-layout"))
                return run_once(SKOPEO + [f"docker://{ref}", f"oci:{target}:x"])

            series = alternate({"imgkit": imgkit, "skopeo": skopeo}, max(1, min(rounds, 3)))
            mine, theirs = series["imgkit"], series["skopeo"]
            rss.append(mine.peak_rss_mib)
            lines.append(f"| {label} | {mine.median:.2f} | {mine.peak_rss_mib:.0f} | "
                         f"{theirs.median:.2f} | {theirs.peak_rss_mib:.0f} |")
    lines += ["", f"imgkit's peak RSS spread over a 32x range of layer sizes: "
                  f"{min(rss):.0f}-{max(rss):.0f} MiB (target: flat)."]
    return lines


def bench_images(work: Path, rounds: int) -> list[str]:
    """`imgkit images` with 1,000 images in the store, and `imgkit rmi` of 100 of them."""
    full = str(work / "full-home")
    subprocess.run([PYTHON, str(HERE / "fill.py"), full, "1000"], check=True)
    empty = fresh_dir(str(work / "empty-home"))
    names = [f"bench-{number:04d}" for number in range(0, 1000, 10)]

    def rmi(n):
        home = str(work / "rmi-home")
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(full, home)
        return run_once(IMGKIT + ["--home", home, "rmi", *names])

    series = alternate({
        "imgkit images (1,000 images)": lambda n: run_once(IMGKIT + ["--home", full, "images"]),
        "imgkit images (empty store)": lambda n: run_once(IMGKIT + ["--home", empty, "images"]),
        "imgkit rmi (100 of 1,000 images)": rmi,
    }, rounds)
    listing = series["imgkit images (1,000 images)"].median
    return ["### Listing and removing images in a store of 1,000", "", *_table(series, 3), "",
            f"`imgkit images` with 1,000 images: **{listing:.3f} s** (target 0.5); "
            f"on an empty store: **{series['imgkit images (empty store)'].median:.3f} s** "
            "(target 0.25)."]


def bench_startup(work: Path, rounds: int) -> list[str]:
    """Start-up cost: `imgkit images` on an empty store and `import imgkit`."""
    home = fresh_dir(str(work / "empty-home"))
    series = alternate({
        "imgkit images (empty store)": lambda n: run_once(IMGKIT + ["--home", home, "images"]),
        "python -c 'import imgkit'": lambda n: run_once([PYTHON, "-c", "import imgkit"]),
        "python -c 'pass'": lambda n: run_once([PYTHON, "-c", "pass"]),
    }, rounds)
    return ["### Start-up", "", *_table(series, 3), "",
            f"`imgkit images` on an empty store: **{series['imgkit images (empty store)'].median:.3f} s**"
            " (target 0.25)."]


def bench_notebooks(work: Path, rounds: int) -> list[str]:
    """The whole nbval lesson suite (`bash tools/test-notebooks.sh -q`), once: it takes minutes."""
    start = time.perf_counter()
    done = subprocess.run(["bash", str(HERE.parent / "tools" / "test-notebooks.sh"), "-q"],
                          cwd=HERE.parent, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    tail = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    return ["### The lesson notebooks under nbval", "",
            f"`bash tools/test-notebooks.sh -q`: **{seconds:.0f} s** wall, exit {done.returncode} "
            f"(one run, not alternated): `{tail}`"]


BENCHMARKS = {"pull": bench_pull, "unpack": bench_unpack, "shared": bench_shared,
              "memory": bench_memory, "images": bench_images, "startup": bench_startup,
              "notebooks": bench_notebooks}


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
    # Measure imgkit as installed, with its bytecode: an editable install writes none when
    # PYTHONDONTWRITEBYTECODE is set, and compiling from source would be timed in every run.
    compileall.compile_dir(str(Path(imgkit.__file__).parent), quiet=1)
    work = Path(tempfile.mkdtemp(prefix="imgkit-bench-"))
    lines = ["# Benchmark results", "",
             f"Measured {datetime.date.today()} on {machine()}, {args.rounds} rounds each, "
             "contenders alternating; `make bench` to measure again.", ""]
    try:
        for name in names:
            started = time.perf_counter()
            section = BENCHMARKS[name](work, args.rounds)
            section.append(f"\n({name}: {time.perf_counter() - started:.0f} s of benchmarking)")
            print("\n".join(section), flush=True)
            lines += section + [""]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    Path(args.results).write_text("\n".join(lines))
    print(f"\nwritten to {args.results}")


if __name__ == "__main__":
    os.environ.pop("IMGKIT_REGISTRY_MIRROR", None)
    main()
