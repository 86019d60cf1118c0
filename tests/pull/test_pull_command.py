"""``imgkit pull`` run as a program: the lines Docker prints when piped, errors on one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from imgkit import digest as digests
from imgkit.oci import parse_any

pytestmark = pytest.mark.registry


def imgkit(home, *args):
    return subprocess.run([sys.executable, "-m", "imgkit", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=120)


def test_pull_piped_prints_exactly_dockers_lines(hub, tmp_path, lab_client):
    done = imgkit(tmp_path / "home", "pull", "redis")
    assert (done.returncode, done.stderr) == (0, "")

    top = lab_client.get_manifest("library/redis", "latest")
    index = parse_any(top.data, top.media_type)
    child = lab_client.get_manifest("library/redis", index.select().digest)
    layers = parse_any(child.data, child.media_type).layers
    a, b, c, d = (digests.short(layer.digest) for layer in layers)
    sizes = [layer.size for layer in layers]
    assert sizes[1] < sizes[3] + sizes[1] < sizes[2] < sizes[0]   # fixes the order below
    assert done.stdout.splitlines() == [
        "Using default tag: latest",
        "latest: Pulling from library/redis",
        f"{a}: Pulling fs layer",
        f"{b}: Pulling fs layer",
        f"{c}: Pulling fs layer",
        f"{d}: Pulling fs layer",
        f"{d}: Waiting",                   # three downloads at a time
        f"{b}: Verifying Checksum",
        f"{b}: Download complete",
        f"{d}: Verifying Checksum",
        f"{d}: Download complete",
        f"{c}: Verifying Checksum",
        f"{c}: Download complete",
        f"{a}: Verifying Checksum",
        f"{a}: Download complete",
        f"{a}: Pull complete",
        f"{b}: Pull complete",
        f"{c}: Pull complete",
        f"{d}: Pull complete",
        f"Digest: {top.digest}",
        "Status: Downloaded newer image for redis:latest",
        "docker.io/library/redis:latest",
    ]


def test_image_pull_quiet_prints_only_the_reference(hub, tmp_path):
    done = imgkit(tmp_path / "home", "image", "pull", "-q", "alpine")
    assert (done.returncode, done.stdout, done.stderr) == (0, "docker.io/library/alpine:latest\n", "")
    again = imgkit(tmp_path / "home", "pull", "--platform", "linux/arm64", "alpine")
    assert again.returncode == 0
    assert again.stdout.splitlines()[-2] == "Status: Downloaded newer image for alpine:latest"


@pytest.mark.parametrize("args,message", [
    (["pull", "alpine:nope"], "manifest for alpine:nope not found: manifest unknown: manifest unknown"),
    (["pull", "-a", "alpine:3.19"], "tag can't be used with --all-tags/-a"),
    (["pull", "Alpine"], "invalid reference format: repository name (library/Alpine) must be "
                         "lowercase"),
])
def test_a_failed_pull_is_one_line_on_stderr_and_status_1(hub, tmp_path, args, message):
    done = imgkit(tmp_path / "home", *args)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", message + "\n")


def test_pull_loads_only_what_a_pull_needs(hub, tmp_path):
    # Each module here once slipped onto the pull's path and cost every `imgkit pull`
    # milliseconds: the unpacker (for a default), tarfile, platform, html. (The light
    # imgkit.widgets.auto is asked whether a notebook shows a live display: no ipywidgets.)
    code = ("import sys; from imgkit.cli import main; "
            f"rc = main(['--home', {str(tmp_path / 'home')!r}, 'pull', '-q', 'alpine']); "
            "unneeded = {'imgkit.unpack', 'tarfile', 'platform', 'html', 'graphviz', 'ipywidgets',"
            " 'IPython', 'imgkit.widgets.pull'} & set(sys.modules); "
            "print(rc, sorted(unneeded), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.stderr.strip() == "0 []", done.stderr
    assert done.stdout == "docker.io/library/alpine:latest\n"
