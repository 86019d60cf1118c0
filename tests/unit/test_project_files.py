"""The project's own files agree with each other."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

# conda-forge names a few packages differently from PyPI.
CONDA_NAMES = {"graphviz": "python-graphviz", "isal": "python-isal"}


def _name_and_spec(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*(.*)$", requirement)
    assert match, requirement
    return match.group(1).lower(), match.group(2).replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = dict(_name_and_spec(r) for r in project["dependencies"])
    for extra in project["optional-dependencies"].values():
        found.update(_name_and_spec(r) for r in extra)
    return {CONDA_NAMES.get(name, name): spec for name, spec in found.items()}


def _environment_requirements() -> dict[str, str]:
    found = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        match = re.match(r"^\s*-\s*([A-Za-z0-9_.-]+)\s*([<>=!~].*)?$", line)
        if match:
            found[match.group(1).lower()] = (match.group(2) or "").replace(" ", "")
    return found


def test_environment_yml_lists_every_python_dependency_of_pyproject():
    conda = _environment_requirements()
    pip = _pyproject_requirements()
    missing = {name: spec for name, spec in pip.items() if conda.get(name) != spec}
    assert not missing, f"environment.yml lacks or differs on: {missing}"


def test_environment_yml_adds_only_python_pip_and_the_graphviz_program():
    extra = set(_environment_requirements()) - set(_pyproject_requirements())
    assert extra == {"python", "pip", "graphviz"}


def test_python_floor_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.10"
    assert _environment_requirements()["python"] == ">=3.10"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_python_starts_without_an_import_finder_for_imgkit():
    # setuptools' editable install of a flat layout loads an import finder in every Python
    # process (pathlib, fnmatch and more: 5-15 ms of each `imgkit` command); package-dir in
    # pyproject.toml makes it a plain .pth line. A wheel install loads none either.
    import subprocess

    code = "import sys; print(sorted(m for m in sys.modules if 'editable' in m))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd="/")
    assert done.stdout == "[]\n"
