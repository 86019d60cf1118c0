"""`imgkit.images()` prints what `docker images` prints, for a fixed store and a fixed now."""

from __future__ import annotations

import json

import pytest

from imgkit import images
from imgkit.errors import ImageNotFoundError
from imgkit.filters import InvalidFilterError

from .conftest import NOW

DEFAULT = """\
REPOSITORY               TAG       IMAGE ID       CREATED             SIZE
app                      1.0       064074e232c3   About an hour ago   1.23kB
app                      latest    064074e232c3   About an hour ago   1.23kB
tools/cli                2         6a50c001738a   11 days ago         778kB
<none>                   <none>    d9a1103f1d87   2 months ago        500B
localhost:5000/team/db   15        dc9d2eb92502   18 months ago       1.5MB
ubuntu                   <none>    45b51bac434d   2 years ago         2kB"""


def listing(fixed, *args, **kwargs):
    return images(*args, host=fixed.host, now=NOW, **kwargs)


def test_default_table(fixed):
    result = listing(fixed)
    assert repr(result) == DEFAULT
    assert [(r.repository, r.tag) for r in result] == [
        ("app", "1.0"), ("app", "latest"), ("tools/cli", "2"), ("<none>", "<none>"),
        ("localhost:5000/team/db", "15"), ("ubuntu", "<none>")]
    assert result[0].image_id == fixed.ids["app"] and result[0].size == 1230


def test_all_shows_the_intermediate_image(fixed):
    lines = listing(fixed, all=True).table().splitlines()
    assert lines[3] == "<none>                   <none>    479bf19160af   2 hours ago         1kB"
    assert len(lines) == 8


def test_quiet_ids_repeat_an_image_with_two_tags(fixed):
    result = listing(fixed)
    assert result.ids() == ["064074e232c3", "064074e232c3", "6a50c001738a", "d9a1103f1d87",
                            "dc9d2eb92502", "45b51bac434d"]
    assert result.ids(unique=True)[:2] == ["064074e232c3", "6a50c001738a"]
    assert result.ids(no_trunc=True)[0] == fixed.ids["app"]


def test_digests_column(fixed):
    digest = fixed.ids["ubuntu_digest"]
    lines = listing(fixed, digests=True).table().splitlines()
    assert lines[0] == ("REPOSITORY               TAG       DIGEST" + " " * 68
                        + "IMAGE ID       CREATED             SIZE")
    assert lines[1] == ("app                      1.0       <none>" + " " * 68
                        + "064074e232c3   About an hour ago   1.23kB")
    assert lines[-1] == f"ubuntu                   <none>    {digest}   45b51bac434d   2 years ago         2kB"


def test_no_trunc_shows_whole_ids(fixed):
    lines = listing(fixed, no_trunc=True).table().splitlines()
    assert lines[0] == ("REPOSITORY               TAG       IMAGE ID" + " " * 66
                        + "CREATED             SIZE")
    assert f"   {fixed.ids['app']}   About an hour ago   1.23kB" in lines[1]


def test_a_tag_with_a_digest_of_its_repository(fixed):
    from imgkit.store import add_digest_reference

    digest = "sha256:" + "ab" * 32
    with fixed.host.store.transaction() as records:
        add_digest_reference(records, f"docker.io/library/app@{digest}", fixed.ids["app"])
    plain = listing(fixed)
    assert [r.tag for r in plain][:2] == ["1.0", "latest"]      # the digest makes no row of its own
    assert plain[0].digest == "<none>"
    with_digests = listing(fixed, digests=True)
    assert [(r.tag, r.digest) for r in with_digests][:2] == [("1.0", digest), ("latest", digest)]


def test_json_lines(fixed):
    lines = listing(fixed).to_json().splitlines()
    assert lines[0] == (
        '{"Containers":"0","CreatedAt":"2024-07-01 11:00:00 +0000 UTC",'
        '"CreatedSince":"About an hour ago","Digest":"\\u003cnone\\u003e","ID":"064074e232c3",'
        '"Repository":"app","SharedSize":"N/A","Size":"1.23kB","Tag":"1.0","UniqueSize":"N/A"}')
    rows = [json.loads(line) for line in lines]
    assert rows[-1]["Repository"] == "ubuntu" and rows[-1]["Tag"] == "<none>"
    assert rows[-1]["Digest"] == ""            # a digest-only row without --digests


def test_empty_store_prints_the_header_only(tmp_path):
    from imgkit.api.host import Host

    result = images(host=Host(tmp_path / "empty"), now=NOW)
    assert repr(result) == "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE"
    assert result.ids() == [] and result.to_json() == ""


def test_html_repr(fixed):
    page = listing(fixed)._repr_html_()
    assert page.startswith("<table>") and "&lt;none&gt;" in page and "About an hour ago" in page


# --- filters, through images() -------------------------------------------------------------

def tags(result):
    return [f"{r.repository}:{r.tag}" for r in result]


@pytest.mark.parametrize("kwargs,expected", [
    ({"reference": "app"}, ["app:1.0", "app:latest"]),
    ({"reference": "app:1.0"}, ["app:1.0"]),
    ({"reference": "app:l*"}, ["app:latest"]),
    ({"reference": "*"}, ["app:1.0", "app:latest", "ubuntu:<none>"]),      # * stops at /
    ({"reference": "*/*"}, ["tools/cli:2"]),
    ({"reference": "*/*/*:15"}, ["localhost:5000/team/db:15"]),
    ({"reference": "tools/*"}, ["tools/cli:2"]),
    ({"reference": "docker.io/library/app:1.0"}, ["app:1.0"]),          # full names match too
    ({"reference": "nothing"}, []),
    ({"filters": ["reference=app:1.0", "reference=tools/*"]}, ["app:1.0", "tools/cli:2"]),
    ({"filters": ["dangling=true"]}, ["<none>:<none>", "ubuntu:<none>"]),
    ({"filters": ["dangling=1"], "all": True}, ["<none>:<none>", "ubuntu:<none>"]),   # not the parent
    ({"filters": ["dangling=false"]},
     ["app:1.0", "app:latest", "tools/cli:2", "localhost:5000/team/db:15", "ubuntu:<none>"]),
    ({"filters": ["label=tier"]}, ["app:1.0", "app:latest", "tools/cli:2", "<none>:<none>"]),
    ({"filters": ["label=tier=web"]}, ["app:1.0", "app:latest", "<none>:<none>"]),
    ({"filters": ["label=tier", "label=team=tools"]}, ["tools/cli:2"]),
    ({"filters": ["label=tier=web", "dangling=true"]}, ["<none>:<none>"]),        # AND across keys
    ({"filters": ["label=tier=web"], "reference": "app"}, ["app:1.0", "app:latest"]),
    ({"filters": ["before=tools/cli:2"]},
     ["<none>:<none>", "localhost:5000/team/db:15", "ubuntu:<none>"]),
    ({"filters": ["since=tools/cli:2"]}, ["app:1.0", "app:latest"]),
    ({"filters": ["since=6a50c001738a"]}, ["app:1.0", "app:latest"]),             # an ID prefix
    ({"filters": ["since=tools/cli:2", "before=app"]}, []),                      # app is excluded
    ({"filters": ["since=tools/cli:2"], "all": True}, ["app:1.0", "app:latest", "<none>:<none>"]),
    ({"filters": ["before=app:latest", "before=tools/cli:2"]},                  # the oldest counts
     ["<none>:<none>", "localhost:5000/team/db:15", "ubuntu:<none>"]),
    ({"filters": ["since=localhost:5000/team/db:15", "since=tools/cli:2"]},     # the newest counts
     ["app:1.0", "app:latest"]),
    ({"filters": ["until=24h"]},
     ["tools/cli:2", "<none>:<none>", "localhost:5000/team/db:15", "ubuntu:<none>"]),
    ({"filters": ["until=1h"]},                                                 # strictly before
     ["tools/cli:2", "<none>:<none>", "localhost:5000/team/db:15", "ubuntu:<none>"]),
    ({"filters": ["until=59m"]},
     ["app:1.0", "app:latest", "tools/cli:2", "<none>:<none>", "localhost:5000/team/db:15",
      "ubuntu:<none>"]),
    ({"filters": ["until=2024-06-01T00:00:00Z"]},
     ["<none>:<none>", "localhost:5000/team/db:15", "ubuntu:<none>"]),
    ({"filters": ["until=2024-06-20T12:00:00Z"]},                              # cli's own time
     ["<none>:<none>", "localhost:5000/team/db:15", "ubuntu:<none>"]),
    ({"filters": ["until=1719835200"]},                                         # NOW as Unix time
     ["app:1.0", "app:latest", "tools/cli:2", "<none>:<none>", "localhost:5000/team/db:15",
      "ubuntu:<none>"]),
    ({"filters": {"label": ["tier"], "until": "720h"}}, ["<none>:<none>"]),
])
def test_filters(fixed, kwargs, expected):
    assert tags(listing(fixed, **kwargs)) == expected


@pytest.mark.parametrize("filters,error,message", [
    (["dangling"], InvalidFilterError, "bad format of filter (expected name=value)"),
    (["colour=red"], InvalidFilterError, "invalid filter 'colour'"),
    (["dangling=true", "dangling=false"], InvalidFilterError,
     "invalid filter 'dangling=[false true]'"),
    (["before=nope"], ImageNotFoundError, "No such image: nope:latest"),
    (["since=abc123"], ImageNotFoundError, "No such image: abc123:latest"),
    (["until=soon"], InvalidFilterError, "invalid value for 'until' filter: failed to parse "
     'value as time or duration: invalid seconds "soon": invalid syntax'),
    (["reference=app["], InvalidFilterError, "syntax error in pattern"),
])
def test_filter_errors(fixed, filters, error, message):
    with pytest.raises(error) as err:
        listing(fixed, filters=filters)
    assert str(err.value) == message


def test_a_reference_filter_keeps_only_matching_names_of_an_image(fixed):
    from imgkit.store import add_digest_reference

    digest = "sha256:" + "cd" * 32
    with fixed.host.store.transaction() as records:
        add_digest_reference(records, f"docker.io/library/app@{digest}", fixed.ids["app"])
    # "app:1.0" does not match the digest reference, so --digests has none to show (as in Docker).
    assert [(r.tag, r.digest) for r in listing(fixed, "app:1.0", digests=True)] == [("1.0", "<none>")]
    assert [(r.tag, r.digest) for r in listing(fixed, "app", digests=True)] == [
        ("1.0", digest), ("latest", digest)]


def test_containers_are_counted_in_json(fixed):
    from imgkit.store import ContainerRecord

    with fixed.host.store.transaction() as records:
        records.containers["c1"] = ContainerRecord(
            id="c1", name="web", image=fixed.ids["cli"], image_reference="tools/cli:2",
            command=["/cli"], created="2024-07-01T00:00:00Z")
    rows = [json.loads(line) for line in listing(fixed, "tools/*").to_json().splitlines()]
    assert rows[0]["Containers"] == "1"


def test_unknown_and_zero_creation_times(tmp_path):
    # No "created": Docker counts from 1970. Go's zero time (year 1): Docker shows N/A.
    from dataclasses import replace

    from imgkit.api.host import Host
    from imgkit.build import ImageBuilder
    from imgkit.store import store_built_image
    from imgkit.tarlayer import Entry

    host = Host(tmp_path / "home")
    zero = ImageBuilder(created="0001-01-01T00:00:00Z").add_layer([Entry.file("z", b"z")]).build()
    record = store_built_image(host.store, zero, ["docker.io/library/zero:1"])
    undated = "sha256:" + "1" * 64
    with host.store.transaction() as records:     # a record as if its config had no "created"
        records.images[undated] = replace(record, id=undated, created="")
        records.references["docker.io/library/undated:1"] = undated
    result = images(host=host, now=NOW)
    assert [(r.repository, r.created_unix) for r in result] == [
        ("undated", 0), ("zero", -62135596800)]
    assert result.table().splitlines()[1:] == [
        "undated      1         111111111111   54 years ago   1B",
        f"zero         1         {zero.id[7:19]}   N/A            1B"]
    assert json.loads(result.to_json().splitlines()[1])["CreatedSince"] == ""
