"""Talk HTTP to one registry: endpoint, authentication, redirects, retries, errors.

Every request a ``RegistryClient`` makes goes through ``Transport.request``:

1. Before the first request, ``GET /v2/`` ("ping"): a 200 means no
   authentication; a 401 carries the challenge (Bearer or Basic) that says
   how to authenticate. Docker does the same.
2. Attach ``Authorization`` for the request's scopes (a cached or fresh
   token, or Basic credentials) - but only when the URL is on the registry's
   own scheme, host and port.
3. Send with redirects switched off and follow them here, up to 5 hops, so
   that ``Authorization`` is dropped as soon as a hop leaves the registry
   (Docker Hub sends blob downloads to a CDN that must never see the token).
4. On 401, learn the new challenge, drop the refused token and send once more.
5. On a refused connection, 5xx or 429, wait (exponential back-off, or the
   ``Retry-After`` the server asked for when it is short) and try again, up to
   ``tries`` times in all. Only requests that can safely be repeated are.
6. Turn any other failure into a typed ``RegistryError`` (see ``responses``).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import IO
from urllib.parse import urljoin, urlsplit

import requests

from ..errors import RegistryError, RegistryNotFoundError, RegistryUnreachableError
from .auth import Authenticator
from .responses import (
    describe_connection_error,
    error_from_response,
    parse_retry_after,
    redact,
    strip_query,
)

__all__ = ["DOCKER_HUB_URL", "Transport", "registry_url", "is_loopback", "host_of",
           "same_origin"]

#: Where ``docker.io`` images really live.
DOCKER_HUB_URL = "https://registry-1.docker.io"

#: What a request may carry: bytes, or a binary file read as it is sent.
Body = bytes | IO[bytes] | None

MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
# Enough of an error body to parse its JSON; a broken server may send megabytes.
_ERROR_BODY_LIMIT = 64 * 1024


def host_of(domain: str) -> str:
    """Return the host part of ``host[:port]`` (brackets of IPv6 removed)."""
    if domain.startswith("["):
        return domain[1:].split("]", 1)[0]
    host, sep, port = domain.rpartition(":")
    return host if sep and port.isdigit() and ":" not in host else domain


def is_loopback(domain: str) -> bool:
    """Return True for ``localhost``, ``127.0.0.0/8`` and ``::1`` (with any port)."""
    host = host_of(domain).lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _listed(domain: str, insecure_registries: Iterable[str]) -> bool:
    host = host_of(domain)
    for entry in insecure_registries:
        entry = entry.strip().rstrip("/")
        for prefix in ("http://", "https://"):
            entry = entry.removeprefix(prefix)
        if entry in (domain, host):
            return True
        try:  # Docker accepts CIDR ranges in insecure-registries too.
            if "/" in entry and ipaddress.ip_address(host) in ipaddress.ip_network(entry, False):
                return True
        except ValueError:
            pass
    return False


def registry_url(domain: str, insecure: bool | None = None,
                 insecure_registries: Iterable[str] = ()) -> str:
    """Return the base URL for a registry domain, following Docker's rules.

    1. ``docker.io`` (and its alias ``index.docker.io``) -> ``https://registry-1.docker.io``.
    2. Plain ``http://host`` when ``insecure`` is True, or when it is None and
       the host is loopback or listed in ``insecure_registries``.
    3. Otherwise ``https://host``, with TLS certificates always verified.

    >>> registry_url("docker.io"), registry_url("127.0.0.1:5000"), registry_url("ghcr.io")
    ('https://registry-1.docker.io', 'http://127.0.0.1:5000', 'https://ghcr.io')
    """
    if domain in ("docker.io", "index.docker.io"):
        return DOCKER_HUB_URL
    if insecure is None:
        insecure = is_loopback(domain) or _listed(domain, insecure_registries)
    return f"{'http' if insecure else 'https'}://{domain}"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def same_origin(url: str, other: str) -> bool:
    """Return True when both URLs share scheme, host and port (where a token may go)."""
    return _origin(url) == _origin(other)


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    # Passed as `auth=` so requests does not add ~/.netrc credentials on its
    # own: every Authorization header is decided by the rules above.
    return request


class Transport:
    """Send HTTP requests to one registry with auth, redirects and retries.

    ``sleep`` and ``backoff`` are injectable so tests need not wait.
    """

    def __init__(self, domain: str, base_url: str, session: requests.Session,
                 auth: Authenticator, *, user_agent: str,
                 timeout: float | tuple[float, float] = (10.0, 60.0),
                 tries: int = 3, backoff: float = 0.2, retry_after_cap: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.domain = domain
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.auth = auth
        self.user_agent = user_agent
        self.timeout = timeout
        self.tries = max(1, tries)
        self.backoff = backoff
        self.retry_after_cap = retry_after_cap
        self.sleep = sleep
        self._pinged = False
        self._ping_lock = threading.Lock()

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` (already absolute URLs pass through)."""
        return urljoin(self.base_url + "/", path)

    def redact(self, text: str) -> str:
        """Remove every password and token we hold from ``text``."""
        return redact(text, self.auth.secrets())

    # -- step 1 ---------------------------------------------------------------
    def ping(self, force: bool = False) -> requests.Response | None:
        """``GET /v2/`` once, learning the challenge; return the answer (None if skipped)."""
        with self._ping_lock:
            if self._pinged and not force:
                return None
            response = self._attempts("GET", self.url("/v2/"), scopes=(), headers={},
                                      body=None, stream=False, retry=True,
                                      rewind=_nothing)
            response.close()
            if response.status_code == 401:
                self.auth.learn(response.headers.get("WWW-Authenticate"))
            elif response.status_code != 200:
                raise RegistryError(
                    f"{self.base_url} does not answer like a registry "
                    f"(GET /v2/ gave HTTP {response.status_code})",
                    status=response.status_code, retryable=response.status_code >= 500)
            self._pinged = True
            return response

    # -- steps 2 to 6 ---------------------------------------------------------
    def request(self, method: str, path: str, *, scopes: Sequence[str] = (),
                headers: dict[str, str] | None = None, body: Body = None,
                stream: bool = False,
                retry: bool = True, ok: Iterable[int] = (200,),
                not_found: type[RegistryNotFoundError] = RegistryNotFoundError,
                pull_only: bool = True) -> requests.Response:
        """Send ``method path`` and return the response if its status is in ``ok``.

        ``scopes`` are the token scopes the request needs. ``body`` may be
        bytes or a seekable file (it is rewound for a retry). Any other status
        raises a typed ``RegistryError``; the caller closes streamed responses.
        """
        self.ping()
        url = self.url(path)
        rewinder = _rewinder(body)
        resendable = rewinder is not None  # a stream we cannot rewind goes only once
        rewind = rewinder or _nothing
        response = self._attempts(method, url, scopes=scopes, headers=headers or {},
                                  body=body, stream=stream, retry=retry and resendable,
                                  rewind=rewind)
        if response.status_code == 401 and resendable and self.auth.retry_after_refusal(
                response.headers.get("WWW-Authenticate"), scopes):
            # Step 4: the token expired, or this scope needs a new one.
            response.close()
            rewind()
            response = self._attempts(method, url, scopes=scopes, headers=headers or {},
                                      body=body, stream=stream, retry=retry and resendable,
                                      rewind=rewind)
        if response.status_code in set(ok):
            return response
        raise self.error(response, not_found=not_found, pull_only=pull_only)

    def error(self, response: requests.Response, *,
              not_found: type[RegistryNotFoundError] = RegistryNotFoundError,
              pull_only: bool = True) -> RegistryError:
        """Read (a bounded part of) a failed response and return its typed error."""
        try:
            body = b"" if response.request.method == "HEAD" else \
                next(response.iter_content(_ERROR_BODY_LIMIT), b"")
        except requests.RequestException:
            body = b""
        finally:
            response.close()
        error = error_from_response(
            response.status_code, response.headers, body, registry=self.domain,
            not_found=not_found, pull_only=pull_only,
            rejected_login=self.auth.basic_login if response.status_code == 401 else None)
        error.args = (self.redact(str(error)),)
        return error

    def _attempts(self, method: str, url: str, *, scopes: Sequence[str],
                  headers: dict[str, str], body: Body, stream: bool, retry: bool,
                  rewind: Callable[[], None]) -> requests.Response:
        """Send with bounded retries (step 5); return the last response."""
        tries = self.tries if retry else 1
        for attempt in range(1, tries + 1):
            last = attempt == tries
            try:
                response = self._follow(method, url, scopes, headers, body, stream)
            except _HopFailed as failed:
                if last:
                    raise self._unreachable(failed) from None
                self.sleep(self._delay(attempt))
                rewind()
                continue
            if response.status_code == 429 or response.status_code in (500, 502, 503, 504):
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if not last and (wait is None or wait <= self.retry_after_cap):
                    response.close()
                    self.sleep(self._delay(attempt) if wait is None else wait)
                    rewind()
                    continue
            return response
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _delay(self, attempt: int) -> float:
        return float(self.backoff * 2 ** (attempt - 1))

    def _follow(self, method: str, url: str, scopes: Sequence[str],
                headers: dict[str, str], body: Body, stream: bool) -> requests.Response:
        """Send one request and follow its redirects by hand (step 3)."""
        # The ping carries no scopes and no credentials, as Docker's does.
        authorization = self.auth.authorization(scopes) if scopes else None
        for _hop in range(MAX_REDIRECTS + 1):
            sent = {"User-Agent": self.user_agent, **headers}
            if authorization and same_origin(url, self.base_url):
                sent["Authorization"] = authorization
            try:
                response = self.session.request(
                    method, url, headers=sent, data=body, stream=stream,
                    allow_redirects=False, timeout=self.timeout, auth=_keep_headers)
            except requests.RequestException as exc:
                raise _HopFailed(url, exc) from None
            location = response.headers.get("Location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            response.close()
            url = urljoin(url, location)
            if response.status_code == 303 or (response.status_code in (301, 302)
                                                and method not in ("GET", "HEAD")):
                method, body = ("HEAD" if method == "HEAD" else "GET"), None
        raise RegistryError(f"registry {self.domain} redirected more than "
                            f"{MAX_REDIRECTS} times (last to {strip_query(url)})")

    def _unreachable(self, failed: _HopFailed) -> RegistryUnreachableError:
        cause = describe_connection_error(failed.exc)
        where = "" if same_origin(failed.url, self.base_url) else \
            f" (blob host {urlsplit(failed.url).netloc})"
        return RegistryUnreachableError(
            self.redact(f"cannot reach registry {self.domain}{where}: {cause}"))


class _HopFailed(Exception):
    """A connection failed at ``url`` (kept apart so the message can name the host)."""

    def __init__(self, url: str, exc: BaseException):
        super().__init__(strip_query(url))
        self.url = url
        self.exc = exc


def _nothing() -> None:
    """The rewind of a body that needs none (bytes, or no body)."""


def _rewinder(body: Body) -> Callable[[], None] | None:
    """Return a function that puts ``body`` back where it started, or None if it cannot.

    Bytes (and no body) need nothing; a file is rewound to where it was when
    the request began, so a retry sends the same bytes again.
    """
    if body is None or isinstance(body, (bytes, bytearray, memoryview, str)):
        return _nothing
    try:
        start = body.tell()
        body.seek(start)
    except (AttributeError, OSError, ValueError):
        return None

    def rewind() -> None:
        body.seek(start)
    return rewind
