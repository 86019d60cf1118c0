"""Small HTTP servers the registry tests put around the real Distribution registry.

- ``TokenServer``: issues RS256 JWTs the registry trusts (Docker's token
  authentication), checks Basic credentials, records every request.
- ``FaultyProxy``: a reverse proxy in front of a registry that can answer
  with errors, redirect, cut bodies short or rewrite answers, by rule.
- ``CDNServer``: serves bytes at paths (the "CDN" Docker Hub redirects blob
  downloads to) and records the headers it received.

All bind 127.0.0.1 on a free port and run in daemon threads.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

__all__ = ["TokenServer", "FaultyProxy", "CDNServer", "Rule", "htpasswd_line"]


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 in a daemon thread, as a context manager."""

    handler: type[BaseHTTPRequestHandler]

    def start(self):
        handler = type("Handler", (self.handler,), {"owner": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        # A short poll interval makes shutdown() quick (the default waits 0.5 s).
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real registry
    owner: object

    def log_message(self, *args):  # keep pytest output clean
        pass

    def handle(self):
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            pass            # the client went away (killed, or gave up): nothing to answer

    def reply(self, status: int, body: bytes = b"", headers: dict | None = None):
        self.send_response(status)
        headers = dict(headers or {})
        headers.setdefault("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


# -- token server --------------------------------------------------------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def self_signed(common_name: str, key, hosts: tuple[str, ...] = (), days: int = 30):
    """Return a self-signed CA certificate for ``key``, valid for ``hosts`` (IPs or names)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [_san(host) for host in hosts]), critical=False)
    return builder.sign(key, hashes.SHA256())


def _san(host: str):
    import ipaddress
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def write_tls_pair(directory: Path, common_name: str,
                   hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> tuple[Path, Path]:
    """Write a self-signed certificate and its key (PEM) for a TLS registry; return both paths."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed(common_name, key, hosts, days=7)
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class TokenServer(_Server):
    """Issue registry tokens: anonymous users get ``anonymous_actions``, users get all.

    Repositories under ``private/`` get nothing anonymously (so a pull there
    fails with 401 after the token dance, like a private Docker Hub repo).
    ``requests`` records ``{"scopes", "service", "account", "user"}`` per call.
    """

    def __init__(self, users: dict[str, str], *, service: str = "imgkit-test-registry",
                 issuer: str = "imgkit-test-issuer", anonymous_actions=("pull",),
                 token_field: str = "token", expires_in: int = 300):
        self.users = users
        self.service = service
        self.issuer = issuer
        self.anonymous_actions = tuple(anonymous_actions)
        self.token_field = token_field
        self.expires_in = expires_in
        self.requests: list[dict] = []
        self.issued: list[str] = []
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.cert = self_signed("imgkit test token signer", self.key)

    def write_cert(self, path: Path) -> Path:
        """Write the signing certificate (PEM), the registry's ``rootcertbundle``."""
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path

    def registry_config(self, cert_path: Path) -> dict:
        """Return the ``auth`` section that makes a registry trust this server."""
        return {"auth": {"token": {"realm": f"{self.url}/token", "service": self.service,
                                   "issuer": self.issuer,
                                   "rootcertbundle": str(cert_path)}}}

    def grant(self, user: str | None, scope: str) -> dict | None:
        """Return the access entry for one requested scope (None: nothing granted)."""
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        wanted = [a for a in actions.split(",") if a]
        if user is None:
            if kind != "repository" or name.startswith("private/"):
                return None
            wanted = [a for a in wanted if a in self.anonymous_actions]
        return {"type": kind, "name": name, "actions": wanted} if wanted else None

    def make_token(self, user: str | None, access: list[dict]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(
            self.cert.public_bytes(serialization.Encoding.DER)).decode("ascii")]}
        claims = {"iss": self.issuer, "sub": user or "", "aud": self.service,
                  "exp": now + max(self.expires_in, 60), "nbf": now - 5, "iat": now,
                  "jti": secrets.token_hex(8), "access": access}
        signing_input = (_b64url(json.dumps(header).encode()) + "." +
                         _b64url(json.dumps(claims).encode()))
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature)

    class handler(_Handler):
        def do_GET(self):
            server: TokenServer = self.owner  # type: ignore[assignment]
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            user = None
            header = self.headers.get("Authorization", "")
            if header.startswith("Basic "):
                name, _, password = base64.b64decode(header[6:]).decode().partition(":")
                if server.users.get(name) != password:
                    server.requests.append({"scopes": query.get("scope", []), "user": name,
                                            "rejected": True})
                    return self.reply(401, json.dumps(
                        {"details": "incorrect username or password"}).encode(),
                        {"Content-Type": "application/json"})
                user = name
            record = {"scopes": query.get("scope", []), "service": query.get("service"),
                      "account": query.get("account"), "user": user, "rejected": False}
            server.requests.append(record)
            access = [g for g in (server.grant(user, s) for s in record["scopes"]) if g]
            token = server.make_token(user, access)
            server.issued.append(token)
            body = {server.token_field: token, "expires_in": server.expires_in,
                    "issued_at": datetime.datetime.now(datetime.timezone.utc).isoformat()}
            self.reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


def htpasswd_line(user: str, password: str) -> str:
    """Return one ``user:bcrypt-hash`` line for the registry's htpasswd file."""
    import bcrypt
    return f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}"


# -- faulty proxy --------------------------------------------------------------

@dataclass
class Rule:
    """What the proxy does with requests matching ``method`` and ``path`` (a regex).

    ``action`` is one of:
    - ``"status"``: answer ``status`` with ``headers`` and ``body`` itself;
    - ``"redirect"``: answer 307 to ``location(path)``;
    - ``"drop"``: close the connection without answering;
    - ``"truncate"``: pass through, but send only ``keep`` bytes of the body
      (with the full Content-Length) and close the connection;
    - ``"rewrite"``: pass through, then ``rewrite(status, headers, body)``;
    - ``"short"``: pass through, but send only ``keep`` bytes of the body with a
      Content-Length that matches (an answer that looks complete but is not);
    - ``"flip"``: pass through with the byte at ``keep`` (default: the middle)
      inverted - a network that corrupts without breaking the connection;
    - ``"stall"``: say nothing for ``stall`` seconds, then close the connection;
    - ``"stall-body"``: send the headers and ``keep`` bytes of the body, say
      nothing for ``stall`` seconds, then close the connection;
    - ``"throttle"``: pass through, the body in ``chunk``-byte pieces with
      ``delay`` seconds between them (a slow network);
    - ``"no-range"``: forward without the ``Range`` header (a registry that
      cannot resume answers 200 with the whole blob).
    ``times`` is how many requests the rule applies to (None: all).
    """

    method: str
    path: str
    action: str
    status: int = 503
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    location: Callable[[str], str] | None = None
    keep: int = 0
    rewrite: Callable | None = None
    times: int | None = None
    hits: int = 0
    stall: float = 2.0
    chunk: int = 64 * 1024
    delay: float = 0.01

    def matches(self, method: str, path: str) -> bool:
        return (self.method in (method, "*") and re.search(self.path, path) is not None
                and (self.times is None or self.hits < self.times))


class FaultyProxy(_Server):
    """Forward to ``upstream`` (a registry URL) except where a ``Rule`` says otherwise.

    The Host header is passed on unchanged, so the registry builds upload
    Locations that point back at the proxy. ``seen`` records
    ``(method, path, headers)`` of every request; ``body_bytes`` counts the
    body bytes sent back per path.
    """

    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        self.rules: list[Rule] = []
        self.seen: list[tuple[str, str, dict]] = []
        self.body_bytes: dict[str, int] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def stop(self):
        self.stopping.set()         # cut stalls short
        super().stop()

    def count(self, path: str, sent: int) -> None:
        with self.lock:
            self.body_bytes[path] = self.body_bytes.get(path, 0) + sent

    def bytes_to(self, pattern: str) -> int:
        """Return the body bytes sent for paths matching ``pattern``."""
        with self.lock:
            return sum(n for path, n in self.body_bytes.items() if re.search(pattern, path))

    def add(self, *args, **kwargs) -> Rule:
        rule = Rule(*args, **kwargs)
        self.rules.append(rule)
        return rule

    def requests_to(self, pattern: str, method: str = "*") -> list[tuple[str, str, dict]]:
        return [s for s in self.seen if re.search(pattern, s[1]) and method in ("*", s[0])]

    def pick(self, method: str, path: str, headers: dict) -> Rule | None:
        with self.lock:
            self.seen.append((method, path, headers))
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return None

    def forward(self, method: str, path: str, headers, body: bytes):
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                if name.lower() not in ("connection", "keep-alive", "content-length"):
                    conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
            out = [(k, v) for k, v in response.getheaders()
                   if k.lower() not in ("connection", "transfer-encoding", "keep-alive")]
            return response.status, out, data
        finally:
            conn.close()

    class handler(_Handler):
        def handle_any(self):
            try:
                self.answer()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True    # the client left (killed, or gave up)

        def answer(self):
            proxy: FaultyProxy = self.owner  # type: ignore[assignment]
            body = self.read_body()
            rule = proxy.pick(self.command, self.path, dict(self.headers.items()))
            action = rule.action if rule is not None else None
            if action == "status":
                proxy.count(self.path, 0 if self.command == "HEAD" else len(rule.body))
                return self.reply(rule.status, rule.body, rule.headers)
            if action == "redirect":
                return self.reply(307, b"", {"Location": rule.location(self.path)})
            if action == "drop":
                self.close_connection = True
                return
            if action == "stall":
                proxy.stopping.wait(rule.stall)
                self.close_connection = True
                return
            headers_in = self.headers
            if action == "no-range":
                headers_in = {k: v for k, v in self.headers.items() if k.lower() != "range"}
            status, headers, data = proxy.forward(self.command, self.path, headers_in, body)
            if action == "rewrite":
                status, headers, data = rule.rewrite(status, headers, data)
            if action == "flip" and data:
                at = rule.keep if rule.keep else len(data) // 2
                data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]
            if action == "short":
                data = data[: rule.keep]
            if action in ("truncate", "stall-body") and self.command == "GET":
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data[: rule.keep])
                self.wfile.flush()
                proxy.count(self.path, len(data[: rule.keep]))
                if action == "stall-body":
                    proxy.stopping.wait(rule.stall)
                self.close_connection = True
                return
            self.send_response(status)
            for name, value in headers:
                if name.lower() != "content-length" or self.command == "HEAD":
                    self.send_header(name, value)
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command == "HEAD":
                return
            if action == "throttle":
                for start in range(0, len(data), rule.chunk):
                    self.wfile.write(data[start:start + rule.chunk])
                    self.wfile.flush()
                    proxy.count(self.path, len(data[start:start + rule.chunk]))
                    if proxy.stopping.wait(rule.delay):
                        break
                return
            self.wfile.write(data)
            proxy.count(self.path, len(data))

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


# -- CDN -------------------------------------------------------------------------

class CDNServer(_Server):
    """Serve ``objects[path]`` (path without query); record ``(path, headers)`` per GET."""

    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.seen: list[tuple[str, dict]] = []

    class handler(_Handler):
        def do_GET(self):
            cdn: CDNServer = self.owner  # type: ignore[assignment]
            cdn.seen.append((self.path, dict(self.headers.items())))
            data = cdn.objects.get(urlsplit(self.path).path)
            if data is None:
                return self.reply(404, b"no such object")
            self.reply(200, data, {"Content-Type": "application/octet-stream"})
