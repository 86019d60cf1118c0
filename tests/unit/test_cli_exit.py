"""The ``imgkit`` program ends at once after its command - yet loses nothing on the way out."""

from __future__ import annotations

import subprocess
import sys

import pytest


def program(tmp_path, *args: str, before: str = "", after_import: str = "") -> list[str]:
    """The command line running ``imgkit ARGS`` as its console script does, with the Python
    in ``before`` run first and ``after_import`` once ``imgkit.cli`` is imported."""
    code = (f"import sys\n{before}\nfrom imgkit.cli import command\n{after_import}\n"
            f"sys.argv = ['imgkit', '--home', {str(tmp_path / 'home')!r}, *{list(args)!r}]\n"
            "sys.exit(command())\n")
    return [sys.executable, "-c", code]


def run_program(tmp_path, *args: str, **code: str) -> subprocess.CompletedProcess:
    return subprocess.run(program(tmp_path, *args, **code), capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("args,status", [(["images", "-q"], 0), (["inspect", "nope"], 1)])
def test_exit_handlers_run_output_is_flushed_and_the_status_kept(tmp_path, args, status):
    before = ("import atexit\n"
              "atexit.register(lambda: sys.stderr.write('exit handler ran\\n'))\n"
              "sys.stdout.write('buffered, not yet flushed')")
    done = run_program(tmp_path, *args, before=before)
    assert done.returncode == status
    assert done.stdout.startswith("buffered, not yet flushed")
    assert done.stderr.endswith("exit handler ran\n")


def test_a_thread_still_running_is_waited_for(tmp_path):
    before = ("import threading, time\n"
              "threading.Thread(target=lambda: (time.sleep(0.5), print('thread done'))).start()")
    done = run_program(tmp_path, "images", "-q", before=before)
    assert (done.returncode, done.stdout) == (0, "thread done\n")


def test_a_reader_that_leaves_early_is_not_an_error(tmp_path):
    # `imgkit images | head -0`: the last flush meets a closed pipe.
    reader = subprocess.Popen(program(tmp_path, "images"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    reader.stdout.close()
    assert reader.wait(timeout=60) == 0
    assert reader.stderr.read() == b""


def test_no_collection_walks_the_objects_a_command_imports(tmp_path):
    # Python's default would collect some 20-50 times while a command imports its modules.
    counted = ("import atexit, gc\n"
               "collections = []\n"
               "gc.callbacks.append(lambda phase, info: phase == 'stop' and collections.append(1))\n"
               "atexit.register(lambda: sys.stderr.write(f'{len(collections)} collections\\n'))")
    done = run_program(tmp_path, "images", after_import=counted)
    assert (done.returncode, done.stderr) == (0, "0 collections\n")
