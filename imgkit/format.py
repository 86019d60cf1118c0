"""Human-readable sizes and times, exactly as Docker prints them.

Docker formats sizes with decimal units (1 kB = 1000 bytes) and a fixed
number of significant digits, with no space before the unit: ``docker
images`` uses 3 digits (``77.8MB``), ``Total reclaimed space`` uses 4
(``72.78MB``). Like Docker's, the formatting is ``%g``, so a size just under
a unit boundary can print as ``1e+03kB`` - that is what Docker shows too.
"""

from __future__ import annotations

__all__ = ["human_size"]

_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_size(size: float, precision: int = 3) -> str:
    """Return ``size`` bytes the way ``docker images`` shows them: ``7.8MB``, ``188MB``, ``0B``."""
    value = float(size)
    unit = 0
    while value >= 1000.0 and unit < len(_DECIMAL_UNITS) - 1:
        value /= 1000.0
        unit += 1
    return f"{value:.{precision}g}{_DECIMAL_UNITS[unit]}"
