"""Read JSON documents strictly, naming the path of whatever is wrong.

Manifests, indexes and configs arrive from registries and files that
imgkit does not control, so every field is checked for its JSON type before
it is used. A problem raises ``ManifestError`` with a one-line message that
says which document, which field and what was wrong::

    invalid manifest: layers[1].digest: invalid checksum digest length

As the OCI image-spec allows, ``null`` counts as absent for optional fields.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from ..errors import ManifestError
from . import canonical
from .platform import Platform

__all__ = [
    "INT64_MAX",
    "MEDIA_TYPE",
    "FrozenMap",
    "JSONObject",
    "fail",
    "get",
    "get_media_type",
    "get_platform",
    "get_string_map",
    "get_strings",
    "join",
    "kind_of",
    "load",
    "quote",
]

#: RFC 6838 ``type/subtype``, as the image-spec requires of every media type (use fullmatch).
MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/"
                        r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# keys that read well in a path as they are; others are quoted: labels["my key"]
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./:+-]*")
#: The largest size a descriptor can state (a Go int64).
INT64_MAX = 2**63 - 1


#: A JSON object as ``json.loads`` gives it.
JSONObject = dict[str, Any]


class FrozenMap(dict):  # type: ignore[type-arg]
    """A dict that cannot be changed after it is made (annotations, labels)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{type(self).__name__} cannot be changed")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[type[FrozenMap], tuple[dict[Any, Any]]]:
        return (type(self), (dict(self),))

    def __repr__(self) -> str:
        return dict.__repr__(self)


def quote(text: str) -> str:
    """Return ``text`` in double quotes, control characters escaped (``"a\\nb"``)."""
    return json.dumps(text, ensure_ascii=False)


def fail(kind: str, path: str, problem: str) -> NoReturn:
    """Raise ``ManifestError``: ``invalid <kind>: <path>: <problem>``, on one line."""
    message = f"invalid {kind}: {path}: {problem}" if path else f"invalid {kind}: {problem}"
    # keys and values come from the document: never let them break the line
    raise ManifestError(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", message))


def kind_of(value: Any) -> str:
    """Say what JSON ``value`` is, for error messages (``a string``, ``null``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a string"
    names: dict[type, str] = {list: "an array", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def load(data: Any, kind: str) -> tuple[JSONObject, bytes | None]:
    """Return ``(object, raw bytes or None)`` for JSON text, bytes or a dict."""
    if not isinstance(data, (bytes, bytearray, memoryview, str, Mapping)):
        fail(kind, "", f"expected JSON bytes or a dict, got {type(data).__name__}")
    raw: bytes | None = None
    problem = None
    try:
        if isinstance(data, Mapping):
            # a private, JSON-only copy: later changes to `data` cannot reach us
            obj = json.loads(canonical.dumps(dict(data)))
        else:
            raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
            obj = json.loads(raw.decode("utf-8"), parse_float=_finite,
                             parse_constant=_no_constants)
        canonical.dumps(obj)  # refuses what could not be written back (lone surrogates)
    except (ValueError, TypeError, RecursionError) as err:
        problem = (str(err).splitlines() or [type(err).__name__])[0]
    if problem is not None:
        fail(kind, "", f"not JSON ({problem})")
    if not isinstance(obj, dict):
        fail(kind, "", f"the document must be a JSON object, got {kind_of(obj)}")
    return obj, raw


def join(where: str, key: str) -> str:
    """Return the path of ``key`` inside ``where`` (``layers[0].size``)."""
    if not _PLAIN_KEY.fullmatch(key):
        return f"{where}[{quote(key)}]"
    return f"{where}.{key}" if where else key


def get(obj: JSONObject, key: str, expected: type, kind: str, where: str = "",
        required: bool = False) -> Any:
    """Return ``obj[key]`` if it has the JSON type ``expected``; null counts as absent."""
    value = obj.get(key)
    if value is None:
        if required:
            fail(kind, join(where, key), "missing required field" if key not in obj
                  else "must not be null")
        return None
    if expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, expected)
    if not ok:
        name = {str: "a string", int: "an integer", bool: "a boolean", list: "an array",
                dict: "an object"}[expected]
        fail(kind, join(where, key), f"must be {name}, got {kind_of(value)}")
    return value


def get_strings(obj: JSONObject, key: str, kind: str, where: str = "") -> tuple[str, ...] | None:
    """Return an array of strings as a tuple (``None`` when absent)."""
    values = get(obj, key, list, kind, where)
    if values is None:
        return None
    for i, value in enumerate(values):
        if not isinstance(value, str):
            fail(kind, f"{join(where, key)}[{i}]", f"must be a string, got {kind_of(value)}")
    return tuple(values)


def get_string_map(obj: JSONObject, key: str, kind: str, where: str = "") -> FrozenMap | None:
    """Return a string-to-string object as a ``FrozenMap`` (``None`` when absent)."""
    values = get(obj, key, dict, kind, where)
    if values is None:
        return None
    for name, value in values.items():
        if not isinstance(value, str):
            fail(kind, join(join(where, key), name), f"must be a string, got {kind_of(value)}")
    return FrozenMap(values)


def get_platform(obj: JSONObject, kind: str, where: str = "") -> Platform:
    """Read ``architecture``/``os``/``variant``/``os.version``/``os.features`` of ``obj``."""
    names = []
    for key in ("os", "architecture"):
        names.append(get(obj, key, str, kind, where, required=True))
        if not names[-1]:
            fail(kind, join(where, key), "must not be empty")
    return Platform(names[0], names[1], get(obj, "variant", str, kind, where),
                    get(obj, "os.version", str, kind, where),
                    get_strings(obj, "os.features", kind, where) or ())


def get_media_type(obj: JSONObject, key: str, kind: str, where: str = "",
                   required: bool = False) -> str | None:
    """Return a media type field, checked against RFC 6838."""
    value: str | None = get(obj, key, str, kind, where, required)
    if value is not None and not MEDIA_TYPE.fullmatch(value):
        fail(kind, join(where, key), f"{quote(value)} is not a media type (type/subtype)")
    return value


