"""``imgkit save`` and ``imgkit load`` (also ``image save``/``image load``): images in a tar.

Spelled as Docker spells them: ``save [-o FILE] IMAGE...`` writes to FILE,
or to standard output when it is not a terminal; ``load [-i FILE] [-q]``
reads FILE, or standard input, and prints ``Loaded image: alpine:3.20``.
"""

from __future__ import annotations

import sys

__all__ = ["register", "register_image"]

_SAVE = "save images to a tar archive (an OCI layout that docker load and skopeo read)"
_LOAD = "load images from a tar archive (imgkit save, docker save, skopeo oci-archive)"


def register(commands) -> None:
    """Add ``save`` and ``load``."""
    _save_parser(commands.add_parser("save", help=_SAVE, description=_SAVE))
    _load_parser(commands.add_parser("load", help=_LOAD, description=_LOAD))


def register_image(image_commands) -> None:
    """Add ``image save`` and ``image load``."""
    _save_parser(image_commands.add_parser("save", help=_SAVE, description=_SAVE))
    _load_parser(image_commands.add_parser("load", help=_LOAD, description=_LOAD))


def _save_parser(parser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE",
                        help="names (every tag of a bare repository name) or IDs")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE instead of standard output")
    parser.set_defaults(run=_save)


def _load_parser(parser) -> None:
    parser.add_argument("-i", "--input", metavar="FILE",
                        help="read from FILE instead of standard input")
    parser.add_argument("-q", "--quiet", action="store_true", help="suppress the load output")
    parser.add_argument("--platform", metavar="OS/ARCH",
                        help="which platform of a multi-platform image to load")
    parser.set_defaults(run=_load)


def _save(args) -> int:
    from ..api.bundle import save
    from ..errors import ImgkitError

    if args.output is None:
        if sys.stdout.isatty():
            raise ImgkitError("cowardly refusing to save to a terminal. Use the -o flag or "
                              "redirect")
        sys.stdout.flush()
        save(*args.images, output=sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return 0
    save(*args.images, output=args.output)
    return 0


def _load(args) -> int:
    from ..api.bundle import load
    from ..errors import ImgkitError

    if args.input is None and sys.stdin.isatty():
        raise ImgkitError("requested load from stdin, but stdin is empty")
    result = load(args.input if args.input is not None else sys.stdin.buffer,
                  platform=args.platform)
    if not args.quiet:
        for line in result.lines:
            print(line)
    return 0
