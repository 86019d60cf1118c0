"""Building images: configs, manifests, indexes and history, with stable digests."""

from __future__ import annotations

import hashlib
import json
import os
import random
from datetime import datetime, timedelta, timezone

import pytest

from imgkit import digest
from imgkit.build import (
    BUILDKIT_COMMENT,
    DOCKER_DEFAULT_PATH,
    BuiltImage,
    ImageBuilder,
    build_index,
)
from imgkit.oci import mediatypes
from imgkit.tarlayer import Entry, Layer

BASE_FILES = [Entry.file("etc/os-release", b"ID=imgkit\n"),
              Entry.file("bin/sh", b"\x7fELF fake shell", 0o755)]
APP_FILES = [Entry.file("usr/local/bin/redis-server", b"\x7fELF fake redis" * 10, 0o755),
             Entry.directory("data")]

#: The pinned image: if these change, every lesson's digests change too.
PINNED_ID = "sha256:1e45154f9daade0a637a0133f994ca7d9eab5150d0c90637285bd285eb0b4e53"
PINNED_DIGEST = "sha256:44699ad00f52ecf7401b09167a0c3d331fa568cf9e1a211654c06c2512e10b06"


def redis_like(files=APP_FILES, platform=None, base=None) -> BuiltImage:
    """A small image built the way redis' Dockerfile reads."""
    builder = ImageBuilder(platform=platform, base=base, comment=BUILDKIT_COMMENT)
    if base is None:
        builder.add_layer(BASE_FILES, created_by="ADD rootfs.tar / # buildkit")
    return (builder
            .env("REDIS_VERSION", "7.2.4")
            .add_layer(files, created_by="COPY redis-server /usr/local/bin/ # buildkit")
            .volume("/data")
            .workdir("/data")
            .entrypoint(["docker-entrypoint.sh"])
            .expose("6379")
            .cmd(["redis-server"])
            .build())


def test_same_inputs_same_bytes():
    first, second = redis_like(), redis_like()
    assert first.config_bytes == second.config_bytes
    assert first.manifest_bytes == second.manifest_bytes
    assert (first.id, first.digest) == (second.id, second.digest)
    assert first.blobs == second.blobs


def test_entry_order_and_umask_do_not_matter():
    expected = redis_like().digest
    shuffled = list(APP_FILES)
    random.Random(7).shuffle(shuffled)
    old = os.umask(0o077)
    try:
        assert redis_like(files=list(reversed(shuffled))).digest == expected
    finally:
        os.umask(old)


def test_pinned_image():
    image = redis_like()
    assert image.id == PINNED_ID
    assert image.digest == PINNED_DIGEST


def test_identity_matches_the_bytes():
    image = redis_like()
    assert image.id == "sha256:" + hashlib.sha256(image.config_bytes).hexdigest()
    assert image.digest == "sha256:" + hashlib.sha256(image.manifest_bytes).hexdigest()
    for key, blob in image.blobs.items():
        assert digest.compute(blob) == key
    assert set(image.blobs) == {image.id, *(layer.digest for layer in image.layers)}


def test_manifest_describes_config_and_layers():
    image = redis_like()
    manifest = image.manifest
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == image.media_type == mediatypes.OCI_MANIFEST
    assert manifest["config"] == {"mediaType": mediatypes.OCI_CONFIG, "digest": image.id,
                                  "size": len(image.config_bytes)}
    assert manifest["layers"] == [{"mediaType": mediatypes.OCI_LAYER_GZIP,
                                   "digest": layer.digest, "size": len(layer.blob)}
                                  for layer in image.layers]
    assert "annotations" not in manifest
    # canonical JSON: sorted keys, no spaces
    assert image.manifest_bytes == json.dumps(manifest, sort_keys=True,
                                              separators=(",", ":")).encode()


def test_config_fields():
    config = redis_like().config
    assert (config["architecture"], config["os"], config["created"]) == (
        "amd64", "linux", "2024-01-01T00:00:00Z")
    assert "variant" not in config
    assert config["config"] == {
        "ArgsEscaped": True,
        "Cmd": ["redis-server"],
        "Entrypoint": ["docker-entrypoint.sh"],
        "Env": ["REDIS_VERSION=7.2.4"],
        "ExposedPorts": {"6379/tcp": {}},
        "Volumes": {"/data": {}},
        "WorkingDir": "/data",
    }


def test_config_diff_ids_match_the_layers():
    image = redis_like()
    assert image.config["rootfs"] == {"type": "layers",
                                      "diff_ids": [l.diff_id for l in image.layers]}
    assert image.diff_ids == [digest.compute(l.tar) for l in image.layers]
    assert image.chain_ids == digest.chain_ids(image.diff_ids)


def test_history_like_docker_history():
    history = redis_like().config["history"]
    assert [(h.get("created_by"), h.get("empty_layer", False)) for h in history] == [
        ("ADD rootfs.tar / # buildkit", False),
        ("ENV REDIS_VERSION=7.2.4", True),
        ("COPY redis-server /usr/local/bin/ # buildkit", False),
        ("VOLUME [/data]", True),
        ("WORKDIR /data", True),
        ('ENTRYPOINT ["docker-entrypoint.sh"]', True),
        ("EXPOSE map[6379/tcp:{}]", True),
        ('CMD ["redis-server"]', True),
    ]
    assert all(h["comment"] == BUILDKIT_COMMENT for h in history)
    assert all(h["created"] == "2024-01-01T00:00:00Z" for h in history)
    assert sum(not h.get("empty_layer") for h in history) == len(redis_like().layers)


@pytest.mark.parametrize("step, created_by, settings", [
    (lambda b: b.env("A", "1"), "ENV A=1", {"Env": ["A=1"]}),
    (lambda b: b.label("org.opencontainers.image.title", "demo"),
     "LABEL org.opencontainers.image.title=demo",
     {"Labels": {"org.opencontainers.image.title": "demo"}}),
    (lambda b: b.labels({"b": "2", "a": "1"}), "LABEL b=2 a=1", {"Labels": {"a": "1", "b": "2"}}),
    (lambda b: b.expose("80", "53/UDP", 443), "EXPOSE map[443/tcp:{} 53/udp:{} 80/tcp:{}]",
     {"ExposedPorts": {"80/tcp": {}, "53/udp": {}, "443/tcp": {}}}),
    (lambda b: b.cmd(["nginx", "-g", "daemon off;"]), 'CMD ["nginx" "-g" "daemon off;"]',
     {"Cmd": ["nginx", "-g", "daemon off;"], "ArgsEscaped": True}),
    (lambda b: b.cmd("echo hi"), 'CMD ["/bin/sh" "-c" "echo hi"]',
     {"Cmd": ["/bin/sh", "-c", "echo hi"], "ArgsEscaped": True}),
    (lambda b: b.cmd(['say "hi"\n']), r'CMD ["say \"hi\"\n"]',
     {"Cmd": ['say "hi"\n'], "ArgsEscaped": True}),
    (lambda b: b.entrypoint(["/init"]), 'ENTRYPOINT ["/init"]', {"Entrypoint": ["/init"]}),
    (lambda b: b.workdir("/srv/app"), "WORKDIR /srv/app", {"WorkingDir": "/srv/app"}),
    (lambda b: b.user("redis"), "USER redis", {"User": "redis"}),
    (lambda b: b.arg("VERSION", "1.0"), "ARG VERSION=1.0", {}),
    (lambda b: b.arg("VERSION"), "ARG VERSION", {}),
    (lambda b: b.volume("/data", "/logs"), "VOLUME [/data /logs]",
     {"Volumes": {"/data": {}, "/logs": {}}}),
    (lambda b: b.stop_signal("SIGQUIT"), "STOPSIGNAL SIGQUIT", {"StopSignal": "SIGQUIT"}),
])
def test_settings_steps_add_history_but_no_layer(step, created_by, settings):
    image = step(ImageBuilder()).build()
    assert image.layers == ()
    assert image.config["history"] == [{"created": "2024-01-01T00:00:00Z",
                                        "created_by": created_by, "empty_layer": True}]
    assert image.config.get("config", {}) == settings
    assert image.config["rootfs"]["diff_ids"] == []


def test_empty_settings_are_left_out():
    config = ImageBuilder().build().config
    assert set(config) == {"architecture", "os", "created", "rootfs", "history"}


def test_env_replaces_and_workdir_joins():
    config = (ImageBuilder().env("A", "1").env("B", "2").env("A", "3")
              .workdir("/srv").workdir("app").workdir("../lib").build().config["config"])
    assert config["Env"] == ["A=3", "B=2"]
    assert config["WorkingDir"] == "/srv/lib"


def test_workdir_can_create_the_directory_like_buildkit():
    image = ImageBuilder().workdir("/data", create=True).build()
    assert len(image.layers) == 1
    assert image.config["history"][0].get("empty_layer") is None
    assert image.layers[0].uncompressed_size == 0


def test_default_path_only_when_asked():
    assert "config" not in ImageBuilder().build().config
    env = ImageBuilder(default_path=True).env("A", "1").build().config["config"]["Env"]
    assert env == ["PATH=" + DOCKER_DEFAULT_PATH, "A=1"]
    assert env[0] == "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def test_each_step_may_have_its_own_time():
    later = datetime(2024, 2, 3, 4, 5, 6, 500000, tzinfo=timezone(timedelta(hours=2)))
    image = (ImageBuilder(created="2024-01-01T00:00:00Z")
             .env("A", "1", created=later)
             .add_layer([Entry.file("f")], created_by="COPY f /", created="2024-03-01T00:00:00Z")
             .build(created="2024-04-01T00:00:00Z"))
    assert [h["created"] for h in image.config["history"]] == [
        "2024-02-03T02:05:06.5Z", "2024-03-01T00:00:00Z"]
    assert image.config["created"] == "2024-04-01T00:00:00Z"
    with pytest.raises(ValueError, match="RFC 3339"):
        ImageBuilder(created="yesterday")
    with pytest.raises(ValueError, match="time zone"):
        ImageBuilder(created=datetime(2024, 1, 1))


def test_size_is_the_sum_of_file_bytes():
    image = redis_like()
    files = sum(len(e.data) for e in BASE_FILES + APP_FILES)
    assert image.size == files == sum(l.uncompressed_size for l in image.layers)


def test_add_layer_takes_a_ready_layer_and_annotations_go_in_the_manifest():
    layer = Layer.from_entries([Entry.file("a", b"x")], compression="none")
    image = ImageBuilder().add_layer(layer, created_by="COPY a /").build(
        annotations={"org.opencontainers.image.ref.name": "demo"})
    assert image.layers == (layer,)
    assert image.manifest["layers"][0]["mediaType"] == mediatypes.OCI_LAYER
    assert image.manifest["annotations"] == {"org.opencontainers.image.ref.name": "demo"}


def test_base_image_is_inherited():
    base = (ImageBuilder(platform="linux/arm64/v8")
            .add_layer(BASE_FILES, created_by="ADD rootfs.tar / # buildkit")
            .env("PATH", "/bin").cmd(["sh"]).build())
    child = redis_like(base=base)
    assert child.platform == ("linux", "arm64", "v8")
    assert child.layers[:1] == base.layers
    assert child.diff_ids[:1] == base.diff_ids
    assert child.chain_ids[:1] == base.chain_ids          # so Docker shares that layer
    assert child.config["history"][:3] == base.config["history"]
    assert child.config["config"]["Env"] == ["PATH=/bin", "REDIS_VERSION=7.2.4"]
    # ENTRYPOINT drops the base's CMD, the child's own CMD comes after it
    assert child.config["config"]["Cmd"] == ["redis-server"]
    no_cmd = ImageBuilder(base=base).entrypoint(["/init"]).build()
    assert "Cmd" not in no_cmd.config["config"]
    assert base.config["config"]["Cmd"] == ["sh"]          # the base is untouched
    with pytest.raises(ValueError, match="differs"):
        ImageBuilder(platform="linux/amd64", base=base)


def test_images_differing_at_the_top_share_their_bottom_chain():
    one = redis_like(files=[Entry.file("app", b"1")])
    two = redis_like(files=[Entry.file("app", b"2")])
    assert one.chain_ids[0] == two.chain_ids[0]
    assert one.chain_ids[1] != two.chain_ids[1]


def test_index_with_two_platforms():
    amd64 = redis_like(platform=("linux", "amd64", None))
    arm64 = redis_like(platform="linux/arm64/v8")
    index = build_index([amd64, arm64], annotations={"org.opencontainers.image.version": "1"})
    document = index.index
    assert index.media_type == document["mediaType"] == mediatypes.OCI_INDEX
    assert document["schemaVersion"] == 2
    assert document["manifests"] == [
        {"mediaType": mediatypes.OCI_MANIFEST, "digest": amd64.digest,
         "size": len(amd64.manifest_bytes),
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": mediatypes.OCI_MANIFEST, "digest": arm64.digest,
         "size": len(arm64.manifest_bytes),
         "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
    ]
    assert document["annotations"] == {"org.opencontainers.image.version": "1"}
    assert index.digest == digest.compute(index.manifest_bytes)
    assert index.images == (amd64, arm64)
    assert index.blobs == {**amd64.blobs, **arm64.blobs}
    assert index.manifests == {amd64.digest: amd64.manifest_bytes,
                               arm64.digest: arm64.manifest_bytes}
    # same files: the layers are shared, only the configs differ
    assert amd64.layers == arm64.layers and amd64.id != arm64.id
    assert build_index([amd64, arm64]).digest == build_index([amd64, arm64]).digest
    with pytest.raises(ValueError, match="two images for linux/amd64"):
        build_index([amd64, redis_like()])


@pytest.mark.parametrize("bad", ["linux", "/amd64", ("linux",), "linux/arm64/v8/x"])
def test_bad_platforms(bad):
    with pytest.raises(ValueError, match="platform"):
        ImageBuilder(platform=bad)
