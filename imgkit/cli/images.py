"""``imgkit images``, ``inspect``, ``history`` and ``tag``: Docker's image listing commands.

Each prints what ``docker`` prints, byte for byte where imgkit can
(``imgkit images`` is ``docker images --format table``; Docker 29's
default tree view is not copied). Docker's ``image`` spellings work too:
``imgkit image ls`` (or ``image list``), ``image inspect``, ``image history``,
``image tag``.

Only the light parts of imgkit are imported here, so ``imgkit images``
starts quickly and never loads the registry client or the widgets.
"""

from __future__ import annotations

import sys

__all__ = ["register", "register_image"]

# `docker image` sub-commands: `docker images ls` lists nothing and hints at `image ls`.
_IMAGE_SUBCOMMANDS = {"build", "history", "import", "inspect", "list", "load", "ls", "prune",
                      "pull", "push", "rm", "save", "tag"}
_FORMATS = ("table", "json")


def register(commands) -> None:
    """Add ``images``, ``inspect``, ``history`` and ``tag`` to the parser."""
    _images_parser(commands.add_parser(
        "images", help="list images", description="List images, newest first."), "images")
    _inspect_parser(commands.add_parser(
        "inspect", help="show the JSON document of images",
        description="Show low-level information on images, as a JSON array."), top_level=True)
    _history_parser(commands.add_parser(
        "history", help="show how an image was built",
        description="Show the history of an image, newest step first."), "history")
    _tag_parser(commands.add_parser(
        "tag", help="give an image another name",
        description="Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE."))


def register_image(image_commands) -> None:
    """Add Docker's spellings: ``image ls`` (``image list``), ``image inspect/history/tag``."""
    _images_parser(image_commands.add_parser(
        "ls", aliases=["list"], help="list images", description="List images, newest first."),
        "image ls")
    _inspect_parser(image_commands.add_parser(
        "inspect", help="show the JSON document of images",
        description="Display detailed information on one or more images."), top_level=False)
    _history_parser(image_commands.add_parser(
        "history", help="show how an image was built",
        description="Show the history of an image, newest step first."), "image history")
    _tag_parser(image_commands.add_parser(
        "tag", help="give an image another name",
        description="Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE."))


# --- parsers -------------------------------------------------------------------------------

def _images_parser(parser, called_as: str) -> None:
    parser.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]",
                        help="only images whose name matches (a glob: alpine, alpine:3.*)")
    parser.add_argument("-a", "--all", action="store_true",
                        help="show all images (default hides intermediate images)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    parser.add_argument("--digests", action="store_true", help="show digests")
    parser.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    parser.add_argument("-f", "--filter", action="append", default=[], metavar="KEY=VALUE",
                        help="filter output: dangling, label, before, since, reference, until")
    parser.add_argument("--format", default="table", metavar="table|json",
                        help="table (default) or json (one object per line)")
    parser.set_defaults(run=_run_images, called_as=called_as)


def _inspect_parser(parser, top_level: bool) -> None:
    parser.add_argument("names", nargs="+", metavar="IMAGE", help="image names or IDs")
    parser.add_argument("-f", "--format", default="", metavar="json",
                        help="json: the array on one line (default: indented)")
    parser.set_defaults(run=_run_inspect, top_level=top_level)


def _history_parser(parser, called_as: str) -> None:
    parser.add_argument("name", metavar="IMAGE", help="image name or ID")
    parser.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    parser.add_argument("-H", "--human", default="true", metavar="true|false",
                        help="print sizes and dates in human readable format (default true)")
    parser.add_argument("--format", default="table", metavar="table|json",
                        help="table (default) or json (one object per line)")
    parser.set_defaults(run=_run_history, called_as=called_as)


def _tag_parser(parser) -> None:
    parser.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    parser.add_argument("target", metavar="TARGET_IMAGE[:TAG]")
    parser.set_defaults(run=_run_tag)


# --- running -------------------------------------------------------------------------------

def _check_format(value: str) -> str:
    from ..errors import ImgkitError

    if value not in _FORMATS:
        raise ImgkitError(f"--format {value!r}: imgkit prints 'table' or 'json' "
                          "(Go templates are not supported)")
    return value


def _print(text: str) -> None:
    if text:
        print(text)


def _run_images(args) -> int:
    from ..api.listing import images

    for value in args.filter:
        if value and "=" not in value:
            # The docker CLI refuses this while reading its flags (exit status 125).
            print(f'invalid argument "{value}" for "-f, --filter" flag: bad format of filter '
                  "(expected name=value)", file=sys.stderr)
            print(f"See 'imgkit {args.called_as} --help'.", file=sys.stderr)
            return 125
    fmt = _check_format(args.format)
    listing = images(args.reference, all=args.all, filters=args.filter, digests=args.digests,
                     no_trunc=args.no_trunc)
    if fmt == "json":
        _print(listing.to_json())
    elif args.quiet:
        _print("\n".join(listing.ids()))
    else:
        print(listing.table())
    if not listing and args.called_as == "images" and args.reference in _IMAGE_SUBCOMMANDS:
        print(f'No images found matching "{args.reference}": '
              f'did you mean "imgkit image {args.reference}"?', file=sys.stderr)
    return 0


def _run_inspect(args) -> int:
    from ..api.inspecting import Inspected, inspect
    from ..errors import ImageNotFoundError, ImgkitError, InvalidReferenceError

    if args.format not in ("", "json"):
        raise ImgkitError(f"--format {args.format!r}: imgkit prints the JSON array, indented or "
                          "with --format json (Go templates are not supported)")
    found, errors = Inspected(), []
    for name in args.names:
        try:
            found.extend(inspect(name))
        except (ImageNotFoundError, InvalidReferenceError) as err:
            # `docker inspect` looks for any kind of object; `docker image inspect` for images.
            errors.append(f"error: no such object: {name}" if args.top_level else str(err))
        except ImgkitError as err:
            errors.append(str(err))
    if args.format == "json":
        from ..format import go_json

        print(go_json(list(found), escape_html=False))
    else:
        print(found.to_json())
    for message in errors:
        print(message, file=sys.stderr)
    return 1 if errors else 0


def _run_history(args) -> int:
    from ..api.inspecting import history
    from ..errors import ImgkitError

    human = args.human.lstrip("=").lower()          # `-H=false` reaches us as "=false"
    if human not in ("true", "false", "1", "0", "t", "f"):
        raise ImgkitError(f'invalid argument "{args.human}" for "-H, --human" flag: '
                          f'strconv.ParseBool: parsing "{args.human}": invalid syntax')
    fmt = _check_format(args.format)
    steps = history(args.name, no_trunc=args.no_trunc, human=human in ("true", "1", "t"))
    if fmt == "json":
        _print(steps.to_json())
    elif args.quiet:
        _print("\n".join(steps.ids()))
    else:
        print(steps.table())
    return 0


def _run_tag(args) -> int:
    from ..api.tagging import tag

    tag(args.source, args.target)
    return 0
