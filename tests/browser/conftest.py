"""JupyterLab and headless Chromium for the browser tests.

``jupyterlab`` starts ``jupyter lab`` (the venv's) on a free loopback port,
token off, on a *copy* of the lessons with their outputs cleared, in a
throw-away imgkit home (the lessons start their lab there) and with
``IMGKIT_WIDGETS`` unset, so ``imgkit.pull`` shows its live widget. Its
settings live in the throw-away directory too: every cell is kept in the
page (no windowing, so the DOM has every output), no news is fetched.

``browser`` is Debian's Chromium driven by Playwright, launched with
``executable_path`` - Playwright never downloads a browser here. Both are
installed by ``make test`` (tools/system-deps.sh and the ``test`` extra);
when one is missing the tests are skipped, except on CI, where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
#: Screenshots are kept here (git-ignored).
OUTPUT = ROOT / "test-output" / "browser"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic",
                  "--disable-default-apps", "--disable-extensions"]
SETTINGS = {
    # Keep every cell in the DOM (JupyterLab 4 draws only the visible ones by default).
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
}


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: runs lessons in JupyterLab in headless Chromium")


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: `make test` installs it (tools/system-deps.sh, "
                    "pyproject's test extra)")
    pytest.skip(f"{what} is missing: `make test` installs it")


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _strip_outputs(path: Path) -> None:
    """Clear a notebook copy's outputs and counts, so what the test sees is what it ran."""
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    path.write_text(json.dumps(notebook, indent=1))


@dataclass
class JupyterLab:
    url: str
    root: Path              #: the copy of notebooks/ it serves
    home: Path              #: IMGKIT_HOME of its kernels
    log: Path

    def add_notebook(self, name: str, cells: list[str]) -> str:
        """Write a notebook of code cells into the served directory; return its name."""
        notebook = {
            "cells": [{"cell_type": "code", "execution_count": None, "metadata": {},
                       "outputs": [], "source": source} for source in cells],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                        "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5,
        }
        (self.root / f"{name}.ipynb").write_text(json.dumps(notebook, indent=1))
        return name


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory):
    if not (VENV_BIN / "jupyter-lab").exists():
        _missing("JupyterLab (the lab extra)")
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", root)
    for notebook in root.glob("*.ipynb"):
        _strip_outputs(notebook)
    home, settings = base / "imgkit-home", base / "lab-settings"
    for plugin, values in SETTINGS.items():
        where = settings / f"{plugin}.jupyterlab-settings"
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_text(json.dumps(values))
    env = {key: value for key, value in os.environ.items()
           if key not in ("IMGKIT_WIDGETS", "IMGKIT_LAB_HOME", "JUPYTER_PATH")}
    env.update({
        "IMGKIT_HOME": str(home),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(base / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(base / "jupyter-runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "lab-workspaces"),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
    port = _free_port()
    log = base / "jupyterlab.log"
    command = [str(VENV_BIN / "jupyter-lab"), "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
               f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
               "--ServerApp.open_browser=False"]
    if os.geteuid() == 0:
        command.append("--allow-root")      # CI and this kind of machine run as root
    with open(log, "wb") as out:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited ({server.returncode}):\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer in 60 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield JupyterLab(url, root, home, log)
    finally:
        # SIGTERM makes the server shut its kernels down before it exits.
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        # The lessons started a lab registry in the throw-away home: stop it.
        subprocess.run([str(VENV_BIN / "imgkit"), "lab", "stop"], env=env, capture_output=True,
                       timeout=60, check=False)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (the Python package, pyproject's test extra)")
    executable = chromium_path()
    if executable is None:
        _missing("chromium (Debian's package)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
