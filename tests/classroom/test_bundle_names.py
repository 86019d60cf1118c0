"""Reading names and paths out of an archive: tables of cases, no sockets."""

from __future__ import annotations

import pytest

from imgkit.api.bundlefile import _clean, _full_name
from imgkit.api.preflight import _clock_check


@pytest.mark.parametrize("annotation, expected", [
    ("docker.io/library/alpine:3.20", "docker.io/library/alpine:3.20"),   # imgkit, containerd
    ("alpine:3.20", "docker.io/library/alpine:3.20"),                    # skopeo oci-archive:F:alpine:3.20
    ("ghcr.io/a/b", "ghcr.io/a/b:latest"),
    ("127.0.0.1:5000/team/app:1.0", "127.0.0.1:5000/team/app:1.0"),
    ("3.20", None),                                  # Docker 25 writes only the tag here
    ("latest", None),
    ("alpine@sha256:" + "a" * 64, None),             # a digest is no tag to load under
    ("Not A Name!", None),
    (None, None),
])
def test_which_annotations_name_an_image(annotation, expected):
    assert _full_name(annotation) == expected


@pytest.mark.parametrize("member, expected", [
    ("blobs/sha256/ab", "blobs/sha256/ab"),
    ("./index.json", "index.json"),
    ("blobs//sha256/./ab", "blobs/sha256/ab"),
    ("../etc/passwd", None),
    ("/etc/passwd", None),
    ("blobs/../../x", None),
    ("", None),
])
def test_member_names_that_climb_out_are_never_read(member, expected):
    assert _clean(member) == expected


@pytest.mark.parametrize("skews, status, detail", [
    ([("lab", 0.4)], "ok", "within 0 s of lab"),
    ([("lab", 0.2), ("Docker Hub", -12.0)], "ok", "within 12 s of Docker Hub"),
    ([("Docker Hub", 95.0)], "warn", "95 s behind Docker Hub"),
    ([("mirror", -900.0)], "fail", "15 minutes ahead of mirror"),
])
def test_clock_skew_is_judged_by_the_worst_registry(skews, status, detail):
    (check,) = _clock_check(skews)
    assert (check.status, check.detail) == (status, detail)


def test_no_registry_answered_means_no_clock_check():
    assert _clock_check([]) == []
