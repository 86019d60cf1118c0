"""The errors of ``pull``, in Docker's words: which registry's answer to show, and how.

A pull may try several registries (mirrors, then Docker Hub) and fail in
each; these helpers choose the most useful failure and word it as ``docker
pull`` would (``pull access denied for x, repository does not exist ...``).
"""

from __future__ import annotations

from .. import reference as references
from ..errors import (
    ImgkitError,
    ManifestUnknownError,
    RegistryNotFoundError,
    RegistryUnreachableError,
    RepositoryNotFoundError,
    TooManyRequestsError,
)
from ..registry.auth import repository_scope

ACCESS_DENIED = "denied: requested access to the resource is denied"
CLASSROOM_HINT = ("(a classroom shares one address and one allowance: pull from the lab "
                  "instead, `imgkit lab start`, or through a registry mirror)")


def _not_found(client, ref: references.Reference, exc: ManifestUnknownError) -> ImgkitError:
    """Say whether the tag or the whole repository is missing.

    Docker Hub refuses an unknown repository outright, but a Distribution
    registry (the lab) answers MANIFEST_UNKNOWN for it too; its tag list
    tells the two cases apart.
    """
    try:
        # One page is enough to know the repository exists (Docker Hub's are long).
        client.transport.request("GET", f"/v2/{ref.path}/tags/list?n=1",
                                 scopes=(repository_scope(ref.path, ["pull"]),)).close()
    except RegistryNotFoundError as missing:
        return _access_denied(ref, missing)
    except ImgkitError:
        pass
    return ManifestUnknownError(f"manifest for {ref.familiar} not found: {exc}",
                                status=exc.status, code=exc.code)


def _access_denied(ref: references.Reference, exc: RegistryNotFoundError) -> ImgkitError:
    cause = str(exc) if exc.code == "DENIED" else ACCESS_DENIED
    return RepositoryNotFoundError(
        f"pull access denied for {ref.familiar_name}, repository does not exist or may "
        f"require 'docker login': {cause}", status=exc.status, code=exc.code)


def _rate_limited(exc: TooManyRequestsError) -> TooManyRequestsError:
    return TooManyRequestsError(f"{exc} {CLASSROOM_HINT}", status=exc.status, code=exc.code,
                                limit=exc.limit, remaining=exc.remaining)


def _most_informative(failures: list[tuple[object, ImgkitError]]) -> ImgkitError:
    """Choose the error to show when every registry failed.

    Docker Hub's own answer wins, unless Hub could not be reached at all:
    then a mirror's answer ("not found" first) says more than a DNS error,
    which is what an offline learner would otherwise see.
    """
    last = failures[-1][1]
    if not isinstance(last, RegistryUnreachableError):
        return last
    answers = [exc for _, exc in failures if not isinstance(exc, RegistryUnreachableError)]
    for exc in answers:
        if isinstance(exc, RegistryNotFoundError):
            return exc
    if answers:
        return answers[-1]
    if len(failures) == 1:
        return last
    notes = []
    for client, exc in failures[:-1]:
        url = getattr(client, "url", "?")
        cause = str(exc).rpartition(": ")[2]
        hint = ("; if it is the lab, start it with `imgkit lab start`"
                if url.startswith(("http://127.", "http://localhost", "http://[::1]")) else "")
        notes.append(f"mirror {url}: {cause}{hint}")
    return RegistryUnreachableError(f"{last} (tried first: {'; '.join(notes)})",
                                    status=last.status, code=last.code)
