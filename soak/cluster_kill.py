"""A cluster worker killed under load: are the other worker's clients undisturbed?

``thinkio run soak/app --workers 2``. Clients connect until both workers have some (the
Engine.IO sid names its worker: ``"1.xyz"``; the ``whoami`` ack gives the worker's pid).
Every client does ack round trips without pause; after ``worker_seconds`` worker 0 is killed
(SIGKILL), and the round trips go on for ``worker_seconds`` more.

Figures: clients per worker, the survivors' round trips and failures, how many of the
killed worker's clients saw their connection end, how long until the supervisor had a new
worker 0 serving a new client.

Goal: 0 failures among the other worker's clients, worker 0 replaced and serving a new
client within 15 s, 0 tracebacks.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from protocol._client import Closed, NoReply

from .clients import Bystander, ClientFailed, SioClient
from .processes import children, start_thinkio_app, wait_until
from .profiles import Profile
from .report import Result

__all__ = ("run",)

REPLACE_TIMEOUT = 15.0
PER_WORKER = 3


def _worker(client: SioClient) -> str:
    return client.eio_sid.partition(".")[0]


def _ended(client: SioClient) -> bool:
    try:
        client.drain(2.0)
    except (Closed, OSError):
        return True
    return client.socket.closed


def _new_client_on(url: str, worker: str, old_pid: int, deadline: float) -> bool:
    """Whether a new client reaches a new process serving as ``worker`` before ``deadline``."""
    while time.monotonic() < deadline:
        try:
            client = SioClient(url, timeout=2)
        except ClientFailed:
            time.sleep(0.2)
            continue
        try:
            if _worker(client) == worker and client.call("whoami")[0] != old_pid:
                return True
        except ClientFailed:
            pass
        finally:
            client.close()
    return False


def run(backend: str, profile: Profile, logs: Path) -> Result:
    """The worker-kill scenario on one backend."""
    result = Result(
        "worker-kill", backend,
        goal=f"0 failures on the other worker, worker replaced within {REPLACE_TIMEOUT:.0f} s, "
             "0 tracebacks",
    )  # fmt: skip
    server = start_thinkio_app(f"cluster-{backend}", logs, backend=backend, workers=2)
    clients: list[SioClient] = []
    bystanders: list[Bystander] = []
    try:
        wait_until(lambda: len(children(server.pid)) >= 2, 10)
        by_worker: dict[str, list[SioClient]] = {"0": [], "1": []}
        for _ in range(PER_WORKER * 10):
            if all(len(v) >= PER_WORKER for v in by_worker.values()):
                break
            client = SioClient(server.url)
            clients.append(client)
            by_worker.setdefault(_worker(client), []).append(client)
        victim_pid = by_worker["0"][0].call("whoami")[0]
        survivors = by_worker["1"]
        bystanders = [Bystander(server.url, client=c, interval=0.01) for c in survivors]
        for b in bystanders:
            b.start_and_wait()
        time.sleep(profile.worker_seconds)
        os.kill(victim_pid, signal.SIGKILL)
        killed = time.monotonic()
        victims_ended = sum(_ended(c) for c in by_worker["0"])
        replaced = _new_client_on(server.url, "0", victim_pid, killed + REPLACE_TIMEOUT)
        replaced_after = time.monotonic() - killed
        time.sleep(max(0.0, profile.worker_seconds - replaced_after))
        figures = [b.stop() for b in bystanders]
        failures = sum(f.failures for f in figures)
        tracebacks = server.tracebacks()
        result.figures = {
            "clients per worker": "/".join(str(len(v)) for v in by_worker.values()),
            "survivors' round trips": sum(f.round_trips for f in figures),
            "failures": failures,
            "killed worker's clients ended": f"{victims_ended} of {len(by_worker['0'])}",
            "replaced and serving after": f"{replaced_after:.1f} s" if replaced else "never",
            "supervisor alive": server.alive(),
            "tracebacks": tracebacks,
        }
        result.passed = replaced and failures == 0 and tracebacks == 0 and server.alive()
        for f in figures:
            result.notes += f.reasons
        if tracebacks:
            result.notes.append(server.first_traceback())
    except (ClientFailed, NoReply) as exc:
        result.notes.append(f"could not set up the clients: {exc}")
    finally:
        for b in bystanders:
            b.stop()
        for c in clients:
            c.socket.abort()
        server.stop()
    return result
