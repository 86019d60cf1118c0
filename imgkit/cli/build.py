"""``imgkit build`` (and ``imgkit image build``): run a Dockerfile, printing the classic builder's lines.

    imgkit build [-t NAME[:TAG]]... [-f FILE] [--build-arg KEY[=VALUE]]... [-q] CONTEXT

The output is what ``docker build`` printed before BuildKit - the builder
the chapter describes - one ``Step N/M : INSTRUCTION`` line per instruction
and the ID of the image after it::

    Step 1/3 : FROM alpine:3.20
     ---> 8cf5d00e8892
    Step 2/3 : COPY app.py /app/
     ---> a18f51c31df3
    Step 3/3 : CMD ["python3", "/app/app.py"]
     ---> 94a23db8e956
    Successfully built 94a23db8e956
    Successfully tagged app:latest

A ``FROM`` image that is not in the store is pulled first, with pull's
lines. A ``RUN`` step runs its command in a container and prints what the
command printed, as the classic builder does::

    Step 2/3 : RUN ["/hello"]
     ---> Running in 6c1f0e9d2b7a

    Hello from imgkit's course copy of hello-world!
    ...
    Removing intermediate container 6c1f0e9d2b7a
     ---> 3e5a0b9c8d7f

``-q`` prints only the new image's ID. Errors are one line naming the
Dockerfile and line (``Dockerfile:3: unknown instruction: COPPY (did you
mean COPY?)``, ``Dockerfile:2: The command '/bin/sh -c false' returned a
non-zero code: 1``), exit status 1.
"""

from __future__ import annotations

import os
import sys

__all__ = ["register", "register_image", "run", "build_args"]

_HELP = "build an image from a Dockerfile"


def _arguments(parser) -> None:
    parser.add_argument("-t", "--tag", action="append", dest="tags", default=[],
                        metavar="NAME[:TAG]", help="name (and tag) the image; may repeat")
    parser.add_argument("-f", "--file", metavar="FILE",
                        help="the Dockerfile (default: CONTEXT/Dockerfile)")
    parser.add_argument("--build-arg", action="append", dest="build_args", default=[],
                        metavar="KEY[=VALUE]", help="set a build-time variable (ARG); may repeat")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only the image ID")
    parser.add_argument("context", metavar="CONTEXT", help="the build context directory")
    parser.set_defaults(run=run)


def register(commands) -> None:
    """Add ``imgkit build``."""
    _arguments(commands.add_parser("build", help=_HELP, description=_HELP))


def register_image(image_commands) -> None:
    """Add ``imgkit image build``."""
    _arguments(image_commands.add_parser("build", help=_HELP, description=_HELP))


def build_args(items: list[str], environ=os.environ) -> dict[str, str]:
    """Read ``--build-arg`` values; ``KEY`` alone takes ``$KEY`` and is skipped if it is unset."""
    values: dict[str, str] = {}
    for item in items:
        key, has_value, value = item.partition("=")
        if has_value:
            values[key] = value
        elif key in environ:
            values[key] = environ[key]
    return values


def run(args) -> int:
    """Build ``args.context``; errors propagate to ``main``, which prints one line and exits 1."""
    from ..api.building import build
    from .progress import renderer_for

    # Like docker, -f is relative to where you are, not to the context.
    dockerfile = os.path.abspath(args.file) if args.file else "Dockerfile"
    options = dict(tag=args.tags, dockerfile=dockerfile, build_args=build_args(args.build_args))
    if args.quiet:
        result = build(args.context, **options)
        print(result.image_id, flush=True)
        return 0
    renderer = renderer_for(sys.stdout)
    try:
        build(args.context, listener=renderer, **options)
    finally:
        renderer.close()
    return 0
