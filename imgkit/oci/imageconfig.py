"""The image config: how to run an image, and how its layers were made.

A manifest points at one config (a small JSON blob) and at the layer blobs.
The config holds what ``docker inspect`` shows:

- the platform (``os``, ``architecture``, ``variant``),
- ``config``: how to start a container: ``Env``, ``Entrypoint``, ``Cmd``,
  ``WorkingDir``, ``User``, ``ExposedPorts``, ``Labels``, ``Volumes`` ...,
- ``rootfs.diff_ids``: the digest of each layer *uncompressed*, bottom first
  (a manifest names layers by their *compressed* digest instead),
- ``history``: one entry per Dockerfile step, which ``docker history`` lists.
  Steps that only change metadata (``ENV``, ``CMD``) say ``empty_layer: true``
  and have no layer; every other entry owns the next diff_id in turn::

      history[0] ADD alpine-minirootfs.tar.gz /  -> diff_ids[0]
      history[1] CMD ["/bin/sh"]   empty_layer    (no layer)
      history[2] RUN apk add redis               -> diff_ids[1]

The digest of the config's exact bytes is the **image ID**. Configs carry
many fields imgkit never reads; they are kept, so ``to_json`` gives them back.
"""

from __future__ import annotations

import copy
import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any

from .. import digest as _digest
from ..errors import InvalidDigestError, ManifestError
from . import canonical
from .jsonfields import (
    FrozenMap,
    JSONObject,
    fail,
    get,
    get_platform,
    get_string_map,
    get_strings,
    join,
    kind_of,
    load,
    quote,
)
from .platform import Platform

__all__ = ["HistoryEntry", "ImageConfig", "parse_time"]

_KIND = "image config"
_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
                   r"(Z|[+-]\d{2}:\d{2})", re.ASCII)

# Fields of the `config` object and the JSON type each must have when present.
_RUN_FIELDS = {"User": str, "WorkingDir": str, "StopSignal": str, "ArgsEscaped": bool,
               "ExposedPorts": dict, "Volumes": dict, "Healthcheck": dict,
               "Env": list, "OnBuild": list, "Memory": int, "MemorySwap": int,
               "CpuShares": int}
# Docker reads these as a list of strings, or a single string meaning a list of one.
_COMMAND_FIELDS = ("Entrypoint", "Cmd", "Shell")


def parse_time(text: str) -> _dt.datetime:
    """Read an RFC 3339 time as Docker writes it (``2024-01-26T23:44:02.123456789Z``).

    Fractions finer than a microsecond are dropped. Raises ``ValueError``.
    """
    m = _TIME.fullmatch(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"{quote(text) if isinstance(text, str) else repr(text)} is not "
                         "an RFC 3339 time")
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    if zone == "Z":
        tz = _dt.timezone.utc
    else:
        sign = -1 if zone[0] == "-" else 1
        tz = _dt.timezone(sign * _dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:])))
    micro = int((fraction or "0").ljust(6, "0")[:6])
    return _dt.datetime(int(year), int(month), int(day), int(hour), int(minute),
                        int(second), micro, tzinfo=tz)


def _check_time(obj: JSONObject, key: str, where: str = "") -> None:
    text = get(obj, key, str, _KIND, where)
    if text is not None:
        try:
            parse_time(text)
        except ValueError as err:
            fail(_KIND, join(where, key), str(err))


def _command(obj: JSONObject, key: str) -> tuple[str, ...] | None:
    value = obj.get(key)
    if isinstance(value, str):
        return (value,)
    return get_strings(obj, key, _KIND, "config")


@dataclass(frozen=True)
class HistoryEntry:
    """One step of an image's build, as ``docker history`` lists it."""

    created: str | None = None
    created_by: str | None = None
    author: str | None = None
    comment: str | None = None
    empty_layer: bool = False

    @property
    def created_at(self) -> _dt.datetime | None:
        """``created`` as a timezone-aware ``datetime`` (``None`` when unknown)."""
        return parse_time(self.created) if self.created else None


class ImageConfig:
    """An image config; its ``digest`` is the image ID.

    Read one with ``ImageConfig.from_json(blob)``. The typed properties
    (``env``, ``cmd``, ``diff_ids`` ...) cover what imgkit uses; ``to_dict()``
    gives the whole document, unknown fields included. The value is
    immutable: properties return tuples, ``FrozenMap`` or copies.
    """

    __slots__ = ("_data", "_raw")

    def __init__(self, data: JSONObject, raw: bytes | None = None) -> None:
        """Wrap an already checked config dict; use ``from_json`` to read one."""
        self._data = data
        self._raw = raw

    # --- reading and writing -------------------------------------------------

    @classmethod
    def from_json(cls, data: Any) -> ImageConfig:
        """Read a config from JSON bytes or a dict, checking every field imgkit reads."""
        obj, raw = load(data, _KIND)
        get_platform(obj, _KIND)  # os and architecture are required
        get(obj, "author", str, _KIND)
        _check_time(obj, "created")
        rootfs = get(obj, "rootfs", dict, _KIND, required=True)
        rootfs_type = get(rootfs, "type", str, _KIND, "rootfs", required=True)
        if rootfs_type != "layers":
            fail(_KIND, "rootfs.type", f'must be "layers", got {quote(rootfs_type)}')
        diff_ids = get(rootfs, "diff_ids", list, _KIND, "rootfs", required=True)
        for i, diff_id in enumerate(diff_ids):
            where = f"rootfs.diff_ids[{i}]"
            if not isinstance(diff_id, str):
                fail(_KIND, where, f"must be a string, got {kind_of(diff_id)}")
            try:
                _digest.validate(diff_id)
            except InvalidDigestError as err:
                fail(_KIND, where, str(err))
        run = get(obj, "config", dict, _KIND)
        if run is not None:
            for key, expected in _RUN_FIELDS.items():
                get(run, key, expected, _KIND, "config")
            for key in ("Env", "OnBuild"):
                get_strings(run, key, _KIND, "config")
            for key in _COMMAND_FIELDS:
                _command(run, key)
            get_string_map(run, "Labels", _KIND, "config")
        for i, entry in enumerate(get(obj, "history", list, _KIND) or []):
            where = f"history[{i}]"
            if not isinstance(entry, dict):
                fail(_KIND, where, f"must be an object, got {kind_of(entry)}")
            for key in ("created_by", "author", "comment"):
                get(entry, key, str, _KIND, where)
            get(entry, "empty_layer", bool, _KIND, where)
            _check_time(entry, "created", where)
        return cls(obj, raw)

    def to_dict(self) -> JSONObject:
        """Return a copy of the whole config document."""
        return copy.deepcopy(self._data)

    def to_json(self) -> bytes:
        """Return canonical JSON bytes (sorted keys, compact) of the config."""
        return canonical.dumps(self._data)

    @property
    def raw(self) -> bytes:
        """The bytes this config is addressed by: as received, else ``to_json()``."""
        return self._raw if self._raw is not None else self.to_json()

    @property
    def digest(self) -> str:
        """The digest of ``raw``: the image ID (``docker images`` shows 12 hex of it)."""
        return _digest.compute(self.raw)

    image_id = digest

    @property
    def size(self) -> int:
        """The length of ``raw`` in bytes (the size its descriptor states)."""
        return len(self.raw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageConfig):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        return (f"<ImageConfig {_digest.short(self.digest)} {self.platform} "
                f"{len(self.diff_ids)} layers>")

    # --- the platform -----------------------------------------------------------

    @property
    def architecture(self) -> str:
        """The CPU architecture (``amd64``, ``arm64`` ...)."""
        return str(self._data["architecture"])

    @property
    def os(self) -> str:
        """The operating system (``linux``)."""
        return str(self._data["os"])

    @property
    def variant(self) -> str | None:
        """The CPU variant (``v8`` for arm64, ``v7`` for arm), if stated."""
        return self._data.get("variant") or None

    @property
    def platform(self) -> Platform:
        """The platform this image was built for."""
        return get_platform(self._data, _KIND)

    # --- when and by whom ---------------------------------------------------------

    @property
    def created(self) -> str | None:
        """The creation time as written (RFC 3339), or ``None``."""
        return self._data.get("created")

    @property
    def created_at(self) -> _dt.datetime | None:
        """The creation time as a timezone-aware ``datetime``, or ``None``."""
        return parse_time(self.created) if self.created else None

    @property
    def author(self) -> str | None:
        """Who made the image (Dockerfile ``MAINTAINER``), if stated."""
        return self._data.get("author")

    # --- how to run a container (Docker inspect's "Config") -----------------------

    @property
    def config(self) -> JSONObject:
        """Return a copy of the ``config`` object (``docker inspect``'s ``Config``)."""
        return copy.deepcopy(self._data.get("config") or {})

    def _run(self, key: str) -> Any:
        return (self._data.get("config") or {}).get(key)

    @property
    def user(self) -> str | None:
        """The user a container runs as (``USER``); ``None`` means root."""
        return self._run("User") or None

    @property
    def env(self) -> tuple[str, ...]:
        """The environment, as ``NAME=value`` strings (``ENV``)."""
        return tuple(self._run("Env") or ())

    @property
    def entrypoint(self) -> tuple[str, ...] | None:
        """The program a container starts with (``ENTRYPOINT``), if any."""
        return _command(self._data.get("config") or {}, "Entrypoint")

    @property
    def cmd(self) -> tuple[str, ...] | None:
        """The default command or arguments (``CMD``), if any."""
        return _command(self._data.get("config") or {}, "Cmd")

    @property
    def working_dir(self) -> str | None:
        """The directory a container starts in (``WORKDIR``), if set."""
        return self._run("WorkingDir") or None

    @property
    def labels(self) -> FrozenMap:
        """The image's labels (``LABEL``)."""
        return FrozenMap(self._run("Labels") or {})

    @property
    def exposed_ports(self) -> tuple[str, ...]:
        """The ports the image says it listens on, like ``6379/tcp`` (``EXPOSE``)."""
        return tuple(self._run("ExposedPorts") or ())

    @property
    def volumes(self) -> tuple[str, ...]:
        """The paths declared as volumes (``VOLUME``)."""
        return tuple(self._run("Volumes") or ())

    @property
    def stop_signal(self) -> str | None:
        """The signal ``docker stop`` sends (``STOPSIGNAL``), if set."""
        return self._run("StopSignal") or None

    # --- layers and history ---------------------------------------------------------

    @property
    def diff_ids(self) -> tuple[str, ...]:
        """The digest of each uncompressed layer tar, bottom layer first."""
        return tuple(self._data["rootfs"]["diff_ids"])

    @property
    def chain_ids(self) -> tuple[str, ...]:
        """The ChainID of each layer, bottom first: how layers are shared."""
        return tuple(_digest.chain_ids(list(self.diff_ids)))

    @property
    def history(self) -> tuple[HistoryEntry, ...]:
        """The build steps, oldest first."""
        return tuple(HistoryEntry(e.get("created"), e.get("created_by"), e.get("author"),
                                  e.get("comment"), bool(e.get("empty_layer")))
                     for e in self._data.get("history") or ())

    def layer_history(self) -> tuple[tuple[HistoryEntry, str | None], ...]:
        """Pair every history entry with the diff_id of the layer it made.

        Entries marked ``empty_layer`` made no layer and get ``None``; each
        other entry takes the next diff_id, bottom first (Docker's rule).
        Raises ``ManifestError`` with Docker's message when the history
        names more layers than ``rootfs`` has.
        """
        diff_ids = iter(self.diff_ids)
        pairs = []
        for entry in self.history:
            layer = None
            if not entry.empty_layer:
                layer = next(diff_ids, None)
                if layer is None:
                    raise ManifestError("too many non-empty layers in History section")
            pairs.append((entry, layer))
        return tuple(pairs)
