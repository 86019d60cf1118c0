"""Run the real CNCF Distribution registry as a child process on loopback.

This is the registry Docker Hub itself grew from (``registry`` upstream,
``docker-registry`` in Debian). imgkit writes its configuration as JSON
(YAML's superset, so the registry reads it as is), binds it to 127.0.0.1
only, waits until ``GET /v2/`` answers, and remembers the process in a state
file so that a second ``start`` reuses it instead of starting another.

The same class serves the lab (``imgkit lab start``), the class mirror
(``imgkit lab serve``: any address, a pull-through ``proxy`` of Docker Hub,
htpasswd users, TLS) and the test suite, which adds ``auth`` sections
(htpasswd or token) to the configuration.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import LabError
from ..fileio import atomic_write
from ..runtime import alive as _alive

__all__ = ["find_binary", "free_port", "port_is_free", "answers_v2", "RegistryServer",
           "INSTALL_HINT", "WILDCARD_HOSTS"]

BINARY_NAMES = ("registry", "docker-registry")
#: Bind addresses meaning "every interface": reach them locally through loopback.
WILDCARD_HOSTS = ("0.0.0.0", "", "::")
_LOOPBACK_SECRET = "imgkit-lab-loopback-only"
INSTALL_HINT = ("install the CNCF Distribution registry: on Debian or Ubuntu "
                "`sudo apt-get install docker-registry` (or run `make lab`), "
                "or put a `registry` binary on PATH")


def find_binary() -> str:
    """Return the path of the registry program, or raise ``LabError`` saying how to install it."""
    override = os.environ.get("IMGKIT_REGISTRY_BINARY")
    if override:
        # An explicit choice is honoured or reported, never silently replaced.
        found = shutil.which(override)
        if not found:
            raise LabError(f"registry program {override!r} (from IMGKIT_REGISTRY_BINARY) "
                           f"not found: {INSTALL_HINT}")
        return found
    for name in BINARY_NAMES:
        found = shutil.which(name)
        if found:
            return found
    # Debian installs it in /usr/bin, which a stripped PATH may lack.
    for path in ("/usr/bin/docker-registry", "/usr/local/bin/registry"):
        if os.access(path, os.X_OK):
            return path
    raise LabError(f"no registry program found: {INSTALL_HINT}")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Return True when nothing listens on ``host:port``."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(preferred: int | None = None, host: str = "127.0.0.1") -> int:
    """Return ``preferred`` or the next free port after it; any free port when None."""
    if preferred is not None:
        for port in range(preferred, min(preferred + 100, 65536)):
            if port_is_free(port, host):
                return port
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def answers_v2(host: str, port: int, timeout: float = 1.0, tls: bool = False) -> bool:
    """Return True when ``GET /v2/`` on host:port answers like a registry (200 or 401).

    With ``tls`` the certificate is not checked: this only asks whether our
    own child process is up, never trusts what it says.
    """
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/v2/")
        response = conn.getresponse()
        response.read()
        api = response.getheader("Docker-Distribution-API-Version", "")
        return response.status in (200, 401) and api.startswith("registry/2")
    except OSError:
        return False
    finally:
        conn.close()


@dataclass
class RegistryServer:
    """One Distribution registry whose config, data and log live under ``root``.

    ``start()`` reuses a registry already running from the same ``root``.
    By default it listens on 127.0.0.1 (``host="0.0.0.0"`` for a whole
    room), on ``port`` or the next free port from ``preferred_port``;
    ``exact_port=True`` refuses to move to another port.

    The class mirror's settings, each a section of Distribution's config:

    - ``proxy``: ``{"remoteurl": ..., "username": ..., "password": ...}``
      makes it a pull-through cache of that registry (Docker Hub:
      ``https://registry-1.docker.io``). A proxy refuses pushes.
    - ``htpasswd``: a file of ``user:bcrypt-hash`` lines; every request
      then needs one of those users (HTTP Basic).
    - ``tls_certificate`` and ``tls_key``: PEM files; the registry then
      speaks HTTPS only.
    - ``accesslog``: log one line per request to ``registry.log``.

    ``extra_config`` is merged last, section by section (the tests put
    ``auth`` sections there).
    """

    root: Path
    port: int | None = None
    host: str = "127.0.0.1"
    extra_config: dict | None = None
    preferred_port: int = 5000
    proxy: dict | None = None
    htpasswd: Path | None = None
    tls_certificate: Path | None = None
    tls_key: Path | None = None
    accesslog: bool = False
    exact_port: bool = False

    def __post_init__(self):
        self.root = Path(self.root)
        if (self.tls_certificate is None) != (self.tls_key is None):
            raise LabError("TLS needs both a certificate and its key")

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def tls(self) -> bool:
        """True when the registry speaks HTTPS."""
        return self.tls_certificate is not None

    @property
    def connect_host(self) -> str:
        """Where this machine reaches the registry: loopback when it listens everywhere."""
        return "127.0.0.1" if self.host in WILDCARD_HOSTS else self.host

    @property
    def url(self) -> str:
        """The registry's base URL from this machine, ``http://127.0.0.1:PORT``."""
        if self.port is None:
            raise LabError("the registry is not running")
        return f"{'https' if self.tls else 'http'}://{self.address}"

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, as image references name this registry."""
        host = self.connect_host
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    def _secret(self) -> str:
        # Signs upload state between requests. A fixed one is fine on loopback;
        # a registry the room can reach gets a random one, kept so uploads
        # survive a restart.
        if self.connect_host == "127.0.0.1" and self.host not in WILDCARD_HOSTS:
            return _LOOPBACK_SECRET
        path = self.root / "http-secret"
        try:
            return path.read_text().strip() or _LOOPBACK_SECRET
        except FileNotFoundError:
            secret = secrets.token_hex(32)
            atomic_write(path, secret.encode(), mode=0o600)
            return secret

    def config(self) -> dict:
        """Return the registry configuration imgkit writes for this server."""
        config: dict = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": not self.accesslog},
                    "formatter": "text"},
            "storage": {
                "filesystem": {"rootdirectory": str(self.root / "data")},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
                "cache": {"blobdescriptor": "inmemory"},
            },
            "http": {
                "addr": f"[{self.host}]:{self.port}" if ":" in self.host
                else f"{self.host}:{self.port}",
                "secret": self._secret(),
                "headers": {"X-Content-Type-Options": ["nosniff"]},
            },
        }
        if self.proxy:
            config["proxy"] = {k: v for k, v in self.proxy.items() if v}
        if self.htpasswd is not None:
            config["auth"] = {"htpasswd": {"realm": "imgkit-class-mirror",
                                           "path": str(Path(self.htpasswd).absolute())}}
        if self.tls:
            config["http"]["tls"] = {"certificate": str(Path(self.tls_certificate).absolute()),
                                     "key": str(Path(self.tls_key).absolute())}
        for key, value in (self.extra_config or {}).items():
            config[key] = value
        return config

    def read_state(self) -> dict | None:
        """Return the saved ``{"pid", "port", ...}`` of a running registry, if any."""
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict):
            return None
        pid, port = state.get("pid"), state.get("port")
        host = state.get("host", self.host)
        host = "127.0.0.1" if host in WILDCARD_HOSTS else host
        if isinstance(pid, int) and isinstance(port, int) and _alive(pid) \
                and answers_v2(host, port, tls=bool(state.get("tls"))):
            return state
        return None

    def running(self) -> bool:
        """Return True when a registry from this root is up and answering."""
        state = self.read_state()
        if state:
            self.port = state["port"]
        return bool(state)

    def start(self, timeout: float = 20.0) -> "RegistryServer":
        """Start the registry (or adopt the one already running) and wait until it answers."""
        if self.running():
            return self
        binary = find_binary()
        self.root.mkdir(parents=True, exist_ok=True)
        bind = self.host or "0.0.0.0"
        if self.exact_port and self.port and not port_is_free(self.port, bind):
            raise LabError(f"port {self.port} on {bind} is in use: stop what listens there, "
                           "or choose another port")
        if self.port is None or self.port == 0 or not port_is_free(self.port, bind):
            self.port = free_port(None if self.port == 0 else self.preferred_port, bind)
        config_path = self.root / "config.yml"
        # Owner only: it holds the upload secret, and a proxy's Docker Hub password.
        atomic_write(config_path, json.dumps(self.config(), indent=2).encode(), mode=0o600)
        log_path = self.root / "registry.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [binary, "serve", str(config_path)], stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LabError(f"the registry exited at start (status {process.returncode}); "
                               f"see {log_path}: {_tail(log_path)}")
            if answers_v2(self.connect_host, self.port, tls=self.tls):
                atomic_write(self.state_file, json.dumps(
                    {"pid": process.pid, "port": self.port, "url": self.url,
                     "host": self.host, "tls": self.tls, "binary": binary}).encode())
                self._process = process
                return self
            time.sleep(0.05)
        process.kill()
        raise LabError(f"the registry did not answer on {self.address} within "
                       f"{timeout:.0f} s; see {log_path}")

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the registry if it runs; return True when one was stopped."""
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return False
        pid = state.get("pid") if isinstance(state, dict) else None
        stopped = False
        if isinstance(pid, int) and _alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
            stopped = True
        process = getattr(self, "_process", None)
        if process is not None:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.state_file.unlink(missing_ok=True)
        return stopped

    def __enter__(self) -> "RegistryServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _tail(path: Path, lines: int = 3) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""
