"""Subprocesses of the benchmark: servers and load generators, always torn down.

Servers and generators can be pinned to one CPU each (``taskset -c N``), and start with
their open-files limit raised to the hard limit. Everything here waits with a deadline: a
line that never comes, a process that never exits and a server that never listens all end in
:class:`BenchError` after a bounded time, and every process started here is killed on the way
out (:class:`Processes` is a context manager).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from .procfs import raise_open_files_limit

__all__ = ("BenchError", "Proc", "Processes")

_LISTENING = re.compile(rb"listening on (127\.0\.0\.1|localhost|\[::1\]|::1):(\d+)")
_PR_SET_PDEATHSIG = 1


class BenchError(Exception):
    """A server or load generator misbehaved (did not start, timed out, failed)."""


def _prepare_child() -> None:
    """In the child, before exec: get SIGKILL when the harness dies, even by SIGKILL (Linux),
    and as many open files as the hard limit allows (5000 connections need 5000)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    with contextlib.suppress(OSError, ValueError):
        raise_open_files_limit()


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode(errors="replace").strip()


class Proc:
    """One child process: line-oriented stdout, stderr kept in a temporary file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        cwd: Path,
        stdin: bool,
        env: dict[str, str],
        cpu: int | None = None,
    ) -> None:
        self.name = name
        # taskset execs the command: the process id stays the one /proc is read for.
        self.argv = ["taskset", "-c", str(cpu), *argv] if cpu is not None else list(argv)
        self._stderr_file: IO[bytes] = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="bench-", suffix=".stderr", delete=False
        )
        self.stderr_path = Path(self._stderr_file.name)
        self.popen = subprocess.Popen(
            self.argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr_file,
            preexec_fn=_prepare_child if sys.platform == "linux" else None,
        )
        self._buffer = b""
        assert self.popen.stdout is not None
        os.set_blocking(self.popen.stdout.fileno(), False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stderr_tail(self) -> str:
        return _tail(self.stderr_path)

    def read_line(self, deadline: float) -> bytes:
        """The next stdout line (without the newline), waiting until ``deadline`` at most."""
        stdout = self.popen.stdout
        assert stdout is not None
        fd = stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BenchError(f"{self.name}: timed out waiting for output")
                if sel.select(min(left, 0.5)):
                    try:
                        chunk = os.read(fd, 65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        try:
                            code: int | None = self.popen.wait(5)
                        except subprocess.TimeoutExpired:
                            code = None
                        raise BenchError(f"{self.name}: closed its output (exit code {code})")
                    self._buffer += chunk
                elif self.popen.poll() is not None:
                    raise BenchError(f"{self.name}: exited with {self.popen.returncode}")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def write_line(self, text: str) -> None:
        stdin = self.popen.stdin
        assert stdin is not None
        stdin.write(text.encode() + b"\n")
        stdin.flush()

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; always reaps the process."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.terminate()
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait(5)
        for stream in (self.popen.stdin, self.popen.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._stderr_file.close()
        with contextlib.suppress(OSError):
            self.stderr_path.unlink()


class Processes:
    """Starts processes and kills every one of them on exit, whatever happened."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._procs: list[Proc] = []
        self.env = dict(os.environ)
        self.env["PYTHONUNBUFFERED"] = "1"

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop_all()

    def stop_all(self) -> None:
        while self._procs:
            self._procs.pop().stop()

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        stdin: bool = False,
        cpu: int | None = None,
        env: dict[str, str] | None = None,
    ) -> Proc:
        """Start ``argv``; pinned to CPU ``cpu`` (with ``taskset``) unless it is None; with
        ``env`` instead of :attr:`env` if given."""
        proc = Proc(name, argv, cwd=self.cwd, stdin=stdin, env=env or self.env, cpu=cpu)
        self._procs.append(proc)
        return proc

    def stop(self, proc: Proc, grace: float = 3.0) -> None:
        if proc in self._procs:
            self._procs.remove(proc)
        proc.stop(grace)

    def start_server(
        self,
        name: str,
        argv: Sequence[str],
        *,
        cpu: int | None = None,
        timeout: float = 20.0,
        env: dict[str, str] | None = None,
    ) -> tuple[Proc, int]:
        """Start a server and wait for its ``listening on HOST:PORT`` line (loopback only)."""
        proc = self.start(name, argv, cpu=cpu, env=env)
        deadline = time.monotonic() + timeout
        try:
            while True:
                line = proc.read_line(deadline)
                match = _LISTENING.search(line)
                if match:
                    return proc, int(match.group(2))
                if line.startswith(b"listening on"):
                    raise BenchError(f"{proc.name}: not on loopback: {line!r}")
        except BenchError as exc:
            tail = proc.stderr_tail()
            self.stop(proc)
            raise BenchError(f"{exc}\n{tail}") from None
