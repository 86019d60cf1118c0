"""``imgkit rmi`` and ``imgkit image prune``: Docker's removal commands, explained."""

from __future__ import annotations

import sys


def register(commands) -> None:
    """Add ``rmi`` to the parser."""
    _add_rmi(commands.add_parser("rmi", help="remove one or more images"))


def register_image(image_commands) -> None:
    """Add ``image rm`` (``image remove``) and ``image prune``."""
    _add_rmi(image_commands.add_parser("rm", aliases=["remove"], help="remove one or more images"))
    prune = image_commands.add_parser("prune", help="remove unused images")
    prune.add_argument("-a", "--all", action="store_true",
                       help="remove all unused images, not just dangling ones")
    prune.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    prune.add_argument("--filter", action="append", default=[], metavar="FILTER",
                       help='provide filter values (e.g. "until=<timestamp>")')
    prune.set_defaults(run=_prune)


def _add_rmi(parser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("-f", "--force", action="store_true", help="force removal of the image")
    parser.add_argument("--no-prune", action="store_true", help="do not delete untagged parents")
    parser.add_argument("--dry-run", action="store_true",
                        help="say what would be removed and freed, remove nothing (imgkit only)")
    parser.set_defaults(run=_rmi)


def _rmi(args) -> int:
    from ..api.removal import rmi

    result = rmi(*args.images, force=args.force, prune=not args.no_prune, dry_run=args.dry_run)
    for line in result.lines():
        print(line)
    if result.errors:
        print("\n".join(result.errors), file=sys.stderr)
        # Docker: with -f, images that are not there are no failure.
        return 0 if args.force and result.missing_only else 1
    return 0


def _prune(args) -> int:
    from ..api.pruning import WARNING_ALL, WARNING_DANGLING, prune

    if not args.force:
        print(WARNING_ALL if args.all else WARNING_DANGLING)
        print("Are you sure you want to continue? [y/N] ", end="", flush=True)
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            print()
            return 0
    result = prune(all=args.all, filters=args.filter)
    for line in result.lines():
        print(line)
    return 0
