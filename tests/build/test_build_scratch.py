"""``build`` from scratch: COPY and ADD rules, metadata steps, determinism, and the errors."""

from __future__ import annotations

import bz2
import gzip
import io
import tarfile

import pytest
from buildhelpers import history, image_config, layer_files

from imgkit import digest as digests
from imgkit.api.building import BuildError, BuildResult, build
from imgkit.dockerfile import DockerfileParseError
from imgkit.tarlayer import Entry

APP = {"app.py": "print('hi')\n", "lib/util.py": "X = 1\n", "lib/data/table.csv": "a,b\n",
       "run.sh": ("#!/bin/sh\n", 0o755)}


def tar_bytes(files: dict[str, bytes], compress=None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o750
                archive.addfile(info)
            else:
                info.size, info.mode, info.uid = len(data), 0o640, 1000
                archive.addfile(info, io.BytesIO(data))
    raw = out.getvalue()
    return compress(raw) if compress else raw


def test_metadata_steps_add_history_but_no_layer(host, context):
    root = context({"hello": ("hi\n", 0o755)}, """\
FROM scratch
COPY hello /
ENV GREETING=hello NAME=world
LABEL org.example.team=web
EXPOSE 8080 53/udp
USER 1000:1000
VOLUME /data
STOPSIGNAL SIGINT
ENTRYPOINT ["/hello"]
CMD ["--loud"]
""")
    result = build(root, tag="hello", host=host)
    assert history(host, result.image_id) == [
        ("COPY hello / # buildkit", False),
        ("ENV GREETING=hello NAME=world", True),
        ("LABEL org.example.team=web", True),
        ("EXPOSE map[53/udp:{} 8080/tcp:{}]", True),
        ("USER 1000:1000", True),
        ("VOLUME [/data]", True),
        ("STOPSIGNAL SIGINT", True),
        ('ENTRYPOINT ["/hello"]', True),
        ('CMD ["--loud"]', True),
    ]
    config = image_config(host, result.image_id)
    assert len(config["rootfs"]["diff_ids"]) == 1
    assert config["config"] == {
        "ArgsEscaped": True, "Cmd": ["--loud"], "Entrypoint": ["/hello"],
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "GREETING=hello", "NAME=world"],
        "ExposedPorts": {"53/udp": {}, "8080/tcp": {}}, "Labels": {"org.example.team": "web"},
        "StopSignal": "SIGINT", "User": "1000:1000", "Volumes": {"/data": {}}}
    assert all(entry["comment"] == "buildkit.dockerfile.v0" for entry in config["history"])
    assert layer_files(host, result.image_id) == {"hello": ("file", 0o755, 0, 0, b"hi\n")}


def test_copy_rules_for_files_directories_and_slashes(host, context):
    root = context(APP, """\
FROM scratch
COPY app.py /srv/
COPY app.py /srv/main.py
COPY lib /srv/lib
COPY lib/ /flat/
WORKDIR /work
COPY run.sh .
COPY run.sh bin/
COPY *.py l?b/util.py /glob/
""")
    image_id = build(root, host=host).image_id
    layers = [layer_files(host, image_id, i) for i in range(7)]
    assert set(layers[0]) == {"srv", "srv/app.py"}                # trailing slash: into the directory
    assert set(layers[1]) == {"srv", "srv/main.py"}               # no slash: the new name
    assert set(layers[2]) == {"srv", "srv/lib", "srv/lib/util.py", "srv/lib/data",
                              "srv/lib/data/table.csv"}             # a directory: its contents
    assert set(layers[3]) == {"flat", "flat/util.py", "flat/data", "flat/data/table.csv"}
    assert layers[4] == {"work": ("dir", 0o755, 0, 0, "")}        # WORKDIR made the directory
    assert layers[5]["work/run.sh"] == ("file", 0o755, 0, 0, b"#!/bin/sh\n")   # relative to WORKDIR
    assert set(layers[6]) == {"work", "work/bin", "work/bin/run.sh"}
    assert set(layer_files(host, image_id)) == {"glob", "glob/app.py", "glob/util.py"}


def test_a_file_copied_onto_an_existing_directory_goes_into_it(host, context):
    root = context(APP, "FROM scratch\nCOPY lib /etc/\nCOPY app.py /etc\n")
    image_id = build(root, host=host).image_id
    assert set(layer_files(host, image_id)) == {"etc", "etc/app.py"}


def test_chown_and_chmod(host, context):
    root = context(APP, "FROM scratch\nCOPY --chown=1000:50 --chmod=600 lib /opt/lib/\n")
    image_id = build(root, host=host).image_id
    files = layer_files(host, image_id)
    assert files["opt/lib/util.py"][1:4] == (0o600, 1000, 50)
    assert files["opt/lib"][1:4] == (0o600, 1000, 50)
    assert files["opt"][1:4] == (0o755, 1000, 50)                 # a new parent gets the owner
    assert history(host, image_id)[-1] == ("COPY --chown=1000:50 --chmod=600 lib /opt/lib/ # buildkit",
                                           False)
    with pytest.raises(BuildError, match=r"^Dockerfile:2: unable to find user app: no matching "
                                         r"entries in passwd file$"):
        build(context({}, "FROM scratch\nCOPY --chown=app app.py /\n"), host=host)


@pytest.mark.parametrize("name, compress", [("plain.tar", None), ("site.tar.gz", gzip.compress),
                                            ("site.tbz", bz2.compress)])
def test_add_unpacks_local_tar_archives(host, context, name, compress):
    archive = tar_bytes({"site": None, "site/index.html": b"<h1>hi</h1>"}, compress)
    root = context({name: (archive, 0o644)}, f"FROM scratch\nADD {name} /var/www/\n")
    image_id = build(root, host=host).image_id
    files = layer_files(host, image_id)
    assert files["var/www/site"] == ("dir", 0o750, 0, 0, "")
    assert files["var/www/site/index.html"] == ("file", 0o640, 1000, 0, b"<h1>hi</h1>")
    assert history(host, image_id) == [(f"ADD {name} /var/www/ # buildkit", False)]


def test_add_copies_a_file_that_is_no_archive_and_copy_never_unpacks(host, context):
    archive = tar_bytes({"a.txt": b"a"}, gzip.compress)
    root = context({"notes.tar.gz": "not really a tar\n", "real.tar.gz": (archive, 0o644)},
                   "FROM scratch\nADD notes.tar.gz /x/\nCOPY real.tar.gz /y/\n")
    image_id = build(root, host=host).image_id
    assert set(layer_files(host, image_id, 0)) == {"x", "x/notes.tar.gz"}
    assert layer_files(host, image_id, 1)["y/real.tar.gz"][4] == archive


@pytest.mark.parametrize("line, message", [
    ("ADD https://example.com/app.tar.gz /app/",
     "Dockerfile:2: ADD from a URL or git (https://example.com/app.tar.gz) is not supported: imgkit "
     "builds offline; download it into the build context and COPY it"),
    ("COPY http://example.com/x /x", "Dockerfile:2: source can't be a URL for COPY"),
    ("COPY nope.txt /", "Dockerfile:2: COPY failed: file not found in build context or excluded "
                        "by .dockerignore: stat nope.txt: file does not exist"),
    ("COPY *.nothing /", "Dockerfile:2: COPY failed: no source files were specified"),
    ("COPY app.py lib /dest", "Dockerfile:2: When using COPY with more than one source file, the "
                              "destination must be a directory and end with a /"),
    ("COPY --from=build /x /x", "Dockerfile:2: COPY --from is not supported by imgkit yet "
                                "(it needs multi-stage builds)"),
    ("HEALTHCHECK CMD true", "Dockerfile:2: HEALTHCHECK is not supported by imgkit build yet"),
    ("EXPOSE eighty", "Dockerfile:2: invalid port 'eighty': expected NUMBER[/tcp|udp|sctp]"),
    ("STOPSIGNAL SIGNOPE", "Dockerfile:2: Invalid signal: SIGNOPE"),
    ("ENV A=${B", "Dockerfile:2: failed to process \"${B\": syntax error: missing '}'"),
    ("FROM scratch", "Dockerfile:2: multi-stage builds (a second FROM) are not supported by imgkit yet"),
])
def test_build_errors_name_the_file_and_line(host, context, line, message):
    root = context(APP, f"FROM scratch\n{line}\n")
    with pytest.raises(BuildError) as caught:
        build(root, host=host)
    assert str(caught.value) == message
    assert host.store.records().images == {}                     # nothing half-built is kept


def test_parse_errors_come_before_anything_runs(host, context):
    root = context(APP, "FROM scratch\nCOPY app.py /\nCOPPY app.py /x\n")
    with pytest.raises(DockerfileParseError, match=r"^Dockerfile:3: unknown instruction: COPPY "):
        build(root, host=host, listener=lambda event: pytest.fail("no step may run"))


def test_missing_context_and_dockerfile(host, tmp_path, context):
    with pytest.raises(BuildError, match=r'^unable to prepare context: path ".*nowhere" not found$'):
        build(tmp_path / "nowhere", host=host)
    with pytest.raises(BuildError, match=r"^Cannot locate specified Dockerfile: Dockerfile$"):
        build(context(APP), host=host)


def test_run_hook_gets_the_command_and_its_changes_become_a_layer(host, context):
    root = context(APP, "FROM scratch\nARG MODE=fast\nCOPY app.py /\nENV HOME=/root\n"
                        "RUN python3 app.py > /out.txt\nRUN true\nRUN [\"/bin/true\"]\n")
    seen = []

    def runner(request):
        seen.append(request)
        if request.command[-1].startswith("python3"):
            return [Entry.file("out.txt", "hi\n")]
        return []

    image_id = build(root, host=host, run=runner).image_id
    first = seen[0]
    assert first.command == ("/bin/sh", "-c", "python3 app.py > /out.txt")
    assert first.env[-2:] == ("HOME=/root", "MODE=fast") and first.workdir == "/"
    assert first.location == "Dockerfile:5" and first.rootfs.read("/app.py") == b"print('hi')\n"
    assert seen[2].command == ("/bin/true",)
    assert history(host, image_id)[-3:] == [
        ("RUN |1 MODE=fast /bin/sh -c python3 app.py > /out.txt # buildkit", False),
        ("RUN |1 MODE=fast /bin/sh -c true # buildkit", True),     # no change: an empty layer
        ("RUN |1 MODE=fast /bin/true # buildkit", True)]
    assert layer_files(host, image_id) == {"out.txt": ("file", 0o644, 0, 0, b"hi\n")}


def test_dockerignore_leaves_files_out(host, context):
    root = context({**APP, ".dockerignore": "# build junk\n*.log\n**/data\n!keep.log\nsecrets/\n",
                    "debug.log": "x", "keep.log": "y", "secrets/key": "k", "lib/deep/data/x": "z"},
                   "FROM scratch\nCOPY . /app/\n")
    image_id = build(root, host=host).image_id
    assert sorted(layer_files(host, image_id)) == [
        "app", "app/.dockerignore", "app/Dockerfile", "app/app.py", "app/keep.log", "app/lib",
        "app/lib/deep", "app/lib/util.py", "app/run.sh"]
    with pytest.raises(BuildError, match="excluded by .dockerignore: stat secrets/key"):
        build(context({}, "FROM scratch\nCOPY secrets/key /\n"), host=host)


def test_build_args_and_meta_args(host, context):
    root = context(APP, "ARG BASE=scratch\nARG UNUSED_META\nFROM ${BASE}\nARG BASE\nARG DIR=/opt\n"
                        "ARG MODE\nCOPY app.py ${DIR}/${MODE:-dev}/\n")
    result = build(root, host=host, build_args={"MODE": "prod", "EXTRA": "1"})
    assert history(host, result.image_id) == [
        ("ARG BASE=scratch", True), ("ARG DIR=/opt", True), ("ARG MODE=prod", True),
        ("COPY app.py ${DIR}/${MODE:-dev}/ # buildkit".replace("${DIR}/${MODE:-dev}", "/opt/prod"),
         False)]
    assert "[Warning] One or more build-args [EXTRA] were not consumed" in result.lines
    assert "Env" in image_config(host, result.image_id)["config"]
    assert not any("MODE" in item for item in image_config(host, result.image_id)["config"]["Env"])


def test_same_context_gives_the_same_image_id(tmp_path, context, monkeypatch):
    from imgkit.api.host import Host

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    root = context(APP, "FROM scratch\nCOPY . /app/\nENV A=1\nCMD [\"/app/run.sh\"]\n")
    first = build(root, tag="same:1", host=Host(tmp_path / "one"))
    second = build(root, tag="same:1", host=Host(tmp_path / "two"))
    again = build(root, tag="same:1", host=Host(tmp_path / "one"))
    assert first.image_id == second.image_id == again.image_id
    assert image_config(Host(tmp_path / "one"), first.image_id)["created"] == "2024-01-01T00:00:00Z"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    stamped = build(root, host=Host(tmp_path / "three"))
    config = image_config(Host(tmp_path / "three"), stamped.image_id)
    assert stamped.image_id != first.image_id and config["created"] == "2023-11-14T22:13:20Z"
    assert {entry["created"] for entry in config["history"]} == {"2023-11-14T22:13:20Z"}
    chosen = build(root, host=Host(tmp_path / "four"), created="2025-02-03T04:05:06Z")
    assert image_config(Host(tmp_path / "four"), chosen.image_id)["created"] == "2025-02-03T04:05:06Z"


def test_result_tags_and_transcript(host, context):
    root = context(APP, "FROM scratch\nCOPY app.py /\nCMD [\"python3\", \"/app.py\"]\n")
    events = []
    result = build(root, tag=["app", "example.com/team/app:2"], host=host, listener=events.append)
    assert isinstance(result, BuildResult) and result.tags == ["app:latest", "example.com/team/app:2"]
    short = digests.short(result.image_id)
    assert result.lines[0::2][:3] == ["Step 1/3 : FROM scratch", "Step 2/3 : COPY app.py /",
                                      'Step 3/3 : CMD ["python3", "/app.py"]']
    assert result.lines[1] == " ---> " and result.lines[5] == f" ---> {short}"
    assert result.lines[-3:] == [f"Successfully built {short}", "Successfully tagged app:latest",
                                 "Successfully tagged example.com/team/app:2"]
    assert [event.line() for event in events] == result.lines and repr(result) == "\n".join(result.lines)
    records = host.store.records()
    assert records.references["docker.io/library/app:latest"] == result.image_id
    assert records.references["example.com/team/app:2"] == result.image_id
    assert records.images[result.image_id].parent is None


def test_symlinks_inside_a_copied_directory_stay_links_and_none_may_leave_the_context(host, context,
                                                                                     tmp_path):
    root = context({"conf/real.ini": "a=1\n"}, "FROM scratch\nCOPY conf /conf/\n")
    (root / "conf" / "link.ini").symlink_to("real.ini")
    (tmp_path / "secret").write_text("s")
    (root / "escape").symlink_to(tmp_path / "secret")
    image_id = build(root, host=host).image_id
    kind, *_, target = layer_files(host, image_id)["conf/link.ini"]
    assert (kind, target) == ("symlink", "real.ini")
    (root / "Dockerfile").write_text("FROM scratch\nCOPY escape /\n")
    with pytest.raises(BuildError, match="file not found in build context"):
        build(root, host=host)
