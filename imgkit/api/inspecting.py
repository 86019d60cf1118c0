"""``imgkit.inspect()`` and ``imgkit.history()``: what an image is, and how it was made.

``inspect`` gives Docker's ``docker image inspect`` document for each image:
its ID, names, config (how a container starts), platform, size and the
diff_ids of its layers. ``history`` lists the build steps from the image
config, newest first, as ``docker history`` does - with the size of the
layer each step made (``0B`` for steps that only changed settings).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from .. import reference as _reference
from ..format import (
    created_ago,
    ellipsis,
    epoch_seconds,
    go_json,
    html_table,
    human_size,
    rfc3339_local,
    table,
    truncate_id,
)
from ..oci import ImageConfig
from ..store import Records, find_image
from .host import Host, default_host

__all__ = ["inspect", "history", "Inspected", "History", "HistoryRow", "inspect_document"]

_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})")
#: Go's zero time: what Metadata.LastTagTime says for an image never tagged here.
ZERO_TIME = "0001-01-01T00:00:00Z"
# docker history prints "N/A" for steps dated before 2000 (reproducible builds use 1970).
_HISTORY_EPOCH = 946_684_800
# The config fields `docker image inspect` shows, in its order (Docker 29).
_CONFIG_FIELDS = ("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir",
                  "Labels", "StopSignal", "ArgsEscaped", "Healthcheck", "OnBuild", "Shell")
_HEALTHCHECK_FIELDS = ("Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries")


def rfc3339_nano(text: str) -> str:
    """Rewrite an RFC 3339 time as Go's ``RFC3339Nano`` prints it (no trailing zeros, ``Z`` for UTC)."""
    match = _TIME.fullmatch(text)
    if match is None:
        return text
    date, clock, fraction, zone = match.groups()
    fraction = (fraction or "")[:9].rstrip("0")
    if zone in ("z", "Z", "+00:00", "-00:00"):
        zone = "Z"
    return f"{date}T{clock}{'.' + fraction if fraction else ''}{zone}"


def _sorted_keys(value):
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _run_config(raw: dict) -> dict:
    config = {}
    for key in _CONFIG_FIELDS:
        value = raw.get(key)
        if value in (None, "", [], {}, False, 0):
            continue                        # every field is "omitempty"
        if key in ("ExposedPorts", "Volumes") and isinstance(value, dict):
            value = {k: {} for k in sorted(value)}          # a set: Go writes {} for each
        if key == "Labels" and isinstance(value, dict):
            value = {k: value[k] for k in sorted(value)}    # Go writes map keys sorted
        if key == "Healthcheck" and isinstance(value, dict):
            value = {k: value[k] for k in _HEALTHCHECK_FIELDS if value.get(k) not in (None, [], 0)}
        if key in ("Entrypoint", "Cmd", "Shell") and isinstance(value, str):
            value = [value]
        config[key] = value
    return config


def inspect_document(records: Records, image_id: str, config_bytes: bytes) -> dict:
    """Return Docker's ``image inspect`` document for one image (a dict in Docker's key order).

    The order and the omitted-when-empty fields are Docker 29's (API 1.52).
    ``GraphDriver`` is left out, as Docker leaves it out when a snapshotter
    stores the layers: imgkit has no graph driver directory to point at.
    When the image has a ``Parent`` (built or committed here) Docker adds it
    through a generic map, which sorts every key - so does imgkit.
    """
    image = records.images[image_id]
    config = ImageConfig.from_json(config_bytes)
    raw = config.to_dict()
    tags, digests = [], []
    for full in records.references_to(image_id):
        ref = _reference.parse(full)
        (digests if ref.digest else tags).append(ref.familiar)
    history = config.history
    comment = raw.get("comment") or (history[-1].comment if history else None) or ""
    doc: dict = {"Id": image_id, "RepoTags": tags, "RepoDigests": digests}
    if comment:
        doc["Comment"] = comment
    if config.created:
        doc["Created"] = rfc3339_nano(config.created)
    if config.author:
        doc["Author"] = config.author
    doc["Config"] = _run_config(raw.get("config") or {})
    doc["Architecture"] = config.architecture
    if config.variant:
        doc["Variant"] = config.variant
    doc["Os"] = config.os
    if raw.get("os.version"):
        doc["OsVersion"] = raw["os.version"]
    doc["Size"] = image.size
    doc["RootFS"] = {"Type": "layers", **({"Layers": list(config.diff_ids)} if config.diff_ids else {})}
    doc["Metadata"] = {"LastTagTime": rfc3339_nano(image.last_tag_time) if image.last_tag_time
                       else ZERO_TIME}
    extra = {}
    if image.parent:
        extra["Parent"] = image.parent
    if raw.get("docker_version"):
        extra["DockerVersion"] = raw["docker_version"]
    if extra:
        doc = _sorted_keys({**doc, **extra})
    return doc


class Inspected(list):
    """``docker image inspect`` documents (dicts); shows itself as Docker's JSON array."""

    def to_json(self) -> str:
        """Return the JSON text Docker prints: an array indented by 4 spaces (``[]`` when empty)."""
        return go_json(list(self), indent=4, escape_html=False) if self else "[]"

    def __repr__(self) -> str:
        return self.to_json()


def inspect(*names: str, host: Host | None = None) -> Inspected:
    """Return Docker's ``image inspect`` document of each image named (name, ID or ID prefix).

    ``imgkit.inspect("redis")[0]["Config"]["ExposedPorts"]`` is
    ``{"6379/tcp": {}}``; ``RootFS.Layers`` lists the diff_ids (digests of the
    *uncompressed* layers), bottom first. The result prints as Docker's JSON.
    Raises ``ImageNotFoundError`` (``No such image: x:latest``) for the first
    name that is not found.
    """
    host = host or default_host()
    records = host.store.records()
    found = Inspected()
    for name in names:
        image = find_image(records, name)
        found.append(inspect_document(records, image.id, host.store.blobs.read(image.id)))
    return found


# --- history ------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryRow:
    """One build step of an image, as ``docker history`` lists it (Docker's ``HistoryResponseItem``)."""

    image_id: str           #: the image this step ended in, or ``<missing>``
    created: int            #: seconds since 1970 (0 when the step has no date)
    created_by: str
    size: int               #: content bytes of the layer the step made (0 for settings steps)
    comment: str
    tags: tuple[str, ...] = ()
    empty_layer: bool = False


class History(list):
    """The rows of ``docker history``, newest step first; shows itself as Docker's table."""

    def __init__(self, rows, *, no_trunc: bool = False, human: bool = True,
                 now: float | None = None):
        super().__init__(rows)
        self.no_trunc = no_trunc
        self.human = human
        self.now = now

    def _id(self, row: HistoryRow, no_trunc: bool) -> str:
        return row.image_id if no_trunc else truncate_id(row.image_id)

    def _created(self, row: HistoryRow, human: bool, now: float) -> str:
        if not human:
            return rfc3339_local(row.created)
        return "N/A" if row.created <= _HISTORY_EPOCH else created_ago(row.created, now)

    def _cells(self, no_trunc: bool | None, human: bool | None):
        no_trunc = self.no_trunc if no_trunc is None else no_trunc
        human = self.human if human is None else human
        now = epoch_seconds(self.now)
        headers = ["IMAGE", "CREATED" if human else "CREATED AT", "CREATED BY", "SIZE", "COMMENT"]
        cells = []
        for row in self:
            created_by = row.created_by.replace("\t", " ")
            cells.append([self._id(row, no_trunc), self._created(row, human, now),
                          created_by if no_trunc else ellipsis(created_by, 45),
                          human_size(row.size) if human else str(row.size), row.comment])
        return headers, cells

    def table(self, *, no_trunc: bool | None = None, human: bool | None = None) -> str:
        """Return the history as ``docker history`` prints it (no final newline)."""
        return table(*self._cells(no_trunc, human))

    def ids(self, *, no_trunc: bool | None = None) -> list[str]:
        """Return what ``docker history -q`` prints: one ID (or ``<missing>``) per step."""
        no_trunc = self.no_trunc if no_trunc is None else no_trunc
        return [self._id(row, no_trunc) for row in self]

    def to_json(self, *, no_trunc: bool | None = None, human: bool | None = None) -> str:
        """Return what ``docker history --format json`` prints: one JSON object per line."""
        no_trunc = self.no_trunc if no_trunc is None else no_trunc
        human = self.human if human is None else human
        now = epoch_seconds(self.now)
        lines = []
        for row in self:
            created_by = row.created_by.replace("\t", " ")
            lines.append(go_json({
                "Comment": row.comment,
                "CreatedAt": rfc3339_local(row.created),
                "CreatedBy": created_by if no_trunc else ellipsis(created_by, 45),
                "CreatedSince": self._created(row, human, now),
                "ID": self._id(row, no_trunc),
                "Size": human_size(row.size) if human else str(row.size),
            }))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        return html_table(*self._cells(None, None))


def history_rows(records: Records, image_id: str, read_config) -> list[HistoryRow]:
    """Return the history rows of one image, newest first (``read_config(id)`` gives config bytes).

    Each step that made a layer gets that layer's size. The top row shows
    the image's ID and every other row ``<missing>`` - unless the image was
    built or committed here on a ``parent``: then the row where the parent's
    own history ends shows the parent's ID, and so on down the chain. That
    is Docker's rule (it gives each row the next image of the parent chain,
    as each legacy build step or commit added one history entry).
    """
    image = records.images[image_id]
    config = ImageConfig.from_json(read_config(image_id))
    rows = []
    layer_index = 0
    for entry, diff_id in config.layer_history():
        size = 0
        if diff_id is not None:
            size = records.layers[image.layers[layer_index]].content_size
            layer_index += 1
        created = entry.created_at
        rows.append(HistoryRow("<missing>", int(created.timestamp() // 1) if created else 0,
                               entry.created_by or "", size, entry.comment or "",
                               empty_layer=entry.empty_layer))
    rows.reverse()
    current, steps = image, len(rows)
    while rows:
        index = len(rows) - steps
        if not 0 <= index < len(rows):
            break
        tags = tuple(_reference.parse(ref).familiar for ref in records.references_to(current.id)
                     if "@" not in ref)
        row = rows[index]
        rows[index] = HistoryRow(current.id, row.created, row.created_by, row.size, row.comment,
                                 tags, row.empty_layer)
        if not current.parent or current.parent not in records.images:
            break
        current = records.images[current.parent]
        parent_steps = len(ImageConfig.from_json(read_config(current.id)).history)
        if parent_steps >= steps:
            break                       # not a parent this history grew from
        steps = parent_steps
    return rows


def history(name: str, *, no_trunc: bool = False, human: bool = True, host: Host | None = None,
            now: float | str | _dt.datetime | None = None) -> History:
    """Show how an image was built, newest step first, as ``docker history`` does.

    Steps that only change settings (``ENV``, ``CMD``, ``EXPOSE``...) made
    no layer and show ``0B``. CREATED BY is cut to 45 columns with ``…``
    unless ``no_trunc``; ``human=False`` prints exact dates and byte counts
    (``--human=false``). Raises ``ImageNotFoundError`` for an unknown name.
    """
    host = host or default_host()
    records = host.store.records()
    image = find_image(records, name)
    rows = history_rows(records, image.id, host.store.blobs.read)
    return History(rows, no_trunc=no_trunc, human=human,
                   now=None if now is None else epoch_seconds(now))
