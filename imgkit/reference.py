"""Image references: how Docker reads a name such as ``alpine`` or ``ghcr.io/a/b:1.0``.

A reference names an image in a registry. Its full grammar is::

    reference := [domain "/"] path [":" tag] ["@" digest]

- **domain**: the registry's host, with an optional port (``ghcr.io``,
  ``localhost:5000``, ``[fc00::1]:5000``). Left out, it is ``docker.io``
  (Docker Hub).
- **path**: the repository inside that registry, lower-case components joined
  by ``/`` (``library/alpine``). On Docker Hub a one-component path is an
  *official image* and lives under ``library/``.
- **tag**: a movable label (``3.20``). Left out, ``docker pull`` uses ``latest``.
- **digest**: ``sha256:`` and 64 hex digits, the hash of the manifest. It
  pins exactly one image; when both are given, a pull trusts the digest.

Docker decides whether the first component is a domain without looking it
up: only if a ``/`` follows it and it contains ``.`` or ``:``, is exactly
``localhost``, or has an upper-case letter. So ``myuser/app`` is a Docker Hub
repository, ``myhost:5000/app`` names a registry, and ``test.com:5000`` alone
is the Docker Hub image ``test.com`` with tag ``5000``. Worked example::

    you type                 alpine
    no domain            ->  docker.io/alpine
    official image       ->  docker.io/library/alpine       (parse() stops here)
    no tag (at pull)     ->  docker.io/library/alpine:latest

``parse`` gives the canonical form; ``Reference.familiar`` turns it back
into the short form Docker prints. ``parse`` never adds ``latest`` itself:
call ``with_default_tag()`` where Docker would (pull, run, rmi...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import digest as _digests
from .errors import InvalidReferenceError

__all__ = [
    "DEFAULT_DOMAIN",
    "DEFAULT_TAG",
    "OFFICIAL_PREFIX",
    "NAME_MAX_LENGTH",
    "Reference",
    "parse",
    "validate_tag",
    "validate_digest",
    "is_id_like",
]

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"  # Docker Hub's old name, still accepted
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_MAX_LENGTH = 255  # limit on the path (the domain is not counted)

# --- The grammar, built from named pieces (as distribution/reference does) ---
# Path components are lower case only: a registry path is case-sensitive, and
# Docker refuses names that differ only by case. Separators (one ".", one or
# two "_", any run of "-") sit *between* letters/digits, never at an end.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
# A domain is a DNS-like host name (upper case allowed: host names ignore
# case; dotted IPv4 fits this too) or an IPv6 address in brackets (no "%zone"),
# then an optional numeric port.
_DOMAIN_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST_NAME = rf"{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_DOMAIN = rf"(?:{_HOST_NAME}|{_IPV6})(?::[0-9]+)?"
# A tag may not start with "." or "-" and is at most 128 characters.
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
# The reference grammar only wants "algorithm:" and at least 32 hex digits
# (128 bits); validate_digest then checks algorithm, length and case.
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_REFERENCE_RE = re.compile(
    rf"(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH})"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?"
)
_DOMAIN_RE = re.compile(_DOMAIN)
_PATH_RE = re.compile(_PATH)
_TAG_RE = re.compile(_TAG)
_DIGEST_SYNTAX_RE = re.compile(_DIGEST)
# An image ID without "sha256:"; Docker refuses it as a repository name.
_ID_RE = re.compile(r"[a-f0-9]{64}")

_BAD_FORMAT = "invalid reference format"


def is_id_like(text: str) -> bool:
    """Tell whether ``text`` is 64 lower-case hex digits, i.e. an image ID.

    Docker refuses such a string as a repository name, because it could not
    tell the name from an ID (``docker run <64 hex>`` means the image ID).
    """
    return _ID_RE.fullmatch(text) is not None


def validate_tag(tag: str) -> str:
    """Return ``tag`` unchanged if it is a valid tag, else raise InvalidReferenceError.

    A tag is 1 to 128 letters, digits, ``_``, ``.`` or ``-``, and does not
    start with ``.`` or ``-``. Upper case is allowed (``lowercase:Uppercase``).
    """
    if not isinstance(tag, str) or _TAG_RE.fullmatch(tag) is None:
        raise InvalidReferenceError(_BAD_FORMAT)
    return tag


def validate_digest(digest: str) -> str:
    """Return ``digest`` unchanged if it is a usable digest, else raise InvalidDigestError.

    A digest is ``algorithm:hex``. Docker knows sha256 (64 hex digits),
    sha384 (96) and sha512 (128), always in lower case. The messages are
    go-digest's: ``invalid checksum digest length`` (wrong number of digits),
    ``unsupported digest algorithm`` (e.g. ``md5:``) and ``invalid checksum
    digest format`` (upper-case hex, no colon...).
    """
    return _digests.validate(digest)


def _split_domain(text: str) -> tuple[str, str]:
    """Split what the user typed into (domain, rest), adding Docker's defaults."""
    first, slash, rest = text.partition("/")
    if not slash:
        # One component ("alpine", "test.com:5000", "localhost"): always an
        # official Docker Hub image, so a ":5000" here is read as a tag.
        return DEFAULT_DOMAIN, OFFICIAL_PREFIX + text
    if first == LEGACY_DOMAIN:
        domain, rest = DEFAULT_DOMAIN, rest
    elif first == "localhost" or "." in first or ":" in first or first.lower() != first:
        domain = first
    else:
        domain, rest = DEFAULT_DOMAIN, text
    if domain == DEFAULT_DOMAIN and "/" not in rest:
        rest = OFFICIAL_PREFIX + rest
    return domain, rest


def parse(text: str) -> Reference:
    """Parse a reference as a user types it and normalise it the way Docker does.

    Adds ``docker.io`` when there is no domain, turns ``index.docker.io`` into
    ``docker.io``, and puts ``library/`` before a one-component Docker Hub
    path. It does not add ``latest`` (see ``Reference.with_default_tag``).
    Raises InvalidReferenceError (a ValueError) with Docker's message for a
    malformed name, and InvalidDigestError for a digest Docker cannot use.

    >>> str(parse("alpine:3.20"))
    'docker.io/library/alpine:3.20'
    """
    if not isinstance(text, str):
        raise TypeError(f"reference must be a str, not {type(text).__name__}")
    if is_id_like(text):
        raise InvalidReferenceError(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
        )
    domain, rest = _split_domain(text)
    # Docker's lower-case check looks at the normalised path up to the first
    # ":" - hence "library/Ubuntu" in the message for "Ubuntu".
    remote = rest.split(":", 1)[0]
    if remote.lower() != remote:
        raise InvalidReferenceError(
            f"{_BAD_FORMAT}: repository name ({remote}) must be lowercase"
        )
    full = f"{domain}/{rest}"
    match = _REFERENCE_RE.fullmatch(full)
    if match is None:
        # Reached when the "domain" is not one after all ("Foo_Bar/x").
        lowered = full.lower()
        if lowered != full and _REFERENCE_RE.fullmatch(lowered) is not None:
            raise InvalidReferenceError("repository name must be lowercase")
        raise InvalidReferenceError(_BAD_FORMAT)
    # A first component that looked like a domain but is not a valid host
    # ("foo_bar.com/app") ends up in the path, and the domain stays empty.
    return Reference(match["domain"] or "", match["path"], match["tag"], match["digest"])


@dataclass(frozen=True, repr=False)
class Reference:
    """A parsed, normalised image reference; build one with ``parse()``.

    ``domain`` is the registry (``docker.io``), ``path`` the repository
    (``library/alpine``), ``tag`` and ``digest`` are ``None`` when absent.
    ``str()`` gives the canonical form, ``familiar`` the form Docker prints.
    """

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        if self.domain and _DOMAIN_RE.fullmatch(self.domain) is None:
            raise InvalidReferenceError(_BAD_FORMAT)
        if _PATH_RE.fullmatch(self.path) is None:
            raise InvalidReferenceError(_BAD_FORMAT)
        if len(self.path) > NAME_MAX_LENGTH:
            raise InvalidReferenceError(
                f"repository name must not be more than {NAME_MAX_LENGTH} characters"
            )
        if self.tag is not None:
            validate_tag(self.tag)
        if self.digest is not None:
            if _DIGEST_SYNTAX_RE.fullmatch(self.digest) is None:
                raise InvalidReferenceError(_BAD_FORMAT)
            validate_digest(self.digest)

    @property
    def name(self) -> str:
        """The canonical name without tag or digest: ``docker.io/library/alpine``."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def familiar_name(self) -> str:
        """The name as Docker prints it: ``alpine``, ``user/app``, ``ghcr.io/a/b``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        short = self.path.removeprefix(OFFICIAL_PREFIX)
        # "library/foo/bar" keeps its prefix: only "library/<one>" is official.
        return self.path if "/" in short else short

    @property
    def familiar(self) -> str:
        """The whole reference as Docker prints it: ``alpine:3.20``."""
        return self.familiar_name + self._suffix()

    def _suffix(self) -> str:
        tag = f":{self.tag}" if self.tag is not None else ""
        digest = f"@{self.digest}" if self.digest is not None else ""
        return tag + digest

    def __str__(self) -> str:
        return self.name + self._suffix()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def with_tag(self, tag: str) -> Reference:
        """Return the same reference with ``tag`` (a digest, if any, is kept)."""
        return replace(self, tag=validate_tag(tag))

    def with_digest(self, digest: str) -> Reference:
        """Return the same reference pinned to ``digest`` (a tag, if any, is kept)."""
        return replace(self, digest=digest)

    def with_default_tag(self) -> Reference:
        """Return the reference with ``:latest`` if it has neither tag nor digest.

        This is what ``docker pull alpine`` does ("Using default tag: latest");
        a reference with a tag or a digest comes back unchanged.
        """
        if self.tag is None and self.digest is None:
            return replace(self, tag=DEFAULT_TAG)
        return self
