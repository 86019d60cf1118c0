"""Run a command inside a container's filesystem, when this host allows it.

A container is, at its simplest, a process whose root directory is the
image's files: ``chroot`` makes ``/`` mean the container's ``rootfs``, so
``/hello`` is the image's ``/hello`` and the program sees no host files.
(Docker adds namespaces, cgroups and more isolation; imgkit stops at the
root directory, which is enough to show that an image is just files.)

Changing the root needs privileges: imgkit uses ``chroot`` directly when it
runs as root, or ``unshare --map-root-user --root`` where unprivileged user
namespaces are allowed. Where neither works, ``can_run()`` says why, and
callers say so plainly instead of pretending.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["can_run", "RunSpec", "run", "exec_failure", "start_detached", "read_exit", "stop", "alive"]


@dataclass(frozen=True)
class RunSpec:
    """What to run and how: the command, its environment and working directory in the root."""

    rootfs: str
    command: list[str]
    env: list[str]
    workdir: str = "/"


@functools.lru_cache(maxsize=None)
def can_run() -> tuple[bool, str]:
    """Tell whether commands can run in a container root here, and if not, why not."""
    if not sys.platform.startswith("linux"):
        return False, "running containers needs Linux"
    if os.geteuid() == 0:
        return True, "chroot (running as root)"
    unshare = shutil.which("unshare")
    if unshare is None:
        return False, "running containers needs root or the unshare program (util-linux)"
    probe = subprocess.run([unshare, "--user", "--map-root-user", "true"],
                           capture_output=True, timeout=10)
    if probe.returncode != 0:
        return False, "running containers needs root or unprivileged user namespaces"
    return True, "unshare --map-root-user (unprivileged user namespace)"


def _env(spec: RunSpec) -> dict[str, str]:
    env = dict(item.split("=", 1) for item in spec.env if "=" in item)
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env.setdefault("HOME", "/root")
    return env


def _argv_and_setup(spec: RunSpec):
    if os.geteuid() == 0:
        def enter_root():
            os.chroot(spec.rootfs)
            os.chdir(spec.workdir or "/")
        return list(spec.command), enter_root
    argv = ["unshare", "--user", "--map-root-user", f"--root={spec.rootfs}",
            f"--wd={spec.workdir or '/'}", *spec.command]
    return argv, None


def exec_failure(command: list[str], error: OSError) -> tuple[int, str]:
    """Return the exit status and message a container runtime gives when exec fails."""
    name = command[0] if command else ""
    if error.errno == errno.ENOENT:
        return 127, f'exec: "{name}": executable file not found in $PATH'
    if error.errno == errno.EACCES:
        return 126, f"exec {name}: permission denied"
    if error.errno == errno.ENOEXEC:
        # What a course image's stand-in binaries give: bytes, but no program.
        return 255, f"exec {name}: exec format error"
    return 255, f"exec {name}: {error.strerror.lower() if error.strerror else error}"


def run(spec: RunSpec, *, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run a command in the root to completion; return its exit status and output."""
    argv, setup = _argv_and_setup(spec)
    try:
        return subprocess.run(argv, preexec_fn=setup, env=_env(spec), capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except OSError as exc:
        code, message = exec_failure(spec.command, exc)
        return subprocess.CompletedProcess(argv, code, b"", (message + "\n").encode())


def start_detached(spec: RunSpec, state_dir: Path) -> int:
    """Start the command in the background; return the pid of its monitor.

    A small monitor process (``python -m imgkit.runtime``) runs the command,
    waits for it, and writes its exit status and end time to
    ``state_dir/exit.json``, so the status survives this Python session.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "exit.json").unlink(missing_ok=True)
    (state_dir / "spec.json").write_text(json.dumps(spec.__dict__))
    log = open(state_dir / "output.log", "ab")
    monitor = subprocess.Popen([sys.executable, "-m", "imgkit.runtime", str(state_dir)],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                               start_new_session=True)
    log.close()
    return monitor.pid


def alive(pid: int | None) -> bool:
    """Tell whether a process still runs (a zombie child is reaped and counts as ended)."""
    if not pid:
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_exit(state_dir: Path) -> dict | None:
    """Return ``{"exit_code", "finished"}`` once the command ended, else None."""
    try:
        return json.loads((state_dir / "exit.json").read_text())
    except (OSError, ValueError):
        return None


def stop(pid: int, timeout: float = 10.0) -> None:
    """Stop a started command: SIGTERM its process group, then SIGKILL after ``timeout``."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _monitor(state_dir: Path) -> int:
    spec = RunSpec(**json.loads((state_dir / "spec.json").read_text()))
    argv, setup = _argv_and_setup(spec)
    try:
        child = subprocess.Popen(argv, preexec_fn=setup, env=_env(spec), stdin=subprocess.DEVNULL)
    except OSError as exc:
        code, message = exec_failure(spec.command, exc)
        print(message, file=sys.stderr)
    else:
        def forward(signum, _frame):
            child.send_signal(signum)
        signal.signal(signal.SIGTERM, forward)
        code = child.wait()
        code = 128 - code if code < 0 else code   # killed by signal N -> 128+N, as a shell says
    from .store.images import utc_now
    tmp = state_dir / "exit.json.tmp"
    tmp.write_text(json.dumps({"exit_code": code, "finished": utc_now()}))
    os.replace(tmp, state_dir / "exit.json")
    return 0


if __name__ == "__main__":
    sys.exit(_monitor(Path(sys.argv[1])))
