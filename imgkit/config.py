"""Where imgkit keeps things, and the settings of one imgkit home.

An *imgkit home* is one directory (``--home DIR``, else ``$IMGKIT_HOME``, else
``~/.imgkit``) that holds everything a "Docker host" has: the image store,
the lab registry's data and ``config.json``. Two homes never see each other's
images, which is how every lesson gets a clean host of its own.

``config.json`` uses Docker's ``daemon.json`` spellings where Docker has one::

    {"registry-mirrors": ["http://127.0.0.1:5000"],
     "insecure-registries": ["myregistry.local:5000"]}

``$IMGKIT_REGISTRY_MIRROR`` (a comma-separated list), when set, replaces the
mirrors named in the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import ConfigError
from .fileio import atomic_write

__all__ = ["default_home", "resolve_home", "load", "save", "mirrors", "set_mirrors",
           "insecure_registries"]

CONFIG_NAME = "config.json"


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
    """Write ``settings`` to ``HOME/config.json`` atomically."""
    path = resolve_home(home) / CONFIG_NAME
    atomic_write(path, (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode())


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
