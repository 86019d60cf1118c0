"""skopeo and umoci, two independent OCI tools, read every course image out of the lab."""

from __future__ import annotations

import json
import platform
import subprocess

import pytest

from imgkit.lab import catalog
from imgkit.lab.elf import GREETING

pytestmark = [pytest.mark.registry, pytest.mark.interop]

# A file each image must have once unpacked, proving the layers stacked right.
EXPECTED_FILE = {
    "library/alpine": "etc/alpine-release",
    "library/busybox": "bin/busybox",
    "library/redis": "usr/local/bin/redis-server",
    "library/python": "usr/local/lib/libpython3.12.so.1.0",
    "library/ubuntu": "etc/os-release",
    "library/mongo": "usr/bin/mongod",
    "library/hello-world": "hello",
}

CASES = [(entry.repository, entry.tags[0]) for entry in catalog.CATALOG]


def _run(*argv):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"{argv[0]} failed: {result.stderr}"
    return result.stdout


def _copy_and_unpack(lab, repository, tag, tmp_path, *extra):
    layout = tmp_path / "layout"
    _run("skopeo", "copy", "--quiet", "--src-tls-verify=false", *extra,
         f"docker://{lab.address}/{repository}:{tag}", f"oci:{layout}:{tag}")
    bundle = tmp_path / "bundle"
    _run("umoci", "unpack", "--rootless", "--image", f"{layout}:{tag}", str(bundle))
    return bundle / "rootfs"


@pytest.mark.parametrize("repository,tag", CASES, ids=[f"{r}:{t}" for r, t in CASES])
def test_skopeo_copies_and_umoci_unpacks(lab, repository, tag, tmp_path):
    rootfs = _copy_and_unpack(lab, repository, tag, tmp_path)
    assert (rootfs / EXPECTED_FILE[repository]).exists()


def test_the_ubuntu_whiteouts_delete_the_apt_lists(lab, tmp_path):
    rootfs = _copy_and_unpack(lab, "library/ubuntu", "latest", tmp_path)
    assert (rootfs / "var/lib/apt/lists").is_dir()
    assert list((rootfs / "var/lib/apt/lists").iterdir()) == []
    assert (rootfs / "etc/apt/sources.list").read_text().endswith("noble universe\n")
    assert (rootfs / "etc/apt/sources.list").read_text().count("#deb") == 0


def test_the_arm64_alpine_is_a_different_image_with_its_own_files(lab, tmp_path):
    rootfs = _copy_and_unpack(lab, "library/alpine", "3.20", tmp_path,
                              "--override-arch", "arm64", "--override-variant", "v8")
    assert (rootfs / "etc/apk/arch").read_text() == "aarch64\n"


def test_skopeo_sees_the_multi_platform_index(lab):
    raw = json.loads(_run("skopeo", "inspect", "--raw", "--tls-verify=false",
                          f"docker://{lab.address}/library/alpine:latest"))
    platforms = {(m["platform"]["architecture"], m["platform"].get("variant"))
                 for m in raw["manifests"]}
    assert platforms == {("amd64", None), ("arm64", "v8")}


def test_skopeo_reads_the_config_labels_and_layers(lab, course_builds):
    info = json.loads(_run("skopeo", "inspect", "--tls-verify=false",
                           f"docker://{lab.address}/library/redis:latest"))
    assert info["Labels"]["org.opencontainers.image.vendor"] == "imgkit course images"
    built = course_builds[("library/redis", "latest")]
    amd64 = next(i for i in built.images if i.platform[1] == "amd64")
    assert info["Layers"] == [layer.digest for layer in amd64.layers]
    assert len(info["Layers"]) == 4          # alpine's one layer and redis's three


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                    reason="/hello is an x86-64 program")
def test_hello_world_unpacked_by_umoci_really_runs(lab, tmp_path):
    rootfs = _copy_and_unpack(lab, "library/hello-world", "latest", tmp_path)
    result = subprocess.run([str(rootfs / "hello")], capture_output=True, timeout=10)
    assert result.returncode == 0
    assert result.stdout.decode() == GREETING
