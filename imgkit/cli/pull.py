"""``imgkit pull`` (and ``imgkit image pull``): download an image, printing what Docker prints.

    imgkit pull [-a] [-q] [--platform os/arch[/variant]] NAME[:TAG|@DIGEST]

Piped into a file or another program, the output is the same lines as
``docker pull``'s; on a terminal each layer gets a progress bar. ``-q``
prints only the reference pulled, last line of the normal output.
"""

from __future__ import annotations

import sys

__all__ = ["register", "register_image", "run"]

_HELP = "download an image from a registry into the store"


def _arguments(parser) -> None:
    parser.add_argument("-a", "--all-tags", action="store_true", dest="all_tags",
                        help="download all tagged images in the repository")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="suppress verbose output (print only the reference)")
    parser.add_argument("--platform", metavar="PLATFORM",
                        help="pull this platform of a multi-platform image, e.g. linux/arm64")
    parser.add_argument("name", metavar="NAME[:TAG|@DIGEST]")
    parser.set_defaults(run=run)


def register(commands) -> None:
    """Add ``imgkit pull``."""
    _arguments(commands.add_parser("pull", help=_HELP, description=_HELP))


def register_image(image_commands) -> None:
    """Add ``imgkit image pull``."""
    _arguments(image_commands.add_parser("pull", help=_HELP, description=_HELP))


def run(args) -> int:
    """Pull ``args.name``; errors propagate to ``main``, which prints one line and exits 1."""
    from ..api.pulling import pull
    from .progress import renderer_for

    if args.quiet:
        result = pull(args.name, platform=args.platform, all_tags=args.all_tags)
        print(result.reference, flush=True)
        return 0
    renderer = renderer_for(sys.stdout)
    try:
        pull(args.name, platform=args.platform, all_tags=args.all_tags, listener=renderer)
    finally:
        renderer.close()
    return 0
