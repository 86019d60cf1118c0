"""``imgkit fsck`` (and, later, ``imgkit system df``): look after the store."""

from __future__ import annotations


def register(commands) -> None:
    """Add ``fsck`` to the parser."""
    fsck = commands.add_parser("fsck", help="check the store: re-hash blobs, resolve every record")
    fsck.add_argument("--repair", action="store_true",
                      help="rewrite index.json and remove leftovers of interrupted commands")
    fsck.set_defaults(run=_fsck)


def _fsck(args) -> int:
    from ..api.maintenance import fsck

    report = fsck(repair_garbage=args.repair)
    for line in report.lines():
        print(line)
    return 0 if report.clean else 1
