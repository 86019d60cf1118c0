"""Read what a registry answered: error bodies, rate limits, links, failures.

Everything here is pure (no sockets), so the unit tests can feed it tables of
headers and bodies. A registry reports errors as JSON::

    {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown",
                 "detail": {"Tag": "nope"}}]}

and Docker prints such an error as ``<code in lower-case words>: <message>``,
for example ``manifest unknown: manifest unknown`` or ``toomanyrequests: You
have reached your unauthenticated pull rate limit``. imgkit keeps that form,
so ``str(error)`` reads like the end of Docker's own line.
"""

from __future__ import annotations

import email.utils
import errno
import json
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from ..errors import (
    AuthenticationError,
    BlobUnknownError,
    ManifestUnknownError,
    RegistryError,
    RegistryNotFoundError,
    RepositoryNotFoundError,
    TooManyRequestsError,
)
from ..oci.mediatypes import INDEX_TYPES, MANIFEST_TYPES

__all__ = [
    "RateLimit",
    "parse_error_body",
    "error_text",
    "error_from_response",
    "parse_ratelimit",
    "manifest_media_type",
    "parse_retry_after",
    "describe_connection_error",
    "redact",
    "strip_query",
]

# What a registry sends when it cannot find something, by the class we raise.
_NOT_FOUND_TEXT = {
    ManifestUnknownError: "manifest unknown",
    BlobUnknownError: "blob unknown",
    RepositoryNotFoundError: "repository name not known to registry",
    RegistryNotFoundError: "not found",
}

# Registry error codes that name what was missing, whatever the caller expected.
_CODE_CLASSES = {
    "MANIFEST_UNKNOWN": ManifestUnknownError,
    "BLOB_UNKNOWN": BlobUnknownError,
    "NAME_UNKNOWN": RepositoryNotFoundError,
}


class RateLimit(NamedTuple):
    """Docker Hub's pull allowance: ``limit`` pulls per window, ``remaining`` left.

    Either is ``None`` when the registry did not send that header.
    """

    limit: int | None
    remaining: int | None


def parse_error_body(body: bytes | str | None) -> list[dict[str, Any]]:
    """Return the error entries of a registry's (or token server's) JSON body.

    Each entry is a dict with ``code``, ``message`` and ``detail`` (any may be
    ``None``). Bodies that are not JSON give ``[]``. Token servers answer in
    other shapes (Docker Hub's ``{"details": "..."}``, OAuth's ``{"error":
    ..., "error_description": ...}``); they are read into the same form.
    """
    if not body:
        return []
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(data, dict):
        return []
    entries = []
    errors = data.get("errors")
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict):
                entries.append({"code": _str_or_none(item.get("code")),
                                "message": _str_or_none(item.get("message")),
                                "detail": item.get("detail")})
    elif isinstance(data.get("details"), str):
        entries.append({"code": None, "message": data["details"], "detail": None})
    elif isinstance(data.get("error"), str):
        entries.append({"code": data["error"].upper(),
                        "message": _str_or_none(data.get("error_description")),
                        "detail": None})
    return entries


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def error_text(entries: list[dict[str, Any]]) -> str:
    """Format error entries as Docker does: ``code words: message``, joined by ``; ``."""
    parts = []
    for entry in entries:
        code, message = entry.get("code"), entry.get("message")
        words = code.lower().replace("_", " ") if code else ""
        if words and message:
            parts.append(f"{words}: {message}")
        elif words or message:
            parts.append(str(words or message))
    return "; ".join(parts)


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    registry: str,
    not_found: type[RegistryNotFoundError] = RegistryNotFoundError,
    pull_only: bool = True,
    rejected_login: str | None = None,
) -> RegistryError:
    """Build the typed error for a failed answer from ``registry``.

    ``not_found`` is the class to raise for a bare 404 (a HEAD has no body to
    say what was missing). ``pull_only`` tells whether the request only read
    (Docker reports any refusal to read as "pull access denied ... may require
    'docker login'", because a registry may hide private repositories behind
    a 401). ``rejected_login`` is the user name whose Basic credentials the
    registry itself just refused.
    """
    entries = parse_error_body(body)
    code = entries[0]["code"] if entries else None
    text = error_text(entries)
    error: RegistryError
    if status == 429 or code == "TOOMANYREQUESTS":
        limit = parse_ratelimit(headers)
        error = TooManyRequestsError(
            text or "toomanyrequests: too many requests", status=status,
            retryable=True, limit=limit.limit if limit else None,
            remaining=limit.remaining if limit else None)
    elif status in (401, 403) or code in ("UNAUTHORIZED", "DENIED"):
        text = text or ("unauthorized: authentication required" if status == 401
                        else "denied: requested access to the resource is denied")
        if rejected_login is not None:
            error = AuthenticationError(
                f"registry {registry} refused the credentials of user "
                f"{rejected_login!r}: {text}", status=status, code=code)
        elif pull_only:
            error = RepositoryNotFoundError(text, status=status, code=code)
        else:
            error = AuthenticationError(
                f"registry {registry} denied access: {text} (log in with a user "
                f"who may push, e.g. `docker login {registry}`)", status=status, code=code)
    elif code in _CODE_CLASSES:
        error = _CODE_CLASSES[code](text, status=status, code=code)
    elif status == 404:
        error = not_found(text or _NOT_FOUND_TEXT.get(not_found, "not found"),
                          status=status, code=code)
    else:
        if status >= 500 or not text:
            # A server error's body ("unknown: unknown error") says little on its own:
            # name the registry and the status, as Docker's "unexpected HTTP status" does.
            text = f"HTTP {status} from registry {registry}" + (f": {text}" if text else "")
        error = RegistryError(text, status=status, code=code,
                              retryable=status >= 500 or code == "UNAVAILABLE")
    # Extra facts for front ends that want more than the message.
    error.registry = registry  # type: ignore[attr-defined]
    error.errors = entries  # type: ignore[attr-defined]
    return error


def manifest_media_type(content_type: str | None, data: bytes | None = None) -> str:
    """Return the media type of a manifest answer, from its header or its own field.

    Some registries answer ``application/json``; the document's ``mediaType``
    field then says what it really is.
    """
    value = (content_type or "").split(";", 1)[0].strip()
    if value in INDEX_TYPES or value in MANIFEST_TYPES or data is None:
        return value
    try:
        field = json.loads(data).get("mediaType")
    except (ValueError, AttributeError):
        field = None
    return field if isinstance(field, str) and field else value


def parse_ratelimit(headers: Mapping[str, str]) -> RateLimit | None:
    """Read Docker Hub's ``ratelimit-limit`` / ``ratelimit-remaining`` headers.

    Each looks like ``100;w=21600``: 100 pulls per window of 21600 seconds
    (six hours). Returns ``None`` when neither header is there.

    >>> parse_ratelimit({"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600"})
    RateLimit(limit=100, remaining=76)
    """
    def number(name: str) -> int | None:
        value = _header(headers, name)
        if value is None:
            return None
        try:
            return int(value.split(";", 1)[0].strip())
        except ValueError:
            return None

    limit, remaining = number("ratelimit-limit"), number("ratelimit-remaining")
    if limit is None and remaining is None:
        return None
    return RateLimit(limit, remaining)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # requests' headers are case-insensitive already; plain dicts (tests) are not.
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, item in headers.items():
            if key.lower() == lowered:
                return item
    return value


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` header asks us to wait (seconds or a date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():     # "¹" is a digit to Python, not to float()
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def describe_connection_error(exc: BaseException) -> str:
    """Return the cause of a failed connection in a few words, as Docker would name it.

    requests wraps the operating system's error three deep (``ConnectionError``
    -> urllib3's ``MaxRetryError`` -> ``NewConnectionError`` ->
    ``ConnectionRefusedError``); walk down to the first cause we can name.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        named = _name_cause(current)
        if named:
            return named
        for attr in ("reason", "__cause__", "__context__"):
            inner = getattr(current, attr, None)
            if isinstance(inner, BaseException):
                pending.append(inner)
        pending.extend(arg for arg in getattr(current, "args", ())
                       if isinstance(arg, BaseException))
    return _one_line(str(exc)) or type(exc).__name__


def _name_cause(exc: BaseException) -> str | None:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, socket.gaierror):
        return "no such host"
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = getattr(exc, "verify_message", None) or "unknown authority"
        return f"TLS certificate not trusted ({reason})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({getattr(exc, 'reason', None) or 'handshake failed'})"
    if isinstance(exc, TimeoutError) or type(exc).__name__ in (
            "ConnectTimeout", "ReadTimeout", "ConnectTimeoutError", "ReadTimeoutError"):
        return "timed out"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "network is unreachable"
    text = str(exc)
    for needle, words in (("Connection refused", "connection refused"),
                          ("Name or service not known", "no such host"),
                          ("nodename nor servname", "no such host"),
                          ("Temporary failure in name resolution", "no such host"),
                          ("timed out", "timed out"),
                          ("Connection reset", "connection reset by peer"),
                          ("IncompleteRead", "connection closed before the end of the body"),
                          ("RemoteDisconnected", "connection closed by the server")):
        if needle in text:
            return words
    return None


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (password, token, header value) found in ``text`` by ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def strip_query(url: str) -> str:
    """Drop a URL's query and fragment: CDN links carry signatures there."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
