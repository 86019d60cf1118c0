"""``doctor``: check, before a class starts, that every pull will work - and say how to fix what won't.

    >>> imgkit.doctor()                          # doctest: +SKIP
    ok    registry program: /usr/bin/docker-registry
    ok    lab: running at http://127.0.0.1:5000
    ok    mirror http://127.0.0.1:5000: answers (registry/2.0)
    warn  Docker Hub: not reachable (no such host): only the mirror can serve images
          fix: fine on the lab or a class mirror; connect to the internet to pull real images
    ok    clock: within 0 s of http://127.0.0.1:5000
    ok    disk space: 41.2GB free in /home/ada/.imgkit
    ok    graphviz: /usr/bin/dot

Each check ends ``ok``, ``warn`` (works, but something is off) or ``fail``
(pulls or lessons will break), and every problem carries one line saying
what to do. What is checked, in order:

1. the Distribution registry program (to run the lab or serve a class mirror);
2. the lab, and the class mirror this home serves, if any;
3. each docker.io mirror: does it answer ``GET /v2/``, and if it asks for a
   login, is one saved and accepted;
4. Docker Hub: reachable, and how many anonymous pulls this address has left
   (its ``ratelimit-remaining`` header, read with a ``HEAD`` that costs none);
5. the clock, against the ``Date`` of every registry that answered (a clock
   minutes off breaks tokens and TLS certificates, and "N minutes ago");
6. free disk space in the imgkit home;
7. Graphviz's ``dot``, which draws the layer graphs (without it they show as text).
"""

from __future__ import annotations

import email.utils
import html
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import (
    AuthenticationError,
    ImgkitError,
    RegistryError,
    RegistryNotFoundError,
    RegistryUnreachableError,
    TooManyRequestsError,
)
from ..format import human_size
from .host import DOCKER_HUB_DOMAIN, Host, default_host

__all__ = ["doctor", "Check", "DoctorReport", "OK", "WARN", "FAIL"]

OK, WARN, FAIL = "ok", "warn", "fail"
#: Free space below which lessons may fail (fail) or a few real images will not fit (warn).
DISK_FAIL, DISK_WARN = 500 * 1000 ** 2, 2 * 1000 ** 3
#: Clock skew that is worth a word (warn), and that breaks tokens and "N minutes ago" (fail).
SKEW_WARN, SKEW_FAIL = 30.0, 300.0
#: Fewer Docker Hub pulls left than this: a room will run out.
PULLS_WARN = 20
_HUB_FIX = ("a room shares one address and one allowance: serve a class mirror "
            "(`imgkit lab serve --proxy`) or use the lab (`imgkit lab start`)")


@dataclass(frozen=True, repr=False)
class Check:
    """One check: its ``name``, ``status`` (ok, warn, fail), what was found, and the fix."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        """The check as printed: a status line, and a ``fix:`` line under a problem."""
        first = f"{self.status:<5} {self.name}: {self.detail}"
        return [first, f"      fix: {self.fix}"] if self.fix and self.status != OK else [first]

    def __repr__(self) -> str:
        return "\n".join(self.lines())


class DoctorReport(list):
    """The checks ``doctor`` made, in order; ``ok`` is False when any failed."""

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings allowed)."""
        return not self.failures

    @property
    def failures(self) -> list[Check]:
        return [check for check in self if check.status == FAIL]

    @property
    def warnings(self) -> list[Check]:
        return [check for check in self if check.status == WARN]

    def check(self, name: str) -> Check:
        """Return the check called ``name`` (or whose name starts with it)."""
        for check in self:
            if check.name == name:
                return check
        for check in self:
            if check.name.startswith(name):
                return check
        raise KeyError(name)

    def lines(self) -> list[str]:
        return [line for check in self for line in check.lines()]

    def __repr__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        colours = {OK: "#1a7f37", WARN: "#9a6700", FAIL: "#cf222e"}
        rows = "".join(
            f"<tr><td style='color:{colours[c.status]};font-weight:bold'>{c.status}</td>"
            f"<td>{html.escape(c.name)}</td><td>{html.escape(c.detail)}"
            + (f"<br><i>fix: {html.escape(c.fix)}</i>" if c.fix and c.status != OK else "")
            + "</td></tr>" for c in self)
        return f"<table>{rows}</table>"


def doctor(*, host: Host | None = None, hub: bool = True, timeout: float = 5.0) -> DoctorReport:
    """Check the registries, mirror, login, Docker Hub allowance, clock, disk and ``dot``.

    ``hub=False`` skips Docker Hub (offline on purpose). ``timeout`` is how
    many seconds each registry may take to answer. Returns a
    ``DoctorReport``; nothing is printed, nothing is changed.
    """
    host = host if host is not None else default_host()
    report = DoctorReport()
    dates: list[tuple[str, float]] = []
    mirrors = host.mirrors
    report.extend(_lab_checks(host, mirrors))
    working = 0
    for url in mirrors:
        checks = _mirror_checks(host, url, timeout, dates)
        working += all(c.status == OK for c in checks)
        report.extend(checks)
    if hub:
        report.append(_hub_check(host, timeout, dates, has_mirror=working > 0))
    elif not mirrors:
        report.append(Check("Docker Hub", WARN, "not checked, and no mirror is set",
                            "start the lab (`imgkit lab start`) or set the class mirror "
                            "(`imgkit config mirror URL`)"))
    report.extend(_clock_check(dates))
    report.append(_disk_check(host.home))
    report.append(_dot_check())
    return report


# -- the lab and the registry program -----------------------------------------------

def _lab_checks(host: Host, mirrors: list[str]) -> list[Check]:
    # The lab is a front end (imgkit.lab); it is asked lazily, as pull asks the widgets.
    from ..errors import LabError
    from ..lab import lab_home, status
    from ..lab.serve import serving
    from ..lab.server import INSTALL_HINT, find_binary

    checks = []
    try:
        checks.append(Check("registry program", OK, find_binary()))
    except LabError:
        checks.append(Check("registry program", WARN,
                            "not found (needed to run the lab or serve a class mirror)",
                            INSTALL_HINT))
    home = lab_home(None) if os.environ.get("IMGKIT_LAB_HOME") else host.home
    running = status(home)
    if running is not None:
        checks.append(Check("lab", OK, f"running at {running.url}"))
    elif not mirrors:       # with a mirror set, the mirror's own check says what is wrong
        checks.append(Check("lab", WARN, "not running, and no mirror is set: pulls go to "
                            "Docker Hub", "start the lab: `imgkit lab start`, or set the class "
                            "mirror: `imgkit config mirror URL`"))
    served = serving(home)
    if served is not None:
        checks.append(Check("class mirror", OK, f"serving {served.url} to learners"))
    return checks


def _loopback(url: str) -> bool:
    from ..registry import is_loopback
    return is_loopback(url.split("://", 1)[-1].split("/", 1)[0])


# -- mirrors --------------------------------------------------------------------------

def _client(host: Host, url: str | None, timeout: float):
    from ..registry import RegistryClient
    return RegistryClient(DOCKER_HUB_DOMAIN, base_url=url, timeout=(timeout, timeout), tries=1,
                          insecure_registries=host.insecure_registries())


def _mirror_checks(host: Host, url: str, timeout: float,
                   dates: list[tuple[str, float]]) -> list[Check]:
    name = f"mirror {url}"
    with _client(host, url, timeout) as client:
        try:
            answer = client.transport.ping(force=True)
        except RegistryUnreachableError as exc:
            return [Check(name, FAIL, _cause(exc), _unreachable_fix(url, str(exc)))]
        except RegistryError as exc:
            return [Check(name, FAIL, str(exc), "this address is no registry: check the URL "
                          "with your instructor (`imgkit config mirror URL`)")]
        _note_date(answer, url, dates)
        api = answer.headers.get("Docker-Distribution-API-Version", "") if answer else ""
        checks = [Check(name, OK, f"answers ({api or 'a registry'})")]
        if client.auth.challenge is not None:
            checks.append(_login_check(client, url))
        return checks


def _cause(exc: Exception) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith("cannot reach registry") else text


def _unreachable_fix(url: str, text: str) -> str:
    if "TLS certificate not trusted" in text:
        return ("trust the class certificate: `export REQUESTS_CA_BUNDLE=/path/to/class-ca.pem` "
                "(a file holding your usual CAs and the class CA; ask the instructor)")
    if _loopback(url):
        return "start the lab: `imgkit lab start` (or stop using it: `imgkit config mirror --off`)"
    return ("check the address with your instructor and that you are on the class network; "
            "`imgkit config mirror --off` pulls from Docker Hub instead")


def _login_check(client, url: str) -> Check:
    name = f"login {url}"
    who = client.auth.credentials.username if client.auth.credentials else None
    host = url.split("://", 1)[-1].rstrip("/")
    if who is None:
        return Check(name, FAIL, "the mirror asks for a login and none is saved for " + host,
                     f"log in with the class user: `docker login {host}` (imgkit reads the "
                     "logins Docker saves in ~/.docker/config.json)")
    try:
        client.transport.request("GET", "/v2/", scopes=("repository:library/alpine:pull",)).close()
    except AuthenticationError:
        return Check(name, FAIL, f"user {who!r} was refused",
                     f"check the user and password with your instructor: `docker login {host}`")
    except RegistryError as exc:
        return Check(name, FAIL, str(exc), "ask your instructor")
    return Check(name, OK, f"user {who!r} accepted")


# -- Docker Hub -----------------------------------------------------------------------

def _hub_check(host: Host, timeout: float, dates: list[tuple[str, float]],
               has_mirror: bool) -> Check:
    url = os.environ.get("IMGKIT_DOCKER_HUB_URL")      # tests point "Docker Hub" at loopback
    with _client(host, url, timeout) as client:
        try:
            answer = client.transport.ping(force=True)
            _note_date(answer, "Docker Hub", dates)
            try:
                limit = client.ratelimit()
            except RegistryNotFoundError:
                limit = None        # a registry standing in for Hub, without its test repository
        except TooManyRequestsError:
            return Check("Docker Hub", WARN if has_mirror else FAIL,
                         "no anonymous pulls left for this address", _HUB_FIX)
        except RegistryUnreachableError as exc:
            if has_mirror:
                return Check("Docker Hub", WARN, f"not reachable ({_cause(exc)}): only the "
                             "mirror can serve images", "fine on the lab or a class mirror; "
                             "connect to the internet to pull real images")
            return Check("Docker Hub", FAIL, f"not reachable ({_cause(exc)}), and no mirror "
                         "works: nothing to pull from", "start the lab: `imgkit lab start` "
                         "(offline: `imgkit lab start --from course.tar`)")
        except ImgkitError as exc:
            return Check("Docker Hub", WARN, str(exc), _HUB_FIX)
    if limit is None or limit.remaining is None:
        return Check("Docker Hub", OK, "reachable (no rate-limit headers)")
    left = f"{limit.remaining} of {limit.limit} pulls left for this address" \
        if limit.limit is not None else f"{limit.remaining} pulls left for this address"
    if limit.remaining < PULLS_WARN:
        return Check("Docker Hub", WARN if has_mirror or limit.remaining else FAIL, left,
                     _HUB_FIX)
    return Check("Docker Hub", OK, left)


# -- clock, disk, dot -----------------------------------------------------------------

def _note_date(answer, where: str, dates: list[tuple[str, float]]) -> None:
    value = answer.headers.get("Date") if answer is not None else None
    try:
        when = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        when = None
    if when is not None:
        dates.append((where, when.timestamp() - time.time()))


def _clock_check(dates: list[tuple[str, float]]) -> list[Check]:
    if not dates:
        return []
    where, skew = max(dates, key=lambda d: abs(d[1]))
    # A Date header has whole seconds: up to one second off is no skew at all.
    seconds = 0 if abs(skew) < 1.5 else round(abs(skew))
    side = "behind" if skew > 0 else "ahead of"
    detail = f"within {seconds} s of {where}" if seconds < SKEW_WARN else \
        f"{_duration(seconds)} {side} {where}"
    fix = ("set the clock right: `sudo timedatectl set-ntp true` (tokens, TLS certificates "
           "and \"N minutes ago\" depend on it)")
    status = OK if seconds < SKEW_WARN else WARN if seconds < SKEW_FAIL else FAIL
    return [Check("clock", status, detail, fix)]


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} minutes"


def _disk_check(home: Path) -> Check:
    where = Path(home)
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free
    detail = f"{human_size(free)} free in {where}"
    fix = ("free some space (`imgkit image prune -a` removes images no container uses), or "
           "use a home on a bigger disk (`--home DIR` or IMGKIT_HOME)")
    status = FAIL if free < DISK_FAIL else WARN if free < DISK_WARN else OK
    return Check("disk space", status, detail, fix)


def _dot_check() -> Check:
    from ..graph.render import INSTALL_HINT

    found = shutil.which("dot")
    if found:
        return Check("graphviz", OK, found)
    return Check("graphviz", WARN, "`dot` not found: layer graphs show as text", INSTALL_HINT)
