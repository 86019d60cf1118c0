"""WWW-Authenticate parsing and challenge choice (no sockets)."""

from __future__ import annotations

import pytest

from imgkit.registry.auth import Authenticator, Challenge, parse_challenges, repository_scope
from imgkit.registry.credentials import Credentials

HUB = ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
       'scope="repository:library/ubuntu:pull",error="insufficient_scope"')


@pytest.mark.parametrize("header, expected", [
    (HUB, [Challenge("bearer", {"realm": "https://auth.docker.io/token",
                                "service": "registry.docker.io",
                                "scope": "repository:library/ubuntu:pull",
                                "error": "insufficient_scope"})]),
    ('Basic realm="Registry Realm"', [Challenge("basic", {"realm": "Registry Realm"})]),
    ('basic realm=imgkit', [Challenge("basic", {"realm": "imgkit"})]),
    # Spaces around '=' and after commas; scheme names are case-insensitive.
    ('BEARER realm = "https://a/token" , service = "svc"',
     [Challenge("bearer", {"realm": "https://a/token", "service": "svc"})]),
    # A comma inside a quoted value is not a separator; escapes are honoured.
    ('Bearer realm="https://a/token",scope="repository:a:pull,push"',
     [Challenge("bearer", {"realm": "https://a/token", "scope": "repository:a:pull,push"})]),
    (r'Basic realm="say \"hi\""', [Challenge("basic", {"realm": 'say "hi"'})]),
    # Two challenges in one header (or two headers that requests joined).
    ('Basic realm="b", Bearer realm="https://t/token",service="s"',
     [Challenge("basic", {"realm": "b"}),
      Challenge("bearer", {"realm": "https://t/token", "service": "s"})]),
    # Parameter names are case-insensitive.
    ('Bearer Realm="https://t",SERVICE="s"', [Challenge("bearer", {"realm": "https://t",
                                                                  "service": "s"})]),
    # A token68 blob is skipped, an empty header gives nothing.
    ("Negotiate abc==", [Challenge("negotiate", {})]),
    ("", []),
    (None, []),
    (",,  ,", []),
])
def test_parse_challenges(header, expected):
    assert parse_challenges(header) == expected


def test_challenge_properties():
    [challenge] = parse_challenges(HUB)
    assert challenge.realm == "https://auth.docker.io/token"
    assert challenge.service == "registry.docker.io"
    assert challenge.scope == "repository:library/ubuntu:pull"


@pytest.mark.parametrize("header, credentials, answerable, scheme", [
    (HUB, None, True, "bearer"),                        # anonymous tokens exist
    ('Basic realm="r"', None, False, "basic"),          # nothing to answer Basic with
    ('Basic realm="r"', Credentials("u", "p"), True, "basic"),
    ('Basic realm="r", Bearer realm="https://t"', None, True, "bearer"),  # Bearer first
    ('Bearer service="no realm"', None, False, None),   # a Bearer without realm is useless
    ('Negotiate', None, False, None),
])
def test_learn_prefers_bearer_and_knows_what_it_can_answer(header, credentials, answerable,
                                                          scheme):
    auth = Authenticator("r.example", credentials, session=None, user_agent="t")
    assert auth.learn(header) is answerable
    assert (auth.challenge.scheme if auth.challenge else None) == scheme


def test_repository_scope():
    assert repository_scope("library/alpine", ["pull"]) == "repository:library/alpine:pull"
    assert repository_scope("a/b", ["pull", "push"]) == "repository:a/b:pull,push"
