"""Pull an image into your store, saying exactly what ``docker pull`` says.

    >>> result = imgkit.pull("redis")                   # doctest: +SKIP
    >>> result                                          # doctest: +SKIP
    Using default tag: latest
    latest: Pulling from library/redis
    6015d6faa173: Already exists
    0cf8c8199a7c: Pulling fs layer
    ...
    Digest: sha256:010bd24e051e...
    Status: Downloaded newer image for redis:latest
    docker.io/library/redis:latest

What happens, step by step (moby's ``distribution/pull_v2.go``):

1. The name is read as Docker reads it: ``redis`` is
   ``docker.io/library/redis``, and with no tag, ``:latest``.
2. The registries are tried in order: for docker.io, each mirror (the lab,
   in class), then Docker Hub. A registry that fails hands over to the next.
3. The tag's manifest is fetched. A multi-platform tag gives an *index*;
   the entry for your platform (or ``platform=``) is fetched from it.
4. The manifest names the config, whose digest is the **image ID**. If the
   store has that image, nothing is downloaded; otherwise the config and
   the layers come down (see ``imgkit.api.pulllayers``).
5. The image is recorded, the tag moved to it, and ``name@digest`` (the
   digest the tag resolved to) recorded too, as Docker's ``RepoDigests``.

"Downloaded newer image" means the tag now names an image it did not
name before - even when no byte was downloaded; "Image is up to date" means
it already did.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import digest as digests
from .. import reference as references
from ..errors import (
    DigestMismatchError,
    ImgkitError,
    ManifestError,
    ManifestUnknownError,
    PullError,
    RegistryNotFoundError,
    RepositoryNotFoundError,
    StoreError,
    TooManyRequestsError,
)
from ..events import Listener, ProgressEvent
from ..oci import ImageConfig, Index, Platform, mediatypes, parse_any
from ..oci.platform import rank
from ..store import add_digest_reference, add_image, tag
from .host import DOCKER_HUB_DOMAIN, Host, default_host

# (graph.remote reuses these helpers from here)
from .pullerrors import _access_denied, _most_informative, _not_found, _rate_limited
from .pulllayers import LayerOutcome, pull_layers

__all__ = ["pull", "ratelimit", "PullResult", "PulledTag", "LayerOutcome", "PullError"]

#: How often a pull fetches again what a concurrent ``rmi`` deleted before it could record.
RECORD_ATTEMPTS = 3
#: The deepest chain of indexes followed (real images have one level, some two).
MAX_INDEX_DEPTH = 4
#: The biggest image config accepted (real ones are a few kB; Docker Hub's largest, a few 100 kB).
MAX_CONFIG_SIZE = 8 * 1024 * 1024
DOWNLOADED = "Downloaded newer image"
UP_TO_DATE = "Image is up to date"


@dataclass(frozen=True)
class PulledTag:
    """One tag (or digest) pulled: the image it names now, and what it took."""

    reference: str                  #: canonical, ``docker.io/library/redis:latest``
    image_id: str
    digest: str                     #: what the tag resolved to (an index for multi-platform)
    updated: bool                   #: the reference names this image and did not before
    layers: tuple[LayerOutcome, ...]    #: empty when the image was already in the store
    downloaded_bytes: int


class PullResult:
    """What ``pull`` did: the transcript Docker would print, and the facts behind it.

    ``lines`` is the transcript without byte progress (what ``docker pull``
    prints when its output is not a terminal); ``events`` has every event.
    ``tags`` holds one ``PulledTag`` per tag pulled (several with
    ``all_tags=True``); ``image_id``, ``digest`` and ``layers`` are those
    of the last one.
    """

    def __init__(self, reference: str, status: str, events: list[ProgressEvent],
                 tags: list[PulledTag]):
        self.reference = reference
        self.status = status
        self.events = events
        self.tags = tags

    @property
    def lines(self) -> list[str]:
        """The transcript, one string per line, as printed when not on a terminal."""
        return [event.line() for event in self.events if not event.has_progress]

    @property
    def image_id(self) -> str | None:
        """The ID of the image pulled (of the last tag with ``all_tags``)."""
        return self.tags[-1].image_id if self.tags else None

    @property
    def digest(self) -> str | None:
        """The digest the tag resolved to (``Digest:`` in the transcript)."""
        return self.tags[-1].digest if self.tags else None

    @property
    def layers(self) -> tuple[LayerOutcome, ...]:
        """Each layer's id, last status and compressed size (empty if nothing was needed)."""
        return self.tags[-1].layers if self.tags else ()

    @property
    def downloaded_bytes(self) -> int:
        """Compressed layer bytes downloaded by the whole pull."""
        return sum(pulled.downloaded_bytes for pulled in self.tags)

    def __repr__(self) -> str:
        return "\n".join(self.lines)

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(repr(self))}</pre>"


def pull(name: str, *, host: Host | None = None, platform: str | Platform | None = None,
         all_tags: bool = False, listener: Listener | None = None) -> PullResult:
    """Download an image from a registry into the store, like ``docker pull NAME``.

    ``name`` is what you would type after ``docker pull``: ``alpine``,
    ``redis:7.2``, ``alpine@sha256:...``, ``127.0.0.1:5000/team/app:1.0``.
    ``platform`` (``"linux/arm64"``) picks another platform of a
    multi-platform image; ``all_tags=True`` pulls every tag of the
    repository (``docker pull -a``). ``listener``, if given, is called with
    each ``ProgressEvent`` as it happens; in JupyterLab, when no listener is
    given, a live progress display (one bar per layer) is shown. Nothing is
    printed: the result's ``repr`` is the transcript.

    Raises Docker's errors: ``manifest for alpine:nope not found: ...``,
    ``pull access denied for nope, repository does not exist ...``,
    ``no matching manifest for linux/s390x in the manifest list entries``.
    """
    host = host if host is not None else default_host()
    ref = references.parse(name)
    if all_tags and (ref.tag is not None or ref.digest is not None):
        raise PullError("tag can't be used with --all-tags/-a")
    if listener is None:
        from ..widgets.auto import notebook_listener
        listener = notebook_listener(name)      # None outside a live notebook
    puller = _Puller(host, platform, listener)
    if not all_tags and ref.tag is None and ref.digest is None:
        ref = ref.with_default_tag()
        puller.emit(ProgressEvent(f"Using default tag: {ref.tag}"))
    pulled = puller.from_endpoints(ref, all_tags)
    status = DOWNLOADED if any(p.updated for p in pulled) else UP_TO_DATE
    puller.emit(ProgressEvent(f"Status: {status} for {ref.familiar}"))
    for warning in puller.warnings:
        puller.emit(ProgressEvent(warning))
    puller.emit(ProgressEvent(str(ref)))
    return PullResult(str(ref), status, puller.events, pulled)


def ratelimit(host: Host | None = None):
    """Return Docker Hub's pull allowance for you, ``RateLimit(limit, remaining)``, or None.

    Reads the ``ratelimit-*`` headers of a manifest ``HEAD`` on
    ``ratelimitpreview/test`` - a look that Docker Hub does not count as a
    pull. Registries that send no such headers (the lab) give None.
    """
    from ..registry import RateLimit

    host = host if host is not None else default_host()
    clients = host.registry_clients(DOCKER_HUB_DOMAIN)
    try:
        return clients[-1].ratelimit()
    except TooManyRequestsError as exc:
        return RateLimit(exc.limit, 0 if exc.remaining is None else exc.remaining)
    except RegistryNotFoundError:
        return None
    finally:
        for client in clients:
            client.close()


class _Puller:
    """One ``pull`` call: the host, the wanted platform, and the events said so far."""

    def __init__(self, host: Host, platform: str | Platform | None, listener: Listener | None):
        self.host = host
        self.store = host.store
        chosen = platform if platform is not None else host.platform
        # Only a platform asked for explicitly earns Docker's mismatch warning.
        self.explicit = chosen is not None
        self.platform = Platform.parse(chosen) if isinstance(chosen, str) else chosen
        self.listener = listener
        self.events: list[ProgressEvent] = []
        self.warnings: list[str] = []
        # Read now, so a bad $IMGKIT_MAX_LAYER_SIZE is said before anything is downloaded.
        self.max_layer_size = host.max_layer_size      # the bound `create` keeps to

    def emit(self, event: ProgressEvent) -> None:
        self.events.append(event)
        if self.listener is not None:
            self.listener(event)

    # -- endpoints --------------------------------------------------------------
    def from_endpoints(self, ref: references.Reference, all_tags: bool) -> list[PulledTag]:
        """Try each registry in turn (mirrors, then Docker Hub) until one serves the pull."""
        clients = self.host.registry_clients(ref.domain)
        failures: list[tuple[object, ImgkitError]] = []
        try:
            for client in clients:
                try:
                    return self._pull_repository(client, ref, all_tags)
                except (StoreError, PullError):
                    raise       # a local problem: another registry would not help
                except ImgkitError as exc:
                    failures.append((client, exc))
            raise _most_informative(failures) from None
        finally:
            for client in clients:
                client.close()

    def _pull_repository(self, client, ref: references.Reference,
                         all_tags: bool) -> list[PulledTag]:
        if not all_tags:
            return [self._pull_tag(client, ref)]
        try:
            tags = client.tags(ref.path)
        except RegistryNotFoundError as exc:
            raise _access_denied(ref, exc) from None
        except TooManyRequestsError as exc:
            raise _rate_limited(exc) from None
        # Docker pulls in the order the registry lists; Docker Hub and Distribution 3
        # list sorted, older Distributions in directory order - sorting keeps lessons stable.
        return [self._pull_tag(client, ref.with_tag(name), warn=False) for name in sorted(tags)]

    # -- one tag ----------------------------------------------------------------
    def _pull_tag(self, client, ref: references.Reference, warn: bool = True) -> PulledTag:
        repository = ref.path
        try:
            top = client.get_manifest(repository, ref.digest or ref.tag)
        except ManifestUnknownError as exc:
            raise _not_found(client, ref, exc) from None
        except RepositoryNotFoundError as exc:
            raise _access_denied(ref, exc) from None
        except TooManyRequestsError as exc:
            raise _rate_limited(exc) from None
        # moby labels a digest pull with the whole reference, a tag pull with the tag.
        self.emit(ProgressEvent(f"Pulling from {repository}", str(ref) if ref.digest else ref.tag))
        manifest, document = top, parse_any(top.data, top.media_type)
        from_index = False
        depth = 0
        while isinstance(document, Index):
            depth += 1
            if depth > MAX_INDEX_DEPTH:     # an index of an index of ...: a registry playing games
                raise ManifestError(f"{ref.familiar} is an index nested more than "
                                    f"{MAX_INDEX_DEPTH} deep; imgkit does not follow it further")
            entry = document.select(self.platform)
            manifest = client.get_manifest(repository, entry.digest)
            document = parse_any(manifest.data, manifest.media_type)
            from_index = True
        config_descriptor = document.config
        if config_descriptor.media_type not in mediatypes.CONFIG_TYPES:
            raise ManifestError(f"unsupported media type {config_descriptor.media_type}")
        image_id = config_descriptor.digest
        resolved = ref.digest or top.digest
        config = _Config(client, repository, config_descriptor)
        outcomes: list[LayerOutcome] = []
        fetched = 0
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            # Decide what is needed from a snapshot (no lock held while downloading)...
            records = self.store.records()
            known = records.images.get(image_id)
            facts: list = []
            if known is not None:
                actual = Platform(known.os, known.architecture, known.variant)
                outcomes = []       # nothing was needed (any earlier attempt's lines stand)
            else:
                facts, outcomes, got = pull_layers(
                    client, repository, document.layers, config.diff_ids, self.store,
                    records, self.emit, max_uncompressed=self.max_layer_size)
                fetched += got
                actual = config.parsed().platform
                self.store.blobs.put(manifest.data, digests.compute(manifest.data))
                self.store.blobs.put(config.data, image_id)
            if attempt == 1:
                self.emit(ProgressEvent(f"Digest: {resolved}"))
            # ...then check it again under the store's lock before recording. rmi and prune
            # delete blobs under the same lock, so what is seen here stays until the image
            # is recorded - and a blob "Already exists" named a moment ago may be gone.
            try:
                with self.store.transaction() as records:
                    if known is None:
                        needed = [digests.compute(manifest.data), image_id,
                                  *(fact.digest for fact in facts)]
                        if any(not self.store.blobs.has(digest) for digest in needed):
                            raise _Vanished()
                        add_image(self.store, records, manifest=manifest.data,
                                  manifest_media_type=document.media_type, config=config.data,
                                  layers=facts)
                    elif image_id not in records.images:
                        raise _Vanished()
                    updated = _name(records, ref, resolved, image_id)
                break
            except _Vanished:
                if attempt == RECORD_ATTEMPTS:
                    raise StoreError(
                        f"image {digests.short(image_id)} lost blobs {RECORD_ATTEMPTS} times "
                        "while it was being pulled (another imgkit command is deleting images "
                        "that share its layers): pull it again") from None
        if warn and self.explicit and not from_index and rank(self.platform, actual) is None:
            # moby's daemon accepts a single-platform image of another platform, with a warning.
            self.warnings.append(
                f"WARNING: image with reference {ref.familiar_name} was found but does not "
                f"match the specified platform: wanted {self.platform}, actual: {actual}")
        return PulledTag(str(ref), image_id, resolved, updated, tuple(outcomes), fetched)


class _Config:
    """An image's config, fetched the first time it is needed, then kept.

    A cold pull needs it only to check the layers' diff_ids, so ``pull_layers``
    fetches it once the downloads have started - as Docker does.
    """

    def __init__(self, client, repository: str, descriptor):
        self._client, self._repository, self._descriptor = client, repository, descriptor
        self._parsed: ImageConfig | None = None
        self.data = b""

    def parsed(self) -> ImageConfig:
        if self._parsed is None:
            data = _fetch_config(self._client, self._repository, self._descriptor)
            self._parsed, self.data = ImageConfig.from_json(data), data
        return self._parsed

    def diff_ids(self) -> list[str]:
        return list(self.parsed().diff_ids)


class _Vanished(Exception):
    """Internal: a blob the pull counted on was deleted before the image was recorded."""


def _fetch_config(client, repository: str, descriptor) -> bytes:
    """Download the image config, checked against its digest (the image ID).

    A config is held in memory, so one that claims to be huge is refused
    before a byte of it is fetched.
    """
    if descriptor.size > MAX_CONFIG_SIZE:
        raise ManifestError(f"image config {descriptor.digest} is {descriptor.size} bytes, more "
                            f"than the {MAX_CONFIG_SIZE // (1024 * 1024)} MiB imgkit accepts")
    try:
        return client.get_blob(repository, descriptor.digest, descriptor.size)
    except DigestMismatchError as exc:
        error = DigestMismatchError(descriptor.digest, exc.actual)
        error.args = (f"error pulling image configuration: image config verification failed "
                      f"for digest {descriptor.digest}",)
        raise error from None


def _name(records, ref: references.Reference, resolved: str, image_id: str) -> bool:
    """Point the pulled reference at ``image_id``; return True if that changed anything.

    A tag pull moves the tag and records ``name@digest`` unless that digest
    reference exists (moby never re-points one: one index digest may serve
    several platforms). A digest pull records the digest reference only.
    """
    digest_ref = f"{ref.name}@{resolved}"
    if ref.digest is not None:
        changed = records.references.get(digest_ref) != image_id
        if changed:
            add_digest_reference(records, digest_ref, image_id)
        return changed
    if digest_ref not in records.references:
        add_digest_reference(records, digest_ref, image_id)
    tag_ref = f"{ref.name}:{ref.tag}"
    if records.references.get(tag_ref) == image_id:
        return False
    # The classic image store's pull sets the tag without LastTagTime (only
    # `docker tag` sets it), so `inspect` of a pulled image shows the zero time.
    tag(records, tag_ref, image_id, touch=False)
    return True
