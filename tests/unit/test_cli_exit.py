"""The ``imgkit`` program ends at once after its command - yet loses nothing on the way out."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run_program(tmp_path, before: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``imgkit ARGS`` as its console script does, after the Python in ``before``."""
    code = (f"import sys\n{before}\n"
            f"sys.argv = ['imgkit', '--home', {str(tmp_path / 'home')!r}, *{list(args)!r}]\n"
            "from imgkit.cli import command\nsys.exit(command())\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("args,status", [(["images", "-q"], 0), (["inspect", "nope"], 1)])
def test_exit_handlers_run_output_is_flushed_and_the_status_kept(tmp_path, args, status):
    before = ("import atexit\n"
              "atexit.register(lambda: sys.stderr.write('exit handler ran\\n'))\n"
              "sys.stdout.write('buffered, not yet flushed')")
    done = run_program(tmp_path, before, *args)
    assert done.returncode == status
    assert done.stdout.startswith("buffered, not yet flushed")
    assert done.stderr.endswith("exit handler ran\n")


def test_a_thread_still_running_is_waited_for(tmp_path):
    before = ("import threading, time\n"
              "threading.Thread(target=lambda: (time.sleep(0.5), print('thread done'))).start()")
    done = run_program(tmp_path, before, "images", "-q")
    assert (done.returncode, done.stdout) == (0, "thread done\n")


def test_a_reader_that_leaves_early_is_not_an_error(tmp_path):
    # `imgkit images | head -0`: the last flush meets a closed pipe.
    code = (f"import sys; sys.argv = ['imgkit', '--home', {str(tmp_path / 'home')!r}, 'images']\n"
            "from imgkit.cli import command\nsys.exit(command())\n")
    reader = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    reader.stdout.close()
    assert reader.wait(timeout=60) == 0
    assert reader.stderr.read() == b""


def test_no_collection_walks_the_objects_a_command_imports(tmp_path):
    # Python's default would collect some 20-50 times while a command imports its modules.
    code = ("import gc, sys\n"
            "from imgkit.cli import command\n"
            "collections = []\n"
            "gc.callbacks.append(lambda phase, info: phase == 'stop' and collections.append(1))\n"
            "import atexit\n"
            "atexit.register(lambda: sys.stderr.write(f'{len(collections)} collections\\n'))\n"
            f"sys.argv = ['imgkit', '--home', {str(tmp_path / 'home')!r}, 'images']\n"
            "sys.exit(command())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stderr) == (0, "0 collections\n")
