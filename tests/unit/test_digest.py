"""Digests, ChainIDs, the verifying reader and canonical JSON."""

from __future__ import annotations

import gzip
import hashlib
import io
import json

import pytest

from imgkit import digest
from imgkit.errors import DigestMismatchError, ImgkitError, InvalidDigestError
from imgkit.oci import canonical

HELLO = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
# `printf hello | sha384sum` and `| sha512sum`
HELLO_384 = ("sha384:59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90"
             "125a3c79f90397bdf5f6a13de828684f")
HELLO_512 = ("sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7"
             "2323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043")


# --- parse / validate -----------------------------------------------------------

GOOD = [
    (HELLO, ("sha256", HELLO[7:])),
    (HELLO_384, ("sha384", HELLO_384[7:])),
    (HELLO_512, ("sha512", HELLO_512[7:])),
    ("sha256:" + "0" * 64, ("sha256", "0" * 64)),
]


@pytest.mark.parametrize("text, expected", GOOD)
def test_parse_good(text, expected):
    assert digest.parse(text) == expected
    assert digest.validate(text) == text


# text -> Docker's (go-digest's) message
BAD = [
    ("sha256:abc", "invalid checksum digest length"),
    ("sha256:" + "a" * 63, "invalid checksum digest length"),
    ("sha256:" + "a" * 65, "invalid checksum digest length"),
    ("sha512:" + "a" * 64, "invalid checksum digest length"),
    ("md5:" + "a" * 32, "unsupported digest algorithm"),
    ("blake3:" + "a" * 64, "unsupported digest algorithm"),
    ("sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", "unsupported digest algorithm"),
    ("sha256:" + "A" * 64, "invalid checksum digest format"),  # hex must be lower case
    ("sha256:" + "g" * 64, "invalid checksum digest format"),
    ("SHA256:" + "a" * 64, "invalid checksum digest format"),
    ("sha256", "invalid checksum digest format"),
    ("sha256:", "invalid checksum digest format"),
    (":" + "a" * 64, "invalid checksum digest format"),
    ("", "invalid checksum digest format"),
    ("a" * 64, "invalid checksum digest format"),
    (" sha256:" + "a" * 64, "invalid checksum digest format"),
    # 65 characters after "sha256:": go-digest checks the length first, as we do
    ("sha256:" + "a" * 64 + "\n", "invalid checksum digest length"),
    ("sha256:" + "a" * 63 + "\n", "invalid checksum digest format"),
    ("sha256:" + "a" * 32 + " " + "a" * 31, "invalid checksum digest format"),
    (None, "invalid checksum digest format"),
    (b"sha256:" + b"a" * 64, "invalid checksum digest format"),
]


@pytest.mark.parametrize("text, message", BAD)
def test_parse_bad(text, message):
    with pytest.raises(InvalidDigestError) as caught:
        digest.parse(text)
    assert str(caught.value) == message
    with pytest.raises(ValueError, match=message):
        digest.validate(text)


def test_invalid_digest_error_is_in_the_tree():
    assert issubclass(InvalidDigestError, ImgkitError)
    assert issubclass(InvalidDigestError, ValueError)


# --- compute, short, hex_of, hasher -----------------------------------------------

@pytest.mark.parametrize("algorithm, expected", [
    ("sha256", HELLO), ("sha384", HELLO_384), ("sha512", HELLO_512)])
def test_compute(algorithm, expected):
    assert digest.compute(b"hello", algorithm) == expected
    assert digest.validate(digest.compute(b"hello", algorithm))


def test_compute_defaults_to_sha256():
    assert digest.compute(b"hello") == HELLO
    assert digest.compute(b"") == ("sha256:e3b0c44298fc1c149afbf4c8996fb924"
                                   "27ae41e4649b934ca495991b7852b855")


@pytest.mark.parametrize("text, expected", [
    (HELLO, "2cf24dba5fb0"), ("2cf24dba5fb0a30e26e8", "2cf24dba5fb0"), ("abc", "abc")])
def test_short(text, expected):
    assert digest.short(text) == expected


def test_short_length_and_hex_of():
    assert digest.short(HELLO, 4) == "2cf2"
    assert digest.hex_of(HELLO) == HELLO[7:]


def test_hasher_follows_the_algorithm():
    for expected in (HELLO, HELLO_384, HELLO_512):
        h = digest.hasher(expected)
        h.update(b"hello")
        assert f"{expected.partition(':')[0]}:{h.hexdigest()}" == expected
    assert digest.hasher().name == "sha256"


# --- ChainIDs ---------------------------------------------------------------------

# diff_ids are `printf layerN | sha256sum`; ChainIDs computed by hand with sha256sum:
#   chain1 = sha256("sha256:<layer0> sha256:<layer1>")
#   chain2 = sha256("sha256:<chain1> sha256:<layer2>")
LAYER0 = "sha256:4fbec69b941195fd56f8212a5000e304129451d82efca94ff0e0fb2d5355472e"
LAYER1 = "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"
LAYER2 = "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06"
CHAIN1 = "sha256:ef232af0eb422cdfd7917631657cd8ed2bfd5b9461b37c427aa0d3e0a19adf79"
CHAIN2 = "sha256:7ad3896338947cc04ee0b35b50d400ff32538d63f42f85ec87feac78bf71a54d"


@pytest.mark.parametrize("diff_ids, expected", [
    ([], []),
    ([LAYER0], [LAYER0]),
    ([LAYER0, LAYER1], [LAYER0, CHAIN1]),
    ([LAYER0, LAYER1, LAYER2], [LAYER0, CHAIN1, CHAIN2]),
])
def test_chain_ids(diff_ids, expected):
    assert digest.chain_ids(diff_ids) == expected


def test_chain_ids_match_the_formula_and_inputs_are_as_claimed():
    assert [digest.compute(f"layer{i}".encode()) for i in range(3)] == [LAYER0, LAYER1, LAYER2]
    assert CHAIN1 == "sha256:" + hashlib.sha256(f"{LAYER0} {LAYER1}".encode()).hexdigest()


def test_chain_ids_share_only_common_bottoms():
    a = digest.chain_ids([LAYER0, LAYER1, LAYER2])
    b = digest.chain_ids([LAYER0, LAYER1, LAYER0])
    c = digest.chain_ids([LAYER1, LAYER0, LAYER2])
    assert a[:2] == b[:2] and a[2] != b[2]
    assert a[2] != c[2]  # same top diff_id, different stack below: not shared


# --- VerifyingReader ----------------------------------------------------------------

BLOB = b"a layer's bytes " * 1000


def _drain(reader, size=-1):
    out = bytearray()
    while True:
        chunk = reader.read(size)
        if not chunk:
            return bytes(out)
        out += chunk


@pytest.mark.parametrize("chunk", [-1, 1, 7, 4096, 10**6])
def test_verifying_reader_good(chunk):
    reader = digest.VerifyingReader(io.BytesIO(BLOB), digest.compute(BLOB), len(BLOB))
    assert _drain(reader, chunk) == BLOB
    assert reader.bytes_read == len(BLOB)
    assert reader.verify() == digest.compute(BLOB)
    assert reader.digest == digest.compute(BLOB)


def test_verifying_reader_without_size_and_other_algorithm():
    reader = digest.VerifyingReader(io.BytesIO(b"hello"), HELLO_512)
    assert reader.read() == b"hello"
    assert reader.verify() == HELLO_512


def test_verifying_reader_readinto():
    reader = digest.VerifyingReader(io.BytesIO(BLOB), digest.compute(BLOB), len(BLOB))
    buffer = bytearray(1000)
    total = 0
    while (n := reader.readinto(buffer)):
        total += n
    assert total == len(BLOB) and reader.verify()
    assert reader.readable()


def test_verifying_reader_feeds_gzip():
    packed = gzip.compress(BLOB, mtime=0)
    reader = digest.VerifyingReader(io.BytesIO(packed), digest.compute(packed), len(packed))
    with gzip.GzipFile(fileobj=reader) as unpacked:
        assert unpacked.read() == BLOB
    assert reader.verify() == digest.compute(packed)


def test_verifying_reader_mismatch():
    reader = digest.VerifyingReader(io.BytesIO(b"tampered"), HELLO, what="layer")
    reader.read()
    with pytest.raises(DigestMismatchError) as caught:
        reader.verify()
    assert caught.value.expected == HELLO
    assert caught.value.actual == digest.compute(b"tampered")
    assert str(caught.value) == (f"layer digest mismatch: expected {HELLO}, "
                                 f"got {digest.compute(b'tampered')}")


def test_verifying_reader_unfinished_read_does_not_verify():
    reader = digest.VerifyingReader(io.BytesIO(b"hello"), HELLO)
    reader.read(2)
    with pytest.raises(DigestMismatchError):
        reader.verify()


def test_verifying_reader_too_few_bytes_fail_at_verify():
    reader = digest.VerifyingReader(io.BytesIO(b"hello"), HELLO, 6)
    assert reader.read() == b"hello"
    with pytest.raises(DigestMismatchError, match="5 bytes instead of 6"):
        reader.verify()


@pytest.mark.parametrize("size", [4, 0])
def test_verifying_reader_stops_as_soon_as_the_size_is_passed(size):
    # A sender that streams on past the announced size is cut off at once.
    reader = digest.VerifyingReader(io.BytesIO(b"hello"), HELLO, size)
    with pytest.raises(DigestMismatchError, match=f"more than {size} bytes"):
        reader.read()


def test_verifying_reader_rejects_a_bad_expected_digest():
    with pytest.raises(InvalidDigestError, match="invalid checksum digest length"):
        digest.VerifyingReader(io.BytesIO(b""), "sha256:abc")


def test_verifying_reader_under_buffered_reader():
    reader = digest.VerifyingReader(io.BytesIO(BLOB), digest.compute(BLOB), len(BLOB))
    with io.BufferedReader(reader, buffer_size=1000) as buffered:
        assert buffered.read(10) == BLOB[:10]
        assert buffered.read() == BLOB[10:]
    assert reader.verify() == digest.compute(BLOB)


# --- canonical JSON -------------------------------------------------------------------

CANONICAL = [
    ({"b": 1, "a": 2}, b'{"a":2,"b":1}'),
    ({"z": {"y": 1, "x": [3, 2, 1]}}, b'{"z":{"x":[3,2,1],"y":1}}'),
    ({"a": "caf\u00e9 \u2603"}, '{"a":"caf\u00e9 \u2603"}'.encode()),
    ({"a": "line\nbreak\t\"q\""}, b'{"a":"line\\nbreak\\t\\"q\\""}'),
    ({"k": None, "t": True, "f": False}, b'{"f":false,"k":null,"t":true}'),
    ({"n": 1.5, "i": -3}, b'{"i":-3,"n":1.5}'),
    ([], b"[]"),
    ({}, b"{}"),
]


@pytest.mark.parametrize("value, expected", CANONICAL)
def test_canonical_dumps(value, expected):
    out = canonical.dumps(value)
    assert out == expected
    assert isinstance(out, bytes)
    assert json.loads(out) == value


def test_canonical_is_one_form_whatever_the_input_order():
    a = canonical.dumps({"b": [1, {"d": 1, "c": 2}], "a": "x"})
    b = canonical.dumps({"a": "x", "b": [1, {"c": 2, "d": 1}]})
    assert a == b and not a.endswith(b"\n") and b" " not in a


def test_canonical_refuses_nan():
    with pytest.raises(ValueError):
        canonical.dumps({"a": float("nan")})
