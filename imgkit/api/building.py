"""``docker build`` without a daemon: run a Dockerfile into a new image in the store.

    >>> result = imgkit.api.build("myapp", tag="myapp:1.0")    # doctest: +SKIP
    >>> result                                                  # doctest: +SKIP
    Step 1/4 : FROM alpine:3.20
     ---> 1d34ffeaf190
    Step 2/4 : COPY app.py /app/
     ---> 5c3f1b5e2b8a
    Step 3/4 : ENV GREETING=hi
     ---> 0d6b9c5e7a41
    Step 4/4 : CMD ["python3", "/app/app.py"]
     ---> 9f8e7d6c5b4a
    Successfully built 9f8e7d6c5b4a
    Successfully tagged myapp:1.0

The output is the classic builder's (the one the chapter describes); the
image is what BuildKit would write: the same history texts
(``COPY app.py /app/ # buildkit``) and ``buildkit.dockerfile.v0`` comments.
And, the chapter's point, only steps that change files make a *layer*
(``COPY``, ``ADD``, a ``RUN`` whose command changed files, and a ``WORKDIR``
whose directory was missing - the classic builder's rule; BuildKit always
commits one for ``WORKDIR``), while ``ENV``, ``LABEL``, ``EXPOSE``,
``CMD``... add a history entry marked ``empty_layer`` and no layer. The
``FROM`` image's layers are reused as they are, so the new image shares
them (same ChainIDs) with every other image built on it.

Decisions, where Docker's behaviour and a teaching kit's needs part:

* **Same context, same image ID.** Docker stamps the build time; imgkit
  stamps ``created`` (config, new history entries, file mtimes) with
  ``SOURCE_DATE_EPOCH`` when it is set (environment or ``--build-arg``, as
  BuildKit honours it), else the ``FROM`` image's own ``created`` (scratch:
  ``imgkit.build.DEFAULT_CREATED``). Pass ``created=`` to choose (e.g. now).
* ``FROM`` uses the image in the store, else pulls it (with pull's lines).
  One stage only: a second ``FROM`` and ``COPY --from`` are refused.
* ``ADD`` unpacks local tar archives (plain, gzip, bzip2, xz); URLs and git
  sources are refused (imgkit builds offline). Here-documents are refused.
* ``RUN`` runs the command in a container of the image so far and keeps
  what it changed as the step's layer (``imgkit.api.buildrun``), printing
  its output between `` ---> Running in ...`` and ``Removing intermediate
  container ...``. A command that changes nothing adds an ``empty_layer``
  entry. Where this host cannot run containers the build stops and says
  why; ``build(..., run=...)`` plugs in another hook: see ``RunRequest``.
* ``.dockerignore`` is honoured (Docker's patterns, ``**`` and ``!`` included).
* Intermediate images (``---> id`` after each step) are not stored; the
  built image records its ``FROM`` image as parent.

The work is shared out: ``imgkit.dockerfile`` reads the file,
``imgkit.api.buildsteps`` runs each instruction on an ``ImageBuilder``,
``imgkit.api.buildcontext`` serves ``COPY``/``ADD``, ``imgkit.api.rootfs``
looks inside the image so far and ``imgkit.api.buildrun`` runs ``RUN``.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Mapping

from .. import digest as digests
from .. import reference as references
from ..dockerfile import parse
from ..errors import BuildError, InvalidReferenceError
from ..events import Listener, ProgressEvent
from ..store import store_built_image
from .buildcontext import BuildContext
from .buildrun import RunHook, RunRequest, no_container_runtime, run_in_container
from .buildsteps import PREDEFINED_ARGS, BuildState
from .host import Host, default_host
from .rootfs import Rootfs, StoredImage, StoredLayer

__all__ = ["build", "BuildResult", "BuildError", "RunRequest", "no_container_runtime",
           "run_in_container", "Rootfs", "BuildContext", "StoredImage", "StoredLayer"]


@dataclass(frozen=True, repr=False)
class BuildResult:
    """What ``build`` made: the image ID, its tags (familiar names) and the transcript."""

    image_id: str
    tags: list[str]
    lines: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return "\n".join(self.lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"


def build(context_dir: str | os.PathLike, *, tag: str | list[str] | None = None,
          dockerfile: str | os.PathLike = "Dockerfile", build_args: Mapping[str, str] | None = None,
          host: Host | None = None, listener: Listener | None = None,
          created: str | datetime | None = None, run: RunHook | None = None) -> BuildResult:
    """Build an image from a Dockerfile, like ``docker build -t TAG CONTEXT``.

    ``context_dir`` holds the files ``COPY`` and ``ADD`` read (minus what
    ``.dockerignore`` excludes); ``dockerfile`` is a path inside it (or an
    absolute path); ``tag`` is one name or a list (``myapp`` means
    ``myapp:latest``); ``build_args`` are ``--build-arg`` values for ARG.
    ``listener`` gets each output line as a ``ProgressEvent`` (and the pull's,
    when ``FROM`` pulls). ``created`` fixes the image's time (see the module
    doc for the default); ``run`` is the ``RUN`` hook (see ``RunRequest``).

    Errors name the file and line: ``Dockerfile:3: unknown instruction: COPPY
    (did you mean COPY?)``.
    """
    host = host if host is not None else default_host()
    context = Path(context_dir)
    if not context.is_dir():
        raise BuildError(f'unable to prepare context: path "{os.fspath(context_dir)}" not found')
    path = Path(dockerfile) if os.path.isabs(dockerfile) else context / dockerfile
    try:
        text = path.read_bytes()
    except OSError:
        raise BuildError(f"Cannot locate specified Dockerfile: {os.fspath(dockerfile)}") from None
    names = [tag] if isinstance(tag, str) else list(tag or [])
    refs = [references.parse(name).with_default_tag() for name in names]
    for ref, name in zip(refs, names, strict=True):
        if ref.digest is not None:
            raise InvalidReferenceError(f"invalid reference format: {name} (a tag cannot hold a digest)")
    df = parse(text, path.name)
    lines: list[str] = []

    def emit(event: ProgressEvent) -> None:
        if not event.has_progress:
            lines.append(event.line())
        if listener is not None:
            listener(event)

    def say(line: str) -> None:
        emit(ProgressEvent(line))

    state = BuildState(df, BuildContext(context), host, build_args or {}, emit, created,
                       run or run_in_container)
    stages = df.stages()
    if len(stages) > 1:
        raise BuildError("multi-stage builds (a second FROM) are not supported by imgkit yet",
                         df.path, stages[1][0].line)
    start, steps = stages[0]
    total = len(df.meta_args) + 1 + len(steps)
    number = 0
    for ins in df.meta_args:
        number += 1
        say(f"Step {number}/{total} : {ins.original}")
        state.meta_arg(ins)
    number += 1
    say(f"Step {number}/{total} : {start.original}")
    say(f" ---> {state.start(start)}")
    for ins in steps:
        number += 1
        say(f"Step {number}/{total} : {ins.original}")
        state.step(ins)
        say(f" ---> {digests.short(state.image.image_id())}")
    built = state.image.build()
    store_built_image(host.store, built, [str(ref) for ref in refs], parent=state.base_id)
    unused = sorted(set(state.build_args) - state.used_args - PREDEFINED_ARGS)
    if unused:
        say(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed")
    say(f"Successfully built {digests.short(built.id)}")
    for ref in refs:
        say(f"Successfully tagged {ref.familiar}")
    return BuildResult(built.id, [ref.familiar for ref in refs], lines)
