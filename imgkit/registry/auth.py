"""Answer a registry's authentication challenge: Bearer tokens or Basic credentials.

A registry says how it wants to be authenticated in the ``WWW-Authenticate``
header of a 401 answer::

    WWW-Authenticate: Bearer realm="https://auth.docker.io/token",
                      service="registry.docker.io",
                      scope="repository:library/alpine:pull"

The token handshake (Docker's "token authentication specification"):

1. The client asks the registry for something and gets 401 with a challenge.
2. It asks the token server named by ``realm`` for a token:
   ``GET realm?service=<service>&scope=repository:<path>:pull`` - anonymously,
   or with the user's Basic credentials (only the token server sees them).
3. The token server answers ``{"token": "...", "expires_in": 300}``
   (some send ``access_token``; both mean the same). A refused connection,
   a time-out or a 5xx/429 from it is tried again, up to ``tries`` times.
4. The client repeats the request with ``Authorization: Bearer <token>`` and
   keeps the token for that scope until it expires, so the next request for
   the same repository costs no extra round trip.

A ``Basic realm="..."`` challenge (htpasswd) skips the token server: the
client sends ``Authorization: Basic base64(user:password)`` to the registry.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from ..errors import AuthenticationError, RegistryError, RegistryUnreachableError
from .credentials import Credentials
from .responses import (
    describe_connection_error,
    error_text,
    parse_error_body,
    strip_query,
)

__all__ = ["Challenge", "Token", "Authenticator", "parse_challenges", "repository_scope",
           "MIN_TOKEN_LIFETIME"]

#: Docker treats a token as valid for at least 60 s, whatever ``expires_in`` says.
MIN_TOKEN_LIFETIME = 60

# Tokens are cached per (realm, service, sorted scopes).
_TokenKey = tuple[str | None, str | None, tuple[str, ...]]

# Renew a token this many seconds before it runs out, so it never expires in flight.
_EXPIRY_MARGIN = 5


@dataclass(frozen=True)
class Challenge:
    """One challenge of a ``WWW-Authenticate`` header: a scheme and its parameters.

    ``scheme`` is lower-case (``"bearer"``, ``"basic"``); parameter names are
    lower-case too, their values as sent.
    """

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")


def parse_challenges(header: str | None) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value into its challenges, in order.

    Handles quoted values with commas and backslash escapes, unquoted tokens,
    several challenges in one header (``Basic realm="a", Bearer realm="b"``)
    and stray commas. Malformed pieces are skipped rather than raised: a
    strange header should lead to a clear 401 error later, not a crash here.
    """
    text = header or ""
    n = len(text)
    i = 0
    challenges: list[Challenge] = []
    current: Challenge | None = None

    def skip_space(j: int) -> int:
        while j < n and text[j] in " \t":
            j += 1
        return j

    while i < n:
        while i < n and text[i] in " \t,":
            i += 1
        start = i
        while i < n and text[i] not in " \t,=":
            i += 1
        token = text[start:i]
        if not token:
            i += 1
            continue
        j = skip_space(i)
        if j < n and text[j] == "=":
            # A parameter (name=value); '==' runs mean a token68 blob, which we skip.
            j = skip_space(j + 1)
            if j < n and text[j] == '"':
                value, i = _quoted(text, j)
            else:
                end = j
                while end < n and text[end] not in ",":
                    end += 1
                value, i = text[j:end].strip(), end
            if current is not None and value and not value.startswith("="):
                current.params[token.lower()] = value
        else:
            current = Challenge(token.lower(), {})
            challenges.append(current)
            i = j
    return challenges


def _quoted(text: str, start: int) -> tuple[str, int]:
    """Read a quoted-string starting at ``text[start] == '"'``; return (value, next index)."""
    out = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            return "".join(out), i + 1
        out.append(char)
        i += 1
    return "".join(out), i


def repository_scope(repository: str, actions: Sequence[str]) -> str:
    """Return a token scope such as ``repository:library/alpine:pull,push``."""
    return f"repository:{repository}:{','.join(actions)}"


@dataclass
class Token:
    """A Bearer token and the moment (``time.monotonic``) it stops being usable."""

    value: str = field(repr=False)
    expires_at: float


class Authenticator:
    """Hold what one registry asked for and produce ``Authorization`` values.

    ``learn()`` takes the ``WWW-Authenticate`` header of a 401;
    ``authorization(scopes)`` then returns the header value to send (fetching
    and caching a token when the registry speaks Bearer). Safe to share
    between the threads of concurrent downloads.
    """

    def __init__(self, registry: str, credentials: Credentials | None,
                 session: requests.Session, *, user_agent: str,
                 timeout: float | tuple[float, float] = (10.0, 60.0),
                 clock: Callable[[], float] = time.monotonic, tries: int = 3,
                 backoff: float = 0.2, sleep: Callable[[float], None] = time.sleep):
        self.registry = registry
        self._tries, self._backoff, self._sleep = max(1, tries), backoff, sleep
        self.credentials = credentials
        self.challenge: Challenge | None = None
        self._session = session
        self._user_agent = user_agent
        self._timeout = timeout
        self._clock = clock
        self._tokens: dict[_TokenKey, Token] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        user = self.credentials.username if self.credentials else None
        scheme = self.challenge.scheme if self.challenge else None
        return f"Authenticator({self.registry!r}, user={user!r}, scheme={scheme!r})"

    def learn(self, header: str | None) -> bool:
        """Remember the challenge in ``header``; return True if we can answer it.

        Bearer is preferred when a registry offers several schemes. Bearer can
        always be answered (anonymous tokens exist); Basic only with credentials.
        """
        challenges = parse_challenges(header)
        for scheme in ("bearer", "basic"):
            for challenge in challenges:
                if challenge.scheme == scheme and (scheme == "basic" or challenge.realm):
                    self.challenge = challenge
                    return scheme == "bearer" or self.credentials is not None
        return False

    def retry_after_refusal(self, header: str | None, scopes: Sequence[str]) -> bool:
        """Learn from a 401 and return True if sending the request again can help.

        A Bearer token may have expired or lack this scope: forget it and get
        a fresh one. Basic credentials the registry just refused would only
        be refused again.
        """
        basic_already_sent = self.basic_login is not None
        if not self.learn(header):
            return False
        if basic_already_sent and self.basic_login is not None:
            return False
        self.forget(scopes)
        return True

    @property
    def basic_login(self) -> str | None:
        """The user name we send straight to the registry (Basic), if we do."""
        if self.challenge and self.challenge.scheme == "basic" and self.credentials:
            return self.credentials.username
        return None

    def authorization(self, scopes: Sequence[str]) -> str | None:
        """Return the ``Authorization`` value for a request needing ``scopes``, or None."""
        challenge = self.challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return _basic(self.credentials) if self.credentials else None
        return "Bearer " + self._token(challenge, scopes).value

    def forget(self, scopes: Sequence[str]) -> None:
        """Drop the cached token for ``scopes`` (the registry refused it)."""
        challenge = self.challenge
        if challenge is not None:
            with self._lock:
                self._tokens.pop(self._key(challenge, scopes), None)

    def secrets(self) -> list[str]:
        """Every secret value this object holds, for redacting messages."""
        found = [token.value for token in list(self._tokens.values())]
        if self.credentials:
            found += [self.credentials.password, _basic(self.credentials).split(" ", 1)[1]]
        return found

    def _key(self, challenge: Challenge, scopes: Sequence[str]) -> _TokenKey:
        return (challenge.realm, challenge.service, tuple(sorted(scopes)))

    def _token(self, challenge: Challenge, scopes: Sequence[str]) -> Token:
        key = self._key(challenge, scopes)
        # One lock for fetching too: three parallel layer downloads should
        # cost one token request, not three.
        with self._lock:
            token = self._tokens.get(key)
            if token is None or self._clock() >= token.expires_at - _EXPIRY_MARGIN:
                token = self._fetch(challenge, scopes)
                self._tokens[key] = token
            return token

    def _fetch(self, challenge: Challenge, scopes: Sequence[str]) -> Token:
        """Ask the token server for a token (steps 2 and 3 of the handshake)."""
        realm = challenge.realm or ""
        if urlsplit(realm).scheme not in ("http", "https"):
            raise AuthenticationError(
                f"registry {self.registry} sent a token realm that is not a URL: {realm!r}")
        params: list[tuple[str, str]] = []
        if challenge.service:
            params.append(("service", challenge.service))
        # A request with no scope of its own (GET /v2/) uses the one the registry named.
        for scope in scopes or ([challenge.scope] if challenge.scope else []):
            params.append(("scope", scope))
        auth = None
        if self.credentials:
            params.append(("account", self.credentials.username))
            auth = requests.auth.HTTPBasicAuth(self.credentials.username,
                                               self.credentials.password)
        response = self._ask(realm, params, auth)
        with response:
            if response.status_code in (401, 403):
                who = (f"user {self.credentials.username!r}" if self.credentials
                       else "anonymous access")
                reason = error_text(parse_error_body(response.content)) or \
                    "incorrect username or password"
                raise AuthenticationError(
                    f"registry {self.registry} refused {who} "
                    f"(token server {strip_query(realm)}): {reason}",
                    status=response.status_code, code="UNAUTHORIZED")
            if response.status_code != 200:
                raise RegistryError(
                    f"token server {strip_query(realm)} of registry {self.registry} "
                    f"answered HTTP {response.status_code}", status=response.status_code,
                    retryable=response.status_code >= 500)
            try:
                data = response.json()
            except ValueError:
                data = None
        value = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
        if not isinstance(value, str) or not value:
            raise AuthenticationError(
                f"token server {strip_query(realm)} of registry {self.registry} "
                f"answered without a token")
        try:
            lifetime = int(data.get("expires_in") or MIN_TOKEN_LIFETIME)
        except (TypeError, ValueError):
            lifetime = MIN_TOKEN_LIFETIME
        return Token(value, self._clock() + max(MIN_TOKEN_LIFETIME, lifetime))

    def _ask(self, realm: str, params: list, auth) -> requests.Response:
        """GET the realm; a refused connection, a time-out or a 5xx/429 is tried again (bounded)."""
        for attempt in range(1, self._tries + 1):
            last = attempt == self._tries
            try:
                # requests drops the Basic header itself if the token server
                # redirects to another host.
                response = self._session.get(realm, params=params, auth=auth,
                                             headers={"User-Agent": self._user_agent},
                                             timeout=self._timeout)
            except requests.RequestException as exc:
                if last:
                    raise RegistryUnreachableError(
                        f"cannot reach the token server of registry {self.registry} "
                        f"({urlsplit(realm).netloc}): {describe_connection_error(exc)}") from None
            else:
                if last or not (response.status_code == 429 or response.status_code >= 500):
                    return response
                response.close()
            self._sleep(self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")     # the last attempt returns or raises


def _basic(credentials: Credentials) -> str:
    raw = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
