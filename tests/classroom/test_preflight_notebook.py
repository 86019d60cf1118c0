"""The instructors' notebook runs under nbval like the lessons (tools/test-notebooks.sh runs lessons only)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "instructors" / "Preflight.ipynb"

pytestmark = [pytest.mark.registry,
              pytest.mark.skipif(importlib.util.find_spec("nbval") is None,
                                 reason="nbval is not installed")]


def test_the_preflight_notebook_runs_and_gives_its_saved_outputs(tmp_path):
    home = tmp_path / "imgkit-home"
    env = dict(os.environ, IMGKIT_HOME=str(home), IMGKIT_WIDGETS="0",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval", str(NOTEBOOK.relative_to(ROOT)),
             "--nbval-sanitize-with", "notebooks/sanitize.cfg", "-p", "no:cacheprovider", "-q"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    finally:
        for args in (("lab", "serve", "--stop"), ("lab", "stop")):
            subprocess.run([sys.executable, "-m", "imgkit", "--home", str(home), *args],
                           capture_output=True, timeout=60)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
