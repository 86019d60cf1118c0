"""``imgkit fsck`` and ``imgkit system df``: look after the store."""

from __future__ import annotations


def register(commands) -> None:
    """Add ``fsck`` to the parser."""
    fsck = commands.add_parser("fsck", help="check the store: re-hash blobs, resolve every record")
    fsck.add_argument("--repair", action="store_true",
                      help="rewrite index.json and remove leftovers of interrupted commands")
    fsck.set_defaults(run=_fsck)
    system = commands.add_parser("system", help="manage imgkit (disk usage)")
    sub = system.add_subparsers(dest="system_command", metavar="COMMAND")
    df = sub.add_parser("df", help="show disk usage, and which layers images share")
    df.add_argument("-v", "--verbose", action="store_true", help="show details per image")
    df.set_defaults(run=_df)
    system.set_defaults(run=lambda args: system.print_help() or 1)


def _fsck(args) -> int:
    from ..api.maintenance import fsck

    report = fsck(repair_garbage=args.repair)
    for line in report.lines():
        print(line)
    return 0 if report.clean else 1


def _df(args) -> int:
    from ..api.diskusage import system_df

    usage = system_df()
    print(usage.verbose() if args.verbose else usage.summary())
    return 0
