"""``imgkit create|start|stop|rm|ps|commit|export|cp``: containers, Docker's way."""

from __future__ import annotations

import argparse
import sys


def register(commands) -> None:
    """Add the container commands to the parser."""
    create = commands.add_parser("create", help="create a new container from an image")
    create.add_argument("--name", help="assign a name to the container")
    create.add_argument("image")
    create.add_argument("command", nargs=argparse.REMAINDER)
    create.set_defaults(run=_create)

    start = commands.add_parser("start", help="start one or more stopped containers")
    start.add_argument("-a", "--attach", action="store_true", help="wait and print the output")
    start.add_argument("containers", nargs="+", metavar="CONTAINER")
    start.set_defaults(run=_start)

    stop = commands.add_parser("stop", help="stop one or more running containers")
    stop.add_argument("-t", "--time", type=float, default=10.0, help="seconds before SIGKILL")
    stop.add_argument("containers", nargs="+", metavar="CONTAINER")
    stop.set_defaults(run=_stop)

    rm = commands.add_parser("rm", help="remove one or more containers")
    rm.add_argument("-f", "--force", action="store_true", help="stop a running container first")
    rm.add_argument("containers", nargs="+", metavar="CONTAINER")
    rm.set_defaults(run=_rm)

    ps = commands.add_parser("ps", help="list containers")
    ps.add_argument("-a", "--all", action="store_true", help="show all containers")
    ps.add_argument("-q", "--quiet", action="store_true", help="only display container IDs")
    ps.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    ps.set_defaults(run=_ps)

    commit = commands.add_parser("commit", help="create a new image from a container's changes")
    commit.add_argument("-m", "--message", help="commit message")
    commit.add_argument("-a", "--author", help="author")
    commit.add_argument("container")
    commit.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")
    commit.set_defaults(run=_commit)

    export = commands.add_parser("export", help="export a container's filesystem as a tar archive")
    export.add_argument("-o", "--output", help="write to a file instead of standard output")
    export.add_argument("container")
    export.set_defaults(run=_export)

    cp = commands.add_parser("cp", help="copy files from this computer into a container")
    cp.add_argument("source")
    cp.add_argument("destination", metavar="CONTAINER:PATH")
    cp.set_defaults(run=_cp)


def _create(args) -> int:
    from ..api.containers import create

    print(create(args.image, args.command or None, name=args.name))
    return 0


def _start(args) -> int:
    from ..api.containers import start

    status = 0
    for name in args.containers:
        result = start(name, attach=args.attach)
        if not result.ran:
            print(f"imgkit: {name} is recorded as running, without a process: {result.reason}",
                  file=sys.stderr)
        if args.attach and result.exit_code is not None:
            sys.stdout.buffer.write(result.output)
            sys.stdout.flush()
            status = result.exit_code
        else:
            print(name)
    return status


def _stop(args) -> int:
    from ..api.containers import stop

    for name in args.containers:
        stop(name, timeout=args.time)
        print(name)
    return 0


def _rm(args) -> int:
    from ..api.containers import rm

    for name in args.containers:
        rm(name, force=args.force)
        print(name)
    return 0


def _ps(args) -> int:
    from ..api.containers import ps

    rows = ps(all=args.all, no_trunc=args.no_trunc)
    if args.quiet:
        for row in rows:
            print(row[0])
    else:
        print(repr(rows))
    return 0


def _commit(args) -> int:
    from ..api.containers import commit

    print(commit(args.container, args.repository, message=args.message, author=args.author))
    return 0


def _export(args) -> int:
    from ..api.containers import export

    if args.output:
        export(args.container, args.output)
    elif sys.stdout.isatty():
        from ..errors import ImgkitError
        raise ImgkitError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    else:
        export(args.container, sys.stdout.buffer)
    return 0


def _cp(args) -> int:
    from ..api.containers import cp

    cp(args.source, args.destination)
    return 0
