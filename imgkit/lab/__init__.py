"""The lab: a real registry on your own machine, full of course images.

The course cannot lean on Docker Hub: classrooms share one address and run
out of anonymous pulls, CI has no internet, and Hub's images change under
you. So imgkit runs the *same* registry software Docker Hub grew from (the
CNCF Distribution registry) on 127.0.0.1, fills it with small, reproducible
copies of the images the chapter uses, and makes it the docker.io mirror of
your imgkit home - just as Docker's ``registry-mirrors`` setting would. Then
``imgkit.pull("alpine")`` fetches from the lab, over the real protocol.

    >>> lab = imgkit.lab.start()        # doctest: +SKIP
    >>> lab.url                         # doctest: +SKIP
    'http://127.0.0.1:5000'

Online, ``imgkit.lab.stop()`` (or ``imgkit config mirror --off``) sends pulls
to Docker Hub again.

For a classroom: ``imgkit.lab.serve()`` runs the same registry for a whole
room (see ``imgkit.lab.serve``), ``start(bundle="course.tar")`` fills the lab
from an archive without any network, and ``reset_host()`` puts a learner's
machine back to the start of the course.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..errors import LabError
from .serve import ClassMirror, serve, serving, stop_serving
from .server import RegistryServer, find_binary

__all__ = ["Lab", "start", "stop", "status", "publish", "reset", "reset_host", "HostReset",
           "lab_root", "lab_home", "find_binary", "serve", "serving", "stop_serving",
           "ClassMirror"]


def lab_home(home: str | os.PathLike | None = None) -> Path:
    """Return the imgkit home whose lab is meant: ``home``, else the lessons' lab, else the default.

    Inside a lesson the default home is the lesson's own, but the lab stays
    in the learner's usual home (``$IMGKIT_LAB_HOME``, set by ``imgkit.lesson``).
    """
    if home is None and os.environ.get("IMGKIT_LAB_HOME"):
        return Path(os.environ["IMGKIT_LAB_HOME"])
    return config.resolve_home(home)


def lab_root(home: str | os.PathLike | None = None) -> Path:
    """Return the directory holding the lab registry's config, data and log."""
    return lab_home(home) / "lab"


@dataclass
class Lab:
    """A running lab registry: where it listens and which imgkit home it serves."""

    home: Path
    server: RegistryServer

    @property
    def url(self) -> str:
        """The registry's URL, ``http://127.0.0.1:PORT``."""
        return self.server.url

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``: put it in front of a name to pull straight from the lab."""
        return self.server.address

    def __repr__(self) -> str:
        return f"<imgkit lab registry at {self.url}>"

    def _repr_html_(self) -> str:
        return (f"<b>imgkit lab</b>: a registry at <code>{self.url}</code>, "
                "standing in for Docker Hub")


def _server(home) -> RegistryServer:
    port = os.environ.get("IMGKIT_LAB_PORT")
    return RegistryServer(lab_root(home), preferred_port=int(port) if port else 5000)


def status(home: str | os.PathLike | None = None) -> Lab | None:
    """Return the running lab of this imgkit home, or None when it is not running."""
    server = _server(home)
    return Lab(lab_home(home), server) if server.running() else None


def start(home: str | os.PathLike | None = None, *, seed: bool = True,
          bundle: str | os.PathLike | None = None, progress=None) -> Lab:
    """Start the lab registry (or reuse the running one), seed it and make it the mirror.

    Seeding pushes only the course images the registry does not have yet, so
    a second ``start`` is quick. ``bundle`` (an archive written by
    ``imgkit save``) fills the lab with its images instead of building the
    course images - no network needed. ``progress``, if given, is called
    with one line of text per image pushed.
    """
    home_path = lab_home(home)
    if bundle is not None and not Path(bundle).is_file():
        raise LabError(f"no such bundle: {bundle}")
    server = _server(home_path).start()
    lab = Lab(home_path, server)
    if bundle is not None:
        from .seed import seed_bundle
        seed_bundle(lab, bundle, progress=progress)
    elif seed:
        from .seed import seed_catalog
        seed_catalog(lab, progress=progress)
    mirrors = config.mirrors(home_path) if "IMGKIT_REGISTRY_MIRROR" not in os.environ \
        else config.load(home_path).get("registry-mirrors", [])
    if lab.url not in mirrors:
        config.set_mirrors([lab.url] + [m for m in mirrors if not _is_old_lab(m, lab)], home_path)
    return lab


def _is_old_lab(url: str, lab: Lab) -> bool:
    # A lab that restarted on another port leaves a stale loopback mirror behind.
    return url.startswith("http://127.0.0.1:") and url != lab.url


def stop(home: str | os.PathLike | None = None) -> bool:
    """Stop the lab registry; return True if one was running.

    The registry's data stays on disk, so the next ``start`` is quick. The
    lab stops being the docker.io mirror, so pulls go to Docker Hub again.
    """
    home_path = lab_home(home)
    server = _server(home_path)
    url = server.url if server.running() else None
    stopped = server.stop()
    settings = config.load(home_path)
    mirrors = settings.get("registry-mirrors", [])
    kept = [m for m in mirrors if m != url and not m.startswith("http://127.0.0.1:")] \
        if isinstance(mirrors, list) else mirrors
    if kept != mirrors:
        config.set_mirrors(kept, home_path)
    return stopped


def _running(home) -> Lab:
    lab = status(home)
    if lab is None:
        raise LabError("the lab is not running: start it with `imgkit lab start`")
    return lab


def publish(name: str, revision: int = 2, home: str | os.PathLike | None = None) -> str:
    """Publish a new build of a course image's tags (say ``alpine:latest``); return its digest.

    After this, pulling the tag again gets a different image and leaves the
    one pulled before without a tag - a *dangling* image, as happens when
    Docker Hub publishes a new ``alpine:latest``.
    """
    from .seed import publish_revision
    return publish_revision(_running(home), name, revision)


def reset(home: str | os.PathLike | None = None) -> int:
    """Put every course image back to its first build (undo ``publish``); return how many moved."""
    from .seed import seed_catalog
    return seed_catalog(_running(home))


@dataclass
class HostReset:
    """What ``reset_host`` removed, and how many course images moved back."""

    containers: int = 0
    images: int = 0
    lessons: list[str] = field(default_factory=list)
    course_images: int | None = None        #: None when the lab was not running

    def lines(self) -> list[str]:
        moved = "the lab was not running: its images were left as they are" \
            if self.course_images is None else \
            f"course images back to their first build ({self.course_images} moved)"
        return [f"removed {self.containers} container(s) and {self.images} image(s)",
                f"removed {len(self.lessons)} lesson host(s)"
                + (f": {', '.join(self.lessons)}" if self.lessons else ""), moved]

    def __repr__(self) -> str:
        return "\n".join(self.lines())


def reset_host(home: str | os.PathLike | None = None) -> HostReset:
    """Return this machine to the start of the course: empty store, no lesson hosts, first builds.

    Removes every container (running ones are stopped) and every image of
    the imgkit home, and the lessons' own hosts under ``HOME/lessons``; then,
    if the lab runs, puts its course images back to their first builds
    (``reset``). The lab's data, the mirror setting and Docker logins stay.
    There is no undo: the command line asks first.
    """
    from ..api import Host
    from ..unpack import remove_tree

    home_path = lab_home(home)
    done = HostReset()
    lessons = home_path / "lessons"
    for lesson in sorted(lessons.iterdir()) if lessons.is_dir() else []:
        if lesson.is_dir():
            _empty(Host(lesson))
            remove_tree(lesson)
            done.lessons.append(lesson.name)
    done.containers, done.images = _empty(Host(home_path))
    if status(home_path) is not None:
        done.course_images = reset(home_path)
    return done


def _empty(host) -> tuple[int, int]:
    """Remove every container and image of ``host``; return how many of each."""
    from ..api import prune, rm, rmi

    records = host.store.records()
    containers = sorted(records.containers)
    if containers:
        rm(*containers, force=True, host=host)
    before = len(records.images)
    prune(all=True, host=host)
    left = sorted(host.store.records().images)
    if left:
        rmi(*left, force=True, host=host)
    return len(containers), before
