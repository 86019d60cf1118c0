"""``docker build`` without a daemon: run a Dockerfile into a new image in the store.

    >>> result = imgkit.api.build("myapp", tag="myapp:1.0")    # doctest: +SKIP
    >>> result                                                  # doctest: +SKIP
    Step 1/4 : FROM alpine:3.20
     ---> 1d34ffeaf190
    Step 2/4 : COPY app.py /app/
     ---> 5c3f1b5e2b8a
    Step 3/4 : ENV GREETING=hi
     ---> 0d6b9c5e7a41
    Step 4/4 : CMD ["python3", "/app/app.py"]
     ---> 9f8e7d6c5b4a
    Successfully built 9f8e7d6c5b4a
    Successfully tagged myapp:1.0

The output is the classic builder's (the one the chapter describes); the
image is what BuildKit would write: the same history texts
(``COPY app.py /app/ # buildkit``) and ``buildkit.dockerfile.v0`` comments.
And, the chapter's point, only steps that change files make a *layer*
(``COPY``, ``ADD``, ``RUN``, and a ``WORKDIR`` whose directory was missing -
the classic builder's rule; BuildKit always commits one), while ``ENV``,
``LABEL``, ``EXPOSE``, ``CMD``... add a history entry marked ``empty_layer``
and no layer. The ``FROM`` image's layers are reused as they are, so the
new image shares them (same ChainIDs) with every other image built on it.

Decisions, where Docker's behaviour and a teaching kit's needs part:

* **Same context, same image ID.** Docker stamps the build time; imgkit
  stamps ``created`` (config, new history entries, file mtimes) with
  ``SOURCE_DATE_EPOCH`` when it is set (environment or ``--build-arg``, as
  BuildKit honours it), else the ``FROM`` image's own ``created`` (scratch:
  ``imgkit.build.DEFAULT_CREATED``). Pass ``created=`` to choose (e.g. now).
* ``FROM`` uses the image in the store, else pulls it (with pull's lines).
  One stage only: a second ``FROM`` and ``COPY --from`` are refused.
* ``ADD`` unpacks local tar archives (plain, gzip, bzip2, xz); URLs and git
  sources are refused (imgkit builds offline). Here-documents are refused.
* ``RUN`` needs a container runtime: by default it stops the build with a
  clear error. ``build(..., run=...)`` plugs one in: see ``RunRequest``.
* ``.dockerignore`` is honoured (Docker's patterns, ``**`` and ``!`` included).
* Intermediate images (``---> id`` after each step) are not stored; the
  built image records its ``FROM`` image as parent.
"""

from __future__ import annotations

import gzip
import html
import io
import json
import os
import posixpath
import re
import signal
import stat
import tarfile
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable, Mapping, NamedTuple

from .. import digest as digests
from .. import reference as references
from ..build import BUILDKIT_COMMENT, DEFAULT_CREATED, ImageBuilder
from ..dockerfile import Dockerfile, DockerfileError, Instruction, expand, expand_words, parse
from ..errors import ImageNotFoundError, InvalidReferenceError
from ..events import Listener, ProgressEvent
from ..oci import canonical
from ..oci.imageconfig import parse_time
from ..oci.platform import host as host_platform
from ..store import find_image, store_built_image
from ..tarlayer import OPAQUE_WHITEOUT, WHITEOUT_PREFIX, Entry, Layer
from .host import Host, default_host

__all__ = ["build", "BuildResult", "BuildError", "RunRequest", "no_container_runtime", "Rootfs",
           "BuildContext", "StoredImage", "StoredLayer"]


class BuildError(DockerfileError):
    """A build step that failed: ``Dockerfile:4: COPY failed: file not found ...``."""


@dataclass(frozen=True, repr=False)
class BuildResult:
    """What ``build`` made: the image ID, its tags (familiar names) and the transcript."""

    image_id: str
    tags: list[str]
    lines: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return "\n".join(self.lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"


@dataclass(frozen=True)
class RunRequest:
    """What a ``RUN`` step asks of a container runtime: the hook ``build(run=...)`` receives.

    ``rootfs`` is the image's filesystem so far (``rootfs.layers``, bottom
    first; unpack them with ``imgkit.unpack.unpack_image([l.blob for l in
    rootfs.layers], root)``); ``command`` is the argv to run there (the
    shell form is already ``["/bin/sh", "-c", "..."]``), with ``env``
    (``KEY=value``: the image's Env plus the build's ARGs), ``workdir`` and
    ``user``. The hook returns the changes as ``Entry`` values (whiteouts
    for deletions - ``imgkit.fsdiff.diff`` makes them) or a ``Layer``; an
    empty result adds an ``empty_layer`` history entry, as Docker does.
    ``location`` (``Dockerfile:7``) is for the hook's error messages.
    """

    command: tuple[str, ...]
    rootfs: Rootfs
    env: tuple[str, ...]
    workdir: str
    user: str
    location: str


RunHook = Callable[["RunRequest"], "Iterable[Entry] | Layer | None"]


def no_container_runtime(request: RunRequest):
    """The default ``RUN`` hook: there is no container runtime yet, so stop with a clear error.

    A hook may raise ``BuildError("reason")``: the build adds the file and line.
    """
    raise BuildError("RUN needs a container runtime; this host cannot run commands in "
                     "containers yet")


class _Image(ImageBuilder):
    """ImageBuilder plus the steps a Dockerfile has and the builder does not (yet)."""

    author: str | None = None

    @property
    def settings(self) -> dict:
        """The run settings so far (``Env``, ``WorkingDir``, ``Shell``...), live."""
        return self._settings

    def envs(self, pairs: list[tuple[str, str]]) -> None:
        env = list(self._settings.get("Env", []))
        for key, value in pairs:
            found = [i for i, item in enumerate(env) if item.partition("=")[0] == key]
            if found:
                env[found[0]] = f"{key}={value}"
            else:
                env.append(f"{key}={value}")
        self._settings["Env"] = env
        self._record("ENV " + " ".join(f"{k}={v}" for k, v in pairs), True)

    def args(self, shown: list[str]) -> None:
        self._record("ARG " + " ".join(shown), True)

    def shell(self, words: list[str]) -> None:
        self._settings["Shell"] = list(words)
        self._record(f"SHELL [{' '.join(words)}]", True)

    def maintainer(self, name: str) -> None:
        self.author = name
        self._record(f"MAINTAINER {name}", True)

    def workdir_layer(self, path: str, entries: list[Entry], mtime: int) -> None:
        self._settings["WorkingDir"] = path
        self.add_layer(entries, f"WORKDIR {path}", mtime=mtime)

    def no_change(self, created_by: str) -> None:
        self._record(created_by, True)

    def config(self, created=None) -> dict:
        config = super().config(created)
        if self.author:
            config["author"] = self.author
        return config

    def current_id(self) -> str:
        return digests.compute(canonical.dumps(self.config()))


class _Build:
    """One run of a Dockerfile: the state between steps."""

    def __init__(self, dockerfile: Dockerfile, context: BuildContext, host: Host,
                 build_args: Mapping[str, str], emit: Listener, created, run: RunHook):
        self.df, self.context, self.host, self.emit = dockerfile, context, host, emit
        self.build_args = dict(build_args)
        self.used_args: set[str] = set()
        self.global_args: dict[str, str] = {}
        self.stage_args: dict[str, str] = {}
        self.declared: list[str] = []       # the stage's ARG names, in order (RUN shows them)
        self.created, self.run = created, run
        self.image: _Image | None = None
        self.rootfs = Rootfs([])
        self.base_id: str | None = None
        self.mtime = 0

    def fail(self, ins: Instruction, reason: str) -> BuildError:
        return BuildError(reason, self.df.path, ins.line)

    def env(self) -> dict[str, str]:
        """Variables for ``$VAR``: the stage's ARGs, then the image's Env (ENV wins)."""
        env = dict(self.stage_args)
        for item in self.image.settings.get("Env", []) if self.image else []:
            key, _, value = item.partition("=")
            env[key] = value
        return env

    def expand(self, ins: Instruction, word: str, env: Mapping[str, str] | None = None) -> str:
        try:
            return expand(word, self.env() if env is None else env, self.df.escape)
        except DockerfileError as err:
            raise self.fail(ins, err.reason) from None

    def arg_value(self, ins: Instruction, key: str, default: str | None,
                  env: Mapping[str, str], inherited: Mapping[str, str]) -> str | None:
        self.used_args.add(key)
        if key in self.build_args:
            return self.build_args[key]
        if default is not None:
            return self.expand(ins, default, env)
        return inherited.get(key)

    # -- FROM -------------------------------------------------------------------

    def meta_arg(self, ins: Instruction) -> None:
        for key, default in ins.pairs:
            value = self.arg_value(ins, key, default, self.global_args, {})
            if value is not None:
                self.global_args[key] = value

    def start(self, ins: Instruction) -> str:
        if ins.flag("platform"):
            raise self.fail(ins, "FROM --platform is not supported by imgkit yet: the host's "
                                 "platform (or Host(platform=...)) is used")
        name = self.expand(ins, ins.args[0], self.global_args)
        if not name:
            raise self.fail(ins, f"base name ({ins.args[0]}) should not be blank")
        base = None
        if name != "scratch":            # exactly: "Scratch" is a (bad) image name
            record = self.resolve(ins, name)
            base = StoredImage.load(self.host.store, record)
            if base.config.get("config", {}).get("OnBuild"):
                raise self.fail(ins, f"{name} has ONBUILD triggers, which imgkit build does not run yet")
            self.base_id = record.id
        self.created = self.created or _epoch_created(self.build_args) or \
            (base.config.get("created") if base else None) or DEFAULT_CREATED
        moment = parse_time(self.created) if isinstance(self.created, str) else self.created
        self.mtime = max(0, int(moment.timestamp()))      # some images say 0001-01-01
        platform = None if base else (self.host.platform or str(host_platform()))
        self.image = _Image(platform, base=base, created=self.created, default_path=True,
                            comment=BUILDKIT_COMMENT)
        self.rootfs = Rootfs(base.layers if base else [])
        return digests.short(self.base_id) if self.base_id else ""

    def resolve(self, ins: Instruction, name: str):
        try:
            return find_image(self.host.store.records(), name)
        except ImageNotFoundError:
            pass
        except InvalidReferenceError as err:
            raise self.fail(ins, str(err)) from None
        from .. import api  # the verb map finds pull's module, wherever it lives

        canonical_ref = str(references.parse(name).with_default_tag())

        def forward(event: ProgressEvent) -> None:
            # The daemon's pull inside a build prints neither of the CLI's own lines.
            if event.id is None and (event.status == canonical_ref
                                     or event.status.startswith("Using default tag")):
                return
            self.emit(event)

        api.pull(name, host=self.host, listener=forward)
        return find_image(self.host.store.records(), name)

    # -- the other instructions ---------------------------------------------------

    def step(self, ins: Instruction) -> None:
        image, name = self.image, ins.name
        try:
            if name == "ENV":
                env = self.env()
                image.envs([(self.expand(ins, k, env), self.expand(ins, v, env)) for k, v in ins.pairs])
            elif name == "LABEL":
                env = self.env()
                image.labels({self.expand(ins, k, env): self.expand(ins, v, env) for k, v in ins.pairs})
            elif name == "ARG":
                self.arg(ins)
            elif name in ("COPY", "ADD"):
                self.copy(ins)
            elif name == "WORKDIR":
                self.workdir(ins)
            elif name == "USER":
                image.user(self.expand(ins, ins.args[0]))
            elif name == "VOLUME":
                image.volume(*[self.expand(ins, v) for v in ins.args])
            elif name == "EXPOSE":
                env = self.env()
                ports = [p for word in ins.args for p in self.words(ins, word, env)]
                image.expose(*ports)
            elif name == "STOPSIGNAL":
                image.stop_signal(_check_signal(self.expand(ins, ins.args[0])))
            elif name in ("CMD", "ENTRYPOINT"):
                command = list(ins.args) if ins.json else (ins.args[0] if ins.args else "")
                (image.cmd if name == "CMD" else image.entrypoint)(command)
            elif name == "SHELL":
                image.shell(list(ins.args))
            elif name == "MAINTAINER":
                image.maintainer(ins.args[0])
            elif name == "RUN":
                self.run_step(ins)
            else:
                raise self.fail(ins, f"{name} is not supported by imgkit build yet")
        except DockerfileError as err:
            if err.line is None:
                raise self.fail(ins, err.reason) from None
            raise
        except (ValueError, OSError) as err:
            raise self.fail(ins, str(err)) from None

    def words(self, ins: Instruction, word: str, env: Mapping[str, str]) -> list[str]:
        try:
            return expand_words(word, env, self.df.escape)
        except DockerfileError as err:
            raise self.fail(ins, err.reason) from None

    def arg(self, ins: Instruction) -> None:
        shown = []
        for key, default in ins.pairs:
            value = self.arg_value(ins, key, default, self.env(), self.global_args)
            if value is not None:
                self.stage_args[key] = value
            if key not in self.declared:
                self.declared.append(key)
            shown.append(key if value is None else f"{key}={value}")
        self.image.args(shown)

    def copy(self, ins: Instruction) -> None:
        for flag in ("from", "parents", "exclude", "checksum", "keep-git-dir", "unpack"):
            if ins.flag_values(flag):
                raise self.fail(ins, f"{ins.name} --{flag} is not supported by imgkit yet"
                                + (" (it needs multi-stage builds)" if flag == "from" else ""))
        env = self.env()
        words = [self.expand(ins, word, env) for word in ins.args]
        sources, dest = words[:-1], words[-1]
        chown = self.expand(ins, ins.flag("chown") or "", env)
        chmod = self.expand(ins, ins.flag("chmod") or "", env)
        for source in sources:
            if source.startswith(("http://", "https://", "git@")):
                if ins.name == "COPY":
                    raise self.fail(ins, "source can't be a URL for COPY")
                raise self.fail(ins, f"ADD from a URL or git ({source}) is not supported: imgkit "
                                     "builds offline; download it into the build context and COPY it")
        try:
            ids = chown_ids(chown, self.rootfs) if chown else None
        except LookupError as err:
            raise self.fail(ins, str(err)) from None
        mode = None
        if chmod:
            try:
                mode = int(chmod, 8)
            except ValueError:
                mode = -1
            if not 0 <= mode <= 0o7777:
                raise self.fail(ins, f"invalid chmod parameter: '{chmod}'. it should be octal "
                                     "string and between 0 and 07777")
        workdir = self.image.settings.get("WorkingDir") or "/"
        try:
            entries = self.context.copy_entries(sources, dest, workdir, self.rootfs, ids, mode,
                                                unpack=ins.name == "ADD")
        except LookupError as err:
            raise self.fail(ins, f"{ins.name} failed: {err}") from None
        shown = ins.name + (f" --chown={chown}" if chown else "") + (f" --chmod={chmod}" if chmod else "")
        self.image.add_layer(entries, f"{shown} {' '.join(sources)} {dest} # buildkit", mtime=self.mtime)
        self.rootfs.add(self.image.layers[-1])

    def workdir(self, ins: Instruction) -> None:
        current = self.image.settings.get("WorkingDir") or "/"
        path = posixpath.normpath(posixpath.join(current, self.expand(ins, ins.args[0])))
        path = "/" + path.lstrip("/")
        # The classic builder makes the directory in a container and commits it:
        # a layer if it was missing, an empty_layer entry if it was there.
        if path == "/" or self.rootfs.is_dir(path):
            self.image.workdir(path)
            return
        entries = self.rootfs.with_parents([Entry.directory(self.rootfs.resolve(path))], None)
        self.image.workdir_layer(path, entries, self.mtime)
        self.rootfs.add(self.image.layers[-1])

    def run_step(self, ins: Instruction) -> None:
        settings = self.image.settings
        shell = settings.get("Shell") or ["/bin/sh", "-c"]
        command = list(ins.args) if ins.json else [*shell, ins.args[0] if ins.args else ""]
        env = self.env()
        # The command runs with the ARGs in its environment (ENV wins), and history shows
        # them first, as BuildKit does: "RUN |2 A=1 B=2 /bin/sh -c ...".
        args = [f"{key}={env.get(key, '')}" for key in self.declared]
        image_env = list(settings.get("Env", []))
        names = {item.partition("=")[0] for item in image_env}
        image_env += [f"{k}={v}" for k, v in self.stage_args.items() if k not in names]
        request = RunRequest(tuple(command), self.rootfs, tuple(image_env),
                             settings.get("WorkingDir") or "/", settings.get("User") or "",
                             f"{self.df.path}:{ins.line}")
        changes = self.run(request)
        prefix = f"|{len(args)} {' '.join(args)} " if args else ""
        created_by = f"RUN {prefix}{' '.join(command)} # buildkit"
        if changes is None or (not isinstance(changes, Layer) and not (changes := list(changes))):
            self.image.no_change(created_by)
            return
        self.image.add_layer(changes, created_by, mtime=self.mtime)
        self.rootfs.add(self.image.layers[-1])


#: Build args every Dockerfile may use without declaring them (never "not consumed").
_PREDEFINED_ARGS = frozenset({"SOURCE_DATE_EPOCH", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY",
                              "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy",
                              "ALL_PROXY", "all_proxy"})


def _epoch_created(build_args: Mapping[str, str]) -> str | None:
    """``SOURCE_DATE_EPOCH`` (build arg first, then environment) as an RFC 3339 time."""
    value = build_args.get("SOURCE_DATE_EPOCH") or os.environ.get("SOURCE_DATE_EPOCH")
    if not value:
        return None
    from datetime import timezone

    try:
        moment = datetime.fromtimestamp(int(value), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise BuildError(f"invalid SOURCE_DATE_EPOCH: {value!r} (seconds since 1970)") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_signal(text: str) -> str:
    """Refuse what Docker's ``ParseSignal`` refuses: ``Invalid signal: SIGFOO``."""
    name = text.upper().removeprefix("SIG")
    known = {s.name.removeprefix("SIG") for s in signal.Signals} | {"RTMIN", "RTMAX"}
    if (text.isdigit() and int(text) > 0) or name in known or \
            (name.startswith(("RTMIN+", "RTMAX-")) and name[6:].isdigit()):
        return text
    raise ValueError(f"Invalid signal: {text}")


def build(context_dir: str | os.PathLike, *, tag: str | list[str] | None = None,
          dockerfile: str | os.PathLike = "Dockerfile", build_args: Mapping[str, str] | None = None,
          host: Host | None = None, listener: Listener | None = None,
          created: str | datetime | None = None, run: RunHook | None = None) -> BuildResult:
    """Build an image from a Dockerfile, like ``docker build -t TAG CONTEXT``.

    ``context_dir`` holds the files ``COPY`` and ``ADD`` read (minus what
    ``.dockerignore`` excludes); ``dockerfile`` is a path inside it (or an
    absolute path); ``tag`` is one name or a list (``myapp`` means
    ``myapp:latest``); ``build_args`` are ``--build-arg`` values for ARG.
    ``listener`` gets each output line as a ``ProgressEvent`` (and the pull's,
    when ``FROM`` pulls). ``created`` fixes the image's time (see the module
    doc for the default); ``run`` is the ``RUN`` hook (see ``RunRequest``).

    Errors name the file and line: ``Dockerfile:3: unknown instruction: COPPY
    (did you mean COPY?)``.
    """
    host = host if host is not None else default_host()
    context = Path(context_dir)
    if not context.is_dir():
        raise BuildError(f'unable to prepare context: path "{os.fspath(context_dir)}" not found')
    path = Path(dockerfile) if os.path.isabs(dockerfile) else context / dockerfile
    try:
        text = path.read_bytes()
    except OSError:
        raise BuildError(f"Cannot locate specified Dockerfile: {os.fspath(dockerfile)}") from None
    names = [tag] if isinstance(tag, str) else list(tag or [])
    refs = [references.parse(name).with_default_tag() for name in names]
    for ref, name in zip(refs, names, strict=True):
        if ref.digest is not None:
            raise InvalidReferenceError(f"invalid reference format: {name} (a tag cannot hold a digest)")
    df = parse(text, path.name)
    lines: list[str] = []

    def emit(event: ProgressEvent) -> None:
        if not event.has_progress:
            lines.append(event.line())
        if listener is not None:
            listener(event)

    def say(line: str) -> None:
        emit(ProgressEvent(line))

    state = _Build(df, BuildContext(context), host, build_args or {}, emit, created,
                   run or no_container_runtime)
    stages = df.stages()
    if len(stages) > 1:
        raise BuildError("multi-stage builds (a second FROM) are not supported by imgkit yet",
                         df.path, stages[1][0].line)
    start, steps = stages[0]
    total = len(df.meta_args) + 1 + len(steps)
    number = 0
    for ins in df.meta_args:
        number += 1
        say(f"Step {number}/{total} : {ins.original}")
        state.meta_arg(ins)
    number += 1
    say(f"Step {number}/{total} : {start.original}")
    say(f" ---> {state.start(start)}")
    for ins in steps:
        number += 1
        say(f"Step {number}/{total} : {ins.original}")
        state.step(ins)
        say(f" ---> {digests.short(state.image.current_id())}")
    built = state.image.build()
    store_built_image(host.store, built, [str(ref) for ref in refs], parent=state.base_id)
    unused = sorted(set(state.build_args) - state.used_args - _PREDEFINED_ARGS)
    if unused:
        say(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed")
    say(f"Successfully built {digests.short(built.id)}")
    for ref in refs:
        say(f"Successfully tagged {ref.familiar}")
    return BuildResult(built.id, [ref.familiar for ref in refs], lines)


# -- the FROM image, from the store -------------------------------------------

class StoredLayer:
    """A layer of an image in the store, shaped like ``tarlayer.Layer``; bytes read on demand."""

    def __init__(self, store, record):
        self._store = store
        self.digest, self.media_type, self.diff_id = record.digest, record.media_type, record.diff_id
        self.size = record.size                       # the blob's bytes, as the manifest says
        self.uncompressed_size = record.content_size  # Docker's SIZE, as Layer names it

    @cached_property
    def blob(self) -> bytes:
        """The compressed blob, read from the store (and checked against its digest)."""
        return self._store.blobs.read(self.digest)

    @cached_property
    def tar(self) -> bytes:
        """The layer's tar, decompressed."""
        blob = self.blob
        if blob[:2] == b"\x1f\x8b":
            return gzip.decompress(blob)
        if blob[:4] == b"\x28\xb5\x2f\xfd":
            try:
                import zstandard
            except ImportError:
                raise BuildError(f"layer {digests.short(self.digest)} is zstd-compressed: building "
                                 "on it needs the optional 'zstandard' package") from None
            return zstandard.ZstdDecompressor().decompressobj().decompress(blob)
        return blob

    def descriptor(self) -> dict:
        """The manifest entry, unchanged from the FROM image's manifest."""
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class StoredImage:
    """An image of the store as ``ImageBuilder(base=...)`` needs it: config, layers, platform."""

    config_bytes: bytes
    layers: tuple
    platform: tuple

    @property
    def config(self) -> dict:
        """The config JSON, parsed (a fresh copy each time)."""
        return json.loads(self.config_bytes)

    @classmethod
    def load(cls, store, record) -> "StoredImage":
        """Read the image ``record`` names from ``store``."""
        layer_records = store.records().layers
        layers = tuple(StoredLayer(store, layer_records[chain_id]) for chain_id in record.layers)
        return cls(store.blobs.read(record.id), layers,
                   (record.os, record.architecture, record.variant))


# -- the image's files so far -------------------------------------------------

class _Node(NamedTuple):
    kind: str
    mode: int
    uid: int
    gid: int
    target: str | None
    layer: int
    member: str


def _member_path(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


class Rootfs:
    """The files of the image being built, read from its layers (bottom first) when asked.

    ``COPY`` asks it whether a destination is an existing directory,
    ``--chown=name`` reads ``/etc/passwd`` through it, and a ``RUN`` hook gets
    it to unpack. Whiteouts of upper layers hide what lower layers had.
    """

    def __init__(self, layers: Iterable) -> None:
        self.layers = list(layers)
        self._files: dict[str, _Node] = {}
        self._applied = 0

    def add(self, layer) -> None:
        """Put a new top layer on."""
        self.layers.append(layer)

    def files(self) -> dict[str, _Node]:
        """Path (without leading ``/``) -> what is there, after all layers."""
        while self._applied < len(self.layers):
            self._apply(self._applied)
            self._applied += 1
        return self._files

    def _apply(self, index: int) -> None:
        with tarfile.open(fileobj=io.BytesIO(self.layers[index].tar), mode="r:") as archive:
            members = archive.getmembers()
        for member in members:            # deletions first: they only hide lower layers
            parent, _, name = _member_path(member.name).rpartition("/")
            if name.startswith(WHITEOUT_PREFIX):
                gone = parent if name == OPAQUE_WHITEOUT else posixpath.join(parent, name[4:])
                for path in [p for p in self._files if p.startswith(gone + "/") or not gone]:
                    del self._files[path]
                if name != OPAQUE_WHITEOUT:
                    self._files.pop(gone, None)
        for member in members:
            path = _member_path(member.name)
            if not path or path.rpartition("/")[2].startswith(WHITEOUT_PREFIX):
                continue
            kind = ("dir" if member.isdir() else "symlink" if member.issym() else
                    "hardlink" if member.islnk() else "file")
            target = member.linkname if kind in ("symlink", "hardlink") else None
            self._files[path] = _Node(kind, member.mode & 0o7777, member.uid, member.gid, target,
                                      index, member.name)

    def resolve(self, path: str, follow_last: bool = False) -> str:
        """Return ``path`` with the symlinks on its way followed inside this filesystem."""
        files, done, todo, hops = self.files(), [], [p for p in path.split("/") if p], 0
        while todo:
            part = todo.pop(0)
            if part in (".", ".."):
                if part == ".." and done:
                    done.pop()
                continue
            node = files.get("/".join(done + [part]))
            if node is not None and node.kind == "symlink" and (todo or follow_last):
                hops += 1
                if hops > 40:
                    raise ValueError(f"{path}: too many levels of symbolic links")
                done = [] if node.target.startswith("/") else done
                todo = [p for p in node.target.split("/") if p] + todo
                continue
            done.append(part)
        return "/".join(done)

    def is_dir(self, path: str) -> bool:
        """Tell whether ``path`` is a directory (following symlinks)."""
        resolved = self.resolve(path, follow_last=True)
        node = self.files().get(resolved)
        return not resolved or (node is not None and node.kind == "dir")

    def read(self, path: str) -> bytes | None:
        """Return a regular file's bytes, or None if there is no such file."""
        node = self.files().get(self.resolve(path, follow_last=True))
        if node is not None and node.kind == "hardlink":
            node = self.files().get(_member_path(node.target))
        if node is None or node.kind != "file":
            return None
        with tarfile.open(fileobj=io.BytesIO(self.layers[node.layer].tar), mode="r:") as archive:
            return archive.extractfile(node.member).read()

    def with_parents(self, entries: list[Entry], ids: tuple[int, int] | None) -> list[Entry]:
        """Add each missing parent directory: as it is in the image, else new (0755, ``ids``)."""
        have = {entry.path for entry in entries}
        uid, gid = ids or (0, 0)
        parents = []
        for entry in entries:
            parts = entry.path.split("/")
            for depth in range(1, len(parts)):
                path = "/".join(parts[:depth])
                if path in have:
                    continue
                have.add(path)
                node = self.files().get(path)
                parents.append(Entry.directory(path, node.mode, uid=node.uid, gid=node.gid)
                               if node is not None and node.kind == "dir"
                               else Entry.directory(path, 0o755, uid=uid, gid=gid))
        return entries + parents


def chown_ids(text: str, rootfs: Rootfs) -> tuple[int, int]:
    """Read ``--chown=user[:group]``: numbers, or names looked up in the image's passwd/group."""
    def lookup(name: str, file: str, what: str) -> int:
        if name.isdigit():
            return int(name)
        data = (rootfs.read(f"/etc/{file}") or b"").decode("utf-8", "replace")
        for line in data.splitlines():
            fields = line.split(":")
            if len(fields) > 2 and fields[0] == name and fields[2].isdigit():
                return int(fields[2])
        raise LookupError(f"unable to find {what} {name}: no matching entries in {file} file")

    user, _, group = text.partition(":")
    uid = lookup(user, "passwd", "user")
    return uid, lookup(group, "group", "group") if group else uid


# -- the build context --------------------------------------------------------

def _pattern_regex(pattern: str, any_depth: bool) -> re.Pattern | None:
    """Translate a Go ``filepath.Match`` pattern (with ``**`` for .dockerignore) into a regex."""
    out, pos = ["^"], 0
    while pos < len(pattern):
        ch = pattern[pos]
        pos += 1
        if ch == "*" and any_depth and pattern[pos:pos + 1] == "*":
            pos += 1
            if pattern[pos:pos + 1] == "/":
                pos += 1
            out.append(".*" if pos == len(pattern) else "(.*/)?")
        elif ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and pos < len(pattern):
            out.append(re.escape(pattern[pos]))
            pos += 1
        elif ch == "[":
            end = pattern.find("]", pos + 1)
            if end < 0:
                return None                       # Go: ErrBadPattern, nothing matches
            body = pattern[pos:end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            pos = end + 1
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out) + "$", re.DOTALL)


class _Ignore:
    """``.dockerignore``: Docker's patternmatcher (last matching pattern wins, ``!`` re-includes)."""

    def __init__(self, lines: list[str]) -> None:
        self.patterns: list[tuple[bool, str, re.Pattern | None]] = []
        for number, line in enumerate(lines):
            line = line.removeprefix("\ufeff") if number == 0 else line
            if line.startswith("#") or not line.strip():
                continue
            pattern = line.strip()
            exclusion = pattern.startswith("!")
            pattern = pattern[1:].strip() if exclusion else pattern
            pattern = posixpath.normpath(pattern) if pattern else pattern
            pattern = pattern[1:] if len(pattern) > 1 and pattern.startswith("/") else pattern
            self.patterns.append((exclusion, pattern, _pattern_regex(pattern, True)))
        self.exclusions = any(exclusion for exclusion, _, _ in self.patterns)

    @classmethod
    def read(cls, path: Path) -> "_Ignore":
        try:
            return cls(path.read_text("utf-8", "surrogateescape").splitlines())
        except FileNotFoundError:
            return cls([])

    @staticmethod
    def _match(pattern: str, regex: re.Pattern | None, path: str) -> bool:
        if pattern.startswith("**") and "*" not in pattern[2:] and "?" not in pattern \
                and "[" not in pattern and "\\" not in pattern:
            suffix = pattern[2:]              # Go's suffix match: "**.txt", "**/foo"
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        return regex is not None and regex.match(path) is not None

    def ignored(self, path: str) -> bool:
        """Tell whether a context path (``src/app.py``) is left out of the build."""
        if not path or path == ".":
            return False
        parents = path.split("/")[:-1]
        matched = False
        for exclusion, pattern, regex in self.patterns:
            if exclusion != matched:
                continue
            hit = self._match(pattern, regex, path) or any(
                self._match(pattern, regex, "/".join(parents[:i + 1])) for i in range(len(parents)))
            if hit:
                matched = not exclusion
        return matched


def _has_wildcards(path: str) -> bool:
    skip = False
    for ch in path:
        if skip:
            skip = False
        elif ch == "\\":
            skip = True
        elif ch in "*?[":
            return True
    return False


def _sorts_before(a: str, b: str) -> bool:
    return tuple(p.encode("utf-8", "surrogateescape") for p in a.split("/")) < \
        tuple(p.encode("utf-8", "surrogateescape") for p in b.split("/"))


class BuildContext:
    """The directory ``docker build`` is given: what ``COPY`` and ``ADD`` can read."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.ignore = _Ignore.read(self.root / ".dockerignore")

    def walk(self, rel: str = ""):
        """Yield ``(context path, lstat)`` of everything below ``rel`` not ignored, in name order."""
        try:
            names = sorted(os.listdir(self.root / rel))
        except OSError:
            return
        for name in names:
            path = f"{rel}/{name}" if rel else name
            info = os.lstat(self.root / path)
            skip = self.ignore.ignored(path)
            if not skip:
                yield path, info
            if stat.S_ISDIR(info.st_mode) and (not skip or self.ignore.exclusions):
                yield from self.walk(path)

    def find(self, source: str) -> list[str]:
        """Return the context paths a COPY source names (wildcards matched per component)."""
        clean = posixpath.normpath("/" + source).lstrip("/")
        if _has_wildcards(clean):
            regex = _pattern_regex(clean, False)
            return [path for path, _ in self.walk() if regex is not None and regex.match(path)]
        full = self.root / clean
        real_root = os.path.realpath(self.root)
        inside = os.path.commonpath([os.path.realpath(full), real_root]) == real_root
        if not full.exists() or not inside or self.ignore.ignored(clean):
            raise LookupError(f"file not found in build context or excluded by .dockerignore: "
                              f"stat {clean}: file does not exist")
        return [clean]

    def _tree(self, rel: str, target: str, ids, mode) -> list[Entry]:
        uid, gid = ids or (0, 0)
        entries = []
        for path, info in self.walk(rel):
            dest = posixpath.join(target, path[len(rel):].lstrip("/")) if rel else \
                posixpath.join(target, path)
            perms = stat.S_IMODE(info.st_mode) if mode is None else mode
            if stat.S_ISLNK(info.st_mode):
                entries.append(Entry.symlink(dest, os.readlink(self.root / path), uid=uid, gid=gid))
            elif stat.S_ISDIR(info.st_mode):
                entries.append(Entry.directory(dest, perms, uid=uid, gid=gid))
            elif stat.S_ISREG(info.st_mode):
                entries.append(Entry.file(dest, (self.root / path).read_bytes(), perms,
                                          uid=uid, gid=gid))
        return entries

    def copy_entries(self, sources: list[str], dest: str, workdir: str, rootfs: Rootfs,
                     ids: tuple[int, int] | None, mode: int | None, unpack: bool) -> list[Entry]:
        """Return the entries of the layer ``COPY sources dest`` (``ADD`` if ``unpack``) makes."""
        found = [path for source in sources for path in self.find(source)]
        if not found:
            raise LookupError("no source files were specified")
        command = "ADD" if unpack else "COPY"
        if len(found) > 1 and not dest.endswith("/"):
            raise ValueError(f"When using {command} with more than one source file, the "
                             "destination must be a directory and end with a /")
        into_dir = dest.endswith("/") or posixpath.basename(dest) in (".", "..")
        dest = posixpath.normpath(posixpath.join(workdir, dest))
        uid, gid = ids or (0, 0)
        entries: dict[str, Entry] = {}
        for rel in found:
            full = self.root / rel
            info = os.stat(full)
            if stat.S_ISDIR(info.st_mode):
                target = rootfs.resolve(dest, follow_last=True)
                if target and not rootfs.is_dir(target):
                    perms = stat.S_IMODE(info.st_mode) if mode is None else mode
                    entries[target] = Entry.directory(target, perms, uid=uid, gid=gid)
                items = self._tree(rel, target, ids, mode)
            elif unpack and (items := _unpack(full, rootfs.resolve(dest, True), ids, mode)) is not None:
                pass
            else:
                name = posixpath.join(dest, posixpath.basename(rel)) \
                    if into_dir or rootfs.is_dir(dest) else dest
                perms = stat.S_IMODE(info.st_mode) if mode is None else mode
                items = [Entry.file(rootfs.resolve(name), full.read_bytes(), perms, uid=uid, gid=gid)]
            entries.update((entry.path, entry) for entry in items)
        return rootfs.with_parents(list(entries.values()), ids)


def _unpack(archive_path: Path, target: str, ids, mode) -> list[Entry] | None:
    """ADD's archive rule: a local tar (plain, gzip, bzip2, xz) is unpacked into ``target``."""
    try:
        archive = tarfile.open(archive_path, "r:*")
    except (tarfile.TarError, EOFError, OSError):
        return None                              # not an archive: ADD copies the file
    entries: dict[str, Entry] = {}
    with archive:
        for member in archive:
            name = posixpath.normpath(member.name.lstrip("/"))
            if name == ".." or name.startswith("../"):
                raise ValueError(f"{member.name!r} in {archive_path.name} is outside of {'/' + target}")
            if name == ".":
                continue
            path = posixpath.join(target, name)
            uid, gid = ids or (member.uid, member.gid)
            perms = member.mode & 0o7777 if mode is None else mode
            if member.isdir():
                entries[path] = Entry.directory(path, perms, uid=uid, gid=gid)
            elif member.isreg():
                entries[path] = Entry.file(path, archive.extractfile(member).read(), perms,
                                           uid=uid, gid=gid)
            elif member.issym():
                entries[path] = Entry.symlink(path, member.linkname, uid=uid, gid=gid)
            elif member.islnk():
                source = posixpath.join(target, posixpath.normpath(member.linkname.lstrip("/")))
                if source not in entries or entries[source].kind != "file":
                    raise ValueError(f"{member.name}: hard link to {member.linkname}, which is not "
                                     f"a file earlier in {archive_path.name}")
                entries[path] = (Entry.hardlink(path, source, perms, uid=uid, gid=gid)
                                 if _sorts_before(source, path) else
                                 Entry.file(path, entries[source].data, perms, uid=uid, gid=gid))
            else:
                raise ValueError(f"{member.name} in {archive_path.name}: devices and FIFOs "
                                 "cannot go into an imgkit layer")
    return list(entries.values())
