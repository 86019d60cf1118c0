"""Write notebooks/README.md's lesson index from the notebooks' own titles.

The index is generated, never edited by hand, so it cannot drift from the
lessons; ``tests/unit/test_notebook_index.py`` checks it is up to date.
Run ``python tools/notebook_index.py`` after adding or renaming a lesson.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
README = NOTEBOOKS / "README.md"
START, END = "<!-- index:start -->", "<!-- index:end -->"


def title_of(path: Path) -> str:
    """Return the first ``# `` heading of a notebook's first Markdown cell."""
    cells = json.loads(path.read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise ValueError(f"{path.name}: the first Markdown cell has no '# ' title")


def index() -> str:
    """Return the Markdown list of lessons, in reading order."""
    lines = [START]
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        lines.append(f"1. [{title_of(path)}]({path.name})")
    lines.append(END)
    return "\n".join(lines)


def updated(readme: str) -> str:
    """Return ``readme`` with its index block replaced by a fresh one."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise ValueError(f"{README} has no {START} ... {END} block")
    return pattern.sub(lambda _: index(), readme)


def main() -> int:
    README.write_text(updated(README.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
