"""The filter playground, driven from Python: typing a filter redraws the images table."""

from __future__ import annotations

import functools

import pytest

from imgkit.api.host import Host
from imgkit.build import ImageBuilder
from imgkit.store import store_built_image
from imgkit.tarlayer import Entry
from imgkit.widgets import FilterPlayground, filter_playground
from imgkit.widgets.filterplayground import split_filters


def _image(name: str, created: str, label: str):
    builder = ImageBuilder(created=created)
    builder.add_layer([Entry.file(f"{name}.txt", name.encode())], created_by=f"COPY {name}.txt /")
    builder.label("tier", label)
    return builder.build()


@functools.lru_cache(maxsize=None)
def built():
    return (_image("web", "2024-06-01T00:00:00Z", "web"), _image("db", "2024-05-01T00:00:00Z", "db"),
            _image("old", "2024-04-01T00:00:00Z", "web"))


@pytest.fixture
def host(tmp_path) -> Host:
    host = Host(tmp_path / "home")
    web, db, old = built()
    store_built_image(host.store, web, ["docker.io/library/web:1"])
    store_built_image(host.store, db, ["docker.io/library/db:5"])
    store_built_image(host.store, old, [])                  # dangling: no name left
    return host


def rows(playground: FilterPlayground) -> list[tuple[str, str]]:
    return [(row.repository, row.tag) for row in playground.images]


def test_no_filter_lists_every_image(host):
    playground = filter_playground(host)
    assert rows(playground) == [("web", "1"), ("db", "5"), ("<none>", "<none>")]
    assert "imgkit-filters" in playground._dom_classes
    assert "web" in playground.output.value and "<pre" in playground.output.value
    assert repr(playground).splitlines()[0] == "$ docker images"


def test_typing_dangling_true_updates_the_table(host):
    playground = filter_playground(host)
    playground.text.value = "dangling=true"
    assert rows(playground) == [("<none>", "<none>")]
    assert "web" not in playground.output.value
    assert "$ docker images --filter dangling=true" in playground.command.value
    assert repr(playground).splitlines()[0] == "$ docker images --filter dangling=true"
    assert repr(playground).splitlines()[1].split() == ["REPOSITORY", "TAG", "IMAGE", "ID",
                                                        "CREATED", "SIZE"]


def test_several_filters_all_hold(host):
    playground = filter_playground(host, "label=tier=web  --filter dangling=false")
    assert rows(playground) == [("web", "1")]
    playground.text.value = "-f reference='d*'"
    assert rows(playground) == [("db", "5")]


def test_a_bad_filter_shows_dockers_message_instead_of_a_table(host):
    playground = filter_playground(host)
    playground.text.value = "x=1"
    assert playground.images is None
    assert playground.error == "invalid filter 'x'"
    assert "invalid filter &#x27;x&#x27;" in playground.output.value
    assert repr(playground) == "$ docker images --filter x=1\ninvalid filter 'x'"
    playground.text.value = "dangling"
    assert playground.error == "bad format of filter (expected name=value)"
    playground.text.value = "dangling=maybe"
    assert playground.error == "invalid filter 'dangling=[maybe]'"
    playground.text.value = ""
    assert playground.error == "" and len(playground.images) == 3


def test_refresh_sees_a_new_image(host, tmp_path):
    playground = filter_playground(host, "reference=new")
    assert rows(playground) == []
    store_built_image(host.store, _image("new", "2024-07-01T00:00:00Z", "web"),
                      ["docker.io/library/new:latest"])
    playground.refresh()
    assert rows(playground) == [("new", "latest")]


def test_split_filters_reads_what_a_command_line_would():
    assert split_filters("dangling=true label=a") == ["dangling=true", "label=a"]
    assert split_filters('--filter "label=a b" -f=x=1 --filter=y=2') == ["label=a b", "x=1", "y=2"]
    assert split_filters('label="unclosed') == ['label="unclosed']
    assert split_filters("   ") == []
