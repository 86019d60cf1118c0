"""Helpers for the classroom tests: closed ports, access logs, certificates, the CLI."""

from __future__ import annotations

import datetime
import ipaddress
import re
import socket
import subprocess
import sys
from pathlib import Path

from imgkit.lab.server import RegistryServer


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
    """Write a self-signed certificate for ``host`` (an IP address) and its key; return both paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imgkit class mirror")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "class.crt", directory / "class.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def cli(*args, home, check=True, input=None, env=None):
    """Run ``imgkit --home HOME ARGS...``; return the finished process."""
    result = subprocess.run([sys.executable, "-m", "imgkit", "--home", str(home), *args],
                            capture_output=True, input=input, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result
