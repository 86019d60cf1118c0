"""Secrets and transport: no password or token ever shows, TLS is verified, HTTP only where allowed.

- Pulls with right and wrong credentials, against a token-auth registry and
  an htpasswd (Basic) registry, run as ``imgkit`` child processes: their
  output, and every file they leave in the imgkit home, hold no password,
  no ``user:password`` base64 and no token. The client's ``repr`` and its
  errors hold none either.
- ``Authorization`` is never sent to another host on a redirect, during a
  real pull (a "CDN" on another port, and under another name).
- A registry on HTTPS with a self-signed certificate is refused with one
  clear line; trusting its certificate (``REQUESTS_CA_BUNDLE``) makes the
  same pull work, so the refusal is about trust and nothing else.
- Plain HTTP is chosen only for loopback and for registries the home names
  in ``insecure-registries``.
- ``HOME/config.json`` is written readable by its owner only; Docker's own
  config is only ever read.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import ssl
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests
from robusthelpers import (
    assert_one_line_error,
    files_layer,
    hand_image,
    push_hand_image,
    run_imgkit,
)
from servers import CDNServer, FaultyProxy, TokenServer, htpasswd_line, write_tls_pair

from imgkit import config
from imgkit.api import Host
from imgkit.errors import AuthenticationError, ImgkitError, RegistryUnreachableError
from imgkit.lab.server import RegistryServer, find_binary, free_port
from imgkit.registry import RegistryClient
from imgkit.registry.transport import registry_url

pytestmark = pytest.mark.registry

USER = "alice"
PASSWORD = "wonderland-42-Secret"
WRONG = "not-her-password-77"
IMAGE = hand_image([files_layer("creds/base", "etc/motd", size=20_000),
                    files_layer("creds/app", "app/run", size=20_000)], "creds")


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _docker_config(directory: Path, registry: str, password: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps({"auths": {registry: {"auth": _basic(USER, password)}}}))
    os.chmod(path, 0o600)
    return directory


def _everything_written(home: Path) -> bytes:
    """Every byte of every file under the imgkit home (the store, its records, config)."""
    out = []
    for path in sorted(home.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out.append(path.read_bytes())
    return b"\n".join(out)


def _assert_no_secret(text: str | bytes, secrets: list[str]) -> None:
    data = text.encode() if isinstance(text, str) else text
    for secret in secrets:
        assert secret.encode() not in data, f"a secret ({secret[:6]}...) leaked"


@pytest.fixture(scope="module")
def token_stack(tmp_path_factory):
    """A token server, a proxy in front of it (the realm the registry names), the registry."""
    with TokenServer({USER: PASSWORD}) as tokens, FaultyProxy(tokens.url) as realm:
        root = tmp_path_factory.mktemp("creds-token")
        auth = tokens.registry_config(tokens.write_cert(root / "signer.pem"))
        auth["auth"]["token"]["realm"] = f"{realm.url}/token"
        with RegistryServer(root / "registry", extra_config=auth) as reg:
            with RegistryClient(reg.address, credentials=(USER, PASSWORD)) as client:
                push_hand_image(client, "private/app", IMAGE, "v1")
            yield tokens, reg, realm


@pytest.fixture
def token_setup(token_stack):
    tokens, registry, realm = token_stack
    realm.rules.clear()
    return tokens, registry


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory):
    root = tmp_path_factory.mktemp("creds-basic")
    (root / "htpasswd").write_text(htpasswd_line(USER, PASSWORD) + "\n")
    config_ = {"auth": {"htpasswd": {"realm": "imgkit-robust", "path": str(root / "htpasswd")}}}
    with RegistryServer(root / "registry", extra_config=config_) as reg:
        with RegistryClient(reg.address, credentials=(USER, PASSWORD)) as client:
            push_hand_image(client, "team/app", IMAGE, "v1")
        yield reg


@pytest.mark.parametrize("password", [PASSWORD, WRONG, None], ids=["right", "wrong", "none"])
def test_token_registry_pulls_never_show_a_secret(token_setup, password, tmp_path):
    tokens, registry = token_setup
    home = tmp_path / "home"
    docker = tmp_path / "docker-config"
    if password is not None:
        _docker_config(docker, registry.address, password)
    issued_before = len(tokens.issued)
    done = run_imgkit(home, "pull", f"{registry.address}/private/app:v1", DOCKER_CONFIG=str(docker),
                      HOME=str(tmp_path / "user"))
    issued = tokens.issued[issued_before:]
    secrets = [PASSWORD, WRONG, _basic(USER, PASSWORD), _basic(USER, WRONG), *issued]
    secrets += [token.split(".")[2] for token in issued]        # the signature alone, too
    _assert_no_secret(done.stdout + done.stderr, secrets)
    _assert_no_secret(_everything_written(home), secrets)
    if password == PASSWORD:
        assert done.returncode == 0, done.stderr
        assert issued, "the pull should have used a token"
    else:
        assert done.returncode == 1
        line = assert_one_line_error(done.stderr)
        assert ("pull access denied" in line or f"user '{USER}'" in line), line
    assert not (tmp_path / "user" / ".docker").exists()          # Docker's config: read only


@pytest.mark.parametrize("fault, error", [
    (("drop", {"times": 1}), None),
    (("status", {"status": 503, "times": 2}), None),
    (("status", {"status": 503}), "token server http://{realm}/token of registry {registry} "
                                  "answered HTTP 503"),
    (("stall", {"stall": 2.5}), "cannot reach the token server of registry {registry} ({realm}): "
                                "timed out"),
], ids=["drop-once", "503-twice", "503-always", "stall-always"])
def test_a_flaky_token_server_is_retried_then_named(token_stack, fault, error, tmp_path):
    tokens, registry, realm = token_stack
    realm.rules.clear()
    realm.seen.clear()
    action, options = fault
    realm.add("GET", r"^/token", action, **options)
    docker = _docker_config(tmp_path / "docker-config", registry.address, PASSWORD)
    issued_before = len(tokens.issued)
    done = run_imgkit(tmp_path / "home", "pull", f"{registry.address}/private/app:v1",
                      DOCKER_CONFIG=str(docker), IMGKIT_REGISTRY_TIMEOUT="0.5")
    realm.rules.clear()
    _assert_no_secret(done.stdout + done.stderr, [PASSWORD, _basic(USER, PASSWORD),
                                                   *tokens.issued[issued_before:]])
    asked = len(realm.requests_to(r"^/token"))
    if error is None:
        assert done.returncode == 0, done.stderr
        assert 2 <= asked <= 4
    else:
        assert done.returncode == 1
        line = assert_one_line_error(done.stderr)
        assert error.format(realm=realm.address, registry=registry.address) in line, line
        assert asked == 3                       # tried three times, no more


@pytest.mark.parametrize("password", [PASSWORD, WRONG], ids=["right", "wrong"])
def test_basic_auth_pulls_never_show_a_secret(basic_registry, password, tmp_path):
    home = tmp_path / "home"
    docker = _docker_config(tmp_path / "docker-config", basic_registry.address, password)
    saved = (docker / "config.json").read_bytes(), (docker / "config.json").stat().st_mtime_ns
    done = run_imgkit(home, "pull", f"{basic_registry.address}/team/app:v1",
                      DOCKER_CONFIG=str(docker), HOME=str(tmp_path / "user"))
    secrets = [PASSWORD, WRONG, _basic(USER, PASSWORD), _basic(USER, WRONG)]
    _assert_no_secret(done.stdout + done.stderr, secrets)
    _assert_no_secret(_everything_written(home), secrets)
    if password == PASSWORD:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode == 1
        line = assert_one_line_error(done.stderr)
        assert f"registry {basic_registry.address} refused the credentials of user 'alice'" in line
    assert ((docker / "config.json").read_bytes(), (docker / "config.json").stat().st_mtime_ns) \
        == saved
    assert sorted(os.listdir(docker)) == ["config.json"]


def test_the_client_and_its_errors_hold_no_secret(basic_registry, token_setup):
    tokens, token_registry = token_setup
    secrets = [WRONG, _basic(USER, WRONG), PASSWORD, _basic(USER, PASSWORD)]
    with RegistryClient(basic_registry.address, credentials=(USER, WRONG)) as client:
        with pytest.raises(AuthenticationError) as caught:
            client.get_manifest("team/app", "v1")
        for text in (repr(client), repr(client.auth), repr(client.auth.credentials),
                     str(caught.value), repr(caught.value), repr(caught.value.args)):
            _assert_no_secret(text, secrets)
    with RegistryClient(token_registry.address, credentials=(USER, PASSWORD)) as client:
        client.get_manifest("private/app", "v1")
        held = client.auth.secrets()
        assert any(token in held for token in tokens.issued)
        for text in (repr(client), repr(client.auth), repr(client.transport.auth)):
            _assert_no_secret(text, secrets + tokens.issued)
        # A message that quotes what we sent is redacted before anyone sees it.
        assert "***" in client.transport.redact(f"refused {tokens.issued[-1]} and {PASSWORD}")


# -- redirects --------------------------------------------------------------------------------

def test_a_pull_never_sends_authorization_to_the_host_it_is_redirected_to(basic_registry,
                                                                         tmp_path):
    layers = [digest for _, digest, _ in IMAGE.layers]
    with CDNServer() as cdn, FaultyProxy(basic_registry.url) as proxy:
        for digest, data in IMAGE.blobs.items():
            cdn.objects[f"/cdn/{digest}"] = data

        def location(path: str) -> str:
            digest = path.rsplit("/", 1)[1]
            # One layer to 127.0.0.1 on another port, the other to "localhost": both are
            # other hosts than the registry's 127.0.0.1:PORT, whatever they resolve to.
            host = "localhost" if digest == layers[1] else "127.0.0.1"
            return f"http://{host}:{cdn.port}/cdn/{digest}?X-Signature=cdn-own-signature"

        proxy.add("GET", r"/blobs/sha256:", "redirect", location=location)
        home = tmp_path / "home"
        docker = _docker_config(tmp_path / "docker-config", proxy.address, PASSWORD)
        done = run_imgkit(home, "pull", f"{proxy.address}/team/app:v1", DOCKER_CONFIG=str(docker))
    assert done.returncode == 0, done.stderr
    assert len(cdn.seen) == len(IMAGE.blobs)
    for path, headers in cdn.seen:
        assert "authorization" not in {k.lower() for k in headers}, path
        assert PASSWORD not in path and _basic(USER, PASSWORD) not in path
    to_registry = proxy.requests_to(r"/manifests/", "GET")
    assert to_registry and all(h.get("Authorization", "").startswith("Basic ")
                               for _, _, h in to_registry)


# -- TLS --------------------------------------------------------------------------------------

def _self_signed(directory: Path) -> tuple[Path, Path]:
    return write_tls_pair(directory, "imgkit robust test registry")


@pytest.fixture(scope="module")
def tls_registry(tmp_path_factory):
    """Distribution serving HTTPS (``http.tls``) with a self-signed certificate."""
    root = tmp_path_factory.mktemp("tls-registry")
    cert, key = _self_signed(root)
    port = free_port()
    server = RegistryServer(root, port=port)
    settings = server.config()
    settings["http"].update({"addr": f"127.0.0.1:{port}",
                             "tls": {"certificate": str(cert), "key": str(key)}})
    (root / "config.yml").write_text(json.dumps(settings))
    log = open(root / "registry.log", "ab")
    process = subprocess.Popen([find_binary(), "serve", str(root / "config.yml")],
                               stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    trusted = ssl.create_default_context(cafile=str(cert))
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as raw, \
                    trusted.wrap_socket(raw, server_hostname="127.0.0.1"):
                break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                log_text = (root / "registry.log").read_text()
                raise RuntimeError(f"the TLS registry did not start: {log_text}") from None
            time.sleep(0.05)
    session = requests.Session()
    session.trust_env = False           # REQUESTS_CA_BUNDLE would override `verify`
    session.verify = str(cert)
    with RegistryClient(f"127.0.0.1:{port}", insecure=False, session=session) as client:
        push_hand_image(client, "tls/app", IMAGE, "v1")
    yield f"127.0.0.1:{port}", cert
    process.terminate()
    process.wait(10)
    log.close()


def test_a_self_signed_registry_is_refused_by_the_client(tls_registry, monkeypatch):
    address, _ = tls_registry
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with RegistryClient(address, insecure=False, tries=1) as client:
        assert client.url == f"https://{address}"
        with pytest.raises(RegistryUnreachableError) as caught:
            client.get_manifest("tls/app", "v1")
    assert str(caught.value) == (f"cannot reach registry {address}: TLS certificate not trusted "
                                 "(self-signed certificate)")


def test_a_self_signed_registry_is_refused_by_pull_and_trusted_only_when_told(tls_registry,
                                                                              tmp_path):
    address, cert = tls_registry
    home = tmp_path / "home"
    hub = {"IMGKIT_DOCKER_HUB_URL": f"https://{address}"}
    env = {k: "" for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    # A lab-like registry on HTTPS standing in for Docker Hub: its certificate is not trusted.
    refused = run_imgkit(home, "pull", "tls/app:v1", **hub, **env)
    assert refused.returncode == 1
    line = assert_one_line_error(refused.stderr)
    assert line.startswith("cannot reach registry docker.io: TLS certificate not trusted"), line
    assert not Host(home).store.records().images
    # The same pull, told to trust that certificate, works: only trust was missing.
    trusted = run_imgkit(home, "pull", "tls/app:v1", **hub, REQUESTS_CA_BUNDLE=str(cert))
    assert trusted.returncode == 0, trusted.stderr
    # An https mirror in the home's config is verified the same way.
    config.save({"registry-mirrors": [f"https://{address}"]}, tmp_path / "home2")
    mirrored = run_imgkit(tmp_path / "home2", "pull", "tls/app:v1",
                          IMGKIT_DOCKER_HUB_URL="http://127.0.0.1:1", IMGKIT_REGISTRY_MIRROR=None,
                          **env)
    assert mirrored.returncode == 1
    line = assert_one_line_error(mirrored.stderr)
    assert f"mirror https://{address}: TLS certificate not trusted" in line, line


def test_certificate_checks_are_never_switched_off_where_imgkit_talks_to_registries():
    # (The lab's readiness probe of its own child process may skip them: it trusts nothing.)
    package = Path(__file__).resolve().parents[2] / "imgkit"
    for path in [*(package / "registry").rglob("*.py"), *(package / "api").rglob("*.py")]:
        text = path.read_text()
        assert not re.search(r"verify\s*=\s*False|CERT_NONE|_create_unverified_context|"
                             r"\.verify\s*=", text), path


# -- plain HTTP only where allowed -----------------------------------------------------------

@pytest.mark.parametrize("domain, insecure_list, scheme", [
    ("myreg.test:5000", [], "https"),
    ("myreg.test:5000", ["myreg.test:5000"], "http"),
    ("myreg.test:5000", ["myreg.test"], "http"),
    ("myreg.test:5000", ["http://myreg.test:5000/"], "http"),
    ("myreg.test:5000", ["other.test:5000"], "https"),
    ("10.1.2.3:5000", ["10.0.0.0/8"], "http"),
    ("10.1.2.3.nip.io:5000", ["10.0.0.0/8"], "https"),
    ("192.168.1.20:5000", ["10.0.0.0/8"], "https"),
    ("127.0.0.1:5000", [], "http"),
    ("127.8.9.10", [], "http"),
    ("localhost:5000", [], "http"),
    ("[::1]:5000", [], "http"),
    ("localhost.evil.test:5000", [], "https"),
    ("127.0.0.1.evil.test", [], "https"),
    ("0.0.0.0:5000", [], "https"),
    ("ghcr.io", [], "https"),
    ("docker.io", ["docker.io"], "https"),           # Docker Hub is always https
])
def test_plain_http_only_for_loopback_and_named_insecure_registries(domain, insecure_list, scheme,
                                                                     tmp_path):
    assert registry_url(domain, insecure_registries=insecure_list).startswith(f"{scheme}://")
    config.save({"insecure-registries": insecure_list}, tmp_path)
    clients = Host(tmp_path).registry_clients(domain)
    assert clients[-1].url.startswith(f"{scheme}://")


# -- files that may hold secrets -----------------------------------------------------------------

def test_the_homes_config_is_written_for_its_owner_only(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.json").write_text("{}")
    os.chmod(home / "config.json", 0o644)              # an older imgkit wrote it like this
    done = run_imgkit(home, "config", "mirror", "http://127.0.0.1:5999")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((home / "config.json").stat().st_mode) == 0o600
    config.set_mirrors([], tmp_path / "fresh")
    assert stat.S_IMODE((tmp_path / "fresh" / "config.json").stat().st_mode) == 0o600
    leftovers = [p.name for p in home.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers


def test_a_broken_docker_config_is_named_never_quoted(tmp_path, basic_registry):
    docker = tmp_path / "docker-config"
    docker.mkdir()
    (docker / "config.json").write_text(
        '{"auths": {"%s": {"auth": "%s!!"}}}' % (basic_registry.address, PASSWORD))
    done = run_imgkit(tmp_path / "home", "pull", f"{basic_registry.address}/team/app:v1",
                      DOCKER_CONFIG=str(docker))
    assert done.returncode == 1
    line = assert_one_line_error(done.stderr)
    assert "cannot read Docker config" in line and PASSWORD not in line
    with pytest.raises(ImgkitError):
        RegistryClient(basic_registry.address, docker_config=str(docker / "config.json"))
