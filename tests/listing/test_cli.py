"""The `imgkit images/inspect/history/tag` commands print what `docker` prints, with its exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from imgkit.api.host import Host
from imgkit.build import ImageBuilder
from imgkit.store import store_built_image
from imgkit.tarlayer import Entry


def run_process(home, *args):
    """Run ``python -m imgkit ARGS`` in a process of its own; return (status, stdout, stderr)."""
    env = {**os.environ, "IMGKIT_HOME": str(home.path), "TZ": "UTC"}
    done = subprocess.run([sys.executable, "-m", "imgkit", *args], capture_output=True,
                          text=True, env=env, timeout=60)
    return done.returncode, done.stdout, done.stderr


_capture = None


@pytest.fixture(autouse=True)
def _in_process(monkeypatch, capsys):
    global _capture
    _capture = (monkeypatch, capsys)
    yield
    _capture = None


def run(home, *args):
    """Run ``imgkit ARGS`` in this process (quicker); return (status, stdout, stderr)."""
    from imgkit.cli import main

    monkeypatch, capsys = _capture
    monkeypatch.setenv("IMGKIT_HOME", str(home.path))
    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as stop:          # argparse's own errors
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def ago(**delta) -> str:
    return (datetime.now(timezone.utc) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A home with web:1 and web:latest (3 hours old), and db:5 (3 days old, labelled)."""
    home = tmp_path_factory.mktemp("cli") / "home"
    host = Host(home)
    web = (ImageBuilder(created=ago(hours=3))
           .add_layer([Entry.file("index.html", b"x" * 1500)], created_by="COPY index.html / # buildkit")
           .cmd(["httpd"]).build())
    db = (ImageBuilder(created=ago(days=3))
          .add_layer([Entry.file("db", b"x" * 77_800)], created_by="ADD db.tar / # buildkit")
          .label("tier", "data").build())
    store_built_image(host.store, web, ["docker.io/library/web:1", "docker.io/library/web:latest"])
    store_built_image(host.store, db, ["docker.io/library/db:5"])
    return SimpleNamespace(path=home, ids={"web": web.id, "db": db.id})


@pytest.fixture
def scratch(tmp_path, home):
    """A copy of ``home`` that a test may change."""
    import shutil

    shutil.copytree(home.path, tmp_path / "home")
    return SimpleNamespace(path=tmp_path / "home", ids=home.ids)


WEB, DB = "web", "db"


def short(home, name):
    return home.ids[name][7:19]


def test_images(home):
    code, out, err = run_process(home, "images")
    assert (code, err) == (0, "")
    assert out == (
        "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n"
        f"web          1         {short(home, WEB)}   3 hours ago   1.5kB\n"
        f"web          latest    {short(home, WEB)}   3 hours ago   1.5kB\n"
        f"db           5         {short(home, DB)}   3 days ago    77.8kB\n")


@pytest.mark.parametrize("args", [("image", "ls"), ("image", "list")])
def test_image_ls_spellings(home, args):
    assert run(home, *args)[1] == run(home, "images")[1]


def test_quiet_repeats_an_image_with_two_tags(home):
    assert run(home, "images", "-q")[1] == (
        f"{short(home, WEB)}\n{short(home, WEB)}\n{short(home, DB)}\n")
    assert run(home, "images", "-q", "--no-trunc")[1].splitlines()[0] == home.ids[WEB]


def test_reference_digests_and_filters(home):
    code, out, _ = run(home, "images", "web:1", "--digests")
    assert out.splitlines() == [
        "REPOSITORY   TAG       DIGEST    IMAGE ID       CREATED       SIZE",
        f"web          1         <none>    {short(home, WEB)}   3 hours ago   1.5kB"]
    assert run(home, "images", "-q", "-f", "label=tier=data")[1] == f"{short(home, DB)}\n"
    assert run(home, "images", "-q", "--filter", "until=24h")[1] == f"{short(home, DB)}\n"
    assert run(home, "images", "-q", "-f", "since=db:5", "-f", "reference=*:latest")[1] == (
        f"{short(home, WEB)}\n")


def test_json_format(home):
    lines = run(home, "images", "--format", "json")[1].splitlines()
    first = json.loads(lines[0])
    assert first["Repository"] == "web" and first["Tag"] == "1" and first["Size"] == "1.5kB"
    assert '"Digest":"\\u003cnone\\u003e"' in lines[0]


@pytest.mark.parametrize("args,code,out,err", [
    (("images", "-f", "dangling"), 125, "",
     'invalid argument "dangling" for "-f, --filter" flag: bad format of filter (expected '
     "name=value)\nSee 'imgkit images --help'.\n"),
    (("images", "-f", "colour=red"), 1, "", "invalid filter 'colour'\n"),
    (("images", "-f", "dangling=maybe"), 1, "", "invalid filter 'dangling=[maybe]'\n"),
    (("images", "-f", "dangling=true", "-f", "dangling=0"), 1, "",
     "invalid filter 'dangling=[0 true]'\n"),
    (("images", "-f", "before=nope"), 1, "", "No such image: nope:latest\n"),
    (("images", "ls"), 0, "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n",
     'No images found matching "ls": did you mean "imgkit image ls"?\n'),
    (("image", "ls", "ls"), 0, "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n", ""),
])
def test_images_errors(home, args, code, out, err):
    assert run(home, *args) == (code, out, err)


def test_inspect(home):
    code, out, err = run(home, "image", "inspect", "db:5")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc[0]["Id"] == home.ids[DB] and doc[0]["Config"] == {"Labels": {"tier": "data"}}
    assert out.startswith('[\n    {\n        "Id": ') and out.endswith("\n]\n")
    assert run(home, "inspect", "db:5") == (code, out, err)


@pytest.mark.parametrize("args,err", [
    (("image", "inspect", "nope"), "No such image: nope:latest\n"),
    (("inspect", "nope"), "error: no such object: nope\n"),
    (("image", "inspect", "nope", "Bad"),
     "No such image: nope:latest\n"
     "invalid reference format: repository name (library/Bad) must be lowercase\n"),
])
def test_inspect_unknown_prints_an_empty_array(home, args, err):
    assert run_process(home, *args) == (1, "[]\n", err)


def test_inspect_prints_what_it_found_and_fails_for_the_rest(home):
    code, out, err = run(home, "inspect", "web", "nope")
    assert code == 1 and err == "error: no such object: nope\n"
    assert [d["Id"] for d in json.loads(out)] == [home.ids[WEB]]


def test_history(home):
    code, out, err = run(home, "history", "web")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "IMAGE          CREATED       CREATED BY                     SIZE      COMMENT",
        f"{short(home, WEB)}   3 hours ago   CMD [\"httpd\"]                  0B        ",
        "<missing>      3 hours ago   COPY index.html / # buildkit   1.5kB     ",
    ]
    assert run(home, "image", "history", "-q", "web")[1] == f"{short(home, WEB)}\n<missing>\n"
    assert run(home, "history", "--no-trunc", "-q", "web")[1].splitlines()[0] == home.ids[WEB]
    assert run(home, "history", "--human=false", "web")[1].splitlines()[2].endswith(" 1500      ")
    assert run(home, "history", "nope") == (1, "", "No such image: nope:latest\n")


def test_tag(scratch):
    assert run_process(scratch, "tag", "web:1", "db:5") == (0, "", "")
    out = run(scratch, "images")[1].splitlines()
    assert [line.split()[:2] for line in out[1:]] == [
        ["db", "5"], ["web", "1"], ["web", "latest"], ["<none>", "<none>"]]
    assert run(scratch, "image", "tag", "db", "x") == (1, "", "No such image: db:latest\n")
    assert run(scratch, "tag", "web", "x@sha256:" + "0" * 64) == (
        1, "", "refusing to create a tag with a digest reference\n")


def test_images_loads_no_heavy_module(home):
    code = ("import sys; from imgkit.cli import main; rc = main(['images']); "
            "heavy = {'requests', 'graphviz', 'ipywidgets', 'IPython'} & set(sys.modules); "
            "print(rc, sorted(heavy), file=sys.stderr)")
    env = {**os.environ, "IMGKIT_HOME": str(home.path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.stderr.strip() == "0 []", done.stderr
