"""The class mirror: one machine serves the images to a whole room, so no pull needs the internet.

A room of learners shares one public address, and Docker Hub counts
anonymous pulls per address: thirty people pulling the same images run
out within minutes. So the instructor runs the real Distribution registry
for the room, and every learner's kit pulls from it first::

    imgkit lab serve                      # the course images, on 0.0.0.0:5000
    imgkit lab serve --proxy              # a pull-through cache of Docker Hub
    imgkit lab serve --from course.tar    # the images of a bundle (see `imgkit save`)

It prints the one line learners run (``imgkit config mirror URL``, or
``export IMGKIT_REGISTRY_MIRROR=URL``). Their pulls then go to the mirror
first, and to Docker Hub only when the mirror fails - Docker's own
``registry-mirrors`` rule.

With ``--proxy`` the registry fetches each blob from Docker Hub once and
keeps it (Distribution's ``proxy: remoteurl`` pull-through cache): the
second learner's pull never leaves the room. A proxy cannot be pushed to,
so it serves what learners ask for, not the course images. With
``--user NAME:PASSWORD`` (or ``--htpasswd FILE``) every pull needs a login;
with ``--tls-cert``/``--tls-key`` the mirror speaks HTTPS.

Course images are pushed first through a private loopback instance (no
login, no TLS), then the registry restarts on the room's address with the
settings asked for; its data stays in ``HOME/classroom``.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LabError
from ..fileio import atomic_write
from .server import WILDCARD_HOSTS, RegistryServer

__all__ = ["ClassMirror", "serve", "serving", "stop_serving", "parse_address",
           "DOCKER_HUB_REMOTE", "DEFAULT_PORT"]

#: Where a ``--proxy`` without a URL fetches from.
DOCKER_HUB_REMOTE = "https://registry-1.docker.io"
DEFAULT_PORT = 5000
_FACTS = "classroom.json"


@dataclass
class ClassMirror:
    """A class mirror being served: the URL learners use, and how it is set up."""

    home: Path
    server: RegistryServer
    url: str                                #: what learners put in ``imgkit config mirror``
    source: str                             #: "course images", "proxy of URL", "bundle FILE"
    users: tuple[str, ...] = ()
    certificate: str | None = None          #: the TLS certificate learners must trust
    notes: list[str] = field(default_factory=list)

    @property
    def learner_command(self) -> str:
        """The one line a learner runs to pull through this mirror."""
        return f"imgkit config mirror {self.url}"

    @property
    def learner_environment(self) -> str:
        """The same, for one shell or one notebook server: an environment variable."""
        return f"export IMGKIT_REGISTRY_MIRROR={self.url}"

    def instructions(self) -> list[str]:
        """What to tell the room, line by line."""
        lines = [f"class mirror serving {self.source} at {self.url}",
                 "learners run:", f"  {self.learner_command}",
                 "or, for one shell or notebook server:", f"  {self.learner_environment}"]
        if self.users:
            login = self.url.split("://", 1)[1]
            lines += [f"it asks for a login ({', '.join(self.users)}): learners run once",
                      f"  docker login {login}",
                      "  (or put the user in ~/.docker/config.json; imgkit reads Docker's logins)"]
        if self.certificate:
            lines += ["it speaks HTTPS: learners whose system does not trust its certificate "
                      "add it to their CAs:",
                      f"  cat /etc/ssl/certs/ca-certificates.crt {self.certificate} > class-ca.pem",
                      "  export REQUESTS_CA_BUNDLE=$PWD/class-ca.pem"]
        lines += self.notes
        lines.append(f"requests are logged in {self.server.root / 'registry.log'}; "
                     "stop it with `imgkit lab serve --stop`")
        return lines

    def __repr__(self) -> str:
        return "\n".join(self.instructions())

    def _repr_html_(self) -> str:
        import html
        return f"<pre>{html.escape(repr(self))}</pre>"


def parse_address(address: str | None) -> tuple[str, int]:
    """Read ``HOST:PORT``, ``HOST``, ``:PORT`` or ``PORT`` (``[::]:5000`` for IPv6).

    The host defaults to ``0.0.0.0`` (every interface: the room reaches it),
    the port to 5000; port 0 takes any free port.
    """
    text = (address or "").strip()
    host, port = "0.0.0.0", str(DEFAULT_PORT)
    if text.startswith("["):
        inside, _, rest = text[1:].partition("]")
        host, port = inside, rest.removeprefix(":") or port
    elif text.isdigit():
        port = text
    elif text:
        name, sep, number = text.rpartition(":")
        host, port = (name or host, number or port) if sep else (text, port)
    if not port.isdigit() or not 0 <= int(port) < 65536:
        raise LabError(f"invalid address {address!r}: expected HOST:PORT, e.g. 0.0.0.0:5000")
    return host, int(port)


def _root(home) -> Path:
    from . import lab_home
    return lab_home(home) / "classroom"


def serve(address: str | None = None, *, proxy: bool | str | None = None,
          proxy_username: str | None = None, proxy_password: str | None = None,
          users: dict[str, str] | None = None, htpasswd: str | os.PathLike | None = None,
          tls_certificate: str | os.PathLike | None = None,
          tls_key: str | os.PathLike | None = None, bundle: str | os.PathLike | None = None,
          seed: bool = True, advertise: str | None = None, accesslog: bool = True,
          home: str | os.PathLike | None = None, progress=None) -> ClassMirror:
    """Serve the room's registry on ``address`` (``0.0.0.0:5000``); return what to tell learners.

    - Course images (default), or the images of ``bundle`` (a ``save``
      archive), are pushed first; ``seed=False`` serves what is there.
    - ``proxy=True`` makes it a pull-through cache of Docker Hub, ``proxy=URL``
      of that registry (``proxy_username``/``proxy_password`` log in there:
      a Docker Hub account has a larger allowance than the room's address).
    - ``users={"ada": "secret"}`` or ``htpasswd=FILE`` (bcrypt lines, as
      ``htpasswd -Bbn`` writes them) require a login for every request.
    - ``tls_certificate`` and ``tls_key`` (PEM files) make it speak HTTPS.
    - ``advertise`` is the URL learners use, when the address guessed from
      this machine's network is not the one they reach it by.

    A mirror already served from this home is stopped first.
    """
    host, port = parse_address(address)
    root = _root(home)
    if proxy and bundle is not None:
        raise LabError("a pull-through cache (--proxy) cannot be filled from a bundle: "
                       "it holds what learners pull; serve the bundle without --proxy")
    if users and htpasswd is not None:
        raise LabError("give users or an htpasswd file, not both")
    if (tls_certificate is None) != (tls_key is None):
        raise LabError("TLS needs both a certificate (--tls-cert) and its key (--tls-key)")
    for path in (htpasswd, tls_certificate, tls_key, bundle):
        if path is not None and not Path(path).is_file():
            raise LabError(f"no such file: {path}")
    stop_serving(home)
    root.mkdir(parents=True, exist_ok=True)
    remote = (DOCKER_HUB_REMOTE if proxy is True else str(proxy).rstrip("/")) if proxy else None
    source = f"a pull-through cache of {remote}" if remote else \
        f"the images of {Path(bundle).name}" if bundle is not None else "the course images"
    if remote is None and (seed or bundle is not None):
        _fill(home, root, bundle, progress)
    password_file = _htpasswd(root, users) if users else \
        (Path(htpasswd).absolute() if htpasswd is not None else None)
    server = RegistryServer(
        root, port=port, host=host, exact_port=port != 0, accesslog=accesslog,
        proxy={"remoteurl": remote, "username": proxy_username, "password": proxy_password}
        if remote else None,
        htpasswd=password_file,
        tls_certificate=Path(tls_certificate).absolute() if tls_certificate else None,
        tls_key=Path(tls_key).absolute() if tls_key else None)
    server.start()
    url = (advertise or _advertised(server)).rstrip("/")
    mirror = ClassMirror(_home(home), server, url, source,
                         users=tuple(sorted(users or _users_in(password_file))),
                         certificate=str(server.tls_certificate) if server.tls else None)
    if host in ("127.0.0.1", "localhost", "::1"):
        mirror.notes.append("it listens on loopback only: other machines cannot reach it "
                            "(serve on 0.0.0.0 for the room)")
    atomic_write(root / _FACTS, json.dumps(
        {"url": mirror.url, "source": source, "users": list(mirror.users),
         "certificate": mirror.certificate, "notes": mirror.notes}, indent=1).encode())
    return mirror


def _home(home) -> Path:
    from . import lab_home
    return lab_home(home)


def _fill(home, root: Path, bundle, progress) -> None:
    """Push the course images (or a bundle's) through a loopback instance without login or TLS."""
    from . import Lab
    from .seed import seed_bundle, seed_catalog

    filler = RegistryServer(root, port=0)
    filler.start()
    try:
        lab = Lab(_home(home), filler)
        if bundle is not None:
            seed_bundle(lab, bundle, progress=progress)
        else:
            seed_catalog(lab, progress=progress)
    finally:
        filler.stop()


def _htpasswd(root: Path, users: dict[str, str]) -> Path:
    """Write the users to an htpasswd file (bcrypt, the only hash Distribution accepts)."""
    try:
        import bcrypt
    except ImportError:
        raise LabError("users need the bcrypt package (`pip install bcrypt`), or make the file "
                       "yourself with `htpasswd -Bbn USER PASSWORD` and give --htpasswd FILE"
                       ) from None
    lines = []
    for name, password in sorted(users.items()):
        if not name or ":" in name:
            raise LabError(f"invalid user name {name!r}")
        # Distribution checks the hash on every request: a low cost keeps a room's pulls
        # quick, and the password only guards a class mirror on the room's network.
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=8)).decode()
        lines.append(f"{name}:{hashed}\n")
    path = root / "htpasswd"
    atomic_write(path, "".join(lines).encode(), mode=0o600)
    return path


def _users_in(path: Path | None) -> list[str]:
    if path is None:
        return []
    try:
        return [line.split(":", 1)[0] for line in path.read_text().splitlines() if ":" in line]
    except OSError:
        return []


def _advertised(server: RegistryServer) -> str:
    scheme = "https" if server.tls else "http"
    host = server.host
    if host in WILDCARD_HOSTS:
        host = _lan_address()
    return f"{scheme}://[{host}]:{server.port}" if ":" in host else f"{scheme}://{host}:{server.port}"


def _lan_address() -> str:
    """Return this machine's address on its main network (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            # Choosing a route to a documentation address (RFC 5737) names our interface.
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            address = ""
    if address and not address.startswith("0."):
        return address
    return socket.gethostname()


def serving(home: str | os.PathLike | None = None) -> ClassMirror | None:
    """Return the class mirror this home serves, or None."""
    root = _root(home)
    server = RegistryServer(root)
    if not server.running():
        return None
    try:
        facts = json.loads((root / _FACTS).read_text())
    except (OSError, ValueError):
        facts = {}
    state = server.read_state() or {}
    server.host = state.get("host", server.host)
    mirror = ClassMirror(_home(home), server, facts.get("url") or state.get("url", ""),
                         facts.get("source", "images"), tuple(facts.get("users", ())),
                         facts.get("certificate"), list(facts.get("notes", [])))
    return mirror


def stop_serving(home: str | os.PathLike | None = None) -> bool:
    """Stop the class mirror of this home; return True if one was running. Its data stays."""
    return RegistryServer(_root(home)).stop()
