"""A stalled reader under a large broadcast: is its memory given back, its connection closed?

Clients join the room ``sink`` and then stop reading their sockets (they never read again,
so they never answer a ping either). Another client asks the server to send
``blast_count`` events of ``blast_size`` bytes to the room. The server runs with a ping
interval and timeout of 1 s each, so each stalled session is dead 2 s after its last pong
at the latest.

Figures: the server's RSS before the broadcast, at its peak and after; how long after the
broadcast the server let go of the stalled clients' connections (its descriptor count back
to what it was before they connected), and how many it still held at the deadline.

Goal: within ping interval + ping timeout (+ 1 s for a loaded machine) of the broadcast's
end, every stalled connection is closed by the server, and its memory is back: RSS after at
most 10 MB (or a tenth of the peak's growth, whichever is more) above RSS before.
"""

from __future__ import annotations

import time
from pathlib import Path

from .clients import ClientFailed, SioClient
from .processes import start_thinkio_app
from .profiles import Profile
from .report import Result, mib

__all__ = ("run",)

PING_INTERVAL = 1.0
PING_TIMEOUT = 1.0
GRACE = 1.0
MB = 1024 * 1024


def run(backend: str, profile: Profile, logs: Path) -> Result:
    """The stalled-reader scenario on one backend."""
    deadline_s = PING_INTERVAL + PING_TIMEOUT + GRACE
    result = Result(
        "stalled", backend,
        goal=f"stalled connections closed and RSS back (<= before + max(10 MB, 10% of growth)) "
             f"within {deadline_s:.0f} s of the broadcast's end; 0 tracebacks",
    )  # fmt: skip
    env = {
        "SOAK_PING_INTERVAL": str(int(PING_INTERVAL * 1000)),
        "SOAK_PING_TIMEOUT": str(int(PING_TIMEOUT * 1000)),
    }
    server = start_thinkio_app(f"stalled-{backend}", logs, backend=backend, env=env)
    stalled: list[SioClient] = []
    try:
        driver = SioClient(server.url)
        baseline_fds = server.fds()
        for _ in range(profile.stalled_clients):
            client = SioClient(server.url)
            client.call("join", "sink")
            stalled.append(client)  # from here on, nobody reads this socket
        rss_before = server.rss()
        started = time.monotonic()
        spec = {"room": "sink", "count": profile.blast_count, "size": profile.blast_size}
        try:
            driver.call("blast", spec, timeout=60)
            blast = f"{time.monotonic() - started:.1f} s"
        except ClientFailed as exc:
            blast = "no ack in 60 s"
            result.notes.append(f"the broadcaster got no ack: {exc}")
        ended = time.monotonic()
        released_after: float | None = None
        while time.monotonic() < ended + deadline_s:
            if server.fds() <= baseline_fds:
                released_after = time.monotonic() - ended
                break
            driver.drain(0.05)  # the driver answers its pings meanwhile
        driver.drain(0.3)  # freed buffers go back to the system a moment after the close
        rss_after, peak = server.rss(), server.peak_rss()
        held = max(server.fds() - baseline_fds, 0)
        tracebacks = server.tracebacks()
        driver_ok = _still_serves(driver)
        result.figures = {
            "stalled clients": profile.stalled_clients,
            "sent to each": mib(profile.blast_count * profile.blast_size),
            "broadcast took": blast,
            "RSS before": mib(rss_before),
            "peak": mib(peak),
            "after": mib(rss_after),
            "connections released after": "never"
            if released_after is None
            else f"{released_after:.1f} s",
            "still held": held,
            "tracebacks": tracebacks,
        }
        allowed = rss_before + max(10 * MB, (peak - rss_before) // 10)
        result.passed = (
            released_after is not None and rss_after <= allowed and tracebacks == 0 and driver_ok
        )
        if not driver_ok:
            result.notes.append("the broadcasting client's session did not survive")
        if tracebacks:
            result.notes.append(server.first_traceback())
        driver.close()
    finally:
        for client in stalled:
            client.socket.abort()
        server.stop()
    return result


def _still_serves(client: SioClient) -> bool:
    try:
        return client.call("echo", "after") == ["after"]
    except ClientFailed:
        return False
