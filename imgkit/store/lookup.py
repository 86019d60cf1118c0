"""Find an image the way ``docker`` does: by full ID, then by name, then by ID prefix."""

from __future__ import annotations

import re

from .. import reference
from ..errors import ImageNotFoundError, InvalidReferenceError
from .records import ImageRecord, Records

__all__ = ["find_image", "not_found_name", "normalize_name"]

_HEX = re.compile(r"[0-9a-f]{1,64}")


def normalize_name(text: str) -> str:
    """Return the full reference Docker looks up for ``text`` (``alpine`` -> ``...alpine:latest``)."""
    return str(reference.parse(text).with_default_tag())


def not_found_name(text: str) -> str:
    """Return the name Docker prints in ``No such image: ...`` (``:latest`` added)."""
    try:
        return reference.parse(text).with_default_tag().familiar
    except ValueError:
        return text


def find_image(records: Records, text: str) -> ImageRecord:
    """Return the image ``text`` names; raise ``ImageNotFoundError`` with Docker's text.

    The order is Docker's: a full ID (``sha256:<64 hex>`` or just the 64 hex
    characters), then a name (``alpine`` means ``alpine:latest``), then a
    unique prefix of an ID (``44dd6f22``).
    """
    candidate = text.removeprefix("sha256:")
    is_hex = _HEX.fullmatch(candidate) is not None
    if is_hex and len(candidate) == 64:
        image = records.images.get(f"sha256:{candidate}")
        if image is None:
            raise ImageNotFoundError(f"No such image: {text}")
        return image
    try:
        full = normalize_name(text)
    except InvalidReferenceError:
        if not is_hex:
            raise
        full = None  # "sha256:abc" is no name, but may be an ID prefix
    if full is not None and full in records.references:
        return records.images[records.references[full]]
    if is_hex:
        matches = [image for image_id, image in records.images.items()
                   if image_id.startswith(f"sha256:{candidate}")]
        if len(matches) == 1:
            return matches[0]
    raise ImageNotFoundError(f"No such image: {not_found_name(text)}")
