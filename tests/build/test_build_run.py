"""``RUN``: the command really runs in a container of the image so far, and its changes become the layer."""

from __future__ import annotations

import platform

import pytest
from buildhelpers import history, image_config, layer_files

from imgkit import runtime
from imgkit.api.building import BuildError, build
from imgkit.build import ImageBuilder
from imgkit.lab import recipes
from imgkit.lab.elf import GREETING, hello_program
from imgkit.store import store_built_image
from imgkit.tarlayer import Entry

x86_64 = platform.machine() in ("x86_64", "AMD64")
runs_hello = pytest.mark.skipif(not x86_64, reason="/hello (imgkit.lab.elf) is x86-64 machine code: "
                                                   "this machine cannot execute it")
runs_amd64_alpine = pytest.mark.skipif(not x86_64, reason="the course alpine is the linux/amd64 image: on "
                                                          "another machine any of its programs fails with "
                                                          "exec format error, stand-in or not")
can_run, why_not = runtime.can_run()
needs_runtime = pytest.mark.skipif(not can_run, reason=f"this host cannot run containers: {why_not}")


def transcript_of_step(lines: list[str], step: str) -> list[str]:
    """The lines a step printed between its ``Step N/M :`` line and the next step (or the end)."""
    start = next(i for i, line in enumerate(lines) if line.startswith("Step ") and line.endswith(step))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(("Step ", "Successfully"))),
               len(lines))
    return lines[start + 1:end]


def test_without_a_container_runtime_run_stops_the_build_and_says_why(host, context, monkeypatch):
    monkeypatch.setattr(runtime, "can_run", lambda: (False, "running containers needs Linux"))
    root = context({}, "FROM scratch\nRUN echo hi\n")
    with pytest.raises(BuildError) as caught:
        build(root, host=host)
    assert str(caught.value) == ("Dockerfile:2: RUN needs a container runtime; this host cannot run "
                                 "commands in containers: running containers needs Linux")
    assert host.store.records().images == {}


def test_run_as_another_user_is_refused_before_anything_runs(host, context, monkeypatch):
    monkeypatch.setattr(runtime, "can_run", lambda: (True, "pretend"))
    monkeypatch.setattr(runtime, "run", lambda spec: pytest.fail("nothing may run"))
    root = context({}, "FROM scratch\nUSER 1000\nRUN [\"/hello\"]\n")
    with pytest.raises(BuildError, match=r"^Dockerfile:3: RUN as USER 1000 is not supported by imgkit yet: "
                                         r"its containers run as root$"):
        build(root, host=host)


def test_a_hook_prints_between_running_in_and_removing_the_intermediate_container(host, context):
    root = context({}, "FROM scratch\nENV A=1\nRUN make\n")

    def hook(request):
        request.output("building...")
        request.output("done")
        return [Entry.file("out", "made\n")]

    first = build(root, host=host, run=hook)
    lines = transcript_of_step(first.lines, "RUN make")
    container = lines[0].removeprefix(" ---> Running in ")
    assert len(container) == 12 and int(container, 16) >= 0
    assert lines == [f" ---> Running in {container}", "building...", "done",
                     f"Removing intermediate container {container}", lines[-1]]
    assert lines[-1].startswith(" ---> ") and first.image_id[7:19] == lines[-1][6:]
    # The container ID comes from the image and the step, so the transcript is reproducible.
    assert build(root, host=host, run=hook).lines == first.lines


@needs_runtime
def test_run_on_scratch_finds_no_shell(host, context):
    root = context({}, "FROM scratch\nRUN echo hi\n")
    lines = []
    with pytest.raises(BuildError) as caught:
        build(root, host=host, listener=lambda event: lines.append(event.line()))
    assert str(caught.value) == "Dockerfile:2: The command '/bin/sh -c echo hi' returned a non-zero code: 127"
    assert any("/bin/sh" in line for line in transcript_of_step(lines, "RUN echo hi"))
    assert host.store.records().images == {}


@runs_hello
def test_run_really_runs_the_program_and_a_run_that_changes_nothing_adds_no_layer(host, context):
    root = context({"hello": (hello_program(), 0o755)}, "FROM scratch\nCOPY hello /hello\nRUN [\"/hello\"]\n")
    result = build(root, tag="hello-run", host=host)
    lines = transcript_of_step(result.lines, 'RUN ["/hello"]')
    container = lines[0].removeprefix(" ---> Running in ")
    assert lines == [f" ---> Running in {container}", *GREETING.splitlines(),
                     f"Removing intermediate container {container}", f" ---> {result.image_id[7:19]}"]
    # The classic builder commits the container; an empty diff adds a history entry, no layer.
    assert history(host, result.image_id) == [("COPY hello /hello # buildkit", False),
                                              ("RUN /hello # buildkit", True)]
    assert len(image_config(host, result.image_id)["rootfs"]["diff_ids"]) == 1


@runs_hello
def test_what_the_container_changed_becomes_the_layer(host, context):
    # Docker makes a missing working directory before it starts the command: a real change.
    base = ImageBuilder().add_layer([Entry.file("hello", hello_program(), 0o755)], "COPY hello / # buildkit") \
        .workdir("/srv/app").build()
    store_built_image(host.store, base, ["docker.io/library/base:1"])
    result = build(context({}, "FROM base:1\nRUN [\"/hello\"]\n"), host=host)
    assert history(host, result.image_id)[-1] == ("RUN /hello # buildkit", False)
    assert layer_files(host, result.image_id) == {"srv": ("dir", 0o755, 0, 0, ""),
                                                  "srv/app": ("dir", 0o755, 0, 0, "")}
    assert host.store.records().images[result.image_id].layers[0] == \
        host.store.records().images[base.id].layers[0]


@runs_amd64_alpine
def test_a_failing_command_stops_the_build_in_the_classic_builders_words(host, context):
    store_built_image(host.store, recipes.alpine("3.20").images[0], ["docker.io/library/alpine:3.20"])
    before = set(host.store.records().images)
    lines = []
    with pytest.raises(BuildError) as caught:
        build(context({}, "FROM alpine:3.20\nRUN /bin/sh -c true\n"), host=host,
              listener=lambda event: lines.append(event.line()))
    # The course's /bin/sh is a stand-in, not a program: exec fails as for a wrong-platform binary.
    assert str(caught.value) == ("Dockerfile:2: The command '/bin/sh -c /bin/sh -c true' returned a "
                                 "non-zero code: 255")
    step = transcript_of_step(lines, "RUN /bin/sh -c true")
    assert step[0].startswith(" ---> Running in ") and step[1:] == ["exec /bin/sh: exec format error"]
    assert set(host.store.records().images) == before          # no container removed, no image kept
