"""`imgkit graph`: text tree by default, pictures with -o, clear errors."""

from __future__ import annotations

import pytest

from imgkit import cli

from .helpers import assert_golden


def run(course, *args):
    return cli.main(["--home", str(course.home), "graph", *args])


def test_without_output_it_prints_the_text_tree(course, capsys):
    assert run(course) == 0
    out = capsys.readouterr().out
    assert_golden("store.txt", out)                 # the same tree as Graph.text()


def test_it_writes_svg_png_and_dot_files(course, tmp_path, capsys):
    assert run(course, "redis", "python:3.12-alpine", "-o", str(tmp_path / "g.svg")) == 0
    assert "redis:latest" in (tmp_path / "g.svg").read_text()
    assert run(course, "--view", "rmi", "redis", "-o", str(tmp_path / "g.png")) == 0
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert run(course, "--view", "stack", "redis", "-o", str(tmp_path / "g.dot")) == 0
    assert_golden("stack.dot", (tmp_path / "g.dot").read_text())
    assert capsys.readouterr().out == ""


def test_dot_text_goes_to_standard_output(course, capsys):
    assert run(course, "--view", "rmi", "redis", "--dot") == 0
    assert_golden("rmi-redis.dot", capsys.readouterr().out)


@pytest.mark.parametrize("args, message", [
    (["-o", "g.jpg"], "cannot write a graph to g.jpg: the name must end in .dot, .gv, .svg, .png, .pdf"),
    (["--view", "stack"], "`imgkit graph --view stack` needs exactly one IMAGE"),
    (["--view", "pull", "a", "b"], "`imgkit graph --view pull` needs exactly one IMAGE"),
    (["--view", "rmi"], "`imgkit graph --view rmi` needs at least one IMAGE"),
    (["--platform", "linux/arm64", "redis"], "--platform goes with --view pull"),
    (["nope"], "No such image: nope:latest"),
])
def test_mistakes_get_one_line_and_status_1(course, capsys, args, message):
    assert run(course, *args) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == message and captured.out == ""


def test_without_dot_text_works_and_pictures_say_how_to_get_graphviz(course, tmp_path, capsys, no_dot):
    assert run(course, "redis") == 0
    assert "→ redis:latest" in capsys.readouterr().out
    assert run(course, "-o", str(tmp_path / "g.svg")) == 1
    assert "sudo apt-get install graphviz" in capsys.readouterr().err
    assert not (tmp_path / "g.svg").exists()
    assert run(course, "-o", str(tmp_path / "g.dot")) == 0
