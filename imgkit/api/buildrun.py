"""``RUN`` in a build: run the command in a container of the image so far, keep what it changed.

The classic builder runs each ``RUN`` in a new container made from the image
built so far, waits for it, and commits what the container changed as the
step's layer. The default hook, ``run_in_container``, does the same here:

1. write the image's files (its layers, bottom first) into a temporary
   directory twice: ``lower`` stays as the image is, ``upper`` becomes the
   container's root filesystem;
2. run the command with ``upper`` as ``/`` (``imgkit.runtime``: ``chroot``,
   or an unprivileged user namespace), with the image's ``Env`` plus the
   build's ARGs, in its ``WorkingDir``;
3. a non-zero exit status stops the build, in the classic builder's words:
   ``The command '/bin/sh -c false' returned a non-zero code: 1``;
4. otherwise ``imgkit.fsdiff`` compares ``upper`` with ``lower``: new and
   changed files, and whiteouts for deleted ones, are the step's layer.
   A command that changed nothing makes no layer, only a history entry
   marked ``empty_layer`` - the classic builder's rule (moby's
   ``image.NewChildImage`` adds no diff_id for an empty diff).

What the command prints appears in the build's transcript between
`` ---> Running in 4d8f1c2a9b3e`` and ``Removing intermediate container
4d8f1c2a9b3e``, as the classic builder shows it (standard output first,
then standard error: the runtime captures them apart).

Where this host cannot run containers, ``RUN`` stops the build and says why.
A hook of your own (``build(..., run=hook)``) receives a ``RunRequest`` and
returns the changes; it may raise ``BuildError("reason")``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .. import fsdiff, runtime
from ..errors import BuildError
from ..tarlayer import Entry, Layer
from ..unpack import remove_tree
from .rootfs import Rootfs

__all__ = ["RunRequest", "RunHook", "run_in_container", "no_container_runtime"]

#: Who may run a ``RUN`` here: the runtime has no way to switch users yet.
_ROOT_USERS = ("", "root", "0", "root:root", "0:0")


def _discard(line: str) -> None:
    """Drop a line of output (a request made outside a build has no transcript)."""


@dataclass(frozen=True)
class RunRequest:
    """What a ``RUN`` step asks of a container runtime: the hook ``build(run=...)`` receives.

    ``rootfs`` is the image's filesystem so far (``rootfs.layers``, bottom
    first; ``rootfs.unpack(root)`` writes the files into a directory);
    ``command`` is the argv to run there (the shell form is already
    ``["/bin/sh", "-c", "..."]``), with ``env`` (``KEY=value``: the image's
    Env plus the build's ARGs), ``workdir`` and ``user``. The hook returns
    the changes as ``Entry`` values (whiteouts for deletions -
    ``imgkit.fsdiff.diff`` makes them) or a ``Layer``; an empty result adds
    an ``empty_layer`` history entry, as the classic builder does.
    ``location`` (``Dockerfile:7``) is for the hook's error messages;
    ``output(line)`` puts a line of the command's output in the transcript.
    """

    command: tuple[str, ...]
    rootfs: Rootfs
    env: tuple[str, ...]
    workdir: str
    user: str
    location: str
    output: Callable[[str], None] = field(default=_discard, repr=False, compare=False)


RunHook = Callable[[RunRequest], "Iterable[Entry] | Layer | None"]


def no_container_runtime(request: RunRequest):
    """A ``RUN`` hook that refuses every command: pass it to build without ever running one.

    A hook may raise ``BuildError("reason")``: the build adds the file and line.
    """
    raise BuildError("RUN needs a container runtime; this host cannot run commands in "
                     "containers yet")


def _make_workdir(upper: str, request: RunRequest) -> None:
    """Make a missing working directory in ``upper``, as Docker does before it starts a command.

    The new directories are then part of the step's changes. The path is
    resolved inside the image first, so a symlink on the way cannot point a
    ``mkdir`` at the host's own directories; modes are set, not left to the umask.
    """
    current = upper
    for part in filter(None, request.rootfs.resolve(request.workdir, follow_last=True).split("/")):
        current = os.path.join(current, part)
        if not os.path.lexists(current):
            os.mkdir(current)
            os.chmod(current, 0o755)
        elif not os.path.isdir(current) or os.path.islink(current):
            raise BuildError(f"cannot use {request.workdir} as the working directory: "
                             f"{current[len(upper):]} is not a directory")


def run_in_container(request: RunRequest) -> list[Entry]:
    """The default ``RUN`` hook: run the command in a container of the image so far.

    Returns the changes the command made (empty if none); raises
    ``BuildError`` when the command fails, when this host cannot run
    containers (saying why), or for a ``USER`` other than root.
    """
    possible, why = runtime.can_run()
    if not possible:
        raise BuildError(f"RUN needs a container runtime; this host cannot run commands in "
                         f"containers: {why}")
    if request.user not in _ROOT_USERS:
        raise BuildError(f"RUN as USER {request.user} is not supported by imgkit yet: "
                         "its containers run as root")
    work = tempfile.mkdtemp(prefix="imgkit-run-")
    try:
        lower, upper = os.path.join(work, "lower"), os.path.join(work, "upper")
        for root in (lower, upper):          # an image with no layers is an empty root
            os.mkdir(root, 0o755)
            request.rootfs.unpack(root)
        _make_workdir(upper, request)
        spec = runtime.RunSpec(upper, list(request.command), list(request.env), request.workdir)
        try:
            result = runtime.run(spec)
        except subprocess.SubprocessError as err:      # e.g. the chroot itself failed
            raise BuildError(f"cannot start the container for RUN: {err}") from None
        for stream in (result.stdout, result.stderr):
            for line in stream.decode("utf-8", "replace").splitlines():
                request.output(line)
        code = result.returncode
        code = 128 - code if code < 0 else code          # killed by signal N: 128+N, as Docker says
        if code != 0:
            raise BuildError(f"The command '{' '.join(request.command)}' returned a non-zero "
                             f"code: {code}")
        return fsdiff.diff(lower, upper)
    finally:
        remove_tree(work)
