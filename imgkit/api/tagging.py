"""``imgkit.tag()``: give an image another name, as ``docker tag`` does.

A tag is only a name pointing at an image ID: tagging copies nothing.
``tag("alpine:3.20", "myapp/base:v1")`` adds a name; if ``myapp/base:v1``
already named another image, the name *moves*, and that other image may be
left with no tag at all - *dangling*, ``<none>  <none>`` in ``images()``.
"""

from __future__ import annotations

from .. import reference as _reference
from ..errors import ImgkitError, InvalidReferenceError
from ..store import find_image
from ..store import tag as _store_tag
from .host import Host, default_host

__all__ = ["tag"]


def _parse(text: str):
    """Parse a name the way the docker client does, with its error wording."""
    try:
        return _reference.parse(text)
    except (InvalidReferenceError, ValueError) as err:
        raise InvalidReferenceError(
            f'error parsing reference: "{text}" is not a valid repository/tag: {err}') from None


def _check_source(source: str) -> None:
    # The client accepts an image ID (64 hex, or sha256:<64 hex>) or any name.
    if _reference.is_id_like(source):
        return
    try:
        _reference.validate_digest(source)
        return
    except ImgkitError:
        pass
    _parse(source)


def tag(source: str, target: str, *, host: Host | None = None) -> None:
    """Make ``target`` a name of the image ``source`` names; print nothing, return nothing.

    ``source`` is a name, an ID or an ID prefix; ``target`` is
    ``[registry/]repository[:tag]`` (``:latest`` if no tag). An existing
    ``target`` moves to the new image. Errors, in Docker's words:

    - a malformed name: ``error parsing reference: "X" is not a valid repository/tag: ...``
    - ``target`` with ``@sha256:...``: ``refusing to create a tag with a digest reference``
    - an unknown ``source``: ``No such image: x:latest`` (``ImageNotFoundError``)
    """
    host = host or default_host()
    _check_source(source)
    ref = _parse(target)
    if ref.digest is not None:
        raise InvalidReferenceError("refusing to create a tag with a digest reference")
    ref = ref.with_default_tag()
    if ref.familiar_name == "sha256":
        raise InvalidReferenceError(
            "refusing to create an ambiguous tag using digest algorithm as name")
    find_image(host.store.records(), source)        # fail before touching the store
    with host.store.transaction() as records:
        image = find_image(records, source)
        _store_tag(records, str(ref), image.id)
