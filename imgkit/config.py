"""Where imgkit keeps things, and the settings of one imgkit home.

An *imgkit home* is one directory (``--home DIR``, else ``$IMGKIT_HOME``, else
``~/.imgkit``) that holds everything a "Docker host" has: the image store,
the lab registry's data and ``config.json``. Two homes never see each other's
images, which is how every lesson gets a clean host of its own.

``config.json`` uses Docker's ``daemon.json`` spellings where Docker has one::

    {"registry-mirrors": ["http://127.0.0.1:5000"],
     "insecure-registries": ["myregistry.local:5000"]}

``$IMGKIT_REGISTRY_MIRROR`` (a comma-separated list), when set, replaces the
mirrors named in the file. Docker keeps registry logins in ``config.json``
files, and a learner may paste one here too, so imgkit writes this file
readable by its owner only (``0600``).

Two limits can be changed from the environment (tests and slow classrooms
need them; the defaults suit a laptop):

- ``$IMGKIT_REGISTRY_TIMEOUT``: seconds to wait for a registry to connect and
  to send the next bytes, ``READ`` or ``CONNECT,READ`` (default ``10,60``). A
  registry that stalls longer is given up on, and the request retried.
- ``$IMGKIT_MAX_LAYER_SIZE``: the most bytes one layer may hold uncompressed,
  as a number of bytes or with ``KiB``, ``MiB``, ``GiB`` (default ``4GiB``).
  A bigger layer (a decompression bomb) is refused by ``pull`` and ``create``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import ConfigError
from .fileio import atomic_write

__all__ = ["default_home", "resolve_home", "load", "save", "mirrors", "set_mirrors",
           "insecure_registries", "registry_timeout", "max_layer_size",
           "DEFAULT_REGISTRY_TIMEOUT", "DEFAULT_MAX_LAYER_SIZE", "CONFIG_MODE"]

CONFIG_NAME = "config.json"
#: Who may read ``config.json``: its owner only, as Docker's own config file.
CONFIG_MODE = 0o600
#: Seconds to wait for a registry (connect, read), as requests takes them.
DEFAULT_REGISTRY_TIMEOUT = (10.0, 60.0)
#: The most bytes a layer may unpack to (``imgkit.unpack.Limits().max_bytes``).
DEFAULT_MAX_LAYER_SIZE = 4 << 30
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20,
          "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}


def default_home() -> Path:
    """Return ``$IMGKIT_HOME`` if set, else ``~/.imgkit``."""
    env = os.environ.get("IMGKIT_HOME")
    return Path(env).expanduser() if env else Path.home() / ".imgkit"


def resolve_home(home: str | os.PathLike | None = None) -> Path:
    """Return ``home`` as an absolute path, or the default home when it is None."""
    return Path(home).expanduser().absolute() if home is not None else default_home().absolute()


def load(home: str | os.PathLike | None = None) -> dict:
    """Return the settings in ``HOME/config.json`` (an empty dict when there is none)."""
    path = resolve_home(home) / CONFIG_NAME
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"cannot read {path}: expected a JSON object")
    return data


def save(settings: dict, home: str | os.PathLike | None = None) -> None:
    """Write ``settings`` to ``HOME/config.json`` atomically, readable by its owner only."""
    path = resolve_home(home) / CONFIG_NAME
    atomic_write(path, (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode(),
                 mode=CONFIG_MODE)


def mirrors(home: str | os.PathLike | None = None) -> list[str]:
    """Return the docker.io mirrors to try before Docker Hub, in order."""
    env = os.environ.get("IMGKIT_REGISTRY_MIRROR")
    if env is not None:
        return [m.strip().rstrip("/") for m in env.split(",") if m.strip()]
    found = load(home).get("registry-mirrors", [])
    if not isinstance(found, list) or not all(isinstance(m, str) for m in found):
        raise ConfigError("registry-mirrors must be a list of URLs")
    return [m.rstrip("/") for m in found]


def set_mirrors(urls: list[str], home: str | os.PathLike | None = None) -> None:
    """Make ``urls`` the docker.io mirrors of this home (``[]`` switches mirrors off)."""
    settings = load(home)
    if urls:
        settings["registry-mirrors"] = [u.rstrip("/") for u in urls]
    else:
        settings.pop("registry-mirrors", None)
    save(settings, home)


def insecure_registries(home: str | os.PathLike | None = None) -> list[str]:
    """Return the registries (``host[:port]``) this home may reach over plain HTTP."""
    found = load(home).get("insecure-registries", [])
    if not isinstance(found, list):
        raise ConfigError("insecure-registries must be a list of host[:port]")
    return [str(h) for h in found]


def registry_timeout() -> tuple[float, float]:
    """Return the (connect, read) seconds to wait for a registry: ``$IMGKIT_REGISTRY_TIMEOUT``.

    ``"30"`` waits 30 s for both, ``"5,120"`` 5 s to connect and 120 s for
    each piece of an answer; unset, ``(10, 60)``.
    """
    text = os.environ.get("IMGKIT_REGISTRY_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_REGISTRY_TIMEOUT
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or not all(0 < v < 1e6 for v in values):
        raise ConfigError(f"IMGKIT_REGISTRY_TIMEOUT must be SECONDS or CONNECT,READ seconds "
                          f"(more than 0), not {text!r}")
    return (values[0], values[-1])


def max_layer_size() -> int:
    """Return the most bytes one layer may unpack to: ``$IMGKIT_MAX_LAYER_SIZE``, else 4 GiB."""
    text = os.environ.get("IMGKIT_MAX_LAYER_SIZE", "").strip()
    if not text:
        return DEFAULT_MAX_LAYER_SIZE
    number = text.rstrip("KkMmGgIiBb ")
    unit = text[len(number):].strip().lower()
    if not (number.isascii() and number.isdigit()) or unit not in _UNITS or int(number) <= 0:
        raise ConfigError(f"IMGKIT_MAX_LAYER_SIZE must be a size such as 4GiB or 500MiB, "
                          f"not {text!r}")
    return int(number) * _UNITS[unit]
