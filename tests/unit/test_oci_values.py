"""Descriptors, manifests, indexes and image configs: reading, checking, writing."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imgkit import digest
from imgkit.errors import ManifestError, NoMatchingManifestError
from imgkit.oci import (
    Descriptor,
    FrozenMap,
    HistoryEntry,
    ImageConfig,
    Index,
    Manifest,
    Platform,
    parse_any,
)
from imgkit.oci import mediatypes as mt
from imgkit.oci import platform as plat
from imgkit.oci.canonical import dumps


def D(name: str) -> str:
    """A made-up but well-formed digest, named for readability."""
    return digest.compute(name.encode())


def entry(name, media_type=mt.DOCKER_MANIFEST, size=528, **platform):
    out = {"mediaType": media_type, "digest": D(name), "size": size}
    if platform:
        out["platform"] = platform
    return out


# --- real-world-shaped documents, written by hand ------------------------------------

DOCKER_LIST = {  # like docker.io/library/redis before BuildKit attestations
    "schemaVersion": 2,
    "mediaType": mt.DOCKER_MANIFEST_LIST,
    "manifests": [
        entry("amd64", architecture="amd64", os="linux"),
        entry("arm-v6", architecture="arm", os="linux", variant="v6"),
        entry("arm-v7", architecture="arm", os="linux", variant="v7"),
        entry("arm64", architecture="arm64", os="linux", variant="v8"),
        entry("386", architecture="386", os="linux"),
        entry("ppc64le", architecture="ppc64le", os="linux"),
        entry("s390x", architecture="s390x", os="linux"),
    ],
}

ATTESTED = {"vnd.docker.reference.type": "attestation-manifest"}
OCI_INDEX = {  # like docker.io/library/alpine today: images plus attestations
    "schemaVersion": 2,
    "mediaType": mt.OCI_INDEX,
    "manifests": [
        entry("amd64", mt.OCI_MANIFEST, 480, architecture="amd64", os="linux"),
        entry("arm64", mt.OCI_MANIFEST, 480, architecture="arm64", os="linux", variant="v8"),
        dict(entry("att-amd64", mt.OCI_MANIFEST, 566, architecture="unknown", os="unknown"),
             annotations={**ATTESTED, "vnd.docker.reference.digest": D("amd64")}),
        dict(entry("att-arm64", mt.OCI_MANIFEST, 566, architecture="unknown", os="unknown"),
             annotations={**ATTESTED, "vnd.docker.reference.digest": D("arm64")}),
    ],
    "annotations": {"org.opencontainers.image.ref.name": "latest"},
}

DOCKER_MANIFEST = {
    "schemaVersion": 2,
    "mediaType": mt.DOCKER_MANIFEST,
    "config": {"mediaType": mt.DOCKER_CONFIG, "size": 7607, "digest": D("config")},
    "layers": [
        {"mediaType": mt.DOCKER_LAYER_GZIP, "size": 3408729, "digest": D("layer0")},
        {"mediaType": mt.DOCKER_LAYER_GZIP, "size": 1168, "digest": D("layer1")},
    ],
}

OCI_MANIFEST_NO_TYPE = {  # mediaType is optional in OCI manifests
    "schemaVersion": 2,
    "config": {"mediaType": mt.OCI_CONFIG, "size": 1470, "digest": D("config")},
    "layers": [{"mediaType": mt.OCI_LAYER_GZIP, "size": 2824, "digest": D("layer0"),
                "urls": ["https://example.com/layer0"]}],
    "annotations": {"org.opencontainers.image.created": "2024-01-27T00:30:56Z"},
}

EMPTY = {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "data": "e30=",
         "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}
OCI_ARTIFACT = {  # an attestation-like artifact: subject, artifactType, embedded data
    "schemaVersion": 2,
    "mediaType": mt.OCI_MANIFEST,
    "artifactType": "application/vnd.example.sbom+json",
    "config": EMPTY,
    "layers": [{"mediaType": "application/vnd.in-toto+json", "size": 1234,
                "digest": D("sbom"), "annotations": {"in-toto.io/predicate-type":
                                                     "https://spdx.dev/Document"}}],
    "subject": {"mediaType": mt.OCI_MANIFEST, "size": 480, "digest": D("amd64")},
}

CONFIG = {  # shaped like a BuildKit-built redis config, trimmed
    "architecture": "amd64",
    "os": "linux",
    "created": "2024-01-27T00:30:56.150425113Z",
    "config": {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "REDIS_VERSION=7.2.4"],
        "Entrypoint": ["docker-entrypoint.sh"],
        "Cmd": ["redis-server"],
        "ExposedPorts": {"6379/tcp": {}},
        "Volumes": {"/data": {}},
        "WorkingDir": "/data",
        "Labels": {"org.opencontainers.image.source": "https://github.com/docker-library/redis"},
        "OnBuild": None,
        "ArgsEscaped": True,
    },
    "rootfs": {"type": "layers", "diff_ids": [
        "sha256:4fbec69b941195fd56f8212a5000e304129451d82efca94ff0e0fb2d5355472e",
        "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2",
        "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06"]},
    "history": [
        {"created": "2024-01-26T23:44:41.3Z",
         "created_by": "/bin/sh -c #(nop) ADD "
                       "file:37a76ec18f9887751cd8473744917d08b7431fc4085097bb6a09d81b41775473 in / "},
        {"created": "2024-01-26T23:44:41.5Z", "created_by": '/bin/sh -c #(nop)  CMD ["/bin/sh"]',
         "empty_layer": True},
        {"created": "2024-01-27T00:30:55Z", "created_by": "RUN /bin/sh -c apk add redis # buildkit",
         "comment": "buildkit.dockerfile.v0"},
        {"created": "2024-01-27T00:30:55Z", "created_by": "ENV REDIS_VERSION=7.2.4",
         "comment": "buildkit.dockerfile.v0", "empty_layer": True},
        {"created": "2024-01-27T00:30:56+01:00", "author": "someone",
         "created_by": "COPY docker-entrypoint.sh /usr/local/bin/ # buildkit",
         "comment": "buildkit.dockerfile.v0"},
    ],
    "docker_version": "24.0.7",  # fields imgkit never reads must survive
    "moby.buildkit.buildinfo.v1": "eyJmcm9udGVuZCI6ImRvY2tlcmZpbGUudjAifQ==",
}
# ChainIDs of CONFIG's diff_ids, computed by hand with sha256sum (see test_digest.py)
CHAIN_IDS = ("sha256:4fbec69b941195fd56f8212a5000e304129451d82efca94ff0e0fb2d5355472e",
             "sha256:ef232af0eb422cdfd7917631657cd8ed2bfd5b9461b37c427aa0d3e0a19adf79",
             "sha256:7ad3896338947cc04ee0b35b50d400ff32538d63f42f85ec87feac78bf71a54d")

DOCUMENTS = [
    (Index, DOCKER_LIST), (Index, OCI_INDEX), (Manifest, DOCKER_MANIFEST),
    (Manifest, OCI_ARTIFACT), (ImageConfig, CONFIG),
]


# --- round trips ----------------------------------------------------------------------

@pytest.mark.parametrize("cls, doc", DOCUMENTS)
def test_round_trip_of_canonical_bytes(cls, doc):
    data = dumps(doc)
    value = cls.from_json(data)
    assert value.to_json() == data
    assert cls.from_json(value.to_json()) == value
    assert value.raw == data and value.digest == digest.compute(data)
    assert value.size == len(data)


def test_round_trip_fills_in_an_absent_media_type():
    value = Manifest.from_json(dumps(OCI_MANIFEST_NO_TYPE))
    assert value.media_type == mt.OCI_MANIFEST
    assert json.loads(value.to_json()) == {**OCI_MANIFEST_NO_TYPE, "mediaType": mt.OCI_MANIFEST}
    assert Manifest.from_json(value.to_json()) == value


@pytest.mark.parametrize("cls, doc", DOCUMENTS + [(Manifest, OCI_MANIFEST_NO_TYPE)])
def test_digest_is_of_the_bytes_received(cls, doc):
    served = json.dumps(doc, indent=3).encode()  # registries keep their own spacing
    value = cls.from_json(served)
    assert value.raw == served
    assert value.digest == digest.compute(served) != digest.compute(value.to_json())


@pytest.mark.parametrize("cls, doc", DOCUMENTS)
def test_text_and_dict_input(cls, doc):
    from_text = cls.from_json(json.dumps(doc))
    from_dict = cls.from_json(doc)
    assert from_text == from_dict
    assert from_dict.raw == from_dict.to_json()  # a dict has no bytes of its own


def test_dict_input_is_copied():
    doc = copy.deepcopy(CONFIG)
    config = ImageConfig.from_json(doc)
    doc["config"]["Env"].append("EVIL=1")
    assert "EVIL=1" not in config.env


def test_descriptor_round_trip_and_helpers():
    desc = Descriptor.from_json(dumps(OCI_INDEX["manifests"][2]))
    assert desc.to_json() == dumps(OCI_INDEX["manifests"][2])
    assert desc.is_attestation
    assert Descriptor.of(mt.OCI_CONFIG, b"{}") == Descriptor(
        mt.OCI_CONFIG, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", 2)
    made = Descriptor(mt.OCI_MANIFEST, D("x"), 3, platform="linux/arm64/v8",
                      annotations={"a": "b"}, urls=["https://x"])
    assert made.platform == Platform("linux", "arm64", "v8")
    assert made.to_dict()["platform"] == {"architecture": "arm64", "os": "linux", "variant": "v8"}
    assert made.urls == ("https://x",)
    assert repr(made) == (f"Descriptor('{mt.OCI_MANIFEST}', '{D('x')}', size=3, "
                          "platform='linux/arm64/v8', annotations={'a': 'b'}, "
                          "urls=('https://x',))")
    assert len({made, Descriptor(mt.OCI_MANIFEST, D("x"), 3)}) == 2  # hashable
    assert pickle.loads(pickle.dumps(made)) == made


def test_values_are_immutable():
    index = Index.from_json(dumps(OCI_INDEX))
    with pytest.raises(dataclasses.FrozenInstanceError):
        index.media_type = mt.DOCKER_MANIFEST_LIST  # type: ignore[misc]
    with pytest.raises(TypeError):
        index.annotations["x"] = "y"  # type: ignore[index]
    with pytest.raises(TypeError):
        index.manifests[2].annotations.update(x="y")  # type: ignore[union-attr]
    assert isinstance(index.manifests, tuple)
    config = ImageConfig.from_json(CONFIG)
    with pytest.raises(TypeError):
        config.labels["x"] = "y"  # type: ignore[index]
    config.to_dict()["os"] = "windows"
    config.config["Env"].clear()
    assert config.os == "linux" and config.env


def test_replace_forgets_the_received_bytes():
    manifest = Manifest.from_json(json.dumps(DOCKER_MANIFEST, indent=2))
    changed = dataclasses.replace(manifest, layers=manifest.layers[:1])
    assert changed.raw == changed.to_json()
    assert changed.digest != manifest.digest
    assert dataclasses.replace(manifest).digest == digest.compute(manifest.to_json())


def test_manifest_helpers():
    manifest = Manifest.from_json(dumps(DOCKER_MANIFEST))
    assert manifest.layers_size == 3408729 + 1168
    assert [layer.digest for layer in manifest.layers] == [D("layer0"), D("layer1")]
    desc = manifest.descriptor(platform=Platform("linux", "amd64"))
    assert (desc.media_type, desc.digest, desc.size) == (
        mt.DOCKER_MANIFEST, manifest.digest, manifest.size)
    assert repr(manifest) == (f"<Manifest {mt.DOCKER_MANIFEST} "
                              f"{digest.short(manifest.digest)}: config "
                              f"{digest.short(D('config'))}, 2 layers>")


def test_manifest_can_be_built_and_written():
    config = Descriptor.of(mt.OCI_CONFIG, dumps(CONFIG))
    layer = Descriptor(mt.OCI_LAYER_GZIP, D("layer0"), 10)
    manifest = Manifest(mt.OCI_MANIFEST, config, [layer], annotations={"k": "v"})
    assert manifest.layers == (layer,)
    assert Manifest.from_json(manifest.to_json()) == manifest
    assert manifest.digest == digest.compute(manifest.to_json())


def test_artifact_fields():
    artifact = Manifest.from_json(dumps(OCI_ARTIFACT))
    assert artifact.artifact_type == "application/vnd.example.sbom+json"
    assert artifact.subject.digest == D("amd64")
    assert artifact.config.data == "e30="


@pytest.mark.parametrize("bad", [
    lambda: Manifest("text/plain", Descriptor(mt.OCI_CONFIG, D("c"), 1), []),
    lambda: Manifest(mt.OCI_MANIFEST, None, []),  # type: ignore[arg-type]
    lambda: Manifest(mt.OCI_MANIFEST, Descriptor(mt.OCI_CONFIG, D("c"), 1), ["layer"]),
    lambda: Index(mt.OCI_MANIFEST, []),
    lambda: Index(mt.OCI_INDEX, [{"digest": D("x")}]),
    lambda: Descriptor(mt.OCI_CONFIG, "sha256:abc", 1),
    lambda: Descriptor(mt.OCI_CONFIG, D("c"), -1),
    lambda: Descriptor(mt.OCI_CONFIG, D("c"), True),
    lambda: Descriptor("config", D("c"), 1),
])
def test_constructors_check_too(bad):
    with pytest.raises(ManifestError):
        bad()


# --- which kind of document, by mediaType, Content-Type and shape ------------------

def _without_type(doc):
    return {k: v for k, v in doc.items() if k != "mediaType"}


TYPE_CASES = [  # document, Content-Type given, expected class and media type
    (DOCKER_LIST, None, Index, mt.DOCKER_MANIFEST_LIST),
    (OCI_INDEX, mt.OCI_INDEX, Index, mt.OCI_INDEX),
    (_without_type(OCI_INDEX), None, Index, mt.OCI_INDEX),
    (_without_type(OCI_INDEX), "application/json", Index, mt.OCI_INDEX),
    (DOCKER_MANIFEST, mt.DOCKER_MANIFEST, Manifest, mt.DOCKER_MANIFEST),
    (DOCKER_MANIFEST, f"{mt.DOCKER_MANIFEST}; charset=utf-8", Manifest, mt.DOCKER_MANIFEST),
    (OCI_MANIFEST_NO_TYPE, None, Manifest, mt.OCI_MANIFEST),
    (OCI_MANIFEST_NO_TYPE, mt.OCI_MANIFEST, Manifest, mt.OCI_MANIFEST),
    (OCI_MANIFEST_NO_TYPE, mt.DOCKER_MANIFEST, Manifest, mt.DOCKER_MANIFEST),
    (OCI_MANIFEST_NO_TYPE, "text/plain", Manifest, mt.OCI_MANIFEST),
    (OCI_ARTIFACT, None, Manifest, mt.OCI_MANIFEST),
]


@pytest.mark.parametrize("doc, content_type, cls, media_type", TYPE_CASES)
def test_parse_any_and_media_type(doc, content_type, cls, media_type):
    value = parse_any(dumps(doc), content_type)
    assert type(value) is cls and value.media_type == media_type
    assert cls.from_json(dumps(doc), content_type) == value


WRONG_KIND = [
    (Manifest, DOCKER_LIST, None,
     f"invalid manifest: mediaType: {mt.DOCKER_MANIFEST_LIST} is an index, not a manifest"),
    (Manifest, _without_type(OCI_INDEX), mt.OCI_INDEX,
     f"invalid manifest: mediaType: {mt.OCI_INDEX} is an index, not a manifest"),
    (Index, DOCKER_MANIFEST, None,
     f"invalid index: mediaType: {mt.DOCKER_MANIFEST} is a manifest, not an index"),
    (Manifest, DOCKER_MANIFEST, mt.OCI_MANIFEST,
     (f"invalid manifest: mediaType: {mt.DOCKER_MANIFEST} does not match the Content-Type "
      f"{mt.OCI_MANIFEST}")),
    (parse_any, OCI_INDEX, mt.DOCKER_MANIFEST_LIST,
     (f"invalid index: mediaType: {mt.OCI_INDEX} does not match the Content-Type "
      f"{mt.DOCKER_MANIFEST_LIST}")),
    (Manifest, {**DOCKER_MANIFEST, "mediaType": "application/vnd.example+json"}, None,
     "invalid manifest: mediaType: application/vnd.example+json is not a manifest media type"),
    (Index, {**OCI_INDEX, "mediaType": "application/vnd.example+json"}, None,
     "invalid index: mediaType: application/vnd.example+json is not an index media type"),
    (Index, {"schemaVersion": 2}, None, "invalid index: manifests: missing required field"),
    (Manifest, {"schemaVersion": 2}, None, "invalid manifest: config: missing required field"),
    (parse_any, {"schemaVersion": 2}, None, "invalid manifest: config: missing required field"),
    (parse_any, {**DOCKER_MANIFEST, "manifests": []}, None,
     "invalid manifest: has both manifests and config/layers"),
    (Index, {**OCI_INDEX, "layers": []}, None,
     "invalid index: has both manifests and config/layers"),
]


@pytest.mark.parametrize("reader, doc, content_type, message", WRONG_KIND)
def test_wrong_kind_of_document(reader, doc, content_type, message):
    read = reader if reader is parse_any else reader.from_json
    with pytest.raises(ManifestError) as caught:
        read(dumps(doc), content_type)
    assert str(caught.value).startswith(message)


SCHEMA1 = {
    "schemaVersion": 1, "name": "library/hello-world", "tag": "latest",
    "architecture": "amd64", "fsLayers": [{"blobSum": D("layer0")}],
    "history": [{"v1Compatibility": "{}"}], "signatures": [],
}


@pytest.mark.parametrize("doc, content_type", [
    (SCHEMA1, None),
    (SCHEMA1, "application/vnd.docker.distribution.manifest.v1+prettyjws"),
    ({k: v for k, v in SCHEMA1.items() if k != "fsLayers"}, None),
    ({**DOCKER_MANIFEST, "schemaVersion": 1}, None),
    (DOCKER_MANIFEST, "application/vnd.docker.distribution.manifest.v1+json"),
    ({**DOCKER_MANIFEST, "mediaType": "application/vnd.docker.distribution.manifest.v1+json"},
     None),
])
@pytest.mark.parametrize("reader", [Manifest.from_json, Index.from_json, parse_any])
def test_schema1_is_refused_clearly(reader, doc, content_type):
    with pytest.raises(ManifestError, match="^schema 1 manifests are not supported"):
        reader(dumps(doc), content_type)


# --- every malformed document raises ManifestError, naming the field --------------

DELETE = object()


def altered(doc, path, value):
    """Return a copy of ``doc`` with the field at ``path`` set (or deleted).

    ``path`` is dotted (``layers.0.size``) or, for keys holding dots, a tuple.
    """
    out = copy.deepcopy(doc)
    keys = path.split(".") if isinstance(path, str) else list(path)
    keys = [int(k) if isinstance(k, str) and k.isdigit() else k for k in keys]
    *parents, last = keys
    target = out
    for key in parents:
        target = target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return out


NOT_JSON = [
    (b"", "invalid manifest: not JSON"),
    (b"{", "invalid manifest: not JSON"),
    (b"\xff\xfe{}", "invalid manifest: not JSON"),
    (b'\xef\xbb\xbf{"schemaVersion": 2}', "invalid manifest: not JSON"),  # a BOM
    (b'{"schemaVersion": NaN}', "invalid manifest: not JSON"),
    (b'{"schemaVersion": Infinity}', "invalid manifest: not JSON"),
    (b'{"size": 1e999}', "invalid manifest: not JSON"),
    (b'{"a": "\\ud800"}', "invalid manifest: not JSON"),  # a lone surrogate
    (b"[" * 100_000 + b"]" * 100_000, "invalid manifest: not JSON"),
    (b'{"n": ' + b"9" * 5000 + b"}", "invalid manifest: not JSON"),
    (b"[]", "invalid manifest: the document must be a JSON object, got an array"),
    (b"null", "invalid manifest: the document must be a JSON object, got null"),
    (b'"manifest"', "invalid manifest: the document must be a JSON object, got a string"),
    (b"2", "invalid manifest: the document must be a JSON object, got the number 2"),
    (12, "invalid manifest: expected JSON bytes or a dict, got int"),
    (None, "invalid manifest: expected JSON bytes or a dict, got NoneType"),
    ({"a": {1, 2}}, "invalid manifest: not JSON"),
    ({"a": float("nan")}, "invalid manifest: not JSON"),
    ({1: "a", "b": 2}, "invalid manifest: not JSON"),
]


@pytest.mark.parametrize("data, message", NOT_JSON)
def test_not_json(data, message):
    with pytest.raises(ManifestError) as caught:
        Manifest.from_json(data)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


BAD_MANIFESTS = [  # field path, new value (or DELETE), message after "invalid manifest: "
    ("schemaVersion", DELETE, "schemaVersion: missing required field"),
    ("schemaVersion", "2", "schemaVersion: must be an integer, got a string"),
    ("schemaVersion", 3, "schemaVersion: must be 2, got 3"),
    ("schemaVersion", True, "schemaVersion: must be an integer, got a boolean"),
    ("schemaVersion", 2.0, "schemaVersion: must be an integer, got the number 2.0"),
    ("schemaVersion", None, "schemaVersion: must not be null"),
    ("mediaType", 5, "mediaType: must be a string, got the number 5"),
    ("config", DELETE, "config: missing required field"),
    ("config", None, "config: must not be null"),
    ("config", [], "config: must be an object, got an array"),
    ("config.digest", DELETE, "config.digest: missing required field"),
    ("config.digest", 12, "config.digest: must be a string, got the number 12"),
    ("config.digest", "sha256:abc", "config.digest: invalid checksum digest length"),
    ("config.digest", "md5:" + "a" * 32, "config.digest: unsupported digest algorithm"),
    ("config.digest", "sha256:" + "A" * 64, "config.digest: invalid checksum digest format"),
    ("config.size", DELETE, "config.size: missing required field"),
    ("config.size", -1, "config.size: must be a non-negative integer, got -1"),
    ("config.size", "12", "config.size: must be an integer, got a string"),
    ("config.size", 1.5, "config.size: must be an integer, got the number 1.5"),
    ("config.size", 2**63, "config.size: must be a non-negative integer, got 9223372036854775808"),
    ("config.mediaType", DELETE, "config.mediaType: missing required field"),
    ("config.mediaType", "config", 'config.mediaType: "config" is not a media type (type/subtype)'),
    ("config.mediaType", "", 'config.mediaType: "" is not a media type (type/subtype)'),
    ("config.mediaType", mt.OCI_CONFIG + "\n",
     f'config.mediaType: "{mt.OCI_CONFIG}\\n" is not a media type (type/subtype)'),
    ("config.data", "!!", "config.data: is not base64"),
    ("config.data", "e30=", "config.data: does not match the digest and size"),
    ("config.platform", "linux/amd64", "config.platform: must be an object, got a string"),
    ("config.platform", {"os": "linux"}, "config.platform.architecture: missing required field"),
    ("config.platform", {"os": "", "architecture": "amd64"},
     "config.platform.os: must not be empty"),
    ("config.artifactType", 5, "config.artifactType: must be a string, got the number 5"),
    ("layers", DELETE, "layers: missing required field"),
    ("layers", {}, "layers: must be an array, got an object"),
    ("layers.0", 5, "layers[0]: must be an object, got the number 5"),
    ("layers.0", None, "layers[0]: must be an object, got null"),
    ("layers.1.digest", "sha256:" + "a" * 65, "layers[1].digest: invalid checksum digest length"),
    ("layers.1.size", -5, "layers[1].size: must be a non-negative integer, got -5"),
    ("layers.0.urls", "https://x", "layers[0].urls: must be an array, got a string"),
    ("layers.0.urls", [1], "layers[0].urls[0]: must be a string, got the number 1"),
    ("layers.0.annotations", {"a": 1}, ("layers[0].annotations.a: must be a string, got the "
                                        "number 1")),
    ("annotations", [], "annotations: must be an object, got an array"),
    ("annotations", {"k": None}, "annotations.k: must be a string, got null"),
    ("subject", "x", "subject: must be an object, got a string"),
    ("subject", {}, "subject.mediaType: missing required field"),
    ("subject", {"mediaType": mt.OCI_MANIFEST}, "subject.digest: missing required field"),
    ("artifactType", "sbom", 'artifactType: "sbom" is not a media type (type/subtype)'),
]


@pytest.mark.parametrize("path, value, message", BAD_MANIFESTS)
def test_bad_manifest(path, value, message):
    with pytest.raises(ManifestError) as caught:
        Manifest.from_json(dumps(altered(DOCKER_MANIFEST, path, value)))
    assert str(caught.value) == f"invalid manifest: {message}"


BAD_INDEXES = [
    ("manifests", DELETE, "manifests: missing required field"),
    ("manifests", {}, "manifests: must be an array, got an object"),
    ("manifests.0", "sha256:x", "manifests[0]: must be an object, got a string"),
    ("manifests.0.platform", "linux/amd64", ("manifests[0].platform: must be an object, "
                                             "got a string")),
    ("manifests.1.platform.architecture", 64, ("manifests[1].platform.architecture: must be "
                                               "a string, got the number 64")),
    ("manifests.1.platform.variant", 8, ("manifests[1].platform.variant: must be a string, "
                                         "got the number 8")),
    (("manifests", 1, "platform", "os.features"), "sse4", ("manifests[1].platform.os.features: must be "
                                                 "an array, got a string")),
    (("manifests", 1, "platform", "os.version"), [], ("manifests[1].platform.os.version: must be a "
                                            "string, got an array")),
    (("manifests", 2, "annotations", "vnd.docker.reference.type"), 1,
      "manifests[2].annotations.vnd.docker.reference.type: must be a string, got the number 1"),
    ("manifests.3.digest", "sha256:zz", "manifests[3].digest: invalid checksum digest length"),
    ("manifests.3.mediaType", DELETE, "manifests[3].mediaType: missing required field"),
    ("schemaVersion", 3, "schemaVersion: must be 2, got 3"),
    ("annotations", "latest", "annotations: must be an object, got a string"),
]


@pytest.mark.parametrize("path, value, message", BAD_INDEXES)
def test_bad_index(path, value, message):
    with pytest.raises(ManifestError) as caught:
        Index.from_json(dumps(altered(OCI_INDEX, path, value)))
    assert str(caught.value) == f"invalid index: {message}"


BAD_CONFIGS = [
    ("architecture", DELETE, "architecture: missing required field"),
    ("architecture", 64, "architecture: must be a string, got the number 64"),
    ("os", "", "os: must not be empty"),
    ("variant", 8, "variant: must be a string, got the number 8"),
    ("author", ["x"], "author: must be a string, got an array"),
    ("created", "yesterday", 'created: "yesterday" is not an RFC 3339 time'),
    ("created", "2024-01-27 00:30:56Z", ('created: "2024-01-27 00:30:56Z" is not an RFC '
                                         '3339 time')),
    ("created", "2024-13-01T00:00:00Z", "created: month must be in 1..12"),
    ("created", "2024-01-27T00:30:56Z\n",
     'created: "2024-01-27T00:30:56Z\\n" is not an RFC 3339 time'),
    ("created", "\u0662024-01-27T00:30:56Z",
     'created: "\u0662024-01-27T00:30:56Z" is not an RFC 3339 time'),  # Arabic-Indic 2
    ("created", 1706315456, "created: must be a string, got the number 1706315456"),
    ("rootfs", DELETE, "rootfs: missing required field"),
    ("rootfs", [], "rootfs: must be an object, got an array"),
    ("rootfs.type", DELETE, "rootfs.type: missing required field"),
    ("rootfs.type", "layers+base", 'rootfs.type: must be "layers", got "layers+base"'),
    ("rootfs.diff_ids", DELETE, "rootfs.diff_ids: missing required field"),
    ("rootfs.diff_ids", "sha256:x", "rootfs.diff_ids: must be an array, got a string"),
    ("rootfs.diff_ids.0", 5, "rootfs.diff_ids[0]: must be a string, got the number 5"),
    ("rootfs.diff_ids.1", "sha256:abc", "rootfs.diff_ids[1]: invalid checksum digest length"),
    ("config", [], "config: must be an object, got an array"),
    ("config.Env", "PATH=/bin", "config.Env: must be an array, got a string"),
    ("config.Env", [1], "config.Env[0]: must be a string, got the number 1"),
    ("config.Cmd", 5, "config.Cmd: must be an array, got the number 5"),
    ("config.Entrypoint", ["sh", None], "config.Entrypoint[1]: must be a string, got null"),
    ("config.Labels", {"a": 1}, "config.Labels.a: must be a string, got the number 1"),
    ("config.ExposedPorts", ["6379/tcp"], ("config.ExposedPorts: must be an object, got an "
                                           "array")),
    ("config.Volumes", "/data", "config.Volumes: must be an object, got a string"),
    ("config.User", 0, "config.User: must be a string, got the number 0"),
    ("config.WorkingDir", False, "config.WorkingDir: must be a string, got a boolean"),
    ("config.ArgsEscaped", "yes", "config.ArgsEscaped: must be a boolean, got a string"),
    ("history", {}, "history: must be an array, got an object"),
    ("history.0", "ADD", "history[0]: must be an object, got a string"),
    ("history.1.empty_layer", "true", "history[1].empty_layer: must be a boolean, got a string"),
    ("history.0.created", 5, "history[0].created: must be a string, got the number 5"),
    ("history.0.created", "soon", 'history[0].created: "soon" is not an RFC 3339 time'),
    ("history.2.created_by", ["RUN"], "history[2].created_by: must be a string, got an array"),
    ("history.2.comment", 1, "history[2].comment: must be a string, got the number 1"),
]


@pytest.mark.parametrize("path, value, message", BAD_CONFIGS)
def test_bad_config(path, value, message):
    with pytest.raises(ManifestError) as caught:
        ImageConfig.from_json(dumps(altered(CONFIG, path, value)))
    assert str(caught.value) == f"invalid image config: {message}"


@pytest.mark.parametrize("cls, doc, path", [  # OCI: "Any OPTIONAL field MAY be null"
    (ImageConfig, CONFIG, "config.Entrypoint"),
    (ImageConfig, CONFIG, "config.Volumes"),
    (ImageConfig, CONFIG, "history"),
    (ImageConfig, CONFIG, "created"),
    (ImageConfig, CONFIG, "config"),
    (Manifest, DOCKER_MANIFEST, "layers.0.annotations"),
    (Manifest, DOCKER_MANIFEST, "layers.0.urls"),
    (Manifest, OCI_MANIFEST_NO_TYPE, "annotations"),
    (Index, OCI_INDEX, "manifests.0.platform"),
])
def test_null_means_absent(cls, doc, path):
    value = cls.from_json(dumps(altered(doc, path, None)))
    assert cls.from_json(value.to_json()) == value


@pytest.mark.parametrize("path, value, message", [  # found by hypothesis: keep one line
    (("layers", 0, "annotations"), {"\n": None},
     'layers[0].annotations["\\n"]: must be a string, got null'),
    (("layers", 0, "annotations"), {"a b": 1},
     'layers[0].annotations["a b"]: must be a string, got the number 1'),
    (("config", "mediaType"), "a\nb",
     'config.mediaType: "a\\nb" is not a media type (type/subtype)'),
    (("mediaType",), "x\ty", 'mediaType: "x\\ty" is not a media type (type/subtype)'),
])
def test_messages_stay_on_one_line(path, value, message):
    with pytest.raises(ManifestError) as caught:
        Manifest.from_json(dumps(altered(DOCKER_MANIFEST, path, value)))
    assert str(caught.value) == f"invalid manifest: {message}"


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview, lambda b: b.decode()])
def test_byte_like_and_text_input(wrap):
    data = dumps(DOCKER_MANIFEST)
    assert Manifest.from_json(wrap(data)).raw == data


def test_public_names():
    import imgkit.oci
    from imgkit.oci import descriptor, imageconfig, jsonfields, platform, values
    for module in (imgkit.oci, descriptor, imageconfig, jsonfields, platform, values):
        assert all(hasattr(module, name) for name in module.__all__), module.__name__
    assert set(imgkit.oci.__all__) >= {"Descriptor", "Manifest", "Index", "ImageConfig",
                                       "Platform", "parse_any"}


# --- index selection ----------------------------------------------------------------

SELECT_CASES = [  # index, wanted platform, name of the entry Docker would pull
    (DOCKER_LIST, "linux/amd64", "amd64"),
    (DOCKER_LIST, "linux/x86_64", "amd64"),
    (DOCKER_LIST, "linux/arm64", "arm64"),
    (DOCKER_LIST, "linux/arm64/v8", "arm64"),
    (DOCKER_LIST, "linux/aarch64", "arm64"),
    (DOCKER_LIST, "linux/arm/v7", "arm-v7"),
    (DOCKER_LIST, "linux/arm", "arm-v7"),
    (DOCKER_LIST, "linux/armhf", "arm-v7"),
    (DOCKER_LIST, "linux/arm/v6", "arm-v6"),
    (DOCKER_LIST, "linux/386", "386"),
    (DOCKER_LIST, "linux/s390x", "s390x"),
    (DOCKER_LIST, Platform("linux", "ppc64le"), "ppc64le"),
    (OCI_INDEX, "linux/amd64", "amd64"),
    (OCI_INDEX, "linux/arm64/v8", "arm64"),
    (OCI_INDEX, "linux/arm64/v8.2", "arm64"),
    # no exact entry: fall back to what the CPU can also run
    ({**DOCKER_LIST, "manifests": DOCKER_LIST["manifests"][:3]}, "linux/arm64", "arm-v7"),
    ({**DOCKER_LIST, "manifests": DOCKER_LIST["manifests"][1:2]}, "linux/arm/v7", "arm-v6"),
    ({**DOCKER_LIST, "manifests": DOCKER_LIST["manifests"][4:]}, "linux/amd64", "386"),
    # an entry naming no platform is the last resort, as in Docker
    ({**OCI_INDEX, "manifests": [entry("any", mt.OCI_MANIFEST)] + OCI_INDEX["manifests"]},
     "linux/amd64", "amd64"),
    ({**OCI_INDEX, "manifests": [entry("any", mt.OCI_MANIFEST)] + OCI_INDEX["manifests"]},
     "linux/s390x", "any"),
]


@pytest.mark.parametrize("doc, wanted, name", SELECT_CASES)
def test_select(doc, wanted, name):
    assert Index.from_json(dumps(doc)).select(wanted).digest == D(name)


NO_MATCH = [  # index, wanted, the platform Docker's message names
    (DOCKER_LIST, "linux/riscv64", "linux/riscv64"),
    (DOCKER_LIST, "windows/amd64", "windows/amd64"),
    (DOCKER_LIST, "linux/arm/v5", "linux/arm/v5"),
    (OCI_INDEX, "linux/s390x", "linux/s390x"),
    (OCI_INDEX, "unknown/unknown", "unknown/unknown"),  # attestations never match
    ({**OCI_INDEX, "manifests": OCI_INDEX["manifests"][:1]}, "linux/arm64/v8",
     "linux/arm64/v8"),
    ({**OCI_INDEX, "manifests": []}, "linux/amd64", "linux/amd64"),
    # an attestation marked only by its annotation
    ({**OCI_INDEX, "manifests": [dict(entry("att", mt.OCI_MANIFEST, architecture="amd64",
                                             os="linux"), annotations=ATTESTED)]},
     "linux/amd64", "linux/amd64"),
]


@pytest.mark.parametrize("doc, wanted, shown", NO_MATCH)
def test_no_matching_manifest(doc, wanted, shown):
    index = Index.from_json(dumps(doc))
    with pytest.raises(NoMatchingManifestError) as caught:
        index.select(wanted)
    assert str(caught.value) == f"no matching manifest for {shown} in the manifest list entries"
    assert isinstance(caught.value, LookupError)
    assert index.matching(wanted) == ()


def test_select_defaults_to_this_machine(monkeypatch):
    monkeypatch.setattr(plat, "_machine", lambda: "aarch64")
    assert Index.from_json(dumps(OCI_INDEX)).select().digest == D("arm64")
    only_amd64 = Index.from_json(dumps({**OCI_INDEX, "manifests": OCI_INDEX["manifests"][:1]}))
    with pytest.raises(NoMatchingManifestError, match="^no matching manifest for "
                       "linux/arm64/v8 in the manifest list entries$"):
        only_amd64.select()


def test_matching_is_best_first():
    index = Index.from_json(dumps(DOCKER_LIST))
    assert [m.digest for m in index.matching("linux/arm64")] == [
        D("arm64"), D("arm-v7"), D("arm-v6")]
    assert [m.digest for m in index.matching("linux/amd64")] == [D("amd64"), D("386")]


def test_index_platforms_and_attestations():
    index = Index.from_json(dumps(OCI_INDEX))
    assert [str(p) for p in index.platforms] == ["linux/amd64", "linux/arm64/v8"]
    assert [a.digest for a in index.attestations] == [D("att-amd64"), D("att-arm64")]
    assert repr(index) == (f"<Index {mt.OCI_INDEX} {digest.short(index.digest)}: "
                           "linux/amd64, linux/arm64/v8 + 2 attestations>")


# --- the image config -----------------------------------------------------------------

def test_config_accessors():
    config = ImageConfig.from_json(json.dumps(CONFIG, indent=2).encode())
    assert (config.os, config.architecture, config.variant) == ("linux", "amd64", None)
    assert config.platform == Platform("linux", "amd64")
    assert config.created == "2024-01-27T00:30:56.150425113Z"
    assert config.created_at == dt.datetime(2024, 1, 27, 0, 30, 56, 150425, tzinfo=dt.timezone.utc)
    assert config.author is None
    assert config.env[1] == "REDIS_VERSION=7.2.4"
    assert config.entrypoint == ("docker-entrypoint.sh",)
    assert config.cmd == ("redis-server",)
    assert config.exposed_ports == ("6379/tcp",)
    assert config.volumes == ("/data",)
    assert config.working_dir == "/data"
    assert config.labels == {"org.opencontainers.image.source":
                             "https://github.com/docker-library/redis"}
    assert config.user is None and config.stop_signal is None
    assert config.config["ExposedPorts"] == {"6379/tcp": {}}
    assert config.diff_ids == tuple(CONFIG["rootfs"]["diff_ids"])
    assert config.image_id == config.digest == digest.compute(config.raw)
    assert repr(config) == f"<ImageConfig {digest.short(config.digest)} linux/amd64 3 layers>"


def test_config_of_an_arm_image_and_a_bare_one():
    bare = {"architecture": "arm64", "os": "linux", "variant": "v8",
            "rootfs": {"type": "layers", "diff_ids": []}}
    config = ImageConfig.from_json(bare)
    assert str(config.platform) == "linux/arm64/v8"
    assert config.env == () and config.cmd is None and config.entrypoint is None
    assert config.labels == {} and config.history == () and config.chain_ids == ()
    assert config.created_at is None and config.config == {}


def test_cmd_as_a_single_string():  # Docker's strslice accepts it
    config = ImageConfig.from_json(altered(CONFIG, "config.Cmd", "redis-server"))
    assert config.cmd == ("redis-server",)


def test_chain_ids_against_hand_computed_values():
    assert ImageConfig.from_json(CONFIG).chain_ids == CHAIN_IDS


def test_history_and_layer_history():
    config = ImageConfig.from_json(CONFIG)
    history = config.history
    assert len(history) == 5
    assert history[1] == HistoryEntry("2024-01-26T23:44:41.5Z", '/bin/sh -c #(nop)  CMD ["/bin/sh"]',
                                      empty_layer=True)
    assert history[4].author == "someone"
    assert history[4].created_at == dt.datetime(2024, 1, 27, 0, 30, 56, tzinfo=dt.timezone(
        dt.timedelta(hours=1)))
    pairs = config.layer_history()
    assert [diff_id for _, diff_id in pairs] == [
        config.diff_ids[0], None, config.diff_ids[1], None, config.diff_ids[2]]
    assert [entry for entry, _ in pairs] == list(history)


def test_layer_history_with_too_many_non_empty_entries():
    config = ImageConfig.from_json(altered(CONFIG, "history.3.empty_layer", False))
    with pytest.raises(ManifestError, match="^too many non-empty layers in History section$"):
        config.layer_history()


def test_layer_history_with_fewer_entries_than_layers():
    config = ImageConfig.from_json(altered(CONFIG, "history", CONFIG["history"][:2]))
    assert [d for _, d in config.layer_history()] == [config.diff_ids[0], None]


def test_unknown_config_fields_are_kept():
    config = ImageConfig.from_json(dumps(CONFIG))
    assert json.loads(config.to_json())["docker_version"] == "24.0.7"
    assert config.to_dict()["moby.buildkit.buildinfo.v1"] == CONFIG["moby.buildkit.buildinfo.v1"]
    assert config.to_json() == dumps(CONFIG)


def test_config_equality_and_hash():
    a = ImageConfig.from_json(dumps(CONFIG))
    b = ImageConfig.from_json(json.dumps(CONFIG, indent=1))
    assert a == b and hash(a) == hash(b)
    assert a.digest != b.digest  # same content, different bytes: a different image ID
    assert a != ImageConfig.from_json(altered(CONFIG, "os", "windows"))
    assert a != "config"


def test_frozen_map():
    labels = FrozenMap({"b": "2", "a": "1"})
    assert labels == {"a": "1", "b": "2"} and repr(labels) == "{'b': '2', 'a': '1'}"
    assert hash(labels) == hash(FrozenMap({"a": "1", "b": "2"}))
    for change in (lambda m: m.update(c="3"), lambda m: m.pop("a"), lambda m: m.clear(),
                   lambda m: m.setdefault("c", "3"), lambda m: m.popitem(),
                   lambda m: m.__setitem__("c", "3"), lambda m: m.__delitem__("a")):
        with pytest.raises(TypeError):
            change(labels)
    assert pickle.loads(pickle.dumps(labels)) == labels
    assert dumps(labels) == b'{"a":"1","b":"2"}'


# --- properties: anything in, only ManifestError out -----------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20)

READERS = [Manifest.from_json, Index.from_json, parse_any, ImageConfig.from_json,
           Descriptor.from_json]


def _accepts_or_refuses(reader, data):
    try:
        value = reader(data)
    except ManifestError as err:
        assert "\n" not in str(err)
        return
    again = type(value).from_json(value.to_json())
    assert again == value and again.to_json() == value.to_json()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reader=st.sampled_from(READERS), value=JSON_VALUES)
def test_random_json_raises_only_manifest_error(reader, value):
    _accepts_or_refuses(reader, json.dumps(value).encode())
    _accepts_or_refuses(reader, value if isinstance(value, dict) else json.dumps(value))


@settings(max_examples=200, deadline=None)
@given(reader=st.sampled_from(READERS), data=st.binary(max_size=64))
def test_random_bytes_raise_only_manifest_error(reader, data):
    _accepts_or_refuses(reader, data)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, prefix + (i,))


VALID = [(Manifest.from_json, DOCKER_MANIFEST), (Manifest.from_json, OCI_ARTIFACT),
         (Manifest.from_json, OCI_MANIFEST_NO_TYPE), (Index.from_json, OCI_INDEX),
         (Index.from_json, DOCKER_LIST), (ImageConfig.from_json, CONFIG),
         (parse_any, OCI_INDEX), (parse_any, DOCKER_MANIFEST)]


@st.composite
def mutated(draw):
    """A valid document with one field replaced by random JSON, or removed."""
    reader, doc = draw(st.sampled_from(VALID))
    doc = copy.deepcopy(doc)
    path = draw(st.sampled_from([p for p in _paths(doc) if p]))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON_VALUES)
    return reader, doc


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_mutated_documents_raise_only_manifest_error(case):
    reader, doc = case
    _accepts_or_refuses(reader, dumps(doc))
