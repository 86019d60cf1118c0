"""`imgkit.history()` lists build steps newest first, as `docker history` does."""

from __future__ import annotations

import json

import pytest

from imgkit import history
from imgkit.api.host import Host
from imgkit.build import BUILDKIT_COMMENT, ImageBuilder
from imgkit.errors import ImageNotFoundError
from imgkit.lab import recipes
from imgkit.store import store_built_image
from imgkit.tarlayer import Entry

from .conftest import NOW

REDIS = "\n".join(line.removesuffix("|") for line in """\
IMAGE          CREATED       CREATED BY                                      SIZE      COMMENT
b5671a2a6a49   3 weeks ago   LABEL org.opencontainers.image.title=redis o…   0B        |
<missing>      3 weeks ago   CMD ["redis-server"]                            0B        |
<missing>      3 weeks ago   EXPOSE map[6379/tcp:{}]                         0B        |
<missing>      3 weeks ago   ENTRYPOINT ["docker-entrypoint.sh"]             0B        |
<missing>      3 weeks ago   COPY docker-entrypoint.sh /usr/local/bin/ # …   191B      |
<missing>      3 weeks ago   WORKDIR /data                                   0B        |
<missing>      3 weeks ago   VOLUME [/data]                                  0B        |
<missing>      3 weeks ago   RUN /bin/sh -c set -eux; apk add --no-cache …   2.25MB    |
<missing>      3 weeks ago   ENV REDIS_VERSION=7.2.5                         0B        |
<missing>      3 weeks ago   RUN /bin/sh -c addgroup -S -g 1000 redis && …   312B      |
<missing>      5 weeks ago   CMD ["/bin/sh"]                                 0B        |
<missing>      5 weeks ago   LABEL org.opencontainers.image.title=alpine …   0B        |
<missing>      5 weeks ago   ADD alpine-minirootfs-3.20.0-x86_64.tar.gz /…   3.46MB    |""".splitlines())


@pytest.fixture(scope="module")
def redis_amd64():
    return recipes.redis().images[0]


@pytest.fixture
def redis_host(tmp_path, redis_amd64):
    host = Host(tmp_path / "home")
    store_built_image(host.store, redis_amd64, ["docker.io/library/redis:latest"])
    return host


def test_a_pulled_image_shows_its_id_on_top_and_missing_below(redis_host, redis_amd64):
    steps = history("redis", host=redis_host, now=NOW)
    assert repr(steps) == REDIS
    assert steps[0].image_id == redis_amd64.id and steps[0].tags == ("redis:latest",)
    assert {row.image_id for row in steps[1:]} == {"<missing>"}


def test_sizes_are_the_layers_made_and_zero_for_settings_steps(redis_host, redis_amd64):
    steps = history("redis", host=redis_host, now=NOW)
    made = [row.size for row in reversed(steps) if not row.empty_layer]
    assert made == [layer.uncompressed_size for layer in redis_amd64.layers]
    assert all(row.size == 0 for row in steps if row.empty_layer)
    assert len(steps) == len(redis_amd64.config["history"])


def test_no_trunc_and_quiet(redis_host, redis_amd64):
    steps = history("redis", host=redis_host, now=NOW, no_trunc=True)
    lines = steps.table().splitlines()
    assert lines[1].startswith(redis_amd64.id + "   3 weeks ago   LABEL org.opencontainers")
    assert "apk del .build-deps; mkdir /data && chown redis:redis /data # buildkit  " in lines[8]
    assert lines[8].endswith("   2.25MB    ")
    assert "…" not in steps.table()
    assert steps.ids()[:2] == [redis_amd64.id, "<missing>"]
    assert history("redis", host=redis_host).ids()[0] == redis_amd64.id[7:19]


def test_human_false_prints_dates_and_bytes(redis_host):
    lines = history("redis", host=redis_host, human=False).table().splitlines()
    assert lines[0] == ("IMAGE          CREATED AT             CREATED BY" + " " * 38
                        + "SIZE      COMMENT")
    assert lines[-1] == ("<missing>      2024-05-22T18:18:12Z   "
                         "ADD alpine-minirootfs-3.20.0-x86_64.tar.gz /…   3459717   ")


def test_json_lines(redis_host):
    rows = [json.loads(line) for line in history("redis", host=redis_host, now=NOW)
            .to_json().splitlines()]
    assert rows[1] == {"Comment": "", "CreatedAt": "2024-06-10T10:00:00Z",
                       "CreatedBy": 'CMD ["redis-server"]', "CreatedSince": "3 weeks ago",
                       "ID": "<missing>", "Size": "0B"}


def test_tabs_become_spaces_and_comments_show(tmp_path):
    built = (ImageBuilder(created="2024-06-30T12:00:00Z", comment=BUILDKIT_COMMENT)
             .add_layer([Entry.file("a", b"12345")], created_by="RUN\tmake\tall # buildkit")
             .env("A", "1", created="1970-01-01T00:00:00Z")
             .build())
    host = Host(tmp_path / "home")
    store_built_image(host.store, built, ["docker.io/library/made:1"])
    assert history("made:1", host=host, now=NOW).table().splitlines() == [
        "IMAGE          CREATED        CREATED BY                SIZE      COMMENT",
        f"{built.id[7:19]}   N/A            ENV A=1                   0B        buildkit.dockerfile.v0",
        "<missing>      24 hours ago   RUN make all # buildkit   5B        buildkit.dockerfile.v0",
    ]


def test_images_built_on_a_local_parent_show_the_parents_id(tmp_path):
    # Each image added one step on its parent (as `docker commit` and the legacy builder do):
    # Docker shows every image of the chain, one per row.
    host = Host(tmp_path / "home")
    base = ImageBuilder(created="2024-06-01T00:00:00Z").add_layer(
        [Entry.file("base", b"b")], created_by="ADD base /").build()
    mid = ImageBuilder(base=base, created="2024-06-02T00:00:00Z").env("MID", "1").build()
    top = ImageBuilder(base=mid, created="2024-06-03T00:00:00Z").add_layer(
        [Entry.file("top", b"tt")], created_by="COPY top /").cmd(["/top"]).build()
    store_built_image(host.store, base, ["docker.io/library/base:1"])
    store_built_image(host.store, mid, [], parent=base.id)
    store_built_image(host.store, top, ["docker.io/library/top:1"], parent=mid.id)
    steps = history("top:1", host=host, now=NOW)
    assert [row.image_id for row in steps] == [top.id, "<missing>", mid.id, base.id]
    assert [row.tags for row in steps] == [("top:1",), (), (), ("base:1",)]
    assert [row.created_by for row in steps] == ['CMD ["/top"]', "COPY top /", "ENV MID=1",
                                                 "ADD base /"]


def test_a_parent_missing_from_the_store_ends_the_chain(tmp_path):
    host = Host(tmp_path / "home")
    base = ImageBuilder().add_layer([Entry.file("base", b"b")], created_by="ADD base /").build()
    top = ImageBuilder(base=base).env("X", "1").build()
    store_built_image(host.store, top, ["docker.io/library/top:1"], parent="sha256:" + "0" * 64)
    assert history("top:1", host=host).ids() == [top.id[7:19], "<missing>"]


def test_unknown_image(redis_host):
    with pytest.raises(ImageNotFoundError, match="^No such image: nope:latest$"):
        history("nope", host=redis_host)


def test_html_repr(redis_host):
    page = history("redis", host=redis_host, now=NOW)._repr_html_()
    assert page.count("<tr>") == 14 and "&lt;missing&gt;" in page
