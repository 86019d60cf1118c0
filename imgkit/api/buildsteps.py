"""The steps of a Dockerfile build: one instruction at a time, on the image made so far.

``BuildState`` is what ``imgkit.api.build`` keeps between steps: the image
being made (an ``ImageBuilder``), its files (``Rootfs``), the ARGs in scope
and the build's time stamp. Each instruction becomes one ``ImageBuilder``
step, with the ``$VARS`` in its words expanded first (``imgkit.shellwords``):

* ``FROM`` takes the image from the store, pulling it when it is missing;
* ``COPY``/``ADD`` read the build context (``imgkit.api.buildcontext``) and
  add a layer; ``WORKDIR`` adds one only when the directory was missing;
* ``RUN`` asks the run hook (``imgkit.api.buildrun``) for the changes;
* the rest (``ENV``, ``LABEL``, ``CMD``...) only change settings.

Every error names the Dockerfile and line of the step: ``Dockerfile:4: ...``.
"""

from __future__ import annotations

import os
import posixpath
import signal
from datetime import datetime, timezone
from typing import Mapping

from .. import digest as digests
from .. import reference as references
from ..build import BUILDKIT_COMMENT, DEFAULT_CREATED, ImageBuilder
from ..dockerfile import Dockerfile, Instruction, expand, expand_words
from ..errors import BuildError, DockerfileError, ImageNotFoundError, InvalidReferenceError
from ..events import Listener, ProgressEvent
from ..oci.imageconfig import parse_time
from ..oci.platform import host as host_platform
from ..store import find_image
from ..tarlayer import Entry, Layer
from .buildcontext import BuildContext
from .buildrun import RunHook, RunRequest
from .host import Host
from .rootfs import Rootfs, StoredImage, chown_ids

__all__ = ["BuildState", "PREDEFINED_ARGS"]


class BuildState:
    """One run of a Dockerfile: the state between steps.

    ``start`` runs the ``FROM``, then ``step`` runs each instruction of the
    stage; ``image`` is the ``ImageBuilder`` they add to and ``rootfs`` its
    files so far. ``emit`` receives the transcript's lines, ``run`` is the
    ``RUN`` hook.
    """

    def __init__(self, dockerfile: Dockerfile, context: BuildContext, host: Host,
                 build_args: Mapping[str, str], emit: Listener, created, run: RunHook):
        self.df, self.context, self.host, self.emit = dockerfile, context, host, emit
        self.build_args = dict(build_args)
        self.used_args: set[str] = set()
        self.global_args: dict[str, str] = {}
        self.stage_args: dict[str, str] = {}
        self.declared: list[str] = []       # the stage's ARG names, in order (RUN shows them)
        self.created, self.run = created, run
        self.image: ImageBuilder | None = None
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
        self.image = ImageBuilder(platform, base=base, created=self.created, default_path=True,
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
        shown: list[tuple[str, str | None]] = []
        for key, default in ins.pairs:
            value = self.arg_value(ins, key, default, self.env(), self.global_args)
            if value is not None:
                self.stage_args[key] = value
            if key not in self.declared:
                self.declared.append(key)
            shown.append((key, value))
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
        self.image.workdir(path, layer=entries, mtime=self.mtime)
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
        # The classic builder names the intermediate container it runs the command in.
        # Docker's IDs are random; this one comes from the image and the step, so the
        # same build prints the same transcript.
        container = digests.compute(f"{self.image.image_id()}\n{ins.original}".encode())[7:19]
        self.say(f" ---> Running in {container}")
        request = RunRequest(tuple(command), self.rootfs, tuple(image_env),
                             settings.get("WorkingDir") or "/", settings.get("User") or "",
                             f"{self.df.path}:{ins.line}", output=self.say)
        changes = self.run(request)
        prefix = f"|{len(args)} {' '.join(args)} " if args else ""
        created_by = f"RUN {prefix}{' '.join(command)} # buildkit"
        if changes is None or (not isinstance(changes, Layer) and not (changes := list(changes))):
            self.image.no_change(created_by)
        else:
            self.image.add_layer(changes, created_by, mtime=self.mtime)
            self.rootfs.add(self.image.layers[-1])
        # Only a step that succeeded removes its container (docker build's default --rm).
        self.say(f"Removing intermediate container {container}")

    def say(self, line: str) -> None:
        """Put a line in the build's transcript."""
        self.emit(ProgressEvent(line))


#: Build args every Dockerfile may use without declaring them (never "not consumed").
PREDEFINED_ARGS = frozenset({"SOURCE_DATE_EPOCH", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY",
                              "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy",
                              "ALL_PROXY", "all_proxy"})


def _epoch_created(build_args: Mapping[str, str]) -> str | None:
    """``SOURCE_DATE_EPOCH`` (build arg first, then environment) as an RFC 3339 time."""
    value = build_args.get("SOURCE_DATE_EPOCH") or os.environ.get("SOURCE_DATE_EPOCH")
    if not value:
        return None
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

