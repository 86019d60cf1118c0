"""Talk to image registries over the OCI distribution protocol, as Docker does.

``RegistryClient`` speaks to one registry (Docker Hub, the lab registry on
127.0.0.1, any OCI registry): it pings ``/v2/``, answers Bearer or Basic
challenges, reads and writes manifests and blobs, lists tags and the catalog,
and verifies every byte against its digest. The modules, bottom up:

- ``responses``: error bodies, rate-limit headers, connection failures (pure).
- ``credentials``: logins saved by ``docker login`` in ``config.json``.
- ``auth``: ``WWW-Authenticate`` parsing, the token handshake, token cache.
- ``transport``: endpoint rules, redirects without leaking tokens, retries.
- ``download``: blob streams that verify their digest and resume with Range.
- ``client``: the ``RegistryClient`` itself.
- ``push``: ``push_image``, which skips blobs the registry already has.
"""

from __future__ import annotations

from .auth import Challenge, parse_challenges, repository_scope
from .client import Manifest, ManifestInfo, RegistryClient
from .credentials import Credentials
from .credentials import lookup as lookup_credentials
from .download import BlobStream
from .push import push_image
from .responses import RateLimit, parse_ratelimit
from .transport import DOCKER_HUB_URL, is_loopback, registry_url

__all__ = [
    "RegistryClient",
    "Manifest",
    "ManifestInfo",
    "BlobStream",
    "Credentials",
    "Challenge",
    "RateLimit",
    "DOCKER_HUB_URL",
    "push_image",
    "registry_url",
    "is_loopback",
    "parse_challenges",
    "parse_ratelimit",
    "repository_scope",
    "lookup_credentials",
]
