"""Tests for imgkit.reference, checked against Docker's own behaviour.

Cases come from DOCKER-BEHAVIOUR.md section 1 and from the test tables of
distribution/reference (normalize_test.go, reference_test.go, regexp_test.go),
rewritten as the normalised result Docker's ParseNormalizedNamed gives.
"""

from __future__ import annotations

import dataclasses

import pytest

from imgkit.errors import ImgkitError, InvalidDigestError, InvalidReferenceError
from imgkit.reference import (
    Reference,
    is_id_like,
    parse,
    validate_digest,
    validate_tag,
)

H64 = "f" * 64
DG = "sha256:" + H64
BUSYBOX_DG = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
BE_DG = "sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912"
REDIS_DG = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"
ID64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"
FORMAT = "invalid reference format"
TOO_LONG = "repository name must not be more than 255 characters"


def lower_msg(path: str) -> str:
    return f"invalid reference format: repository name ({path}) must be lowercase"


def case(text, domain, path, tag=None, digest=None, id=None):
    return pytest.param(text, domain, path, tag, digest, id=id or text)


# (input, domain, path, tag, digest) after normalisation.
PARSE_CASES = [
    # --- the brief and DOCKER-BEHAVIOUR.md section 1 worked cases ---
    case("alpine", "docker.io", "library/alpine"),
    case("alpine:3.20", "docker.io", "library/alpine", "3.20"),
    case("ubuntu", "docker.io", "library/ubuntu"),
    case("localhost:5000/a/b:tag", "localhost:5000", "a/b", "tag"),
    case(f"redis@{REDIS_DG}", "docker.io", "library/redis", None, REDIS_DG, id="redis@digest"),
    case(f"busybox:latest@{BUSYBOX_DG}", "docker.io", "library/busybox", "latest", BUSYBOX_DG,
         id="busybox:latest@digest"),
    case("localhost/foo/bar", "localhost", "foo/bar"),
    case("Foo/bar", "Foo", "bar"),
    case("FOO/bar", "FOO", "bar"),
    case("test_com/foo", "docker.io", "test_com/foo"),
    case("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase"),
    case("127.0.0.1:8000/privatebase", "127.0.0.1:8000", "privatebase"),
    case("test.com:5000", "docker.io", "library/test.com", "5000"),
    case("[fc00::1]:5000/docker", "[fc00::1]:5000", "docker"),
    case("lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase"),
    case("index.docker.io/library/ubuntu", "docker.io", "library/ubuntu"),
    case("index.docker.io/ubuntu", "docker.io", "library/ubuntu"),
    case("index.docker.io/fooo/bar", "docker.io", "fooo/bar"),
    case("registry-1.docker.io/library/ubuntu", "registry-1.docker.io", "library/ubuntu"),
    case("registry-1.docker.io/ubuntu", "registry-1.docker.io", "ubuntu"),
    case("library/foo/bar", "docker.io", "library/foo/bar"),
    # bare localhost / index.docker.io are one-component names, not domains
    case("localhost", "docker.io", "library/localhost"),
    case("localhost:5000", "docker.io", "library/localhost", "5000"),
    case("index.docker.io", "docker.io", "library/index.docker.io"),
    # --- normalize_test.go ---
    case("docker/docker", "docker.io", "docker/docker"),
    case("library/debian", "docker.io", "library/debian"),
    case("debian", "docker.io", "library/debian"),
    case("localhost/library/debian", "localhost", "library/debian"),
    case("localhost/debian", "localhost", "debian"),
    case("LOCALDOMAIN/library/debian", "LOCALDOMAIN", "library/debian"),
    case("LOCALDOMAIN/debian", "LOCALDOMAIN", "debian"),
    case("docker.io/docker/docker", "docker.io", "docker/docker"),
    case("docker.io/library/debian", "docker.io", "library/debian"),
    case("docker.io/debian", "docker.io", "library/debian"),
    case("127.0.0.1:5000/library/debian", "127.0.0.1:5000", "library/debian"),
    case("127.0.0.1:5000/debian", "127.0.0.1:5000", "debian"),
    case("192.168.0.1", "docker.io", "library/192.168.0.1"),
    case("192.168.0.1:80", "docker.io", "library/192.168.0.1", "80"),
    case("192.168.0.1:8/debian", "192.168.0.1:8", "debian"),
    case("thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "docker.io",
         "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
         id="64-non-hex"),
    case("[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker"),
    case("[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian"),
    case(f"docker.io/{ID64}", "docker.io", f"library/{ID64}", id="docker.io/<64hex>"),
    case(f"{ID64}:tag", "docker.io", f"library/{ID64}", "tag", id="<64hex>:tag"),
    case("Docker/docker", "Docker", "docker"),
    case("docker-rules/docker", "docker.io", "docker-rules/docker"),
    case("docker---rules/docker", "docker.io", "docker---rules/docker"),
    case("d/docker", "docker.io", "d/docker"),
    case("jess/t", "docker.io", "jess/t"),
    case("dock__er/docker", "docker.io", "dock__er/docker"),
    case("example.com:8000/privatebasee", "example.com:8000", "privatebasee"),
    case("store/foo/bar", "docker.io", "store/foo/bar"),
    case("other/library", "docker.io", "other/library"),
    case("test.com/foo", "test.com", "foo"),
    case("docker/migrator", "docker.io", "docker/migrator"),
    case("test.com:8080/foo", "test.com:8080", "foo"),
    case("test-com:8080/foo", "test-com:8080", "foo"),
    case("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
    case("docker.io/library/foo/bar", "docker.io", "library/foo/bar"),
    case("dbcc1", "docker.io", "library/dbcc1"),
    case(REDIS_DG[7:-1], "docker.io", "library/" + REDIS_DG[7:-1], id="63-hex-is-a-name"),
    case("docker.io/mcgowan/myapp:latest", "docker.io", "mcgowan/myapp", "latest"),
    case(f"dmcgowan/myapp@{REDIS_DG}", "docker.io", "dmcgowan/myapp", None, REDIS_DG,
         id="dmcgowan/myapp@digest"),
    case(f"gcr.io/library/busybox:latest@{DG}", "gcr.io", "library/busybox", "latest", DG,
         id="gcr.io/library/busybox:latest@digest"),
    # --- reference_test.go (Parse), normalised ---
    case("test_com", "docker.io", "library/test_com"),
    case("test.com:tag", "docker.io", "library/test.com", "tag"),
    case("test.com/repo:tag", "test.com", "repo", "tag"),
    case("test:5000/repo", "test:5000", "repo"),
    case("test:5000/repo:tag", "test:5000", "repo", "tag"),
    case(f"test:5000/repo@{DG}", "test:5000", "repo", None, DG, id="test:5000/repo@digest"),
    case(f"test:5000/repo:tag@{DG}", "test:5000", "repo", "tag", DG,
         id="test:5000/repo:tag@digest"),
    case("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux"),
    case("sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux",
         "some-long-tag"),
    case("b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app",
         "test.example.com"),
    case("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com"),
    case(f"xn--7o8h.com/myimage:xn--7o8h.com@{DG}", "xn--7o8h.com", "myimage", "xn--7o8h.com", DG,
         id="xn--7o8h.com/myimage:tag@digest"),
    case("foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080"),
    case("foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080"),
    case("192.168.1.1", "docker.io", "library/192.168.1.1"),
    case("192.168.1.1:tag", "docker.io", "library/192.168.1.1", "tag"),
    case("192.168.1.1:5000", "docker.io", "library/192.168.1.1", "5000"),
    case("192.168.1.1/repo", "192.168.1.1", "repo"),
    case("192.168.1.1:5000/repo", "192.168.1.1:5000", "repo"),
    case("192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050"),
    case("[2001:db8::1]/repo", "[2001:db8::1]", "repo"),
    case("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag"),
    case("[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo"),
    case("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag"),
    case(f"[2001:db8::1]:5000/repo:tag@{DG}", "[2001:db8::1]:5000", "repo", "tag", DG,
         id="[2001:db8::1]:5000/repo:tag@digest"),
    case("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo"),
    case("[::1]:5000/repo", "[::1]:5000", "repo"),
    # --- regexp_test.go names that are valid ---
    case("aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb", "docker.io",
         "aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb"),
    case("a/a/a/a", "docker.io", "a/a/a/a"),
    case("aa-a/a", "docker.io", "aa-a/a"),
    case("foo_bar", "docker.io", "library/foo_bar"),
    case("foo.com/foo_bar", "foo.com", "foo_bar"),
    case("example.com/some_separator__underscore/myimage", "example.com",
         "some_separator__underscore/myimage"),
    case("do__cker/docker", "docker.io", "do__cker/docker"),
    case("registry.io/foo/project--id.module--name.ver---sion--name", "registry.io",
         "foo/project--id.module--name.ver---sion--name"),
    case("Asdf.com/foo/bar", "Asdf.com", "foo/bar"),
    case(f"registry.com:8080/myapp:tag2@{BE_DG}", "registry.com:8080", "myapp", "tag2", BE_DG,
         id="registry.com:8080/myapp:tag2@digest"),
    case(f"localhost@{DG}", "docker.io", "library/localhost", None, DG, id="localhost@digest"),
    # --- digests of the other algorithms the docker CLI knows ---
    case("x@sha384:" + "a" * 96, "docker.io", "library/x", None, "sha384:" + "a" * 96, id="sha384"),
    case("x@sha512:" + "a" * 128, "docker.io", "library/x", None, "sha512:" + "a" * 128,
         id="sha512"),
    # --- a first component that looks like a domain but is not a valid host:
    # the regexp reads it as part of the path and the domain stays empty.
    case("foo_bar.com/repo", "", "foo_bar.com/repo"),
]


@pytest.mark.parametrize("text, domain, path, tag, digest", PARSE_CASES)
def test_parse(text, domain, path, tag, digest):
    ref = parse(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)
    assert ref.name == (f"{domain}/{path}" if domain else path)


# (input, exception type, exact message)
ERROR_CASES = [
    # section 1 invalid cases
    ("-docker", InvalidReferenceError, FORMAT),
    ("docker///docker", InvalidReferenceError, FORMAT),
    ("dock..er/docker", InvalidReferenceError, FORMAT),
    (":justtag", InvalidReferenceError, FORMAT),
    ("https://github.com/x/y", InvalidReferenceError, FORMAT),
    ("[fc00::1]:5000", InvalidReferenceError, FORMAT),
    ("", InvalidReferenceError, FORMAT),
    # lower-case rule: the message shows the normalised path up to the first ":"
    ("Ubuntu", InvalidReferenceError, lower_msg("library/Ubuntu")),
    ("ALPINE:3.20", InvalidReferenceError, lower_msg("library/ALPINE")),
    ("Uppercase:tag", InvalidReferenceError, lower_msg("library/Uppercase")),
    ("docker/Docker", InvalidReferenceError, lower_msg("docker/Docker")),
    ("docker.io/docker/Docker", InvalidReferenceError, lower_msg("docker/Docker")),
    ("test:5000/Uppercase/lowercase:tag", InvalidReferenceError, lower_msg("Uppercase/lowercase")),
    ("Foo/FarB", InvalidReferenceError, lower_msg("FarB")),
    (ID64.upper(), InvalidReferenceError, lower_msg("library/" + ID64.upper())),
    ("ubuntu@SHA256:" + H64, InvalidReferenceError, lower_msg("library/ubuntu@SHA256")),
    # upstream Parse's own check: fires when an upper-case "domain" is no host
    ("Foo_Bar/x", InvalidReferenceError, "repository name must be lowercase"),
    # a bare image ID
    (ID64, InvalidReferenceError,
     f"invalid repository name ({ID64}), cannot specify 64-byte hexadecimal strings"),
    # normalize_test.go invalid names
    ("https://github.com/docker/docker", InvalidReferenceError, FORMAT),
    ("-docker/docker", InvalidReferenceError, FORMAT),
    ("-docker.io/docker/docker", InvalidReferenceError, FORMAT),
    ("docker.io/docker///docker", InvalidReferenceError, FORMAT),
    ("[fc00::1]", InvalidReferenceError, FORMAT),
    ("fc00::1:5000/debian", InvalidReferenceError, FORMAT),
    ("[fe80::1%eth0]:5000/debian", InvalidReferenceError, FORMAT),
    ("[2001:db8:3:4::192.0.2.33]:5000/debian", InvalidReferenceError, FORMAT),
    ("docker-/docker", InvalidReferenceError, FORMAT),
    ("-docker-/docker", InvalidReferenceError, FORMAT),
    ("____/____", InvalidReferenceError, FORMAT),
    ("_docker/_docker", InvalidReferenceError, FORMAT),
    ("dock_.er/docker", InvalidReferenceError, FORMAT),
    ("dock-.er/docker", InvalidReferenceError, FORMAT),
    ("docker/", InvalidReferenceError, FORMAT),
    ("_".join(["this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255"] * 4)
     + "/docker",
     InvalidReferenceError, TOO_LONG),
    # reference_test.go
    ("@" + DG, InvalidReferenceError, FORMAT),
    ("aa/asdf$$^/aa", InvalidReferenceError, FORMAT),
    ("[2001:db8::1]", InvalidReferenceError, FORMAT),
    ("[2001:db8::1]:5000", InvalidReferenceError, FORMAT),
    ("[2001:db8::1]:tag", InvalidReferenceError, FORMAT),
    ("[fe80::1%eth0]:5000/repo", InvalidReferenceError, FORMAT),
    ("[fe80::1%@invalidzone]:5000/repo", InvalidReferenceError, FORMAT),
    ("domain/" + "a" * 256 + ":tag", InvalidReferenceError, TOO_LONG),
    # regexp_test.go
    ("a/a/a/a/", InvalidReferenceError, FORMAT),
    ("a//a/a", InvalidReferenceError, FORMAT),
    ("a^a", InvalidReferenceError, FORMAT),
    ("foo.com/", InvalidReferenceError, FORMAT),
    ("foo.com:http/bar", InvalidReferenceError, FORMAT),
    ("foo.com/a-/a/a", InvalidReferenceError, FORMAT),
    ("foo/bar-", InvalidReferenceError, FORMAT),
    ("foo/-bar", InvalidReferenceError, FORMAT),
    ("foo_bar.com:8080/app", InvalidReferenceError, FORMAT),
    ("docker_/docker_", InvalidReferenceError, FORMAT),
    ("example.com/__underscore/myimage", InvalidReferenceError, FORMAT),
    ("example.com/..dots/myimage", InvalidReferenceError, FORMAT),
    ("example.com/.dots/myimage", InvalidReferenceError, FORMAT),
    ("example.com/nodouble..dots/myimage", InvalidReferenceError, FORMAT),
    ("docker./docker", InvalidReferenceError, FORMAT),
    (".docker/docker", InvalidReferenceError, FORMAT),
    ("do__cker:8080/docker", InvalidReferenceError, FORMAT),
    ("bad_hostname.com:8080/myapp:tag", InvalidReferenceError, FORMAT),
    ("registry.com:8080/myapp:invalid~tag", InvalidReferenceError, FORMAT),
    ("registry.com:8080/myapp@sha256:badbadbadbad", InvalidReferenceError, FORMAT),
    ("registry.com:8080/myapp@bad", InvalidReferenceError, FORMAT),
    ("registry.com:8080/myapp@2bad", InvalidReferenceError, FORMAT),
    ("localhost:http/name@" + DG, InvalidReferenceError, FORMAT),
    # bad tags
    ("alpine:-x", InvalidReferenceError, FORMAT),
    ("alpine:.x", InvalidReferenceError, FORMAT),
    ("alpine:" + "a" * 129, InvalidReferenceError, FORMAT),
    ("alpine:", InvalidReferenceError, FORMAT),
    ("alpine:a:b", InvalidReferenceError, FORMAT),
    ("alpine:tag with space", InvalidReferenceError, FORMAT),
    # digests: fewer than 32 hex digits is not even digest syntax
    ("x@sha256:" + "a" * 31, InvalidReferenceError, FORMAT),
    ("x@sha256:", InvalidReferenceError, FORMAT),
    # go-digest's messages
    ("repo@sha256:" + "f" * 34, InvalidDigestError, "invalid checksum digest length"),
    ("x@sha256:" + "a" * 63, InvalidDigestError, "invalid checksum digest length"),
    ("x@sha256:" + "a" * 65, InvalidDigestError, "invalid checksum digest length"),
    ("x@sha512:" + "a" * 64, InvalidDigestError, "invalid checksum digest length"),
    ("validname@invaliddigest:" + H64, InvalidDigestError, "unsupported digest algorithm"),
    ("x@md5:" + "a" * 32, InvalidDigestError, "unsupported digest algorithm"),
    ("x@sha1:" + "a" * 40, InvalidDigestError, "unsupported digest algorithm"),
    ("x@sha256+b64:" + H64, InvalidDigestError, "unsupported digest algorithm"),
    ("x@sha256:" + "A" * 64, InvalidDigestError, "invalid checksum digest format"),
    ("x:t@MD5:" + "a" * 32, InvalidDigestError, "invalid checksum digest format"),
    # the length check comes before the digest check
    ("example.com/" + "a" * 256 + "@md5:" + "a" * 32, InvalidReferenceError, TOO_LONG),
]


@pytest.mark.parametrize(
    "text, exc_type, message",
    [pytest.param(t, e, m, id=(t[:60] or "<empty>")) for t, e, m in ERROR_CASES],
)
def test_parse_errors(text, exc_type, message):
    with pytest.raises(exc_type) as info:
        parse(text)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError) and isinstance(info.value, ImgkitError)


@pytest.mark.parametrize(
    "text, ok",
    [
        pytest.param("a" * 247, True, id="library/+247=255"),
        pytest.param("a" * 248, False, id="library/+248=256"),
        pytest.param("example.com/" + "a" * 255, True, id="domain+255"),
        pytest.param("example.com/" + "a" * 256, False, id="domain+256"),
        pytest.param("example.com/" + "a" * 255 + ":tag", True, id="domain+255:tag"),
        pytest.param("a/" * 127 + "a:tag-puts-this-over-max", True, id="tag-not-counted"),
        pytest.param("a/" * 127 + "ab", False, id="many-components-256"),
    ],
)
def test_path_length_limit(text, ok):
    if ok:
        assert len(parse(text).path) == 255
    else:
        with pytest.raises(InvalidReferenceError, match=f"^{TOO_LONG}$"):
            parse(text)


# (input, canonical str, familiar, familiar_name)
FORMS = [
    ("ubuntu", "docker.io/library/ubuntu", "ubuntu", "ubuntu"),
    ("ubuntu:latest", "docker.io/library/ubuntu:latest", "ubuntu:latest", "ubuntu"),
    ("docker.io/library/ubuntu:latest", "docker.io/library/ubuntu:latest", "ubuntu:latest",
     "ubuntu"),
    ("library/ubuntu", "docker.io/library/ubuntu", "ubuntu", "ubuntu"),
    ("alpine:3.20", "docker.io/library/alpine:3.20", "alpine:3.20", "alpine"),
    ("index.docker.io/library/ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base",
     "ubuntu-12.04-base", "ubuntu-12.04-base"),
    ("docker.io/foo", "docker.io/library/foo", "foo", "foo"),
    ("library/foo/bar", "docker.io/library/foo/bar", "library/foo/bar", "library/foo/bar"),
    ("store/foo/bar", "docker.io/store/foo/bar", "store/foo/bar", "store/foo/bar"),
    ("other/library", "docker.io/other/library", "other/library", "other/library"),
    ("nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "nonlibrary/ubuntu", "nonlibrary/ubuntu"),
    ("index.docker.io/fooo/bar", "docker.io/fooo/bar", "fooo/bar", "fooo/bar"),
    ("localhost/fooo", "localhost/fooo", "localhost/fooo", "localhost/fooo"),
    ("LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar",
     "LOCALDOMAIN/fooo/bar"),
    ("example.com:8000/private/moonbase:v1", "example.com:8000/private/moonbase:v1",
     "example.com:8000/private/moonbase:v1", "example.com:8000/private/moonbase"),
    ("registry-1.docker.io/library/ubuntu", "registry-1.docker.io/library/ubuntu",
     "registry-1.docker.io/library/ubuntu", "registry-1.docker.io/library/ubuntu"),
    ("test.com:5000", "docker.io/library/test.com:5000", "test.com:5000", "test.com"),
    ("[fc00::1]:5000/docker", "[fc00::1]:5000/docker", "[fc00::1]:5000/docker",
     "[fc00::1]:5000/docker"),
    (f"busybox:latest@{BUSYBOX_DG}", f"docker.io/library/busybox:latest@{BUSYBOX_DG}",
     f"busybox:latest@{BUSYBOX_DG}", "busybox"),
    (f"redis@{REDIS_DG}", f"docker.io/library/redis@{REDIS_DG}", f"redis@{REDIS_DG}", "redis"),
    (f"dmcgowan/myapp@{REDIS_DG}", f"docker.io/dmcgowan/myapp@{REDIS_DG}",
     f"dmcgowan/myapp@{REDIS_DG}", "dmcgowan/myapp"),
    ("foo_bar.com/repo", "foo_bar.com/repo", "foo_bar.com/repo", "foo_bar.com/repo"),
]


@pytest.mark.parametrize(
    "text, canonical, familiar, familiar_name",
    [pytest.param(*f, id=f[0][:60]) for f in FORMS],
)
def test_canonical_and_familiar_forms(text, canonical, familiar, familiar_name):
    ref = parse(text)
    assert str(ref) == canonical
    assert ref.familiar == familiar
    assert ref.familiar_name == familiar_name
    # both forms read back as the same reference
    assert parse(canonical) == ref
    assert parse(familiar) == ref


def test_familiar_form_can_be_ambiguous_like_docker():
    # docker.io/foo.com/bar prints as "foo.com/bar", which reads as another registry.
    ref = parse("docker.io/foo.com/bar")
    assert (ref.domain, ref.path, ref.familiar) == ("docker.io", "foo.com/bar", "foo.com/bar")
    assert parse(ref.familiar).domain == "foo.com"
    # docker.io/<64 hex> prints as the bare hex, which Docker refuses as a name.
    ref = parse(f"docker.io/{ID64}")
    assert ref.familiar == ID64
    with pytest.raises(InvalidReferenceError):
        parse(ref.familiar)


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("alpine", "docker.io/library/alpine:latest", id="name-only"),
        pytest.param("busybox", "docker.io/library/busybox:latest", id="busybox"),
        pytest.param("library/busybox", "docker.io/library/busybox:latest", id="path-only"),
        pytest.param("docker.io/busybox", "docker.io/library/busybox:latest", id="hostname-only"),
        pytest.param("gcr.io/library/busybox", "gcr.io/library/busybox:latest", id="gcr"),
        pytest.param("alpine:3.20", "docker.io/library/alpine:3.20", id="tag-kept"),
        pytest.param(f"alpine@{DG}", f"docker.io/library/alpine@{DG}", id="digest-no-tag-added"),
        pytest.param(f"alpine:3@{DG}", f"docker.io/library/alpine:3@{DG}", id="tag-and-digest"),
    ],
)
def test_with_default_tag(text, expected):
    assert str(parse(text).with_default_tag()) == expected


def test_parse_does_not_add_a_tag():
    assert parse("alpine").tag is None
    assert parse("alpine").with_default_tag().familiar == "alpine:latest"


@pytest.mark.parametrize(
    "name, tag, combined",
    [
        ("test.com/foo", "tag", "test.com/foo:tag"),
        ("foo", "tag2", "docker.io/library/foo:tag2"),
        ("test.com:8000/foo", "tag4", "test.com:8000/foo:tag4"),
        ("test.com:8000/foo", "TAG5", "test.com:8000/foo:TAG5"),
        (f"test.com:8000/foo@{DG}", "TAG5", f"test.com:8000/foo:TAG5@{DG}"),
        ("alpine:old", "new", "docker.io/library/alpine:new"),
    ],
)
def test_with_tag(name, tag, combined):
    assert str(parse(name).with_tag(tag)) == combined


def test_with_digest_keeps_tag():
    ref = parse("test.com:8000/foo:latest").with_digest(DG)
    assert str(ref) == f"test.com:8000/foo:latest@{DG}"
    with pytest.raises(InvalidDigestError, match="^unsupported digest algorithm$"):
        parse("foo").with_digest("md5:" + "a" * 32)


@pytest.mark.parametrize("bad", ["-foo", ".foo", "", "a" * 129, "a/b", "a:b", "a@b", "é", "a b"])
def test_with_tag_rejects_bad_tags(bad):
    with pytest.raises(InvalidReferenceError, match=f"^{FORMAT}$"):
        parse("busybox").with_tag(bad)


@pytest.mark.parametrize(
    "tag", ["latest", "3.20", "Uppercase", "_x", "1", "v1.0-rc_1", "a" * 128, "x--..__"]
)
def test_validate_tag_accepts(tag):
    assert validate_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", "-x", ".x", "a" * 129, "a/b", "a:b", "ä", "a\n"])
def test_validate_tag_rejects(tag):
    with pytest.raises(InvalidReferenceError, match=f"^{FORMAT}$"):
        validate_tag(tag)


@pytest.mark.parametrize(
    "digest, message",
    [
        (DG, None),
        ("sha384:" + "0" * 96, None),
        ("sha512:" + "0" * 128, None),
        ("sha256:" + "a" * 63, "invalid checksum digest length"),
        ("sha256:" + "A" * 64, "invalid checksum digest format"),
        ("md5:" + "a" * 32, "unsupported digest algorithm"),
        ("MD5:" + "a" * 32, "invalid checksum digest format"),
        ("sha256", "invalid checksum digest format"),
        ("sha256:", "invalid checksum digest format"),
        (":" + H64, "invalid checksum digest format"),
        ("sha256:" + "g" * 64, "invalid checksum digest format"),
    ],
)
def test_validate_digest(digest, message):
    if message is None:
        assert validate_digest(digest) == digest
    else:
        with pytest.raises(InvalidDigestError) as info:
            validate_digest(digest)
        assert str(info.value) == message


@pytest.mark.parametrize(
    "text, expected",
    [
        (ID64, True),
        (H64, True),
        (ID64.upper(), False),
        (ID64[:-1], False),
        (ID64 + "a", False),
        ("sha256:" + ID64, False),
        ("g" * 64, False),
        ("", False),
    ],
)
def test_is_id_like(text, expected):
    assert is_id_like(text) is expected


def test_errors_are_value_errors():
    assert issubclass(InvalidReferenceError, ValueError)
    assert issubclass(InvalidReferenceError, ImgkitError)
    assert issubclass(InvalidDigestError, ValueError)
    with pytest.raises(ValueError):
        parse("-docker")


def test_repr_hash_and_equality():
    ref = parse("alpine:3.20")
    assert repr(ref) == "Reference('docker.io/library/alpine:3.20')"
    same = {parse("alpine"), parse("docker.io/library/alpine"), parse("index.docker.io/alpine"),
            parse("library/alpine"), parse("docker.io/alpine")}
    assert len(same) == 1
    assert parse("alpine") != parse("alpine:latest")


def test_reference_is_frozen():
    ref = parse("alpine")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.tag = "x"  # type: ignore[misc]


def test_direct_construction_is_validated():
    assert str(Reference("docker.io", "library/alpine", "3.20")) == "docker.io/library/alpine:3.20"
    with pytest.raises(InvalidReferenceError, match=f"^{FORMAT}$"):
        Reference("docker.io", "Library/alpine")
    with pytest.raises(InvalidReferenceError, match=f"^{FORMAT}$"):
        Reference("bad_host", "alpine")
    with pytest.raises(InvalidReferenceError, match=f"^{TOO_LONG}$"):
        Reference("docker.io", "a" * 256)
    with pytest.raises(InvalidReferenceError, match=f"^{FORMAT}$"):
        Reference("docker.io", "library/alpine", tag="-x")
    with pytest.raises(InvalidReferenceError, match=f"^{FORMAT}$"):
        Reference("docker.io", "library/alpine", digest="sha256:abc")
    with pytest.raises(InvalidDigestError, match="^invalid checksum digest length$"):
        Reference("docker.io", "library/alpine", digest="sha256:" + "a" * 40)


def test_parse_rejects_non_strings():
    with pytest.raises(TypeError):
        parse(None)  # type: ignore[arg-type]


# --- property tests ----------------------------------------------------------
try:
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is optional
    given = None

if given is not None:
    _component = st.from_regex(
        r"[a-z0-9]{1,8}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,8}){0,2}", fullmatch=True
    )
    _label = st.from_regex(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?", fullmatch=True)
    _domain = st.one_of(
        st.sampled_from(["docker.io", "index.docker.io", "localhost", "localhost:5000",
                         "ghcr.io", "registry-1.docker.io", "127.0.0.1:8000", "[fc00::1]:5000",
                         "[::1]", "Foo"]),
        st.builds(lambda labels, port: ".".join(labels) + (f":{port}" if port is not None else ""),
                  st.lists(_label, min_size=1, max_size=3), st.none() | st.integers(0, 99999)),
    )
    _tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
    _digest = st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256:{h}")

    @st.composite
    def valid_references(draw):
        text = "/".join(draw(st.lists(_component, min_size=1, max_size=4)))
        domain = draw(st.none() | _domain)
        if domain is not None:
            text = f"{domain}/{text}"
        if draw(st.booleans()):
            text += ":" + draw(_tag)
        if draw(st.booleans()):
            text += "@" + draw(_digest)
        return text

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(valid_references())
    def test_property_canonical_round_trip(text):
        try:
            ref = parse(text)
        except InvalidReferenceError as exc:
            # the only ways a grammatical name fails: too long, or a bare ID
            assert str(exc) == TOO_LONG or is_id_like(text)
            assume(False)
        assert parse(str(ref)) == ref
        assert str(parse(str(ref))) == str(ref)
        assert ref.with_default_tag().tag is not None or ref.digest is not None

    _refish = st.text(alphabet=st.sampled_from(list("abzAZ09:/@._-[]%+~ é")), max_size=60)

    @settings(max_examples=500, deadline=None)
    @given(st.one_of(st.text(max_size=60), _refish))
    def test_property_random_text_parses_or_raises_our_errors(text):
        try:
            ref = parse(text)
        except (InvalidReferenceError, InvalidDigestError):
            return
        assert parse(str(ref)) == ref
