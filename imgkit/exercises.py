"""Self-checks for the lessons' exercises: they look at YOUR store and say how you did.

Each check inspects the current host (the lesson's own, once
``imgkit.lesson.start`` ran) and returns a ``Check`` that shows as a green
"Well done" or as "Not yet" with a hint. They never change anything::

    imgkit.exercises.shared_layers("alpine:3.20", "redis", 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from .api.host import Host, default_host
from .errors import ImgkitError
from .store import find_image

__all__ = ["Check", "image_exists", "image_missing", "same_image", "shared_layers",
           "layer_count", "dangling_count", "image_count", "container_count", "has_label",
           "answer"]


@dataclass(frozen=True)
class Check:
    """The verdict of one self-check: ``passed``, and what to say about it."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"✅ Well done: {self.message}" if self.passed else f"❌ Not yet: {self.message}"

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#b35900"
        word = "✅ Well done" if self.passed else "❌ Not yet"
        return f'<p style="color:{colour}"><b>{word}:</b> {escape(self.message)}</p>'


def _verdict(ok: bool, good: str, hint: str) -> Check:
    return Check(True, good) if ok else Check(False, hint)


def _records(host: Host | None):
    return (host or default_host()).store.records()


def _find(records, name: str):
    try:
        return find_image(records, name)
    except (ImgkitError, ValueError):
        return None


def image_exists(name: str, *, hint: str | None = None, host: Host | None = None) -> Check:
    """Check that ``name`` is in your store (``imgkit images`` lists it)."""
    found = _find(_records(host), name)
    return _verdict(found is not None, f"{name} is in your store.",
                    hint or f"{name} is not in your store yet: pull it (imgkit.pull({name!r})).")


def image_missing(name: str, *, hint: str | None = None, host: Host | None = None) -> Check:
    """Check that ``name`` is gone from your store."""
    found = _find(_records(host), name)
    return _verdict(found is None, f"{name} is gone from your store.",
                    hint or f"{name} is still in your store: remove it with imgkit.rmi({name!r}).")


def same_image(a: str, b: str, *, hint: str | None = None, host: Host | None = None) -> Check:
    """Check that two names point at one image (the same image ID)."""
    records = _records(host)
    first, second = _find(records, a), _find(records, b)
    ok = first is not None and second is not None and first.id == second.id
    return _verdict(ok, f"{a} and {b} are one image ({first.id[7:19] if first else ''}).",
                    hint or f"{a} and {b} should name the same image ID: try imgkit.tag({a!r}, {b!r}).")


def shared_layers(a: str, b: str, count: int, *, hint: str | None = None,
                  host: Host | None = None) -> Check:
    """Check that images ``a`` and ``b`` share exactly ``count`` layers."""
    records = _records(host)
    first, second = _find(records, a), _find(records, b)
    if first is None or second is None:
        missing = a if first is None else b
        return Check(False, hint or f"{missing} is not in your store yet.")
    shared = len(set(first.layers) & set(second.layers))
    return _verdict(shared == count,
                    f"{a} and {b} share exactly {count} layer{'s' * (count != 1)}.",
                    hint or f"{a} and {b} share {shared} layer{'s' * (shared != 1)}, "
                            f"not {count}.")


def layer_count(name: str, count: int, *, hint: str | None = None,
                host: Host | None = None) -> Check:
    """Check that image ``name`` has exactly ``count`` layers."""
    found = _find(_records(host), name)
    if found is None:
        return Check(False, hint or f"{name} is not in your store yet.")
    return _verdict(len(found.layers) == count, f"{name} has {_layers(count)}.",
                    hint or f"{name} has {_layers(len(found.layers))}, not {count}.")


def _layers(n: int) -> str:
    return "1 layer" if n == 1 else f"{n} layers"


def dangling_count(count: int, *, hint: str | None = None, host: Host | None = None) -> Check:
    """Check how many dangling images (no tags) your store holds."""
    records = _records(host)
    dangling = [i for i in records.images.values()
                if not any("@" not in r for r in records.references_to(i.id))]
    return _verdict(len(dangling) == count,
                    f"your store has {count} dangling image{'s' * (count != 1)}.",
                    hint or f"your store has {len(dangling)} dangling images, not {count}.")


def image_count(count: int, *, hint: str | None = None, host: Host | None = None) -> Check:
    """Check how many images (distinct IDs) your store holds."""
    found = len(_records(host).images)
    return _verdict(found == count, f"your store holds {count} images.",
                    hint or f"your store holds {found} images, not {count}.")


def container_count(count: int, *, hint: str | None = None, host: Host | None = None) -> Check:
    """Check how many containers exist (running or not)."""
    found = len(_records(host).containers)
    return _verdict(found == count, f"there are {count} containers.",
                    hint or f"there are {found} containers, not {count}.")


def has_label(name: str, key: str, value: str | None = None, *, hint: str | None = None,
              host: Host | None = None) -> Check:
    """Check that image ``name`` carries label ``key`` (with ``value``, when given)."""
    found = _find(_records(host), name)
    if found is None:
        return Check(False, hint or f"{name} is not in your store yet.")
    ok = key in found.labels and (value is None or found.labels[key] == value)
    return _verdict(ok, f"{name} has the label {key}.",
                    hint or f"{name} has no label {key}{'=' + value if value else ''}.")


def answer(given, expected, *, good: str = "that's right.", hint: str = "not quite.") -> Check:
    """Check a quiz answer: ``given`` compared with ``expected`` (strings compared loosely)."""
    def norm(x):
        return " ".join(str(x).lower().split()) if isinstance(x, str) else x
    return _verdict(norm(given) == norm(expected), good, hint)
