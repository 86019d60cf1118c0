"""``python -m imgkit``: the same as the ``imgkit`` command."""

import sys

from .cli import command

sys.exit(command())
