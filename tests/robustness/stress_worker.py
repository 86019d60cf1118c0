"""One of several processes sharing a store: run random imgkit commands, report each outcome.

    python stress_worker.py SEED COUNT

Each command goes through ``imgkit.cli.main`` - the ``imgkit`` command's own
entry point, so its one-line error handling is what is tested - but inside
this process, so that a command costs milliseconds instead of an interpreter
start. One JSON line per command goes to standard output:
``{"argv", "status", "stderr", "escaped"}``, where ``escaped`` holds the
traceback of anything that got past ``main`` (there must never be one).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import sys
import traceback

# Images of the lab that share layers: alpine's base is under redis and python,
# ubuntu 22.04's under mongo.
IMAGES = ("alpine:3.20", "redis:7.2", "python:3.12-alpine", "busybox", "ubuntu:22.04",
          "mongo:4.2.24", "hello-world")


def commands(rng: random.Random, count: int):
    for _ in range(count):
        image = rng.choice(IMAGES)
        kind = rng.choices(("pull", "tag", "rmi", "rmi-f", "prune", "images", "inspect"),
                           weights=(6, 3, 4, 1, 1, 1, 1))[0]
        if kind == "pull":
            yield ["pull", image]
        elif kind == "tag":
            yield ["tag", image, f"class/{image.partition(':')[0]}:copy{rng.randrange(3)}"]
        elif kind == "rmi":
            yield ["rmi", rng.choice([image, f"class/{image.partition(':')[0]}:copy0"])]
        elif kind == "rmi-f":
            yield ["rmi", "-f", image]
        elif kind == "prune":
            yield ["image", "prune", "-f", "-a"]
        elif kind == "images":
            yield ["images", "-q"]
        else:
            yield ["inspect", image]


def main() -> int:
    from imgkit import cli

    seed, count = int(sys.argv[1]), int(sys.argv[2])
    for argv in commands(random.Random(seed), count):
        out, err = io.StringIO(), io.StringIO()
        escaped = None
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                status = cli.main(argv)
        except SystemExit as exc:           # argparse refusing the arguments
            status = exc.code if isinstance(exc.code, int) else 2
        except BaseException:
            status, escaped = None, traceback.format_exc()
        print(json.dumps({"argv": argv, "status": status, "stderr": err.getvalue(),
                          "escaped": escaped}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
