"""What Linux's /proc says about a process: CPU time, time spent waiting for a CPU, memory.

CPU time is every thread's ``schedstat`` (nanoseconds): the first field is time on a CPU,
the second time spent runnable but waiting in a run queue. The wait of the main thread (the
event loop of every server here) shows a process that wanted more CPU than it got: a load
generator that was on a CPU or waiting for one nearly all the time was the bottleneck,
whatever it got. Other threads' waits are left out: a multi-threaded process pinned to one
core (Node's helper threads) waits for itself, which says nothing about the machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ("CpuSample", "cpu_sample", "raise_open_files_limit", "rss_kib")

_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuSample:
    """Seconds a process has spent on a CPU (``run_s``, every thread) and its main thread
    waiting for one (``wait_s``)."""

    run_s: float
    wait_s: float

    def __sub__(self, other: CpuSample) -> CpuSample:
        return CpuSample(self.run_s - other.run_s, self.wait_s - other.wait_s)


def cpu_sample(pid: int | str = "self") -> CpuSample:
    """``pid``'s CPU time and wait; without schedstat, user + system time from ``stat``."""
    main = str(os.getpid() if pid == "self" else pid)
    run = wait = 0
    found = False
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "schedstat").read_text().split()
            run += int(fields[0])
            if task.name == main:
                wait = int(fields[1])
            found = True
        except (OSError, ValueError, IndexError):
            continue  # a thread that just exited
    if found:
        return CpuSample(run / 1e9, wait / 1e9)
    stat = Path(f"/proc/{pid}/stat").read_text()
    # Fields after the command name, which is in parentheses and may contain spaces.
    fields = stat[stat.rindex(")") + 2 :].split()
    return CpuSample((int(fields[11]) + int(fields[12])) / _CLK_TCK, 0.0)


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of ``pid`` now, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise OSError(f"no VmRSS for process {pid}")


def raise_open_files_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; the new soft limit.

    Thousands of connections need as many descriptors; many systems start processes with a
    soft limit of 1024 and a much higher hard one.
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard
