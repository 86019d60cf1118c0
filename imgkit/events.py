"""Progress events: how long operations tell what they are doing, without printing.

The library never prints. A pull (or push, or build) reports each step as a
``ProgressEvent``; the command line turns events into Docker's lines or
progress bars, a notebook widget into bars, and a test into a list it can
check. The statuses are Docker's own words::

    a2318d6c47ec: Already exists
    1a8e1b7ec4f5: Pulling fs layer
    1a8e1b7ec4f5: Downloading   [=====>     ]  1.2MB/3.4MB
    1a8e1b7ec4f5: Verifying Checksum
    1a8e1b7ec4f5: Download complete
    1a8e1b7ec4f5: Pull complete
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["ProgressEvent", "Listener", "STATUSES_WITH_PROGRESS"]

#: Statuses that carry byte counts and that Docker leaves out when not on a terminal.
STATUSES_WITH_PROGRESS = frozenset({"Downloading", "Extracting", "Pushing"})


@dataclass(frozen=True)
class ProgressEvent:
    """One step of an operation: a layer's new status, or a message line (``id`` None)."""

    status: str
    id: str | None = None          #: 12-hex short layer digest, or a tag for ``-a`` pulls
    current: int | None = None     #: bytes done, for statuses with progress
    total: int | None = None       #: bytes in all, when known

    @property
    def has_progress(self) -> bool:
        """Tell whether this is a byte-progress update (dropped from plain-text output)."""
        return self.status in STATUSES_WITH_PROGRESS and self.current is not None

    def line(self) -> str:
        """Return the event as Docker prints it when not on a terminal."""
        return f"{self.id}: {self.status}" if self.id else self.status


#: Something that receives events: a function taking one ``ProgressEvent``.
Listener = Callable[[ProgressEvent], None]
