"""Helpers for the classroom tests: closed ports, access logs, certificates, the CLI."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

from imgkit.lab.server import RegistryServer

# The shared test servers (tests/registry/servers.py) live beside the registry tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry"))
from servers import write_tls_pair  # noqa: E402


def closed_port_url() -> str:
    """Return an http:// URL on loopback where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def blob_requests(server: RegistryServer) -> list[str]:
    """Return the digest of every blob GET the server's access log shows, in order."""
    log = (server.root / "registry.log").read_text(errors="replace")
    return re.findall(r'"GET /v2/[^ ]*/blobs/(sha256:[0-9a-f]{64}) ', log)


def make_certificate(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """Write a self-signed certificate for ``host`` and its key; return both paths."""
    return write_tls_pair(directory, "imgkit class mirror", (host,))


def cli(*args, home, check=True, input=None, env=None):
    """Run ``imgkit --home HOME ARGS...``; return the finished process."""
    result = subprocess.run([sys.executable, "-m", "imgkit", "--home", str(home), *args],
                            capture_output=True, input=input, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result
