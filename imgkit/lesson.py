"""Start a lesson: the lab serves the images, and you get a clean Docker host of your own.

Every lesson begins with::

    import imgkit
    lesson = imgkit.lesson.start("05-Pulling-Images")

which (1) starts the lab registry if it is not running yet - in your usual
imgkit home, where it stays between lessons - and (2) gives this lesson an
empty host of its own (``<home>/lessons/05-Pulling-Images``), whose docker.io
mirror is the lab. From then on ``imgkit.pull(...)``, ``imgkit.images()``
and the ``!imgkit ...`` command line all act on the lesson's host, so a
lesson never sees what another lesson pulled, and running it again gives
the same output.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import config
from .api.host import Host
from .lab import Lab
from .unpack import remove_tree

__all__ = ["start", "Lesson", "LESSON_HOME_ENV"]

#: Set while a lesson runs: the imgkit home that holds the lab (the learner's usual home).
LESSON_HOME_ENV = "IMGKIT_LAB_HOME"


@dataclass
class Lesson:
    """One running lesson: its name, its own host, and the lab it pulls from."""

    name: str
    host: Host
    lab: Lab

    @property
    def home(self) -> Path:
        """The lesson's own imgkit home (its store, its containers)."""
        return self.host.home

    def __repr__(self) -> str:
        return (f"Lesson {self.name!r}: a clean host of your own, pulling from the lab "
                "registry (the course's stand-in for Docker Hub)")

    def _repr_html_(self) -> str:
        return (f"<b>Lesson {self.name}</b>: a clean host of your own, pulling from the "
                "lab registry (the course's stand-in for Docker Hub)")


def _lab_home() -> Path:
    # The lab lives in the learner's usual home; a lesson run from inside
    # another lesson (IMGKIT_HOME already pointing at a lesson) keeps using it.
    return Path(os.environ.get(LESSON_HOME_ENV) or config.resolve_home(None))


def start(name: str, *, clean: bool = True) -> Lesson:
    """Start (or restart) the lesson ``name``: lab running, a clean host, set as the default.

    ``clean=False`` keeps what the lesson's host already holds (to continue
    where you stopped). The lab's images are put back to their first builds,
    in case an earlier lesson published a new build.
    """
    from . import lab as labmod

    lab_home = _lab_home()
    lab = labmod.start(lab_home)
    lesson_home = lab_home / "lessons" / name
    if clean and lesson_home.exists():
        remove_tree(lesson_home)
    lesson_home.mkdir(parents=True, exist_ok=True)
    config.set_mirrors([lab.url], lesson_home)
    os.environ[LESSON_HOME_ENV] = str(lab_home)
    # The verbs and the `!imgkit` command line both read IMGKIT_HOME.
    os.environ["IMGKIT_HOME"] = str(lesson_home)
    _put_imgkit_on_path()
    return Lesson(name, Host(lesson_home), lab)


def _put_imgkit_on_path() -> None:
    # `!imgkit ...` in a notebook runs a shell whose PATH may lack the virtual
    # environment's bin directory (JupyterLab started as .venv/bin/jupyter does
    # not activate it); the `imgkit` command lives next to this Python.
    import shutil
    import sys

    here = str(Path(sys.executable).parent)
    if shutil.which("imgkit") is None and (Path(here) / "imgkit").exists():
        os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")
