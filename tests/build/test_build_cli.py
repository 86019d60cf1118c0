"""``imgkit build``: the classic builder's lines on stdout, one-line errors, exit statuses."""

from __future__ import annotations

import pytest

import imgkit.cli as cli
from imgkit import digest as digests
from imgkit import runtime
from imgkit.api.host import Host
from imgkit.cli.build import build_args


@pytest.fixture
def imgkit(tmp_path):
    """Run ``imgkit ARGS...`` in-process; returns the exit status (output via capsys)."""
    home = tmp_path / "home"
    return lambda *args: cli.main(["--home", str(home), *args])


DOCKERFILE = """\
FROM scratch
ARG WHO
COPY hello.txt /
ENV WHO=${WHO}
CMD ["/hello"]
"""


def test_build_prints_each_step_and_the_result(imgkit, context, capsys, tmp_path):
    root = context({"hello.txt": "hi\n"}, DOCKERFILE)
    assert imgkit("build", "-t", "hello", "-t", "hello:1", "--build-arg", "WHO=you", str(root)) == 0
    out = capsys.readouterr().out.splitlines()
    image_id = Host(tmp_path / "home").store.records().references["docker.io/library/hello:1"]
    ids = [line for line in out if line.startswith(" ---> ")]
    assert out[0::2][:5] == ["Step 1/5 : FROM scratch", "Step 2/5 : ARG WHO",
                             "Step 3/5 : COPY hello.txt /", "Step 4/5 : ENV WHO=${WHO}",
                             'Step 5/5 : CMD ["/hello"]']
    assert ids[0] == " ---> " and ids[-1] == f" ---> {digests.short(image_id)}" and len(ids) == 5
    assert out[-3:] == [f"Successfully built {digests.short(image_id)}",
                        "Successfully tagged hello:latest", "Successfully tagged hello:1"]


def test_quiet_file_and_image_build_spelling(imgkit, context, capsys, tmp_path):
    root = context({"hello.txt": "hi\n", "docker/app.Dockerfile": DOCKERFILE})
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)                          # -f is relative to where you are
        assert imgkit("image", "build", "-q", "-f", "docker/app.Dockerfile", str(root)) == 0
    image_id = capsys.readouterr().out.strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71
    assert Host(tmp_path / "home").store.records().images[image_id].parent is None


@pytest.mark.parametrize("dockerfile, message", [
    ("FROM scratch\nCOPPY a b\n", "Dockerfile:2: unknown instruction: COPPY (did you mean COPY?)"),
    ("FROM scratch\nRUN make\n", "Dockerfile:2: RUN needs a container runtime; this host cannot run "
                                 "commands in containers: running containers needs Linux"),
    ("FROM scratch\nADD https://example.com/a.tgz /\n",
     "Dockerfile:2: ADD from a URL or git (https://example.com/a.tgz) is not supported: imgkit builds "
     "offline; download it into the build context and COPY it"),
])
def test_errors_are_one_line_and_exit_1(imgkit, context, capsys, monkeypatch, dockerfile, message):
    # As on a host that cannot run containers, so RUN stops the build the same way everywhere.
    monkeypatch.setattr(runtime, "can_run", lambda: (False, "running containers needs Linux"))
    root = context({"hello.txt": "hi\n"}, dockerfile)
    assert imgkit("build", "-t", "x", str(root)) == 1
    assert capsys.readouterr().err == message + "\n"


def test_bad_tag_is_refused_before_building(imgkit, context, capsys):
    root = context({"hello.txt": "hi\n"}, DOCKERFILE)
    assert imgkit("build", "-t", "Hello", str(root)) == 1
    assert capsys.readouterr().err == ("invalid reference format: repository name (library/Hello) "
                                       "must be lowercase\n")


def test_build_arg_without_value_reads_the_environment():
    assert build_args(["A=1", "B", "C", "D="], {"B": "from-env"}) == {"A": "1", "B": "from-env", "D": ""}
