"""The Host: one imgkit home acting as a "Docker host" - a store plus its settings.

Every verb (pull, images, rmi, ...) acts on a ``Host``. The module-level
verbs (``imgkit.pull("alpine")``) use the default host (``$IMGKIT_HOME`` or
``~/.imgkit``); a lesson makes a clean host of its own with
``imgkit.Host(tmpdir)`` so that it starts from an empty store.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import config
from ..store import Store

__all__ = ["Host", "default_host", "DOCKER_HUB_DOMAIN"]

DOCKER_HUB_DOMAIN = "docker.io"


class Host:
    """A Docker host of your own: an image store and the settings of one imgkit home.

    ``Host()`` is the default home; ``Host("/tmp/lesson")`` a separate one.
    ``platform`` (like ``linux/arm64``) overrides the platform pulls choose.
    ``mirrors`` overrides the docker.io mirrors named in the home's config.
    ``timeout`` (seconds, or ``(connect, read)``) overrides how long to wait
    for a registry (``$IMGKIT_REGISTRY_TIMEOUT``, else 10 s and 60 s).
    """

    def __init__(self, home: str | os.PathLike | None = None, *, platform: str | None = None,
                 mirrors: list[str] | None = None,
                 timeout: float | tuple[float, float] | None = None):
        self.home: Path = config.resolve_home(home)
        self.store = Store(self.home / "store")
        self.platform = platform
        self._mirrors = mirrors
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"Host({str(self.home)!r})"

    @property
    def mirrors(self) -> list[str]:
        """The docker.io mirrors tried before Docker Hub, in order."""
        if self._mirrors is not None:
            return list(self._mirrors)
        return config.mirrors(self.home)

    def insecure_registries(self) -> list[str]:
        """Registries (``host[:port]``) this host may reach over plain HTTP."""
        return config.insecure_registries(self.home)

    @property
    def timeout(self) -> tuple[float, float]:
        """Seconds to wait for a registry to connect and to send more: ``(connect, read)``."""
        if self._timeout is None:
            return config.registry_timeout()
        if isinstance(self._timeout, (int, float)):
            return (float(self._timeout), float(self._timeout))
        return (float(self._timeout[0]), float(self._timeout[1]))

    @property
    def max_layer_size(self) -> int:
        """The most bytes one layer may decompress to (``$IMGKIT_MAX_LAYER_SIZE``, else 4 GiB)."""
        return config.max_layer_size()

    def layer_limits(self):
        """Return the ``imgkit.unpack.Limits`` a layer must keep to (``max_layer_size``)."""
        from ..unpack import Limits
        return Limits(max_bytes=self.max_layer_size)

    def registry_clients(self, domain: str) -> list:
        """Return the registry clients a pull from ``domain`` tries, in order.

        For docker.io: each configured mirror, then Docker Hub itself
        (``registry-1.docker.io``), as Docker's ``registry-mirrors`` work.
        Any other registry is reached directly.
        """
        from ..registry import RegistryClient

        options = {"insecure_registries": self.insecure_registries(), "timeout": self.timeout}
        clients = []
        if domain == DOCKER_HUB_DOMAIN:
            for url in self.mirrors:
                clients.append(RegistryClient(domain, base_url=url, **options))
            hub = os.environ.get("IMGKIT_DOCKER_HUB_URL")   # tests point "Docker Hub" at loopback
            clients.append(RegistryClient(domain, base_url=hub, **options)
                           if hub else RegistryClient(domain, **options))
        else:
            clients.append(RegistryClient(domain, **options))
        return clients


_default: Host | None = None


def default_host() -> Host:
    """Return the Host of the default imgkit home (made again if ``$IMGKIT_HOME`` changed)."""
    global _default
    if _default is None or _default.home != config.resolve_home(None):
        _default = Host()
    return _default
