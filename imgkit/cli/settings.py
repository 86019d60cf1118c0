"""``imgkit config mirror [URL|--off]``: where pulls of docker.io images go first."""

from __future__ import annotations


def register(commands) -> None:
    """Add the ``config`` command group to the parser."""
    cfg = commands.add_parser("config", help="show or change this imgkit home's settings")
    sub = cfg.add_subparsers(dest="config_command", metavar="COMMAND")
    mirror = sub.add_parser("mirror", help="show or set the docker.io mirror")
    mirror.add_argument("url", nargs="?", help="mirror URL, e.g. http://127.0.0.1:5000")
    mirror.add_argument("--off", action="store_true", help="no mirror: pull from Docker Hub")
    mirror.set_defaults(run=_mirror)
    cfg.set_defaults(run=_show)


def _show(args) -> int:
    import json

    from .. import config

    print(json.dumps(config.load(), indent=2, sort_keys=True))
    return 0


def _mirror(args) -> int:
    from .. import config

    if args.off:
        config.set_mirrors([])
    elif args.url:
        if not args.url.startswith(("http://", "https://")):
            from ..errors import ConfigError
            raise ConfigError(f"mirror must be a URL starting with http:// or https://: {args.url}")
        config.set_mirrors([args.url])
    for url in config.mirrors():
        print(url)
    return 0
