"""Pictures through Graphviz's dot, inline SVG for Jupyter, and the text tree without dot."""

from __future__ import annotations

import html
import re
import subprocess
import sys

import pytest

import imgkit.graph as graphs
from imgkit.api import Host
from imgkit.build import ImageBuilder
from imgkit.graph import INSTALL_HINT, GraphFormatError, GraphvizMissingError
from imgkit.store import store_built_image
from imgkit.tarlayer import Entry

from .helpers import built


def svg_size(svg: str) -> tuple[float, float]:
    found = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert found, svg[:300]
    return float(found.group(1)), float(found.group(2))


def test_the_svg_shows_layers_images_and_sharing(course):
    svg = graphs.graph(host=course)._repr_svg_()
    assert svg is not None and svg.lstrip().startswith("<?xml")
    svg = html.unescape(svg)                                # dot writes "-" as &#45;
    for text in ("redis:latest", "python:3.12-alpine", "alpine:3.20", "shared by 3 images",
                 "shared by 2 images", built("redis:latest").chain_ids[1][7:19],
                 "COPY docker-entrypoint.sh /usr/local/bi…", "metadata: LABEL, CMD"):
        assert text in svg, text
    width, _ = svg_size(svg)
    assert width < 1000


def test_a_graph_calls_itself_in_jupyter_and_in_the_terminal(course):
    g = graphs.graph("redis", host=course)
    assert repr(g) == g.text()                              # dot is installed: no advice
    assert g.text().splitlines()[2].startswith("● 3f687c8cb603  3.46MB  ADD alpine-minirootfs")
    assert "→ redis:latest (b5671a2a6a49, 5.71MB)" in g.text()


def test_the_package_is_callable_like_the_verbs(course):
    import imgkit

    assert imgkit.graph.stack is graphs.stack
    g = imgkit.graph("redis", host=course)
    assert isinstance(g, graphs.Graph) and g.title == "Layers of redis"


def test_without_dot_a_graph_is_a_text_tree_with_install_advice(course, no_dot):
    g = graphs.graph(host=course)
    assert g._repr_svg_() is None                           # Jupyter then shows repr()
    assert repr(g) == g.text() + "\n" + INSTALL_HINT
    assert "sudo apt-get install graphviz" in repr(g) and "conda install -c conda-forge graphviz" in repr(g)
    with pytest.raises(GraphvizMissingError, match="install graphviz"):
        g.save(course.home / "g.svg")
    assert g.save(course.home / "g.dot").read_text() == g.to_dot()   # DOT text needs no dot
    comparison = graphs.before_after(lambda: None, host=course)
    assert comparison._repr_svg_() is None and repr(comparison).endswith(INSTALL_HINT)


def test_save_writes_svg_png_and_dot_and_refuses_other_names(course, tmp_path):
    g = graphs.stack("mongo:4.2.24", host=course)
    assert g.save(tmp_path / "m.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "m.png").exists() is False
    assert g.save(tmp_path / "m.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert g.save(tmp_path / "m.dot").read_text() == g.to_dot()
    with pytest.raises(GraphFormatError, match=r"cannot write a graph to m\.jpg: the name must end in \.dot"):
        g.save(tmp_path / "m.jpg")
    with pytest.raises(ValueError):
        g.save(tmp_path / "m")


def test_twenty_images_stay_readable(tmp_path):
    host = Host(tmp_path / "home")
    bases = []
    for b in range(4):
        builder = ImageBuilder(created="2024-01-01T00:00:00Z")
        builder.add_layer([Entry.file(f"base{b}", b"x" * 1000 * (b + 1))], created_by=f"ADD base{b}.tar /")
        bases.append(builder.build())
        store_built_image(host.store, bases[-1], [f"docker.io/library/base{b}:latest"])
    for i in range(16):
        builder = ImageBuilder(created="2024-01-02T00:00:00Z", base=bases[i % 4])
        for k in range(1 + i % 3):
            builder.add_layer([Entry.file(f"app{i}-{k}", b"y" * (100 * i + k))],
                              created_by=f"COPY app{i}-{k} /srv/app{i}/")
        builder.env("APP", str(i))
        store_built_image(host.store, builder.build(), [f"docker.io/team/app{i}:1.0"])
    g = graphs.graph(host=host)
    assert len(g.images) == 20 and g.notes == ("20 images, 35 layers, 4 shared",)
    assert "rankdir=LR" in g.to_dot()                       # on its side: scrolls down, not across
    svg = html.unescape(g.svg())
    width, height = svg_size(svg)
    assert width < 700 and height > width
    assert all(f"team/app{i}:1.0" in svg for i in range(16))
    # Forced upright, the same graph is far wider: that is why it turns.
    g.rankdir = "TB"
    assert svg_size(g.svg())[0] > 2 * width


def test_importing_imgkit_graph_loads_no_graphviz():
    code = "import sys, imgkit.graph; print('graphviz' in sys.modules, 'requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_before_after_draws_two_boxes_side_by_side(tmp_path):
    from imgkit.api.removal import rmi

    from .helpers import full

    host = Host(tmp_path / "home")
    for name in ("alpine:3.20", "redis:latest"):
        store_built_image(host.store, built(name), [full(name)])
    comparison = graphs.before_after(lambda: rmi("redis", host=host), label="rmi redis", host=host)
    dot = comparison.to_dot()
    assert "subgraph cluster_b {" in dot and "subgraph cluster_a {" in dot
    svg = html.unescape(comparison._repr_svg_())
    assert "Before and after: rmi redis" in svg and "after rmi redis" in svg
    width, height = svg_size(svg)
    assert width > height                                   # side by side


def test_before_after_of_many_images_puts_one_above_the_other(course):
    from imgkit.api.removal import rmi

    comparison = graphs.before_after(lambda: rmi("hello-world", host=course), host=course)
    width, height = svg_size(comparison.svg())
    assert "rankdir=LR" in comparison.to_dot() and height > width
