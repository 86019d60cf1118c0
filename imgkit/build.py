"""Build images step by step, the way a Dockerfile does - and get the same digests every time.

Each step appends one entry to the image's history, as ``docker history``
shows it. Steps that change files add a layer; steps that only change
settings (``ENV``, ``CMD``, ``EXPOSE``...) add an ``empty_layer`` entry and
no layer::

    >>> from imgkit.build import ImageBuilder
    >>> from imgkit.tarlayer import Entry
    >>> image = (ImageBuilder()
    ...          .add_layer([Entry.file("hello", b"hi\\n", 0o755)],
    ...                     created_by="COPY hello / # buildkit")
    ...          .env("GREETING", "hi")
    ...          .cmd(["/hello"])
    ...          .build())
    >>> len(image.layers), len(image.config["history"])
    (1, 3)

``build()`` returns a ``BuiltImage`` (``imgkit.builtimage``): the config JSON (its digest is the
image ID), the OCI manifest (its digest is what ``docker pull ...@sha256:``
names) and every blob. ``build_index`` joins images for several platforms
into one multi-platform index. All JSON is canonical (sorted keys, no
spaces) and all times are fixed, so the digests only change when the inputs do.

The ``created_by`` texts follow what BuildKit (Docker's builder) records, from
``frontend/dockerfile/dockerfile2llb/convert.go``: ``ENV K=V``, ``LABEL K=V``,
``CMD ["a" "b"]`` (Go's ``%q`` of a list: quoted words, space separated),
``ENTRYPOINT [...]`` likewise, ``EXPOSE map[6379/tcp:{}]``, ``VOLUME [/data]``,
``WORKDIR /data``, ``USER redis``, ``ARG NAME=default``, ``STOPSIGNAL SIGTERM``,
``SHELL [/bin/bash -c]``, ``MAINTAINER name``, and ``... # buildkit`` after
the command of a step that made a layer.
"""

from __future__ import annotations

import json
import posixpath
import re
from datetime import datetime, timezone
from typing import Iterable, Mapping, Sequence

from . import digest as _digest
from .builtimage import BuiltImage, BuiltIndex, Platform, build_index
from .builtimage import parse_platform as _platform
from .builtimage import platform_text as _platform_text
from .oci import canonical, mediatypes
from .tarlayer import Entry, Layer

__all__ = ["ImageBuilder", "BuiltImage", "BuiltIndex", "build_index",
           "DOCKER_DEFAULT_PATH", "DEFAULT_CREATED", "BUILDKIT_COMMENT"]

#: The PATH BuildKit puts in an image whose base has none (Linux).
DOCKER_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: The fixed creation time of imgkit-built images unless told otherwise.
DEFAULT_CREATED = "2024-01-01T00:00:00Z"
#: The history comment BuildKit writes on every Dockerfile step.
BUILDKIT_COMMENT = "buildkit.dockerfile.v0"

_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")


def _timestamp(value: str | datetime) -> str:
    """Return an RFC 3339 time; a ``datetime`` must know its time zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a created time needs a time zone (e.g. timezone.utc)")
        value = value.astimezone(timezone.utc)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        return text + (f".{value.microsecond:06d}".rstrip("0") if value.microsecond else "") + "Z"
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError(f"created must be an RFC 3339 time like {DEFAULT_CREATED}, "
                         f"not {value!r}")
    return value


def _go_quote(text: str) -> str:
    """Quote like Go's ``%q`` (strconv.Quote), which BuildKit uses for CMD/ENTRYPOINT."""
    named = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t",
             "\v": r"\v", '"': r"\"", "\\": r"\\"}
    out = []
    for char in text:
        code = ord(char)
        if char in named:
            out.append(named[char])
        elif char == " " or char.isprintable():
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _go_list(words: Sequence[str], quoted: bool) -> str:
    return "[" + " ".join(_go_quote(w) if quoted else w for w in words) + "]"


def _command(value: Sequence[str] | str, shell: Sequence[str]) -> list[str]:
    # A string is the shell form (CMD redis-server --port 1): run by the shell.
    if isinstance(value, str):
        return [*shell, value]
    words = list(value)
    if not all(isinstance(word, str) for word in words):
        raise TypeError("a command is a list of strings (exec form) or one string (shell form)")
    return words


class ImageBuilder:
    """Assemble an image the way ``docker build`` runs a Dockerfile, one step at a time.

    ``platform`` is ``(os, architecture, variant)`` or ``"linux/arm64/v8"``;
    ``base`` is the ``FROM`` image (its layers, settings and history are
    carried over); ``created`` is the time stamped on every step unless a
    step gives its own. ``default_path=True`` adds Docker's default PATH to
    ``Env`` when the base has none, as BuildKit does. ``comment`` goes on
    every history entry (BuildKit writes ``BUILDKIT_COMMENT``).
    Every step returns the builder, so steps chain.

    ``imgkit.api.build`` runs a Dockerfile with these steps; ``settings``
    and ``image_id()`` show the image so far, as the next step sees it.
    """

    def __init__(self, platform: Platform | str | None = None, base: BuiltImage | None = None,
                 created: str | datetime = DEFAULT_CREATED, *, default_path: bool = False,
                 comment: str | None = None, compression: str = "gzip"):
        self.created = _timestamp(created)
        self.comment = comment
        self.compression = compression
        if base is not None:
            if platform is not None and _platform(platform) != base.platform:
                raise ValueError(f"platform {_platform_text(_platform(platform))} differs from "
                                 f"the base image's {_platform_text(base.platform)}")
            self.platform = base.platform
            inherited = base.config
            self._settings: dict = inherited.get("config", {})
            self._history: list[dict] = inherited.get("history", [])
            self._layers: list[Layer] = list(base.layers)
        else:
            self.platform = _platform(platform)
            self._settings, self._history, self._layers = {}, [], []
        self._cmd_set = False
        # MAINTAINER's author is not inherited: the classic builder starts each build without one.
        self.author: str | None = None
        if default_path and not any(e.startswith("PATH=") for e in self._settings.get("Env", [])):
            self._settings.setdefault("Env", []).append("PATH=" + DOCKER_DEFAULT_PATH)

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The layers so far, bottom first (the base's included)."""
        return tuple(self._layers)

    @property
    def settings(self) -> dict:
        """The run settings so far (``Env``, ``WorkingDir``, ``Shell``, ``User``...), as a copy.

        They become the config's ``config`` section: what a container of
        this image (or the next ``RUN``) starts with.
        """
        return json.loads(json.dumps(self._settings))

    def image_id(self, created: str | datetime | None = None) -> str:
        """Return the ID the image would have if built now (``docker build`` prints it after each step)."""
        return _digest.compute(canonical.dumps(self.config(created)))

    def _record(self, created_by: str | None, empty_layer: bool, created=None,
                comment: str | None = None) -> None:
        entry = {"created": self.created if created is None else _timestamp(created)}
        if created_by:
            entry["created_by"] = created_by
        comment = self.comment if comment is None else comment
        if comment:
            entry["comment"] = comment
        if empty_layer:
            entry["empty_layer"] = True
        self._history.append(entry)

    def add_layer(self, layer: Layer | Iterable[Entry], created_by: str | None = None, *,
                  created: str | datetime | None = None, comment: str | None = None,
                  mtime: int = 0) -> "ImageBuilder":
        """Add a layer of files - what COPY, ADD or RUN leave behind.

        Give a ``Layer``, or ``Entry`` values (written with ``mtime``).
        ``created_by`` is the history text, e.g. ``"COPY app /app # buildkit"``.
        """
        if isinstance(layer, Entry):
            layer = [layer]
        if not isinstance(layer, Layer):
            layer = Layer.from_entries(layer, mtime, self.compression)
        self._layers.append(layer)
        self._record(created_by, False, created, comment)
        return self

    def no_change(self, created_by: str, *, created: str | datetime | None = None,
                  comment: str | None = None) -> "ImageBuilder":
        """Record a step that changed no file, like a ``RUN`` that wrote nothing.

        The history entry is marked ``empty_layer`` and no layer is added:
        the classic builder's rule for a step whose diff is empty.
        """
        self._record(created_by, True, created, comment)
        return self

    def env(self, key: str, value: str, *, created: str | datetime | None = None,
            comment: str | None = None) -> "ImageBuilder":
        """``ENV key=value``: set (or replace) one environment variable."""
        return self.envs([(key, value)], created=created, comment=comment)

    def envs(self, pairs: Mapping[str, str] | Iterable[tuple[str, str]], *,
             created: str | datetime | None = None, comment: str | None = None) -> "ImageBuilder":
        """``ENV k1=v1 k2=v2``: set (or replace) several variables in one step, in the order given."""
        pairs = list(pairs.items() if isinstance(pairs, Mapping) else pairs)
        if not pairs:
            raise ValueError("ENV needs at least one key=value")
        env = list(self._settings.get("Env", []))
        for key, value in pairs:
            if not key or "=" in key:
                raise ValueError(f"invalid environment variable name {key!r}")
            pair = f"{key}={value}"
            for index, item in enumerate(env):
                if item.partition("=")[0] == key:
                    env[index] = pair
                    break
            else:
                env.append(pair)
        self._settings["Env"] = env
        shown = " ".join(f"{key}={value}" for key, value in pairs)
        self._record(f"ENV {shown}", True, created, comment)
        return self

    def labels(self, labels: Mapping[str, str], *, created: str | datetime | None = None,
            comment: str | None = None) -> "ImageBuilder":
        """``LABEL k1=v1 k2=v2``: set several labels in one step, in the order given."""
        if not labels:
            raise ValueError("LABEL needs at least one key=value")
        merged = dict(self._settings.get("Labels", {}))
        merged.update(labels)
        self._settings["Labels"] = merged
        shown = " ".join(f"{key}={value}" for key, value in labels.items())
        self._record(f"LABEL {shown}", True, created, comment)
        return self

    def label(self, key: str, value: str, *, created: str | datetime | None = None,
            comment: str | None = None) -> "ImageBuilder":
        """``LABEL key=value``: set one label (``docker images --filter label=...``)."""
        return self.labels({key: value}, created=created, comment=comment)

    def expose(self, *ports: str | int, created: str | datetime | None = None,
            comment: str | None = None) -> "ImageBuilder":
        """``EXPOSE 6379/tcp``: record ports the container listens on (tcp if none given).

        History reads ``EXPOSE map[6379/tcp:{}]``: Go's print of the port set,
        keys sorted, as BuildKit wrote it until 2025 (the official images
        learners pull carry this form). BuildKit 0.25+ writes ``EXPOSE [6379/tcp]``.
        """
        if not ports:
            raise ValueError("EXPOSE needs at least one port")
        specs = []
        for port in ports:
            number, _, protocol = str(port).partition("/")
            protocol = (protocol or "tcp").lower()
            if not number.isdigit() or protocol not in ("tcp", "udp", "sctp"):
                raise ValueError(f"invalid port {port!r}: expected NUMBER[/tcp|udp|sctp]")
            specs.append(f"{number}/{protocol}")
        exposed = dict(self._settings.get("ExposedPorts", {}))
        exposed.update((spec, {}) for spec in specs)
        self._settings["ExposedPorts"] = exposed
        shown = " ".join(f"{spec}:{{}}" for spec in sorted(set(specs)))
        self._record(f"EXPOSE map[{shown}]", True, created, comment)
        return self

    def cmd(self, command: Sequence[str] | str, *, created: str | datetime | None = None,
            comment: str | None = None) -> "ImageBuilder":
        """``CMD ["redis-server"]``: the default command (a string means shell form)."""
        words = _command(command, self._settings.get("Shell", ["/bin/sh", "-c"]))
        self._settings["Cmd"] = words
        # BuildKit sets this (deprecated) flag on every CMD; `docker inspect` shows it.
        self._settings["ArgsEscaped"] = True
        self._cmd_set = True
        self._record(f"CMD {_go_list(words, quoted=True)}", True, created, comment)
        return self

    def entrypoint(self, command: Sequence[str] | str, *,
                   created: str | datetime | None = None,
                   comment: str | None = None) -> "ImageBuilder":
        """``ENTRYPOINT ["docker-entrypoint.sh"]``; like Docker, it drops a CMD inherited
        from the base image (a CMD given earlier in this build is kept)."""
        words = _command(command, self._settings.get("Shell", ["/bin/sh", "-c"]))
        self._settings["Entrypoint"] = words
        if not self._cmd_set:
            self._settings.pop("Cmd", None)
        self._record(f"ENTRYPOINT {_go_list(words, quoted=True)}", True, created, comment)
        return self

    def workdir(self, path: str, *, create: bool = False, layer: Layer | Iterable[Entry] | None = None,
                mtime: int = 0, created: str | datetime | None = None,
                comment: str | None = None) -> "ImageBuilder":
        """``WORKDIR /data``: where the command starts; relative paths join the current one.

        BuildKit also creates the directory, as a small layer, when the path is
        not ``/``; ask for that with ``create=True``, else this is a settings step.
        ``layer`` gives that layer's entries yourself (the directory and any
        missing parents, as the base image has them), written with ``mtime``.
        """
        path = posixpath.normpath(posixpath.join(self._settings.get("WorkingDir") or "/", path))
        self._settings["WorkingDir"] = path
        if (create or layer is not None) and path != "/":
            self.add_layer([Entry.directory(path)] if layer is None else layer, f"WORKDIR {path}",
                           created=created, comment=comment, mtime=mtime)
        else:
            self._record(f"WORKDIR {path}", True, created, comment)
        return self

    def user(self, name: str, *, created: str | datetime | None = None,
            comment: str | None = None) -> "ImageBuilder":
        """``USER redis``: the user (name or uid[:gid]) the command runs as."""
        if not name:
            raise ValueError("USER needs a name or uid")
        self._settings["User"] = name
        self._record(f"USER {name}", True, created, comment)
        return self

    def arg(self, name: str, default: str | None = None, *,
            created: str | datetime | None = None, comment: str | None = None) -> "ImageBuilder":
        """``ARG NAME=default``: a build argument; it shows in history, not in the config."""
        return self.args([(name, default)], created=created, comment=comment)

    def args(self, names: Mapping[str, str | None] | Iterable[tuple[str, str | None]], *,
             created: str | datetime | None = None, comment: str | None = None) -> "ImageBuilder":
        """``ARG A=1 B``: several build arguments in one step; a value of None shows the bare name."""
        names = list(names.items() if isinstance(names, Mapping) else names)
        if not names or not all(name for name, _ in names):
            raise ValueError("ARG needs a name")
        shown = " ".join(name if value is None else f"{name}={value}" for name, value in names)
        self._record(f"ARG {shown}", True, created, comment)
        return self

    def shell(self, command: Sequence[str], *, created: str | datetime | None = None,
              comment: str | None = None) -> "ImageBuilder":
        """``SHELL ["/bin/bash", "-c"]``: what runs the shell form of later RUN, CMD and ENTRYPOINT."""
        words = [] if isinstance(command, str) else list(command)
        if not words or not all(isinstance(word, str) for word in words):
            raise ValueError("SHELL needs a command as a list of strings, such as [\"/bin/sh\", \"-c\"]")
        self._settings["Shell"] = words
        self._record(f"SHELL {_go_list(words, quoted=False)}", True, created, comment)
        return self

    def maintainer(self, name: str, *, created: str | datetime | None = None,
                   comment: str | None = None) -> "ImageBuilder":
        """``MAINTAINER name``: the image's ``author`` (Docker deprecates it for a label)."""
        if not name:
            raise ValueError("MAINTAINER needs a name")
        self.author = name
        self._record(f"MAINTAINER {name}", True, created, comment)
        return self

    def volume(self, *paths: str, created: str | datetime | None = None,
            comment: str | None = None) -> "ImageBuilder":
        """``VOLUME ["/data"]``: paths a container keeps outside its layers."""
        if not paths or not all(paths):
            raise ValueError("VOLUME needs non-empty paths")
        volumes = dict(self._settings.get("Volumes", {}))
        volumes.update((path, {}) for path in paths)
        self._settings["Volumes"] = volumes
        self._record(f"VOLUME {_go_list(paths, quoted=False)}", True, created, comment)
        return self

    def stop_signal(self, signal: str, *, created: str | datetime | None = None,
            comment: str | None = None) -> "ImageBuilder":
        """``STOPSIGNAL SIGTERM``: the signal ``docker stop`` sends first."""
        if not signal:
            raise ValueError("STOPSIGNAL needs a signal")
        self._settings["StopSignal"] = str(signal)
        self._record(f"STOPSIGNAL {signal}", True, created, comment)
        return self

    def config(self, created: str | datetime | None = None) -> dict:
        """The image config as it would be built now (a plain dict)."""
        os_name, architecture, variant = self.platform
        config: dict = {"architecture": architecture, "os": os_name,
                        "created": self.created if created is None else _timestamp(created),
                        "rootfs": {"type": "layers",
                                   "diff_ids": [layer.diff_id for layer in self._layers]},
                        "history": [dict(entry) for entry in self._history]}
        if variant:
            config["variant"] = variant
        if self.author:
            config["author"] = self.author
        settings = {key: value for key, value in self._settings.items()
                    if value not in (None, "", [], {})}
        if settings:
            config["config"] = json.loads(json.dumps(settings))   # a deep copy
        return config

    def build(self, created: str | datetime | None = None,
              annotations: Mapping[str, str] | None = None) -> BuiltImage:
        """Write the config and the OCI manifest; ``annotations`` go in the manifest."""
        config_bytes = canonical.dumps(self.config(created))
        manifest: dict = {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "config": {"mediaType": mediatypes.OCI_CONFIG,
                       "digest": _digest.compute(config_bytes), "size": len(config_bytes)},
            "layers": [layer.descriptor() for layer in self._layers],
        }
        if annotations:
            manifest["annotations"] = dict(annotations)
        return BuiltImage(config_bytes, canonical.dumps(manifest), tuple(self._layers),
                          self.platform)
