"""The ``imgkit`` command: Docker's commands, spelled the same, on imgkit's own store.

Each command group lives in its own module and adds its sub-commands to the
parser with ``register(commands)``; a module that also has Docker's ``image``
spelling (``imgkit image ls`` for ``imgkit images``) adds those with
``register_image(image_commands)``. The function a sub-command sets as
``run`` gets the parsed arguments and returns an exit status. Errors imgkit raises on
purpose become one line on standard error and exit status 1 - never a
traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main", "build_parser", "command"]

# Command modules, in the order `imgkit --help` lists them, with the commands each adds.
_COMMAND_MODULES = {
    "pull": ("pull",),
    "images": ("images", "inspect", "history", "tag"),
    "build": ("build",),
    "remove": ("rmi",),
    "containers": ("create", "start", "stop", "rm", "ps", "commit", "export", "cp"),
    "system": ("fsck", "system"),
    "graph": ("graph",),
    "lab": ("lab",),
    "settings": ("config",),
    "bundle": ("save", "load"),
    "doctor": ("doctor",),
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """Return the argument parser of the ``imgkit`` command.

    Given the command line, only the module of the command it names is
    registered: argparse spends about 0.5 ms per sub-command (its help
    texts go through ``gettext``), 20 ms for all of them, which every
    ``imgkit pull`` or ``imgkit images`` would pay. Help, ``image ...`` and
    anything unknown get the whole parser, so their output is unchanged.
    """
    from importlib import import_module

    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="imgkit", description="Container images for real: pull, list, share and delete "
        "them in imgkit's own store, with Docker's commands.")
    parser.add_argument("--home", metavar="DIR",
                        help="imgkit home holding the store and the lab (default: "
                             "$IMGKIT_HOME or ~/.imgkit)")
    parser.add_argument("--version", action="version", version=f"imgkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    command = _command_of(argv)
    owners = [name for name, names in _COMMAND_MODULES.items() if command in names]
    if owners:
        import_module(f".{owners[0]}", __name__).register(commands)
        return parser
    image = commands.add_parser("image", help="manage images (Docker's `image` spellings)")
    image_commands = image.add_subparsers(dest="image_command", metavar="COMMAND")
    image.set_defaults(run=lambda args: image.print_help(sys.stderr) or 1)
    for name in _COMMAND_MODULES:
        module = import_module(f".{name}", __name__)
        module.register(commands)
        if hasattr(module, "register_image"):
            module.register_image(image_commands)
    return parser


def _command_of(argv: list[str] | None) -> str | None:
    """Return the command word of a command line (``pull`` in ``--home H pull x``), if plain."""
    words = iter(sys.argv[1:] if argv is None else argv)
    for word in words:
        if word == "--home":
            next(words, None)
        elif not word.startswith("--home="):
            return None if word.startswith("-") else word
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the ``imgkit`` command line; return its exit status."""
    from ..errors import ImgkitError

    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.home is not None:
        # Everything below reads the home from the environment, as the library does.
        os.environ["IMGKIT_HOME"] = os.path.abspath(os.path.expanduser(args.home))
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 1
    try:
        return int(args.run(args) or 0)
    except ImgkitError as exc:
        print(_one_line(str(exc)), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `imgkit images | head`: the reader left; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def command() -> int:
    """The ``imgkit`` program (and ``python -m imgkit``): ``main``, with Python's own costs cut.

    Two costs of a short command are the interpreter's, not the command's.
    Its garbage collector walks the objects start-up made over and over
    while they are made (see below). And on its way out it tears down every
    module and object (requests, imgkit: 10-25 ms of a 0.6 s pull), memory
    the system takes back anyway. Nothing is left to write by then - every
    file imgkit writes is closed, flushed and synced before ``main`` returns
    - so once the exit handlers have run (coverage, logging, temporary
    directories) and standard output is flushed, the process ends at once.
    If a thread that is not a daemon still runs, Python's own exit (which
    waits for it) is kept, with the objects frozen (``gc.freeze``) so that
    its last collection skips them.
    """
    import atexit
    import gc
    import threading

    # Start-up makes some 40,000 objects that live as long as the program (the modules,
    # classes and functions of requests and imgkit). At the collector's default pace, one
    # collection per 700 new objects, they are walked some 50 times before a pull has even
    # begun - 10-15 ms for nothing. A command makes far fewer than 50,000 objects that die
    # in cycles; a long one (`lab serve`, a big build) is still collected, less often.
    gc.set_threshold(50_000, 10, 10)
    status = main()
    gc.freeze()
    if any(not thread.daemon for thread in threading.enumerate()
           if thread is not threading.main_thread()):
        return status
    atexit._run_exitfuncs()            # what Python itself runs first on its way out
    try:
        sys.stdout.flush()
    except BrokenPipeError:             # `imgkit images | head`, as in main
        pass
    try:
        sys.stderr.flush()
    except OSError:
        pass
    os._exit(status)


def _one_line(message: str) -> str:
    return " ".join(message.split()) if "\n" in message else message
