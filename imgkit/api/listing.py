"""``imgkit.images()``: list the images of a host, as ``docker images`` does.

One row per *repository:tag*, newest image first; ``imgkit.images()`` shows::

    REPOSITORY   TAG       IMAGE ID       CREATED        SIZE
    redis        latest    1f3b06c5a3c2   2 months ago   5.53MB
    alpine       3.20      44dd6f223004   3 months ago   3.84MB

Docker's rules, kept here:

- An image with two tags has two rows (and ``ids()`` gives its ID twice).
- An image with no tag at all is *dangling*: ``<none>  <none>``.
  An image that lost its tag but kept the digest it was pulled by shows its
  repository and ``<none>`` as the tag.
- Untagged images that other images were built on (*intermediate* images)
  are hidden unless ``all=True`` (``docker images -a``).
- ``images("alpine")`` keeps the rows whose name matches, like
  ``--filter reference=alpine``; ``filters`` takes the other filters
  (see ``imgkit.filters``).
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass
from typing import Iterable, Mapping

from .. import filters as _filters
from .. import reference as _reference
from ..format import (
    created_ago,
    epoch_seconds,
    go_json,
    go_time_string,
    html_table,
    human_size,
    table,
    truncate_id,
)
from ..store import Records, find_image
from .host import Host, default_host

__all__ = ["images", "ImageList", "ImageRow", "ImageSummary", "select", "rows"]

# Go's zero time (year 1) in Unix seconds: Docker shows no age for it (CREATED "N/A").
_GO_ZERO_UNIX = -62_135_596_800


def _since(created_unix: int, now: float) -> str:
    return "" if created_unix == _GO_ZERO_UNIX else created_ago(created_unix, now)


@dataclass(frozen=True)
class ImageSummary:
    """One image as the listing sees it (Docker's ``image.Summary``).

    ``repo_tags`` and ``repo_digests`` are familiar names (``alpine:3.20``,
    ``alpine@sha256:...``) after any ``reference`` filter.
    """

    image_id: str
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    created: str            #: the config's ``created`` (RFC 3339), "" if unknown
    created_unix: int       #: ``created`` cut to whole seconds (what CREATED counts from)
    size: int
    containers: int
    labels: Mapping[str, str]


@dataclass(frozen=True)
class ImageRow:
    """One line of ``docker images``: a repository:tag of an image.

    ``digest`` is what the DIGEST column shows: ``<none>`` unless the list
    was asked for digests (``images(digests=True)``, ``--digests``).
    """

    repository: str
    tag: str
    digest: str
    image_id: str           #: the full ID, ``sha256:...``
    created: str
    created_unix: int
    size: int
    containers: int = 0

    @property
    def created_at(self) -> _dt.datetime | None:
        """The image's creation time (whole seconds, UTC), or None if unknown."""
        if not self.created:
            return None
        return _dt.datetime.fromtimestamp(self.created_unix, _dt.timezone.utc)


# --- choosing the images -------------------------------------------------------------

def _ns(text: str | None) -> int | None:
    return _filters.timestamp_ns(text) if text else None


def select(records: Records, filters: _filters.Filters | Iterable[str] = (), *,
           all: bool = False, now_ns: int | None = None,
           local_zone: _dt.tzinfo | None = None) -> list[ImageSummary]:
    """Return the images ``docker images`` would list, newest first (pure: records in, rows out).

    Follows the daemon's steps: check the filters; resolve ``before``,
    ``since`` and ``until`` to times; then keep each image that passes the
    time and label filters, keeping only the names that match a
    ``reference`` filter. An image left without names is shown only if it
    is dangling (no child image, or ``all``) and neither ``dangling=false``
    nor ``reference`` was asked for. ``dangling=true`` looks only at images
    no other image was built on.
    """
    flt = _filters.parse(filters)
    dangling_only = bool(flt.dangling())
    now_ns = time.time_ns() if now_ns is None else now_ns
    before = None
    for value in flt.get("before"):
        created = _ns(find_image(records, value).created)
        if created is not None and (before is None or created < before):
            before = created
    for value in flt.get("until"):
        until = _filters.parse_until(value, now_ns, local_zone)
        if before is None or until < before:
            before = until
    since = None
    for value in flt.get("since"):
        created = _ns(find_image(records, value).created)
        if created is not None and (since is None or created > since):
            since = created

    has_children = {image.parent for image in records.images.values() if image.parent}
    summaries = []
    for image in records.images.values():
        if dangling_only and image.id in has_children:
            continue
        created = _ns(image.created)
        if before is not None and (created is None or not created < before):
            continue
        if since is not None and (created is None or not created > since):
            continue
        if "label" in flt and not flt.match_labels(image.labels):
            continue
        tags, digests = [], []
        for full in records.references_to(image.id):
            ref = _reference.parse(full)
            if "reference" in flt and not flt.match_reference(
                    (ref.familiar, ref.familiar_name, str(ref.with_default_tag()), ref.name)):
                continue
            (digests if ref.digest else tags).append(ref.familiar)
        if not tags and not digests:
            if not (all or image.id not in has_children):
                continue                                # an intermediate image
            if "dangling" in flt and not dangling_only:
                continue
            if "reference" in flt:
                continue
        elif dangling_only and tags:
            continue
        summaries.append(ImageSummary(
            image_id=image.id, repo_tags=tuple(tags), repo_digests=tuple(digests),
            created=image.created,
            created_unix=created // 1_000_000_000 if created is not None else 0,
            size=image.size, containers=len(records.containers_using(image.id)),
            labels=dict(image.labels)))
    # Docker sorts by creation second only (ties come out in any order): imgkit
    # breaks ties by ID so that the same store always lists the same way.
    summaries.sort(key=lambda s: s.image_id)
    summaries.sort(key=lambda s: s.created_unix, reverse=True)
    return summaries


def rows(summaries: Iterable[ImageSummary], digests: bool = False) -> list[ImageRow]:
    """Expand image summaries into table rows the way the docker CLI does.

    Each repository gets one row per tag; with ``digests`` a tag is repeated
    for every digest of its repository. A repository known only by digest
    gets one ``<none>`` tag row (one per digest with ``digests``).
    """
    return [row for summary in summaries for row in _image_rows(summary, digests)]


def _image_rows(s: ImageSummary, digests: bool) -> list[ImageRow]:
    def row(repo: str, tag: str, digest: str) -> ImageRow:
        return ImageRow(repo, tag, digest, s.image_id, s.created, s.created_unix, s.size,
                        s.containers)

    if not s.repo_tags and not s.repo_digests:
        return [row("<none>", "<none>", "<none>")]
    by_repo: dict[str, list[str]] = {}
    for name in s.repo_tags:
        repo, _, tag = name.rpartition(":")
        by_repo.setdefault(repo, []).append(tag)
    digests_of: dict[str, list[str]] = {}
    for name in s.repo_digests:
        repo, _, digest = name.partition("@")
        digests_of.setdefault(repo, []).append(digest)
    result = []
    for repo, tags in by_repo.items():
        repo_digests = digests_of.pop(repo, [])     # never a row of their own
        if not digests:
            repo_digests = []
        for tag in tags:
            for digest in repo_digests or ["<none>"]:
                result.append(row(repo, tag, digest))
    for repo, repo_digests in digests_of.items():
        for digest in (repo_digests if digests else [""]):
            result.append(row(repo, "<none>", digest))
    return result


# --- the list and how it shows ---------------------------------------------------------

class ImageList(list):
    """The rows of ``docker images`` (``ImageRow`` values); shows itself as Docker's table.

    ``table()`` gives the text (``digests=True`` adds DIGEST, ``no_trunc=True``
    shows whole IDs), ``ids()`` what ``-q`` prints, ``to_json()`` what
    ``--format json`` prints. CREATED counts from ``now`` (the time of
    showing, unless ``images(now=...)`` fixed it).
    """

    def __init__(self, summaries: list[ImageSummary], *, digests: bool = False,
                 no_trunc: bool = False, now: float | None = None):
        super().__init__(rows(summaries, digests))
        self.summaries = summaries
        self.digests = digests
        self.no_trunc = no_trunc
        self.now = now

    def _rows(self, digests: bool) -> list[ImageRow]:
        return list(self) if digests == self.digests else rows(self.summaries, digests)

    def _id(self, image_id: str, no_trunc: bool | None) -> str:
        return image_id if (self.no_trunc if no_trunc is None else no_trunc) else truncate_id(image_id)

    def _cells(self, digests: bool | None, no_trunc: bool | None):
        digests = self.digests if digests is None else digests
        headers = ["REPOSITORY", "TAG", *(["DIGEST"] if digests else []),
                   "IMAGE ID", "CREATED", "SIZE"]
        now = epoch_seconds(self.now)
        cells = [[r.repository, r.tag, *([r.digest] if digests else []),
                  self._id(r.image_id, no_trunc), _since(r.created_unix, now) or "N/A",
                  human_size(r.size)] for r in self._rows(digests)]
        return headers, cells

    def table(self, *, digests: bool | None = None, no_trunc: bool | None = None) -> str:
        """Return the listing as ``docker images`` prints it (no final newline)."""
        return table(*self._cells(digests, no_trunc))

    def ids(self, unique: bool = False, *, no_trunc: bool | None = None) -> list[str]:
        """Return the IDs ``docker images -q`` prints: one per row, so repeated for two tags.

        ``unique=True`` keeps each ID once (handy for ``rmi``).
        """
        ids = [self._id(r.image_id, no_trunc) for r in self]
        return list(dict.fromkeys(ids)) if unique else ids

    def to_json(self, *, no_trunc: bool | None = None) -> str:
        """Return what ``docker images --format json`` prints: one JSON object per line."""
        now = epoch_seconds(self.now)
        lines = []
        for r in self:
            lines.append(go_json({
                "Containers": str(r.containers),
                "CreatedAt": go_time_string(r.created_unix),
                "CreatedSince": _since(r.created_unix, now),
                "Digest": r.digest,
                "ID": self._id(r.image_id, no_trunc),
                "Repository": r.repository,
                "SharedSize": "N/A",
                "Size": human_size(r.size),
                "Tag": r.tag,
                "UniqueSize": "N/A",
            }))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        return html_table(*self._cells(None, None))


def images(reference: str | None = None, *, all: bool = False,
           filters: Iterable[str] | Mapping[str, object] = (), digests: bool = False,
           no_trunc: bool = False, host: Host | None = None,
           now: float | str | _dt.datetime | None = None) -> ImageList:
    """List the images of the host, newest first, as ``docker images`` does.

    - ``reference``: only names matching this glob (``"alpine"``, ``"alpine:3.*"``).
    - ``all``: also show intermediate images (``-a``).
    - ``filters``: ``["dangling=true", "label=tier=web", "before=alpine:3.20"]``
      or ``{"label": ["a", "b=c"], "until": "24h"}`` (``-f``/``--filter``).
    - ``digests``: add the DIGEST column (``--digests``); ``no_trunc``: whole IDs.
    - ``now``: the time CREATED and ``until`` count from (default: the time of showing).

    Returns an ``ImageList``: a list of ``ImageRow`` that prints as Docker's table.
    Raises ``InvalidFilterError`` for a filter Docker refuses and
    ``ImageNotFoundError`` when ``before``/``since`` name no image.
    """
    host = host or default_host()
    flt = _filters.parse(filters)
    if reference:
        flt = flt.add("reference", reference)
    fixed_now = None if now is None else epoch_seconds(now)
    now_ns = time.time_ns() if fixed_now is None else int(round(fixed_now * 1e9))
    zone = now.tzinfo if isinstance(now, _dt.datetime) else None
    summaries = select(host.store.records(), flt, all=all, now_ns=now_ns, local_zone=zone)
    return ImageList(summaries, digests=digests, no_trunc=no_trunc, now=fixed_now)
