"""A client for one registry: read and write manifests, blobs, tags and the catalog.

Every path is the OCI distribution API (``/v2/<repository>/...``); the
repository is the path without the domain (``library/alpine``) and a
reference is a tag (``3.20``) or a digest (``sha256:...``)::

    client = RegistryClient("127.0.0.1:5000")
    manifest = client.get_manifest("library/alpine", "latest")
    manifest.media_type, manifest.digest       # what it is, and its content address
    with open("layer.tar.gz", "wb") as out:
        client.fetch_blob_to("library/alpine", layer_digest, out, size=layer_size)

Nothing a registry sends is trusted until it hashes to the digest it was
asked for: manifests are checked on arrival, blobs as they stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO, NamedTuple
from urllib.parse import urlencode, urljoin, urlsplit

import requests

from .. import __version__
from ..digest import ALGORITHMS, compute, validate
from ..errors import (
    BlobUnknownError,
    DigestMismatchError,
    ManifestUnknownError,
    RegistryError,
    RegistryUnreachableError,
)
from ..oci.mediatypes import MANIFEST_ACCEPT
from .auth import Authenticator, Challenge, repository_scope
from .credentials import Credentials, lookup
from .download import CHUNK_SIZE, BlobStream, copy_to
from .responses import (
    RateLimit,
    describe_connection_error,
    manifest_media_type,
    parse_ratelimit,
)
from .transport import Transport, registry_url

__all__ = ["RegistryClient", "Manifest", "ManifestInfo", "MAX_MANIFEST_SIZE"]

#: Docker refuses manifests larger than 4 MiB; so do we (a manifest is a few kB).
MAX_MANIFEST_SIZE = 4 * 1024 * 1024

#: The repository Docker Hub documents for reading your rate limit without spending it.
RATELIMIT_PREVIEW = "ratelimitpreview/test"


class Manifest(NamedTuple):
    """A manifest or index as fetched: its exact ``data``, ``media_type`` and ``digest``."""

    data: bytes
    media_type: str
    digest: str


class ManifestInfo(NamedTuple):
    """What a ``HEAD`` tells about a manifest without downloading it.

    ``digest`` is ``None`` when the registry sent no ``Docker-Content-Digest``
    and the reference was a tag; ``ratelimit`` is Docker Hub's allowance.
    """

    media_type: str | None
    digest: str | None
    size: int | None
    ratelimit: RateLimit | None


def _is_digest(reference: str) -> bool:
    return ":" in reference  # tags may not contain ':', digests always do


class RegistryClient:
    """Speak the OCI distribution protocol to one registry.

    ``domain`` is how image references name the registry (``docker.io``,
    ``127.0.0.1:5000``). ``base_url`` overrides where requests go (a mirror);
    ``insecure`` forces plain HTTP (True) or HTTPS (False), and None decides
    by Docker's rules (loopback and ``insecure_registries`` get HTTP).
    ``credentials`` is a ``(username, password)`` pair; None looks it up in
    Docker's ``config.json`` (for the host requests really go to, so a
    mirror never receives your Docker Hub password); ``anonymous=True``
    sends none. ``tries``, ``backoff`` and ``sleep`` shape the retries.
    """

    def __init__(self, domain: str, *, base_url: str | None = None,
                 insecure: bool | None = None, insecure_registries: Iterable[str] = (),
                 credentials: Credentials | tuple[str, str] | None = None,
                 anonymous: bool = False, session: requests.Session | None = None,
                 user_agent: str | None = None, docker_config: str | None = None,
                 timeout: float | tuple[float, float] = (10.0, 60.0), tries: int = 3,
                 backoff: float = 0.2, sleep: Callable[[float], None] = time.sleep):
        self.domain = domain
        self.url = (base_url or registry_url(domain, insecure, insecure_registries)).rstrip("/")
        if anonymous:
            creds = None
        elif credentials is None:
            login_host = urlsplit(base_url).netloc if base_url else domain
            creds = lookup(login_host, docker_config)
        else:
            creds = credentials if isinstance(credentials, Credentials) \
                else Credentials(*credentials)
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        agent = user_agent or f"imgkit/{__version__} python-requests/{requests.__version__}"
        self.auth = Authenticator(domain, creds, self.session, user_agent=agent,
                                  timeout=timeout, tries=tries, backoff=backoff, sleep=sleep)
        self.transport = Transport(domain, self.url, self.session, self.auth,
                                   user_agent=agent, timeout=timeout, tries=tries,
                                   backoff=backoff, sleep=sleep)
        #: The last rate limit a manifest answer reported (Docker Hub), or None.
        self.last_ratelimit: RateLimit | None = None

    def __repr__(self) -> str:
        user = self.auth.credentials.username if self.auth.credentials else None
        return f"RegistryClient({self.domain!r}, url={self.url!r}, user={user!r})"

    def close(self) -> None:
        """Close the HTTP session if this client made it."""
        if self._own_session:
            self.session.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the handshake --------------------------------------------------------
    def ping(self) -> Challenge | None:
        """``GET /v2/`` and return the authentication challenge (None: open registry)."""
        self.transport.ping(force=True)
        return self.auth.challenge

    # -- manifests ------------------------------------------------------------
    def head_manifest(self, repository: str, reference: str,
                      accept: str = MANIFEST_ACCEPT) -> ManifestInfo:
        """Ask what a tag or digest points to, without downloading the manifest.

        A HEAD costs no Docker Hub pull; Docker uses it to see whether a tag
        still names the image it already has.
        """
        response = self.transport.request(
            "HEAD", f"/v2/{repository}/manifests/{reference}", scopes=self._pull(repository),
            headers={"Accept": accept}, not_found=ManifestUnknownError)
        response.close()
        ratelimit = self._note_ratelimit(response)
        digest = response.headers.get("Docker-Content-Digest")
        if _is_digest(reference):
            if digest and digest != reference:
                raise DigestMismatchError(reference, digest, "manifest")
            digest = reference
        length = response.headers.get("Content-Length")
        return ManifestInfo(manifest_media_type(response.headers.get("Content-Type")), digest,
                            int(length) if length and length.isdigit() else None, ratelimit)

    def get_manifest(self, repository: str, reference: str,
                     accept: str = MANIFEST_ACCEPT) -> Manifest:
        """Download a manifest or index and check it is what was asked for.

        1. ``Accept`` lists the types we understand, indexes first, so a
           multi-platform tag answers with its index (Docker's order).
        2. If ``reference`` is a digest, the bytes must hash to it.
        3. If the registry sent ``Docker-Content-Digest``, the bytes must hash
           to that too - a registry cannot slip in something else.
        """
        if _is_digest(reference):
            validate(reference)
        response = self.transport.request(
            "GET", f"/v2/{repository}/manifests/{reference}", scopes=self._pull(repository),
            headers={"Accept": accept}, stream=True, not_found=ManifestUnknownError)
        self._note_ratelimit(response)
        with response:
            data = _read_limited(response, MAX_MANIFEST_SIZE, self.domain)
        if _is_digest(reference):
            actual = compute(data, reference.partition(":")[0])
            if actual != reference:
                raise DigestMismatchError(reference, actual, "manifest")
        sent = response.headers.get("Docker-Content-Digest") or ""
        algorithm = sent.partition(":")[0]
        # A header naming an algorithm we cannot compute is no evidence either way.
        if algorithm in ALGORITHMS and compute(data, algorithm) != sent:
            raise DigestMismatchError(sent, compute(data, algorithm), "manifest")
        digest = reference if _is_digest(reference) else compute(data)
        media_type = manifest_media_type(response.headers.get("Content-Type"), data)
        return Manifest(data, media_type, digest)

    def put_manifest(self, repository: str, reference: str, data: bytes,
                     media_type: str) -> str:
        """Upload a manifest under a tag (or its digest) and return its digest.

        The registry refuses a manifest whose blobs it does not have
        (``MANIFEST_BLOB_UNKNOWN``), so push blobs first, then child manifests,
        then the index or manifest the tag should name.
        """
        digest = compute(data)
        if _is_digest(reference) and compute(data, reference.partition(":")[0]) != reference:
            raise DigestMismatchError(reference, digest, "manifest")
        response = self.transport.request(
            "PUT", f"/v2/{repository}/manifests/{reference}", scopes=self._push(repository),
            headers={"Content-Type": media_type}, body=bytes(data), ok=(200, 201),
            pull_only=False)
        response.close()
        sent = response.headers.get("Docker-Content-Digest")
        if sent and sent.startswith("sha256:") and sent != digest:
            raise DigestMismatchError(digest, sent, "pushed manifest")
        return digest

    def delete_manifest(self, repository: str, digest: str) -> None:
        """Delete a manifest by digest (the registry must allow deletes)."""
        validate(digest)
        response = self.transport.request(
            "DELETE", f"/v2/{repository}/manifests/{digest}",
            scopes=(repository_scope(repository, ["delete"]),), ok=(202,),
            not_found=ManifestUnknownError, pull_only=False, retry=False)
        response.close()

    def ratelimit(self, repository: str = RATELIMIT_PREVIEW,
                  reference: str = "latest") -> RateLimit | None:
        """Return Docker Hub's ``(limit, remaining)`` for us, read from a manifest HEAD.

        Docker Hub documents this way to look: a HEAD of
        ``ratelimitpreview/test:latest`` does not count as a pull. Other
        registries send no such headers, and the answer is None.
        """
        return self.head_manifest(repository, reference).ratelimit

    # -- blobs ----------------------------------------------------------------
    def blob_exists(self, repository: str, digest: str) -> bool:
        """Return True when the registry has the blob in ``repository`` (a HEAD)."""
        validate(digest)
        response = self.transport.request(
            "HEAD", f"/v2/{repository}/blobs/{digest}", scopes=self._pull(repository),
            ok=(200, 404), not_found=BlobUnknownError)
        response.close()
        return response.status_code == 200

    def open_blob(self, repository: str, digest: str, size: int | None = None,
                  offset: int = 0, hasher: Any = None, *,
                  check_digest: bool = True) -> BlobStream:
        """Start downloading a blob; return a stream that verifies itself at the end.

        Use it in a ``with`` block; iterate it for 1 MiB chunks or call
        ``read()``. Redirects (Docker Hub's CDN) are followed without our
        ``Authorization``; a broken connection is resumed with ``Range``.
        ``check_digest=False`` leaves the digest check to a caller that hashes
        every byte anyway (the size is still checked).
        """
        return BlobStream(self.transport, f"/v2/{repository}/blobs/{digest}",
                          self._pull(repository), digest, size=size, offset=offset,
                          hasher=hasher, chunk_size=CHUNK_SIZE, check_digest=check_digest)

    def fetch_blob_to(self, repository: str, digest: str, fileobj: BinaryIO,
                      size: int | None = None,
                      progress: Callable[[int, int | None], None] | None = None) -> int:
        """Stream a blob into ``fileobj``, verifying it; return the bytes written.

        ``progress(received, size)`` is called after every chunk. On
        ``DigestMismatchError`` the file holds bad bytes: throw it away.
        """
        return copy_to(self.open_blob(repository, digest, size), fileobj, progress)

    def get_blob(self, repository: str, digest: str, size: int | None = None) -> bytes:
        """Download a small blob (an image config) into memory, verified."""
        with self.open_blob(repository, digest, size) as stream:
            return stream.read()

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        """Ask the registry to link a blob it has in another repository; True if it did.

        ``POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<other>``:
        ``201`` means mounted, no bytes sent. ``202`` means the registry
        declined and opened an upload instead; that upload is cancelled here
        (``push_blob(..., mount_from=...)`` uses it instead of cancelling).
        """
        mounted, location = self._start_upload(repository, digest, from_repository)
        if not mounted:
            self.transport.request("DELETE", location, scopes=self._push(repository),
                                   ok=(200, 202, 204, 404), pull_only=False).close()
        return mounted

    def push_blob(self, repository: str, digest: str, data: bytes | BinaryIO,
                  size: int | None = None, *, mount_from: str | None = None) -> str:
        """Upload one blob in a single request; return ``"pushed"`` or ``"mounted"``.

        1. ``POST /v2/<repo>/blobs/uploads/`` opens an upload (with
           ``mount_from``, first try a cross-repository mount).
        2. ``PUT <Location>&digest=<digest>`` sends every byte; the registry
           hashes them and refuses a wrong digest (``DIGEST_INVALID``).
        ``Location`` may be relative or absolute; both are resolved.
        """
        validate(digest)
        if isinstance(data, (bytes, bytearray, memoryview)):
            data = bytes(data)
            actual = compute(data, digest.partition(":")[0])
            if actual != digest:
                raise DigestMismatchError(digest, actual, "blob to push")
            size = len(data)
        elif size is None:
            start = data.tell()
            size = data.seek(0, 2) - start
            data.seek(start)
        mounted, location = self._start_upload(repository, digest, mount_from)
        if mounted:
            return "mounted"
        split = urlsplit(location)
        target = location + ("&" if split.query else "?") + urlencode({"digest": digest})
        response = self.transport.request(
            "PUT", target, scopes=self._push(repository), body=data,
            headers={"Content-Type": "application/octet-stream",
                     "Content-Length": str(size)}, ok=(201,), pull_only=False,
            retry=False)  # the upload session is spent once the PUT arrives
        response.close()
        sent = response.headers.get("Docker-Content-Digest")
        if sent and sent != digest:
            raise DigestMismatchError(digest, sent, "pushed blob")
        return "pushed"

    def _start_upload(self, repository: str, digest: str,
                      mount_from: str | None) -> tuple[bool, str]:
        """POST an upload (or mount); return (mounted, absolute upload URL)."""
        path = f"/v2/{repository}/blobs/uploads/"
        scopes = self._push(repository)
        if mount_from:
            path += "?" + urlencode({"mount": digest, "from": mount_from})
            scopes += self._pull(mount_from)
        response = self.transport.request("POST", path, scopes=scopes, ok=(201, 202),
                                          pull_only=False, retry=False)
        response.close()
        if response.status_code == 201:
            return True, ""
        location = response.headers.get("Location")
        if not location:
            raise RegistryError(f"registry {self.domain} opened an upload without a Location",
                                status=response.status_code)
        return False, urljoin(response.url, location)

    # -- listings -------------------------------------------------------------
    def tags(self, repository: str, page_size: int | None = None) -> list[str]:
        """Return every tag of a repository, following ``Link`` pages."""
        return self._paged(f"/v2/{repository}/tags/list", "tags", self._pull(repository),
                           page_size)

    def catalog(self, page_size: int | None = None) -> list[str]:
        """Return every repository the registry lists (``GET /v2/_catalog``)."""
        return self._paged("/v2/_catalog", "repositories", ("registry:catalog:*",), page_size)

    def _paged(self, path: str, key: str, scopes: tuple[str, ...],
               page_size: int | None) -> list[str]:
        # A registry pages long lists: each answer may carry
        # `Link: </v2/...?last=x&n=100>; rel="next"` until the last page.
        url = path + (f"?{urlencode({'n': page_size})}" if page_size else "")
        items: list[str] = []
        seen = set()
        while url and url not in seen:
            seen.add(url)
            response = self.transport.request("GET", url, scopes=scopes)
            with response:
                try:
                    page = response.json()
                except ValueError:
                    raise RegistryError(f"registry {self.domain} sent a {key} list "
                                        f"that is not JSON") from None
            items.extend((page or {}).get(key) or [])
            following = response.links.get("next", {}).get("url")
            url = urljoin(response.url, following) if following else ""
        return items

    # -- helpers --------------------------------------------------------------
    def _pull(self, repository: str) -> tuple[str, ...]:
        return (repository_scope(repository, ["pull"]),)

    def _push(self, repository: str) -> tuple[str, ...]:
        return (repository_scope(repository, ["pull", "push"]),)

    def _note_ratelimit(self, response: requests.Response) -> RateLimit | None:
        ratelimit = parse_ratelimit(response.headers)
        if ratelimit is not None:
            self.last_ratelimit = ratelimit
        return ratelimit


def _read_limited(response: requests.Response, limit: int, registry: str) -> bytes:
    chunks, total = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            total += len(chunk)
            if total > limit:
                raise RegistryError(f"registry {registry} sent a manifest larger than "
                                    f"{limit // (1024 * 1024)} MiB")
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise RegistryUnreachableError(
            f"cannot reach registry {registry}: {describe_connection_error(exc)}") from None
    return b"".join(chunks)
