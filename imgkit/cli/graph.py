"""``imgkit graph``: draw the layers images share, as a picture file or a text tree.

    imgkit graph                          every image in the store, as a text tree
    imgkit graph redis python:3.12-alpine -o layers.svg
    imgkit graph --view rmi alpine        what `imgkit rmi alpine` would free and keep
    imgkit graph --view pull redis        which layers `imgkit pull redis` would download
    imgkit graph --view index alpine -o alpine.png

Docker has no such command; the picture is imgkit's.
"""

from __future__ import annotations

import sys

_VIEWS = ("images", "stack", "rmi", "pull", "index")


def register(commands) -> None:
    """Add ``graph`` to the parser."""
    parser = commands.add_parser("graph", help="draw the layers images share (imgkit only)")
    parser.add_argument("images", nargs="*", metavar="IMAGE",
                        help="images to draw (default: every image in the store)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write FILE.svg or FILE.png (needs Graphviz) or FILE.dot "
                             "(default: a text tree on standard output)")
    parser.add_argument("--view", choices=_VIEWS, default="images",
                        help="images: the images and their layers; stack: one image's layers; "
                             "rmi: what `rmi IMAGE...` would free and keep; pull: what "
                             "`pull IMAGE` would download; index: the platforms of IMAGE")
    parser.add_argument("-f", "--force", action="store_true", help="with --view rmi: as `rmi -f`")
    parser.add_argument("--platform", metavar="OS/ARCH", help="with --view pull: the platform to pull")
    parser.add_argument("--rankdir", choices=("TB", "LR"),
                        help="TB: base layers at the top; LR: at the left "
                             "(default: TB, LR when many images)")
    parser.add_argument("--dot", action="store_true", help="print DOT text instead of a tree")
    parser.set_defaults(run=_graph)


def _problem(args) -> str | None:
    count = len(args.images)
    if args.view in ("stack", "pull", "index") and count != 1:
        return f"`imgkit graph --view {args.view}` needs exactly one IMAGE"
    if args.view == "rmi" and not count:
        return "`imgkit graph --view rmi` needs at least one IMAGE"
    if args.platform and args.view != "pull":
        return "--platform goes with --view pull"
    if args.force and args.view != "rmi":
        return "--force goes with --view rmi"
    return None


def _graph(args) -> int:
    from .. import graph as graphs
    from ..graph.render import format_of

    problem = _problem(args)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    if args.output:
        format_of(args.output)          # a wrong name fails before any work is done
    view, names, rankdir = args.view, args.images, args.rankdir
    if view == "stack":
        drawn = graphs.stack(names[0], rankdir=rankdir)
    elif view == "rmi":
        drawn = graphs.rmi_preview(*names, force=args.force, rankdir=rankdir)
    elif view == "pull":
        drawn = graphs.pull_preview(names[0], platform=args.platform, rankdir=rankdir)
    elif view == "index":
        drawn = graphs.index(names[0], rankdir=rankdir)
    else:
        drawn = graphs.graph(*names, rankdir=rankdir)
    if args.output:
        drawn.save(args.output)
    elif args.dot:
        sys.stdout.write(drawn.to_dot())
    else:
        print(drawn.text())
    return 0
