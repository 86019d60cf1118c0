"""``imgkit lab start|stop|status|publish|reset``: the course's own registry."""

from __future__ import annotations

import sys


def register(commands) -> None:
    """Add the ``lab`` command group to the parser."""
    lab = commands.add_parser("lab", help="run the lab registry full of course images")
    sub = lab.add_subparsers(dest="lab_command", metavar="COMMAND")
    start = sub.add_parser("start", help="start the lab (or reuse it), seed it, make it the mirror")
    start.add_argument("--no-seed", action="store_true", help="do not push the course images")
    start.set_defaults(run=_start)
    sub.add_parser("stop", help="stop the lab registry").set_defaults(run=_stop)
    sub.add_parser("status", help="say whether the lab runs, and where").set_defaults(run=_status)
    publish = sub.add_parser("publish", help="publish a new build of a course image's tags")
    publish.add_argument("image", help="a course image, e.g. alpine:latest")
    publish.add_argument("--revision", type=int, default=2, help="which build (default 2)")
    publish.set_defaults(run=_publish)
    sub.add_parser("reset", help="put every course image back to its first build"
                   ).set_defaults(run=_reset)
    lab.set_defaults(run=lambda args: lab.print_help(sys.stderr) or 1)


def _start(args) -> int:
    from .. import lab

    def progress(line: str) -> None:
        print(line, file=sys.stderr)

    running = lab.start(seed=not args.no_seed, progress=progress)
    print(f"lab registry running at {running.url}")
    return 0


def _stop(args) -> int:
    from .. import lab

    print("lab registry stopped" if lab.stop() else "lab registry was not running")
    return 0


def _status(args) -> int:
    from .. import lab

    running = lab.status()
    if running is None:
        print("lab registry is not running (start it with `imgkit lab start`)")
        return 1
    print(f"lab registry running at {running.url}")
    return 0


def _publish(args) -> int:
    from .. import lab

    digest = lab.publish(args.image, revision=args.revision)
    print(f"published build {args.revision} of {args.image}: {digest}")
    return 0


def _reset(args) -> int:
    from .. import lab

    lab.reset()
    print("course images reset to their first build")
    return 0
