"""The lesson index in notebooks/README.md is generated from the notebooks and is current."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("notebook_index", ROOT / "tools" / "notebook_index.py")
notebook_index = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebook_index)


def test_the_readme_index_matches_the_notebooks():
    # Regenerate with: python tools/notebook_index.py
    readme = (ROOT / "notebooks" / "README.md").read_text()
    assert notebook_index.updated(readme) == readme


def test_every_lesson_starts_with_a_title_and_its_own_clean_host():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        assert notebook_index.title_of(path)
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        assert f'imgkit.lesson.start("{path.stem}")' in code[0], path.name


def test_every_ignored_output_says_why():
    # nbval honours the marker only as a comment of its own, so the reason is
    # the comment on the next line: "# (why: ...)".
    paths = sorted((ROOT / "notebooks").rglob("*.ipynb"))
    for path in paths:
        for cell in json.loads(path.read_text())["cells"]:
            lines = [line.strip() for line in "".join(cell["source"]).splitlines()]
            for number, line in enumerate(lines):
                if line.lstrip("#").strip() == "NBVAL_IGNORE_OUTPUT":
                    reason = lines[number + 1] if number + 1 < len(lines) else ""
                    assert reason.startswith("# (why:") and len(reason) > 15, \
                        f"{path.name}: NBVAL_IGNORE_OUTPUT without a reason on the next line"
                else:
                    assert "NBVAL_IGNORE_OUTPUT" not in line, \
                        f"{path.name}: nbval ignores a marker with text after it: {line!r}"
