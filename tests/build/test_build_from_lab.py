"""``FROM`` a course image: pulled from the lab when missing, its layers shared, one layer per COPY/ADD."""

from __future__ import annotations

import pytest
from buildhelpers import history, image_config, layer_files

from imgkit import digest as digests
from imgkit.api.building import build
from imgkit.api.host import Host

pytestmark = pytest.mark.registry

DOCKERFILE = """\
FROM alpine:3.20
LABEL org.example.app=hello
COPY app.py /app/
ENV GREETING=hi
COPY --chown=nobody:nogroup app.py /tmp/
ADD site.tar /srv/www/
WORKDIR /etc
WORKDIR /app/data
EXPOSE 8000
CMD ["python3", "/app/app.py"]
"""


@pytest.fixture
def lab_host(lab, tmp_path) -> Host:
    """An empty host whose docker.io mirror is the lab."""
    return Host(tmp_path / "home", mirrors=[lab.url])


@pytest.fixture
def app_context(context):
    import io
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo("index.html")
        info.size, info.mode = 5, 0o644
        archive.addfile(info, io.BytesIO(b"hello"))
    return context({"app.py": "print('hi')\n", "site.tar": (out.getvalue(), 0o644)}, DOCKERFILE)


def test_from_pulls_the_missing_base_and_shares_its_layers(lab_host, app_context):
    result = build(app_context, tag="hello:1.0", host=lab_host)
    records = lab_host.store.records()
    base_id = records.references["docker.io/library/alpine:3.20"]
    base, image = records.images[base_id], records.images[result.image_id]

    # The base layers are reused as they are: same ChainIDs, so shared on disk and in `system df`.
    assert image.layers[:len(base.layers)] == base.layers
    # Exactly one more layer per COPY/ADD, plus the WORKDIR that had to create /app/data.
    assert len(image.layers) == len(base.layers) + 4
    assert image.parent == base_id
    base_history = history(lab_host, base_id)
    assert history(lab_host, result.image_id) == base_history + [
        ("LABEL org.example.app=hello", True),
        ("COPY app.py /app/ # buildkit", False),
        ("ENV GREETING=hi", True),
        ("COPY --chown=nobody:nogroup app.py /tmp/ # buildkit", False),
        ("ADD site.tar /srv/www/ # buildkit", False),
        ("WORKDIR /etc", True),                     # /etc was there: nothing to commit
        ("WORKDIR /app/data", False),
        ("EXPOSE map[8000/tcp:{}]", True),
        ('CMD ["python3" "/app/app.py"]', True),
    ]
    # The transcript has pull's lines inside the FROM step, without the CLI-only ones.
    lines = result.lines
    assert lines[0] == "Step 1/10 : FROM alpine:3.20"
    assert lines[1] == "3.20: Pulling from library/alpine"
    assert "Status: Downloaded newer image for alpine:3.20" in lines
    assert f" ---> {digests.short(base_id)}" in lines
    assert "docker.io/library/alpine:3.20" not in lines
    assert lines[-1] == "Successfully tagged hello:1.0"


def test_copy_respects_the_base_files(lab_host, app_context):
    image_id = build(app_context, host=lab_host).image_id
    tmp_layer = layer_files(lab_host, image_id, -3)
    # nobody (65534) and nogroup (65533) are read from alpine's /etc/passwd and /etc/group;
    # /tmp keeps its sticky mode.
    assert tmp_layer["tmp/app.py"][1:4] == (0o644, 65534, 65533)
    assert tmp_layer["tmp"][:2] == ("dir", 0o1777)
    assert layer_files(lab_host, image_id, -2)["srv/www/index.html"][4] == b"hello"
    config = image_config(lab_host, image_id)
    assert config["config"]["WorkingDir"] == "/app/data"
    assert config["config"]["Cmd"] == ["python3", "/app/app.py"]
    assert config["created"] == image_config(
        lab_host, lab_host.store.records().references["docker.io/library/alpine:3.20"])["created"]


def test_a_base_already_in_the_store_is_not_pulled_and_gives_the_same_image(lab, lab_host, app_context,
                                                                           tmp_path):
    first = build(app_context, host=lab_host)
    again = build(app_context, host=lab_host)
    assert not any("Pulling from" in line for line in again.lines)
    assert again.image_id == first.image_id
    other = build(app_context, host=Host(tmp_path / "other", mirrors=[lab.url]))
    assert other.image_id == first.image_id        # another machine, the same digest
