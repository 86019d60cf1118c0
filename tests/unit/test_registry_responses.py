"""Reading registry answers: error bodies, typed errors, rate limits, causes (no sockets)."""

from __future__ import annotations

import json
import socket
import ssl

import pytest
import requests
import urllib3

from imgkit.errors import (
    AuthenticationError,
    BlobUnknownError,
    ManifestUnknownError,
    RegistryError,
    RegistryNotFoundError,
    RepositoryNotFoundError,
    TooManyRequestsError,
)
from imgkit.registry.responses import (
    RateLimit,
    describe_connection_error,
    error_from_response,
    error_text,
    manifest_media_type,
    parse_error_body,
    parse_ratelimit,
    parse_retry_after,
    redact,
    strip_query,
)


def body(*errors) -> bytes:
    return json.dumps({"errors": [dict(zip(("code", "message", "detail"), e, strict=False))
                                  for e in errors]}).encode()


@pytest.mark.parametrize("raw, expected", [
    (body(("MANIFEST_UNKNOWN", "manifest unknown", {"Tag": "nope"})),
     [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {"Tag": "nope"}}]),
    (body(("DENIED", "requested access to the resource is denied")),
     [{"code": "DENIED", "message": "requested access to the resource is denied",
       "detail": None}]),
    # Docker Hub's token server, and OAuth token servers.
    (b'{"details": "incorrect username or password"}',
     [{"code": None, "message": "incorrect username or password", "detail": None}]),
    (b'{"error": "invalid_grant", "error_description": "bad token"}',
     [{"code": "INVALID_GRANT", "message": "bad token", "detail": None}]),
    (b"<html>502 Bad Gateway</html>", []),
    (b"", []), (None, []), (b"[1, 2]", []), (b'{"errors": "oops"}', []),
    (b'{"errors": [{"code": 7, "message": null}]}',
     [{"code": None, "message": None, "detail": None}]),
])
def test_parse_error_body(raw, expected):
    assert parse_error_body(raw) == expected


@pytest.mark.parametrize("entries, text", [
    ([{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}],
     "manifest unknown: manifest unknown"),
    ([{"code": "TOOMANYREQUESTS", "message": "You have reached your pull rate limit."}],
     "toomanyrequests: You have reached your pull rate limit."),
    ([{"code": "NAME_UNKNOWN", "message": None}], "name unknown"),
    ([{"code": None, "message": "just words"}], "just words"),
    ([{"code": "A", "message": "x"}, {"code": "B_C", "message": "y"}], "a: x; b c: y"),
    ([], ""),
])
def test_error_text_is_dockers_form(entries, text):
    assert error_text(entries) == text


@pytest.mark.parametrize("status, raw, kwargs, cls, code", [
    (404, body(("MANIFEST_UNKNOWN", "manifest unknown")), {}, ManifestUnknownError,
     "MANIFEST_UNKNOWN"),
    (404, body(("NAME_UNKNOWN", "repository name not known to registry")), {},
     RepositoryNotFoundError, "NAME_UNKNOWN"),
    (404, body(("BLOB_UNKNOWN", "blob unknown to registry")), {}, BlobUnknownError,
     "BLOB_UNKNOWN"),
    # A HEAD has no body: the caller says what was being looked for.
    (404, b"", {"not_found": ManifestUnknownError}, ManifestUnknownError, None),
    (404, b"", {"not_found": BlobUnknownError}, BlobUnknownError, None),
    (404, b"", {}, RegistryNotFoundError, None),
    # Refusals: reading -> "pull access denied", writing or a refused login -> auth error.
    (401, body(("UNAUTHORIZED", "authentication required")), {}, RepositoryNotFoundError,
     "UNAUTHORIZED"),
    (403, body(("DENIED", "requested access to the resource is denied")), {},
     RepositoryNotFoundError, "DENIED"),
    (401, body(("UNAUTHORIZED", "authentication required")), {"pull_only": False},
     AuthenticationError, "UNAUTHORIZED"),
    (401, b"", {"rejected_login": "alice"}, AuthenticationError, None),
    (429, body(("TOOMANYREQUESTS", "slow down")), {}, TooManyRequestsError, "TOOMANYREQUESTS"),
    (503, b"", {}, RegistryError, None),
    (400, body(("DIGEST_INVALID", "provided digest did not match uploaded content")), {},
     RegistryError, "DIGEST_INVALID"),
])
def test_error_from_response_types(status, raw, kwargs, cls, code):
    error = error_from_response(status, {}, raw, registry="r.example:5000", **kwargs)
    assert type(error) is cls
    assert error.status == status and error.code == code
    assert error.registry == "r.example:5000"


def test_error_messages():
    error = error_from_response(404, {}, body(("MANIFEST_UNKNOWN", "manifest unknown")),
                                registry="r")
    assert str(error) == "manifest unknown: manifest unknown"
    assert str(error_from_response(404, {}, b"", registry="r",
                                   not_found=ManifestUnknownError)) == "manifest unknown"
    refused = error_from_response(401, {}, b"", registry="r.example", rejected_login="alice")
    assert str(refused) == ("registry r.example refused the credentials of user 'alice': "
                            "unauthorized: authentication required")
    server = error_from_response(503, {}, b"", registry="r.example")
    assert server.retryable and "HTTP 503" in str(server) and "r.example" in str(server)
    assert not error_from_response(400, {}, b"", registry="r").retryable


def test_429_carries_the_rate_limit():
    headers = {"RateLimit-Limit": "100;w=21600", "RateLimit-Remaining": "0;w=21600"}
    error = error_from_response(429, headers, body(
        ("TOOMANYREQUESTS", "You have reached your unauthenticated pull rate limit.")),
        registry="docker.io")
    assert (error.limit, error.remaining, error.retryable) == (100, 0, True)
    assert str(error).startswith("toomanyrequests: You have reached")
    bare = error_from_response(429, {}, b"", registry="docker.io")
    assert (bare.limit, bare.remaining) == (None, None)


@pytest.mark.parametrize("headers, expected", [
    ({"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600"},
     RateLimit(100, 76)),
    ({"RateLimit-Limit": "200;w=21600"}, RateLimit(200, None)),
    ({"ratelimit-remaining": " 5 ;w=60"}, RateLimit(None, 5)),
    ({"ratelimit-limit": "lots"}, None),
    ({}, None),
])
def test_parse_ratelimit(headers, expected):
    assert parse_ratelimit(headers) == expected


@pytest.mark.parametrize("value, seconds", [
    ("3", 3.0), ("0", 0.0), (None, None), ("", None), ("soon", None),
    ("Thu, 01 Jan 1970 00:01:40 GMT", 60.0),  # 100 s after the epoch, "now" is 40 s
    ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),   # in the past: no wait
])
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value, now=40.0) == seconds


def _wrapped(cause: BaseException) -> requests.ConnectionError:
    """Build the exception chain requests really raises around an OS error."""
    new = urllib3.exceptions.NewConnectionError(None, f"Failed to establish: {cause}")
    new.__cause__ = cause
    retry = urllib3.exceptions.MaxRetryError(None, "/v2/", reason=new)
    return requests.ConnectionError(retry)


@pytest.mark.parametrize("exc, words", [
    (_wrapped(ConnectionRefusedError(111, "Connection refused")), "connection refused"),
    (_wrapped(socket.gaierror(-2, "Name or service not known")), "no such host"),
    (_wrapped(ConnectionResetError(104, "reset")), "connection reset by peer"),
    (_wrapped(TimeoutError("timed out")), "timed out"),
    (requests.exceptions.ConnectTimeout("x"), "timed out"),
    (requests.exceptions.SSLError(ssl.SSLError(1, "x", )), "TLS error (handshake failed)"),
    (requests.ConnectionError("Connection aborted: RemoteDisconnected('closed')"),
     "connection closed by the server"),
    (requests.ConnectionError("something\nodd"), "something odd"),
])
def test_describe_connection_error(exc, words):
    assert describe_connection_error(exc) == words


def test_redact_and_strip_query():
    text = "Bearer eyJabc.def.ghi for alice:hunter2 (Basic YWxpY2U6aHVudGVyMg==)"
    assert redact(text, ["eyJabc.def.ghi", "hunter2", "YWxpY2U6aHVudGVyMg==", "", None]) == \
        "Bearer *** for alice:*** (Basic ***)"
    assert redact("short pw ab", ["ab"]) == "short pw ab"  # too short to hunt for safely
    assert strip_query("https://cdn.example/blob?X-Amz-Signature=abc#f") == \
        "https://cdn.example/blob"


@pytest.mark.parametrize("content_type, data, media_type", [
    ("application/vnd.oci.image.index.v1+json", b"{}", "application/vnd.oci.image.index.v1+json"),
    ("application/vnd.docker.distribution.manifest.v2+json; charset=utf-8", b"{}",
     "application/vnd.docker.distribution.manifest.v2+json"),
    # A generic type: the document's own mediaType field says what it is.
    ("application/json", b'{"mediaType": "application/vnd.oci.image.manifest.v1+json"}',
     "application/vnd.oci.image.manifest.v1+json"),
    ("application/json", b'{"schemaVersion": 2}', "application/json"),
    ("text/plain", b"not json", "text/plain"),
    (None, b"[1]", ""),
    ("application/json", None, "application/json"),  # a HEAD: no body to look into
])
def test_manifest_media_type(content_type, data, media_type):
    assert manifest_media_type(content_type, data) == media_type
