"""Property tests: whatever text a learner (or a registry, or a damaged file) hands over,
imgkit's parsers answer with a value or with one of imgkit's own errors - never anything else.

The reference parser and the manifest/index/config readers have theirs in
``tests/unit`` (``test_reference.py``, ``test_oci_values.py``); here are the
ones that were missing: the ``--filter`` language of ``images`` and
``image prune`` (parse, evaluate, globs, times), digests, platforms, image
look-ups, the registry's headers and error bodies, Docker's and imgkit's
config files, and the store's own records. Each keeps to about 200 examples.
"""

from __future__ import annotations

import datetime as dt
import json
import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imgkit import config, digest, filters
from imgkit.api.listing import select
from imgkit.errors import ImgkitError
from imgkit.oci import Platform
from imgkit.registry.auth import parse_challenges
from imgkit.registry.credentials import load_auths
from imgkit.registry.responses import (
    error_from_response,
    manifest_media_type,
    parse_error_body,
    parse_ratelimit,
    parse_retry_after,
)
from imgkit.store import ImageRecord, Records, Store, find_image

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
NOW = 1_717_236_000 * 1_000_000_000
UTC = dt.timezone.utc


def only_imgkit_errors(call, *args, **kwargs):
    """Call; return its value, or None if it raised an ImgkitError that says something.

    (A message may quote what it was given, newlines and all: the command prints
    every error on one line whatever it holds.)
    """
    try:
        return call(*args, **kwargs)
    except ImgkitError as exc:
        assert str(exc).strip(), repr(exc)
        return None


# -- the --filter language ------------------------------------------------------------------

_KEYS = st.sampled_from(list(filters.ACCEPTED_KEYS) + ["label!", "LABEL", " dangling ", "x", "",
                                                        "reference ", "until"])
_GLOBISH = st.text(alphabet=st.sampled_from(list("ab/:.*?[]^-\\!z09_")), max_size=12)
_TIMEISH = st.one_of(
    st.sampled_from(["10m", "1.5h", "-5s", "0", "2h30m", "1µs", ".5s", "5.s", "1e3s", "h",
                     "2024-06-01", "2024-06-01T10:00", "2024-06-01T10:00:00Z",
                     "2024-06-01T10:00:00+99:00", "2024-06-01T10:00:00-23:59",
                     "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                     "2024-13-40", "1717236000", "1717236000.5", "-1", "+3", "1.x",
                     "٣", "9" * 30, "", " "]),
    st.text(alphabet=st.sampled_from(list("0123456789-+:.TZhmsuµ ")), max_size=25))
_VALUES = st.one_of(st.text(max_size=20), _GLOBISH, _TIMEISH,
                    st.sampled_from(["true", "false", "1", "0", "TRUE", "yes",
                                     "alpine", "alpine:3.20", "sha256:" + "a" * 64, "a=b", "a=",
                                     "=b", "k=v=w"]))
_FILTER_TEXT = st.one_of(st.builds(lambda k, v: f"{k}={v}", _KEYS, _VALUES), st.text(max_size=20))
_FILTER_DICT = st.dictionaries(st.one_of(_KEYS, st.text(max_size=8)),
                               st.one_of(_VALUES, st.booleans(), st.integers(), st.none(),
                                         st.lists(st.one_of(_VALUES, st.booleans()), max_size=3)),
                               max_size=4)
FILTERS = st.one_of(st.lists(_FILTER_TEXT, max_size=4), _FILTER_DICT, _FILTER_TEXT)


def _records() -> Records:
    def image(n: int, created: str, labels: dict, parent=None) -> ImageRecord:
        return ImageRecord(id=f"sha256:{n:064x}", manifest_digest=f"sha256:{n + 100:064x}",
                           manifest_media_type="application/vnd.oci.image.manifest.v1+json",
                           manifest_size=100, created=created, os="linux", architecture="amd64",
                           variant=None, layers=[], size=10, labels=labels, parent=parent)
    images = [image(1, "2024-05-01T00:00:00Z", {"tier": "web"}),
              image(2, "2024-05-02T10:00:00.123456789+02:00", {"tier": "db", "a": ""}),
              image(3, "", {}, parent=f"sha256:{1:064x}"),
              image(4, "not a time", {"x=y": "z"})]
    records = Records(images={i.id: i for i in images})
    records.references.update({"docker.io/library/alpine:3.20": images[0].id,
                               "docker.io/library/alpine:latest": images[0].id,
                               f"docker.io/library/alpine@sha256:{9:064x}": images[0].id,
                               "127.0.0.1:5000/team/app:v1": images[1].id})
    return records


RECORDS = _records()


@FUZZ
@given(FILTERS)
def test_filters_parse_raises_only_imgkit_errors(given_filters):
    parsed = only_imgkit_errors(filters.parse, given_filters)
    if parsed is not None:
        only_imgkit_errors(parsed.dangling)
        for image in RECORDS.images.values():
            only_imgkit_errors(parsed.match_labels, image.labels)
            only_imgkit_errors(parsed.match_reference, ["alpine:3.20", "docker.io/library/alpine"])


@FUZZ
@given(FILTERS)
def test_prune_filters_raise_only_imgkit_errors(given_filters):
    matches = only_imgkit_errors(filters.parse_prune_filters, given_filters, now_ns=NOW,
                                 local_zone=UTC)
    if matches is not None:
        for image in RECORDS.images.values():
            assert matches(image) in (True, False)


@FUZZ
@given(FILTERS, st.booleans())
def test_images_filters_evaluate_or_raise_only_imgkit_errors(given_filters, all_):
    rows = only_imgkit_errors(select, RECORDS, given_filters, all=all_, now_ns=NOW, local_zone=UTC)
    assert rows is None or isinstance(rows, list)


@FUZZ
@given(_GLOBISH, st.text(alphabet=st.sampled_from(list("ab/:.z09_[]")), max_size=12))
def test_reference_globs_match_or_say_syntax_error(pattern, name):
    assert only_imgkit_errors(filters.glob_match, pattern, name) in (True, False, None)


@FUZZ
@given(_TIMEISH)
@example("2024-06-01T10:00:00+99:00")     # found: an offset of 99 hours was a ValueError
@example("0001-01-01T00:00:00+14:00")
def test_until_values_give_a_time_or_an_invalid_filter_error(value):
    got = only_imgkit_errors(filters.parse_until, value, NOW, UTC)
    assert got is None or isinstance(got, int)


# -- names, digests, platforms, look-ups --------------------------------------------------------

_DIGESTISH = st.one_of(st.text(max_size=80),
                       st.builds(lambda a, h: f"{a}:{h}",
                                 st.sampled_from(["sha256", "sha512", "SHA256", "md5", ""]),
                                 st.text(alphabet="0123456789abcdefABCDEF-", max_size=130)))


@FUZZ
@given(_DIGESTISH)
def test_digests_validate_or_raise_only_imgkit_errors(text):
    only_imgkit_errors(digest.validate, text)
    only_imgkit_errors(digest.parse, text)


@FUZZ
@given(st.one_of(st.text(max_size=40),
                 st.text(alphabet=st.sampled_from(list("linux/amd64arm/v8 WINDOWS.0-_")),
                         max_size=30)))
def test_platforms_parse_or_raise_only_imgkit_errors(text):
    only_imgkit_errors(Platform.parse, text)


@FUZZ
@given(st.one_of(st.text(max_size=70), st.text(alphabet=string.hexdigits + ":sha@/", max_size=70)))
def test_image_look_ups_find_or_raise_only_imgkit_errors(text):
    only_imgkit_errors(find_image, RECORDS, text)


# -- what registries send -------------------------------------------------------------------------

_HEADERISH = st.one_of(st.text(max_size=80), st.text(
    alphabet=st.sampled_from(list('Bearer Basic realm="service=,scope\\ error:x')), max_size=80))


@FUZZ
@given(_HEADERISH, st.binary(max_size=200), st.integers(100, 599), st.text(max_size=30))
@example("", b"", 503, "\u00b9")        # found: "¹".isdigit() but float("¹") fails
def test_registry_answers_are_read_without_surprises(header, body, status, retry_after):
    parse_challenges(header)
    parse_error_body(body)
    parse_error_body(json.dumps({"errors": [{"code": header, "message": header,
                                             "detail": body.hex()}]}))
    wait = parse_retry_after(retry_after, now=1_700_000_000)
    assert wait is None or wait >= 0
    parse_ratelimit({"ratelimit-limit": retry_after, "RateLimit-Remaining": header})
    manifest_media_type(header, body)
    error = error_from_response(status, {"Retry-After": retry_after}, body, registry="r.example")
    assert isinstance(error, ImgkitError) and str(error).strip()


# -- files a learner may have damaged ----------------------------------------------------------------

_JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                        lambda inner: st.lists(inner, max_size=3) |
                        st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12)
_SHAPED = st.fixed_dictionaries({}, optional={
    "auths": _JSONISH | st.dictionaries(st.text(max_size=10), st.fixed_dictionaries(
        {}, optional={"auth": st.text(max_size=20), "username": _JSONISH, "password": _JSONISH})),
    "registry-mirrors": _JSONISH | st.lists(st.text(max_size=12), max_size=3),
    "insecure-registries": _JSONISH | st.lists(st.text(max_size=12), max_size=3),
    "version": st.just(1) | _JSONISH,
    "images": _JSONISH, "layers": _JSONISH, "references": _JSONISH, "containers": _JSONISH,
})
_FILE = st.one_of(st.binary(max_size=60), _JSONISH.map(lambda v: json.dumps(v).encode()),
                  _SHAPED.map(lambda v: json.dumps(v).encode()))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-files")


@FUZZ
@given(data=_FILE)
@example(data=b'{"auths": {"r": {"auth": "\\u0080"}}}')     # found: non-ASCII base64
def test_a_damaged_docker_config_is_a_config_error(scratch, data):
    path = scratch / "docker-config.json"
    path.write_bytes(data)
    only_imgkit_errors(load_auths, path)


@FUZZ
@given(data=_FILE)
def test_a_damaged_imgkit_config_is_a_config_error(scratch, data, monkeypatch):
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    (home / "config.json").write_bytes(data)
    monkeypatch.delenv("IMGKIT_REGISTRY_MIRROR", raising=False)
    only_imgkit_errors(config.load, home)
    only_imgkit_errors(config.mirrors, home)
    only_imgkit_errors(config.insecure_registries, home)


@FUZZ
@given(data=_FILE)
@example(data=b"null")                                   # found: AttributeError
@example(data=b'{"version": 1, "images": []}')
def test_damaged_store_records_are_a_store_error(scratch, data):
    store = Store(scratch / "store")
    store.root.mkdir(exist_ok=True)
    (store.root / "imgkit.json").write_bytes(data)
    records = only_imgkit_errors(store.records)
    assert records is None or isinstance(records, Records)
