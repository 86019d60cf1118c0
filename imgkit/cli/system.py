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
    from ..format import created_ago, human_size, table

    usage = system_df()
    if not args.verbose:
        print(table(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], usage.summary_rows()))
        return 0
    print("Images space usage:\n")
    rows = [[i.repository, i.tag, i.image_id[7:19], created_ago(i.created), human_size(i.size),
             human_size(i.shared_size, 4), human_size(i.unique_size, 4), str(i.containers)]
            for i in usage.images]
    print(table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE",
                 "UNIQUE SIZE", "CONTAINERS"], rows))
    print("\nContainers space usage:\n")
    print(table(["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED",
                 "STATUS", "NAMES"], []))
    print("\nLocal Volumes space usage:\n")
    print(table(["VOLUME NAME", "LINKS", "SIZE"], []))
    print("\nBuild cache usage: 0B\n")
    print(table(["CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"], []))
    print("\nLayers and the images that share them (imgkit):\n")
    print(table(["LAYER", "SIZE", "IMAGES"],
                [[chain[7:19], human_size(size), str(count)]
                 for chain, size, count in usage.layer_rows()]))
    return 0
