"""The token handshake, redirects and retries, driven by a fake session (no sockets).

``FakeSession`` answers from a script of responses and records every request,
so each step of the protocol can be checked without a network.
"""

from __future__ import annotations

import hashlib
import io
import json
from types import SimpleNamespace

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from imgkit.errors import (
    AuthenticationError,
    DigestMismatchError,
    RegistryUnreachableError,
    RepositoryNotFoundError,
)
from imgkit.registry import RegistryClient
from imgkit.registry.auth import Authenticator, parse_challenges
from imgkit.registry.credentials import Credentials

REGISTRY = "https://r.example"
REALM = "https://auth.example/token"
CHALLENGE = f'Bearer realm="{REALM}",service="r.example"'


def response(status=200, body=b"", headers=None, url="", method="GET"):
    r = requests.Response()
    r.status_code = status
    r.headers = CaseInsensitiveDict(headers or {})
    r.raw = io.BytesIO(body if isinstance(body, bytes) else json.dumps(body).encode())
    r.url = url
    r.request = SimpleNamespace(method=method)
    return r


class FakeSession:
    """Answer each request with the first script entry whose predicate matches."""

    def __init__(self, *script):
        self.script = list(script)
        self.sent = []  # (method, url, headers, params, auth)

    def request(self, method, url, headers=None, params=None, auth=None, **kwargs):
        self.sent.append((method, url, dict(headers or {}), params, auth))
        for i, (match, make) in enumerate(self.script):
            if match(method, url, headers or {}):
                if getattr(make, "once", False):
                    self.script.pop(i)
                result = make(method, url)
                if isinstance(result, BaseException):
                    raise result
                result.url, result.request = url, SimpleNamespace(method=method)
                return result
        raise AssertionError(f"unscripted request {method} {url}")

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def close(self):
        pass


def once(make):
    make.once = True
    return make


def url_has(text, method=None):
    return lambda m, u, h: text in u and (method is None or m == method)


def ping_401(m, u):
    return response(401, headers={"WWW-Authenticate": CHALLENGE})


def token(value="tok-1", field="token", expires_in=300):
    return lambda m, u: response(200, {field: value, "expires_in": expires_in})


MANIFEST = b'{"schemaVersion":2}'


def manifest_ok(m, u):
    return response(200, MANIFEST, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})


def requires(value):
    """Registry side: answer the manifest only when Authorization is ``value``."""
    def match(method, url, headers):
        return "/manifests/" in url and headers.get("Authorization") == value
    return match


def test_token_flow_sends_the_token_only_to_the_registry():
    session = FakeSession(
        (lambda m, u, h: u.endswith("/v2/"), ping_401),
        (url_has(REALM), token("tok-1")),
        (requires("Bearer tok-1"), manifest_ok))
    client = RegistryClient("r.example", session=session, anonymous=True)
    assert client.get_manifest("library/a", "latest").data == MANIFEST
    assert client.get_manifest("library/a", "latest").data == MANIFEST  # cached token
    methods = [(m, u.split("?")[0]) for m, u, *_ in session.sent]
    assert methods == [("GET", f"{REGISTRY}/v2/"), ("GET", REALM),
                       ("GET", f"{REGISTRY}/v2/library/a/manifests/latest"),
                       ("GET", f"{REGISTRY}/v2/library/a/manifests/latest")]
    _, _, _, params, auth = session.sent[1]
    assert ("scope", "repository:library/a:pull") in params
    assert ("service", "r.example") in params and auth is None


def test_expired_tokens_are_fetched_again_and_min_lifetime_is_60s():
    now = [1000.0]
    session = FakeSession((url_has(REALM), token(expires_in=10)))
    auth = Authenticator("r.example", None, session, user_agent="t", clock=lambda: now[0])
    auth.learn(CHALLENGE)
    assert auth.authorization(["s"]) == "Bearer tok-1"
    now[0] += 50      # 10 s asked, but Docker's minimum of 60 s applies
    auth.authorization(["s"])
    assert len(session.sent) == 1
    now[0] += 10      # within the renewal margin of the 60 s
    auth.authorization(["s"])
    assert len(session.sent) == 2
    auth.authorization(["other"])  # another scope, another token
    assert len(session.sent) == 3


def test_access_token_is_accepted_and_credentials_go_to_the_realm():
    session = FakeSession((url_has(REALM), token("tok-2", field="access_token")))
    auth = Authenticator("r.example", Credentials("alice", "pw"), session, user_agent="t")
    auth.learn(CHALLENGE)
    assert auth.authorization(["repository:a:pull,push"]) == "Bearer tok-2"
    _, _, _, params, basic = session.sent[0]
    assert ("account", "alice") in params
    assert (basic.username, basic.password) == ("alice", "pw")


def test_token_server_refusal_names_registry_not_password():
    session = FakeSession((url_has(REALM), lambda m, u: response(
        401, {"details": "incorrect username or password"})))
    auth = Authenticator("r.example", Credentials("alice", "hunter2"), session,
                         user_agent="t")
    auth.learn(CHALLENGE)
    with pytest.raises(AuthenticationError) as caught:
        auth.authorization(["s"])
    assert str(caught.value) == (
        f"registry r.example refused user 'alice' (token server {REALM}): "
        "incorrect username or password")


def test_answer_without_token_and_unreachable_realm():
    auth = Authenticator("r.example", None, FakeSession(
        (url_has(REALM), lambda m, u: response(200, {"nothing": 1}))), user_agent="t")
    auth.learn(CHALLENGE)
    with pytest.raises(AuthenticationError, match="without a token"):
        auth.authorization(["s"])
    auth = Authenticator("r.example", None, FakeSession(
        (url_has(REALM), lambda m, u: requests.ConnectionError(ConnectionRefusedError()))),
        user_agent="t")
    auth.learn(CHALLENGE)
    with pytest.raises(RegistryUnreachableError, match=r"token server of registry r.example "
                                                       r"\(auth.example\): connection refused"):
        auth.authorization(["s"])


def test_basic_is_sent_only_with_credentials():
    auth = Authenticator("r.example", None, None, user_agent="t")
    assert auth.learn('Basic realm="x"') is False and auth.authorization(["s"]) is None
    auth = Authenticator("r.example", Credentials("alice", "pw"), None, user_agent="t")
    auth.learn('Basic realm="x"')
    assert auth.authorization(["s"]) == "Basic YWxpY2U6cHc="
    assert auth.basic_login == "alice"


def test_a_refused_token_is_forgotten_and_the_request_tried_once_more():
    session = FakeSession(
        (lambda m, u, h: u.endswith("/v2/"), ping_401),
        (url_has(REALM), once(token("stale"))),
        (url_has(REALM), token("fresh")),
        (requires("Bearer fresh"), manifest_ok),
        (url_has("/manifests/"), lambda m, u: response(401, headers={
            "WWW-Authenticate": CHALLENGE + ',error="invalid_token"'})))
    client = RegistryClient("r.example", session=session, anonymous=True)
    assert client.get_manifest("a", "latest").data == MANIFEST
    tokens = [h.get("Authorization") for m, u, h, *_ in session.sent if "/manifests/" in u]
    assert tokens == ["Bearer stale", "Bearer fresh"]


def test_still_refused_after_a_fresh_token_reads_as_pull_access_denied():
    session = FakeSession(
        (lambda m, u, h: u.endswith("/v2/"), ping_401),
        (url_has(REALM), token("t")),
        (url_has("/manifests/"), lambda m, u: response(401, {"errors": [
            {"code": "UNAUTHORIZED", "message": "authentication required"}]},
            {"WWW-Authenticate": CHALLENGE})))
    with pytest.raises(RepositoryNotFoundError) as caught:
        RegistryClient("r.example", session=session, anonymous=True).get_manifest("a", "b")
    assert str(caught.value) == "unauthorized: authentication required"
    assert sum("/manifests/" in u for _, u, *_ in session.sent) == 2  # retried once only


def test_redirects_drop_authorization_when_leaving_the_registry():
    blob = b"layer bytes"
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    session = FakeSession(
        (lambda m, u, h: u.endswith("/v2/"), ping_401),
        (url_has(REALM), token("t")),
        # registry -> same-origin hop -> http downgrade -> CDN on another port -> bytes
        (url_has("/blobs/"), lambda m, u: response(307, headers={"Location": "/hop?x=1"})),
        (url_has("/hop"), lambda m, u: response(302, headers={
            "Location": "http://r.example/blob"})),
        (url_has("http://r.example/blob"), lambda m, u: response(301, headers={
            "Location": "https://r.example:8443/cdn?sig=abc"})),
        (url_has(":8443/cdn"), lambda m, u: response(200, blob)))
    client = RegistryClient("r.example", session=session, anonymous=True)
    assert client.get_blob("a", digest) == blob
    hops = [(u, "Authorization" in h) for m, u, h, *_ in session.sent[2:]]
    assert hops == [(f"{REGISTRY}/v2/a/blobs/{digest}", True), (f"{REGISTRY}/hop?x=1", True),
                    ("http://r.example/blob", False), ("https://r.example:8443/cdn?sig=abc", False)]


def test_manifest_digest_checks():
    wrong = "sha256:" + "0" * 64
    session = FakeSession(
        (lambda m, u, h: u.endswith("/v2/"), lambda m, u: response(200)),
        (url_has("/manifests/"), lambda m, u: response(200, MANIFEST, {
            "Docker-Content-Digest": wrong})))
    client = RegistryClient("r.example", session=session, anonymous=True)
    with pytest.raises(DigestMismatchError):
        client.get_manifest("a", "latest")       # header disagrees with the bytes
    with pytest.raises(DigestMismatchError):
        client.get_manifest("a", wrong)          # bytes do not hash to the digest asked
    # application/json answers: the document's own mediaType says what it is.
    session.script[1] = (url_has("/manifests/"), lambda m, u: response(200, json.dumps(
        {"mediaType": "application/vnd.oci.image.index.v1+json"}).encode(),
        {"Content-Type": "application/json"}))
    assert client.get_manifest("a", "latest").media_type == \
        "application/vnd.oci.image.index.v1+json"


def test_reprs_and_errors_never_hold_secrets():
    client = RegistryClient("r.example", credentials=("alice", "hunter2"),
                            session=FakeSession())
    assert "hunter2" not in repr(client) and "hunter2" not in repr(client.auth)
    assert client.transport.redact("x hunter2 YWxpY2U6aHVudGVyMg== y") == "x *** *** y"
    assert parse_challenges(CHALLENGE)[0].realm == REALM


def test_a_refused_basic_login_is_not_sent_twice():
    basic = 'Basic realm="r"'
    session = FakeSession(
        (lambda m, u, h: u.endswith("/v2/"), lambda m, u: response(
            401, headers={"WWW-Authenticate": basic})),
        (url_has("/manifests/"), lambda m, u: response(401, headers={
            "WWW-Authenticate": basic})))
    client = RegistryClient("r.example", session=session, credentials=("alice", "hunter2"))
    with pytest.raises(AuthenticationError) as caught:
        client.get_manifest("a", "latest")
    assert str(caught.value) == ("registry r.example refused the credentials of user "
                                 "'alice': unauthorized: authentication required")
    sent = [h for m, u, h, *_ in session.sent if "/manifests/" in u]
    assert len(sent) == 1 and sent[0]["Authorization"].startswith("Basic ")
    assert "Authorization" not in session.sent[0][2]  # the ping carries no credentials
