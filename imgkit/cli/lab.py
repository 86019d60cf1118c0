"""``imgkit lab start|stop|status|publish|reset|serve``: the course's own registry.

``lab start --from course.tar`` fills the lab from an ``imgkit save`` archive
instead of building the course images; ``lab serve`` runs the registry for a
whole room (see ``imgkit.lab.serve``); ``lab reset`` returns this machine to
the start of the course (it asks first, unless ``-f``).
"""

from __future__ import annotations

import sys


def register(commands) -> None:
    """Add the ``lab`` command group to the parser."""
    lab = commands.add_parser("lab", help="run the lab registry full of course images")
    sub = lab.add_subparsers(dest="lab_command", metavar="COMMAND")
    start = sub.add_parser("start", help="start the lab (or reuse it), seed it, make it the mirror")
    start.add_argument("--no-seed", action="store_true", help="do not push the course images")
    start.add_argument("--from", dest="bundle", metavar="FILE",
                       help="fill the lab from an `imgkit save` archive (no network needed)")
    start.set_defaults(run=_start)
    sub.add_parser("stop", help="stop the lab registry").set_defaults(run=_stop)
    sub.add_parser("status", help="say whether the lab runs, and where").set_defaults(run=_status)
    publish = sub.add_parser("publish", help="publish a new build of a course image's tags")
    publish.add_argument("image", help="a course image, e.g. alpine:latest")
    publish.add_argument("--revision", type=int, default=2, help="which build (default 2)")
    publish.set_defaults(run=_publish)
    reset = sub.add_parser(
        "reset", help="return this machine to the course start: remove every image, container "
        "and lesson host, and put the course images back to their first build")
    reset.add_argument("-f", "--force", action="store_true", help="do not ask for confirmation")
    reset.add_argument("--registry-only", action="store_true",
                       help="only put the lab's course images back; remove nothing")
    reset.set_defaults(run=_reset)
    _serve_parser(sub)
    lab.set_defaults(run=lambda args: lab.print_help(sys.stderr) or 1)


def _serve_parser(sub) -> None:
    serve = sub.add_parser(
        "serve", help="serve a registry to a whole room: the class mirror",
        description="Run the Distribution registry for a room of learners, with the course "
        "images, a bundle's images, or as a pull-through cache of Docker Hub; print the line "
        "learners run to use it.")
    serve.add_argument("--addr", default="0.0.0.0:5000", metavar="HOST:PORT",
                       help="where to listen (default 0.0.0.0:5000: every interface)")
    serve.add_argument("--proxy", nargs="?", const=True, default=None, metavar="URL",
                       help="be a pull-through cache of Docker Hub (or of URL)")
    serve.add_argument("--proxy-user", metavar="NAME",
                       help="log in to the proxied registry as NAME (password from "
                            "$IMGKIT_PROXY_PASSWORD)")
    serve.add_argument("--from", dest="bundle", metavar="FILE",
                       help="serve the images of an `imgkit save` archive")
    serve.add_argument("--no-seed", action="store_true", help="do not push the course images")
    serve.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD",
                       help="require a login; repeat for more users")
    serve.add_argument("--htpasswd", metavar="FILE",
                       help="require a login: users of this file (`htpasswd -Bbn` lines)")
    serve.add_argument("--tls-cert", metavar="PEM", help="speak HTTPS with this certificate")
    serve.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")
    serve.add_argument("--advertise", metavar="URL",
                       help="the URL learners use (default: this machine's address)")
    serve.add_argument("--status", action="store_true", help="say what is being served")
    serve.add_argument("--stop", action="store_true", help="stop serving")
    serve.set_defaults(run=_serve)


def _start(args) -> int:
    from .. import lab

    def progress(line: str) -> None:
        print(line, file=sys.stderr)

    running = lab.start(seed=not args.no_seed, bundle=args.bundle, progress=progress)
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

    if args.registry_only:
        lab.reset()
        print("course images reset to their first build")
        return 0
    home = lab.lab_home()
    if not args.force and not _confirm(
            f"WARNING! This will remove every image and container of {home}, and every "
            f"lesson's host under {home / 'lessons'},\nand put the lab's course images back "
            "to their first build."):
        return 0
    for line in lab.reset_host().lines():
        print(line)
    return 0


def _confirm(warning: str) -> bool:
    """Ask as Docker does; anything but y or yes is no (and so is a closed stdin)."""
    print(warning)
    print("Are you sure you want to continue? [y/N] ", end="", flush=True)
    try:
        answer = sys.stdin.readline().strip().lower()
    except (OSError, ValueError):
        answer = ""
    if answer not in ("y", "yes"):
        print()
        return False
    return True


def _serve(args) -> int:
    import os

    from .. import lab
    from ..errors import LabError

    if args.stop:
        print("class mirror stopped" if lab.stop_serving() else "no class mirror was running")
        return 0
    if args.status:
        served = lab.serving()
        if served is None:
            print("no class mirror is running (start one with `imgkit lab serve`)")
            return 1
        print("\n".join(served.instructions()))
        return 0
    users = {}
    for item in args.user:
        name, sep, password = item.partition(":")
        if not sep or not name:
            raise LabError(f"--user takes NAME:PASSWORD, not {item!r}")
        users[name] = password

    def progress(line: str) -> None:
        print(line, file=sys.stderr)

    served = lab.serve(args.addr, proxy=args.proxy, proxy_username=args.proxy_user,
                       proxy_password=os.environ.get("IMGKIT_PROXY_PASSWORD") if args.proxy_user
                       else None, users=users or None, htpasswd=args.htpasswd,
                       tls_certificate=args.tls_cert, tls_key=args.tls_key, bundle=args.bundle,
                       seed=not args.no_seed, advertise=args.advertise, progress=progress)
    print("\n".join(served.instructions()))
    return 0
