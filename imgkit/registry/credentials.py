"""Find the user name and password `docker login` saved for a registry.

``docker login`` writes them to ``~/.docker/config.json`` (or
``$DOCKER_CONFIG/config.json``) under ``auths``, keyed by the registry::

    {"auths": {
        "https://index.docker.io/v1/": {"auth": "YWxpY2U6czNjcjN0"},
        "127.0.0.1:5000": {"username": "alice", "password": "s3cr3t"}}}

``auth`` is base64 of ``user:password``. Docker Hub's key is the historic
``https://index.docker.io/v1/`` and only that key counts for ``docker.io``;
for other registries any key whose host part is the registry matches
(``https://host:5000/v2/`` as well as ``host:5000``), as Docker does.

Credentials kept by a credential helper (``credsStore``, ``credHelpers``)
are not read: imgkit does not run helper programs.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError

__all__ = ["Credentials", "DOCKER_HUB_KEY", "config_dir", "config_key", "hostname_of",
           "load_auths", "lookup"]

#: The key `docker login` uses for Docker Hub, for historic reasons.
DOCKER_HUB_KEY = "https://index.docker.io/v1/"

_HUB_DOMAINS = ("docker.io", "index.docker.io")


@dataclass(frozen=True)
class Credentials:
    """A user name and password (or personal access token) for one registry.

    The password never shows in ``repr``, so printing a client or an error
    in a notebook cannot leak it.
    """

    username: str
    password: str = field(repr=False)

    def __iter__(self) -> Iterator[str]:
        # Lets `user, password = creds` work like the tuple callers may pass.
        return iter((self.username, self.password))


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Return Docker's config directory: ``$DOCKER_CONFIG``, else ``~/.docker``."""
    env = os.environ if environ is None else environ
    value = env.get("DOCKER_CONFIG")
    return Path(value).expanduser() if value else Path.home() / ".docker"


def hostname_of(key: str) -> str:
    """Reduce an ``auths`` key to ``host[:port]``: drop the scheme and any path."""
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    return key.split("/", 1)[0]


def config_key(domain: str) -> str:
    """Return the ``auths`` key Docker looks up first for ``domain``."""
    return DOCKER_HUB_KEY if domain in _HUB_DOMAINS else domain


def load_auths(path: str | os.PathLike[str] | None = None) -> dict[str, Credentials]:
    """Return every saved login in a Docker ``config.json``, by its key.

    A missing file means no logins. A file that is not JSON, or an ``auth``
    field that is not base64 of ``user:password``, raises ``ConfigError``
    naming the file (never its contents).
    """
    file = Path(path) if path is not None else config_dir() / "config.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read Docker config {file}: {type(exc).__name__}") from None
    auths = data.get("auths", {}) if isinstance(data, dict) else None
    if not isinstance(auths, dict):
        raise ConfigError(f"cannot read Docker config {file}: 'auths' is not an object")
    found = {}
    for key, entry in auths.items():
        creds = _entry_credentials(entry, key, file)
        if creds is not None:
            found[key] = creds
    return found


def _entry_credentials(entry: object, key: str, file: Path) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):    # ValueError: not even ASCII
            raise ConfigError(f"cannot read Docker config {file}: the 'auth' of "
                              f"{key!r} is not base64") from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise ConfigError(f"cannot read Docker config {file}: the 'auth' of "
                              f"{key!r} is not user:password")
        return Credentials(username, password)
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str) and name:
        return Credentials(name, secret)
    return None


def lookup(domain: str, path: str | os.PathLike[str] | None = None) -> Credentials | None:
    """Return the saved login for ``domain`` (``docker.io``, ``host:port``), or None.

    1. Try the exact key Docker uses (``https://index.docker.io/v1/`` for
       Docker Hub, else the domain itself).
    2. For registries other than Docker Hub, try every key whose host part is
       the domain (old config files saved ``https://host/v1/`` forms).
    """
    auths = load_auths(path)
    key = config_key(domain)
    if key in auths:
        return auths[key]
    if domain in _HUB_DOMAINS:
        return None
    for saved_key, creds in auths.items():
        if hostname_of(saved_key) == domain:
            return creds
    return None
