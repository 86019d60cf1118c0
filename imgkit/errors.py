"""Every error imgkit raises, in one tree.

Catch ``ImgkitError`` to catch them all. Parse errors are also ``ValueError``
and failed look-ups are also ``LookupError``, so code that already handles
those keeps working. Messages carry Docker's own wording wherever Docker has
one, so a learner can compare them with what ``docker`` prints::

    ImgkitError
    ├── InvalidReferenceError (ValueError)   "invalid reference format"
    ├── InvalidDigestError (ValueError)      "invalid checksum digest length"
    ├── DigestMismatchError                  content did not hash to its digest
    ├── CorruptLayerError                    a layer that hashes right but is no tar
    ├── UnsafeLayerError                     a layer entry that would land outside the root
    ├── LayerTooLargeError                   a layer past the unpack limits (a bomb)
    ├── ManifestError (ValueError)           a malformed manifest, index or config
    ├── InvalidPlatformError (ValueError)    "invalid platform ..."
    ├── NoMatchingManifestError (LookupError) "no matching manifest for linux/arm64/v8 ..."
    ├── ConfigError (ValueError)             a bad imgkit or Docker config file
    ├── ImageNotFoundError (LookupError)     "No such image: alpine:latest"
    ├── PullError (ValueError)               "tag can't be used with --all-tags/-a"
    ├── InvalidFilterError (ValueError)      "invalid filter 'foo'"
    ├── ConflictError                        "conflict: unable to delete ... (must be forced)"
    ├── DockerfileError                      "Dockerfile:3: ..." (a problem at a line)
    │   ├── DockerfileParseError (ValueError) "unknown instruction: COPPY (did you mean COPY?)"
    │   └── BuildError                       "The command '/bin/sh -c false' returned a non-zero code: 1"
    ├── StoreError                           the local store is damaged or locked
    ├── LabError                             the lab registry could not start or stop
    ├── BundleError (ValueError)             an image archive that cannot be loaded
    ├── GraphvizMissingError                 the `dot` program is not installed
    ├── GraphFormatError (ValueError)        a graph file suffix with no known format
    └── RegistryError                        anything a registry said or did not say
        ├── RegistryUnreachableError         no connection, DNS failure, timeout
        ├── AuthenticationError              401/403, or a token server refused us
        ├── TooManyRequestsError             429, with Docker Hub's rate-limit figures
        └── RegistryNotFoundError (LookupError)
            ├── ManifestUnknownError         "manifest for x:y not found: manifest unknown"
            ├── BlobUnknownError
            └── RepositoryNotFoundError      "pull access denied for x, ..."

Registry errors keep the HTTP status, the registry's error ``code`` (parsed
from its JSON body) and whether trying again could help (``retryable``).
No message ever holds a password or a token.
"""

from __future__ import annotations

__all__ = [
    "ImgkitError",
    "InvalidReferenceError",
    "InvalidDigestError",
    "DigestMismatchError",
    "CorruptLayerError",
    "UnsafeLayerError",
    "LayerTooLargeError",
    "ManifestError",
    "InvalidPlatformError",
    "NoMatchingManifestError",
    "ConfigError",
    "ImageNotFoundError",
    "PullError",
    "InvalidFilterError",
    "ConflictError",
    "DockerfileError",
    "DockerfileParseError",
    "BuildError",
    "StoreError",
    "LabError",
    "BundleError",
    "GraphvizMissingError",
    "GraphFormatError",
    "RegistryError",
    "RegistryUnreachableError",
    "AuthenticationError",
    "TooManyRequestsError",
    "RegistryNotFoundError",
    "ManifestUnknownError",
    "BlobUnknownError",
    "RepositoryNotFoundError",
]


class ImgkitError(Exception):
    """Base class of every error imgkit raises on purpose."""


class InvalidReferenceError(ImgkitError, ValueError):
    """An image reference that does not follow Docker's grammar."""


class InvalidDigestError(ImgkitError, ValueError):
    """A digest string that is not ``algorithm:hex`` of the right length."""


class DigestMismatchError(ImgkitError):
    """Content whose hash is not the digest it was fetched or stored under."""

    def __init__(self, expected: str, actual: str, what: str = "content"):
        self.expected = expected
        self.actual = actual
        super().__init__(f"{what} digest mismatch: expected {expected}, got {actual}")


class CorruptLayerError(ImgkitError):
    """A layer whose bytes hash right but do not decompress, or are not a tar."""

    def __init__(self, digest: str, reason: str):
        self.digest, self.reason = digest, reason
        super().__init__(f"layer {digest} is corrupt: {reason}")


class UnsafeLayerError(ImgkitError):
    """A layer entry that would reach outside the root, or cannot be applied as written."""


class LayerTooLargeError(ImgkitError):
    """A layer that crosses one of the unpack limits (a decompression bomb, or just too big)."""


class ManifestError(ImgkitError, ValueError):
    """A manifest, index or image config that cannot be understood."""


class InvalidPlatformError(ImgkitError, ValueError):
    """A platform that is not ``os/architecture[/variant]``."""


class NoMatchingManifestError(ImgkitError, LookupError):
    """An index holds no manifest for the platform asked for."""


class ConfigError(ImgkitError, ValueError):
    """A configuration file (imgkit's or Docker's) that cannot be read."""


class ImageNotFoundError(ImgkitError, LookupError):
    """No image in the store answers to that name or ID (``No such image: x:latest``)."""


class PullError(ImgkitError, ValueError):
    """A pull that cannot be done as asked (``tag can't be used with --all-tags/-a``)."""


class InvalidFilterError(ImgkitError, ValueError):
    """A ``--filter`` that Docker would refuse: ``invalid filter 'foo'`` and the like."""


class ConflictError(ImgkitError):
    """Docker's rules forbid the operation (an image in use, referenced twice, ...)."""


class DockerfileError(ImgkitError):
    """A problem at a line of a Dockerfile; ``str()`` is ``Dockerfile:LINE: reason``.

    ``reason`` is Docker's own wording, ``path`` and ``line`` say where (either
    may be None while the error travels up to the step that knows them).
    """

    def __init__(self, reason: str, path: str | None = None, line: int | None = None):
        self.reason, self.path, self.line = reason, path, line
        where = f"{path}:{line}: " if path and line else f"{path}: " if path else ""
        super().__init__(where + reason)

    def at(self, path: str, line: int | None) -> "DockerfileError":
        """Return the same error, located at ``path:line``."""
        return type(self)(self.reason, path, line)


class DockerfileParseError(DockerfileError, ValueError):
    """A Dockerfile that Docker would refuse to parse."""


class BuildError(DockerfileError):
    """A build step that failed: ``Dockerfile:4: COPY failed: file not found ...``."""


class StoreError(ImgkitError):
    """The local store cannot be read or changed (damaged records, a held lock)."""


class LabError(ImgkitError):
    """The lab registry could not be found, started or stopped."""


class BundleError(ImgkitError, ValueError):
    """An archive that is not a readable image bundle (or is damaged)."""


class GraphvizMissingError(ImgkitError):
    """Graphviz's ``dot`` program is not installed (or not on ``PATH``)."""


class GraphFormatError(ImgkitError, ValueError):
    """A file name whose suffix names no format a graph can be written in."""


class RegistryError(ImgkitError):
    """A registry answered with an error, or could not be reached.

    ``status`` is the HTTP status (``None`` when there was no answer),
    ``code`` the registry's own error code such as ``MANIFEST_UNKNOWN``,
    ``retryable`` whether the same request may succeed later.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retryable: bool = False,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.retryable = retryable


class RegistryUnreachableError(RegistryError):
    """No answer at all: refused connection, unknown host, time-out, TLS failure."""

    def __init__(self, message: str, **kwargs):
        kwargs.setdefault("retryable", True)
        super().__init__(message, **kwargs)


class AuthenticationError(RegistryError):
    """The registry (or its token server) did not accept who we are."""


class TooManyRequestsError(RegistryError):
    """HTTP 429: Docker Hub's pull rate limit (or another registry's) is spent.

    ``limit`` and ``remaining`` come from the ``ratelimit-*`` headers when the
    registry sent them.
    """

    def __init__(self, message: str, *, limit: int | None = None,
                 remaining: int | None = None, **kwargs):
        kwargs.setdefault("status", 429)
        kwargs.setdefault("code", "TOOMANYREQUESTS")
        super().__init__(message, **kwargs)
        self.limit = limit
        self.remaining = remaining


class RegistryNotFoundError(RegistryError, LookupError):
    """The registry has no such repository, manifest or blob."""


class ManifestUnknownError(RegistryNotFoundError):
    """No manifest under that tag or digest."""


class BlobUnknownError(RegistryNotFoundError):
    """No blob under that digest in that repository."""


class RepositoryNotFoundError(RegistryNotFoundError):
    """The repository does not exist, or we may not see it."""
