"""Run commands alternately, many times, and compare them by their medians.

These machines are noisy, so a single timing says little and a time limit
in a test would flake. Benchmarks here run the tools being compared one after
the other, round after round (A B A B ...), so that a slow moment of the
machine hits both, and report medians and ratios from the same run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Sample:
    """One run of one command: wall seconds, CPU seconds (user + system, the command and the
    children it waited for) and peak memory (RSS) of the command's own process."""

    seconds: float
    peak_rss_kib: int
    cpu_seconds: float = 0.0


@dataclass
class Series:
    """All runs of one command."""

    name: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def peak_rss_mib(self) -> float:
        return max(s.peak_rss_kib for s in self.samples) / 1024

    @property
    def cpu_median(self) -> float:
        """Median CPU seconds: steadier than wall time on a busy machine."""
        return statistics.median(s.cpu_seconds for s in self.samples)


#: GNU time, when installed: it forks the command from its own small process.
GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


def run_once(argv: list[str], env: dict | None = None, cwd: str | None = None) -> Sample:
    """Run ``argv`` to completion; return its wall time, CPU time and its own peak RSS.

    A child's peak RSS starts at its parent's RSS when it is forked (Linux
    keeps the high-water mark across ``exec``), so a command started from this
    Python process would report at least this process's ~25 MiB. Through GNU
    ``time``, a ~2 MiB process, the command's own figure is read instead.
    """
    report = None
    if GNU_TIME:
        fd, report = tempfile.mkstemp(prefix="imgkit-bench-rss-")
        os.close(fd)
        argv = [GNU_TIME, "-q", "-f", "%M", "-o", report, *argv]
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    # wait4 gives this child's resource usage and that of the children it waited for.
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss
    if report is not None:
        with open(report) as lines:
            text = lines.read().split()
        os.unlink(report)
        peak = int(text[-1]) if text and text[-1].isdigit() else peak
    if process.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({process.returncode}): {stderr.strip()[-500:]}")
    return Sample(seconds, peak, usage.ru_utime + usage.ru_stime)


def run_steps(*steps: list[str], env: dict | None = None) -> Sample:
    """Run commands one after the other as one contender: times and CPU add up, RSS is the
    largest of any step."""
    samples = [run_once(argv, env=env) for argv in steps]
    return Sample(sum(s.seconds for s in samples), max(s.peak_rss_kib for s in samples),
                  sum(s.cpu_seconds for s in samples))


def alternate(contenders: dict[str, Callable[[int], Sample]], rounds: int) -> dict[str, Series]:
    """Run each contender once per round, in turn, ``rounds`` times; return their series."""
    series = {name: Series(name) for name in contenders}
    for round_number in range(rounds):
        order = list(contenders)
        if round_number % 2:
            order.reverse()          # neither tool always goes first
        for name in order:
            series[name].samples.append(contenders[name](round_number))
    return series


def fresh_dir(path: str) -> str:
    """Empty ``path`` (removing what a previous run left) and return it.

    The removal is flushed before the timed run starts: on a filesystem
    mounted with ``discard`` (as these machines' are), deleting 24,000 files
    sends the disk TRIMs at the next journal commit, which would otherwise
    land inside - and slow - whichever command runs next.
    """
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.sync()
    return path


def machine() -> str:
    """Describe this machine in one line for the results."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}"
