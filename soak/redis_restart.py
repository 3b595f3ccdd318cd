"""redis-server killed and started again under cross-node broadcasts.

Two thinkio nodes share one ``redis-server`` through the Redis adapter. A sender on node A
asks for ``casts_per_second`` broadcasts a second (``cast``: the server broadcasts the
number it was given to every client of every node, then acks it); one listener on A and one
on B record what they receive. A third of the way in, Redis is killed (SIGKILL) and, after
``redis_down_seconds``, started again on the same port.

Figures: broadcasts acked; lost locally (acked, never reached the listener on the sender's
node); lost across nodes (never reached node B's listener: expected while Redis is down);
how long after the restart node B heard broadcasts again, and how many it missed after that.

Goal: 0 local deliveries lost, 0 broadcasts unacked, cross-node delivery back within 10 s of
the restart and none lost once back, 0 tracebacks.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

from protocol._client import NoReply

from .clients import ClientFailed, SioClient
from .processes import RedisServer, start_thinkio_app
from .profiles import Profile
from .report import Result

__all__ = ("run",)

#: How long after the restart cross-node delivery may take to come back.
BACK_TIMEOUT = 10.0


class Listener(threading.Thread):
    """A client that records the numbers of the ``cast`` events it receives."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.client = SioClient(url)
        self.seen: set[int] = set()
        self.error: str | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                frame = self.client.recv(0.2)
            except NoReply:
                continue
            except AssertionError as exc:  # closed
                self.error = str(exc)
                return
            if isinstance(frame, str) and frame.startswith('42["cast",'):
                self.seen.add(json.loads(frame[2:])[1])

    def seen_after(self, seq: int) -> bool:
        """Whether a broadcast numbered ``seq`` or later has arrived."""
        return any(s >= seq for s in list(self.seen))

    def stop(self) -> set[int]:
        """Stop listening; the numbers seen."""
        self._halt.set()
        self.join(5)
        self.client.close()
        return self.seen


def run(backend: str, profile: Profile, logs: Path) -> Result:
    """The Redis-restart scenario on one backend."""
    result = Result(
        "redis-restart", backend,
        goal=f"0 local deliveries lost, 0 unacked, cross-node delivery back within "
             f"{BACK_TIMEOUT:.0f} s and none lost after, 0 tracebacks",
    )  # fmt: skip
    why = RedisServer.missing()
    if why:
        result.notes.append(why)
        return result
    redis = RedisServer(logs)
    redis.start()
    env = {"SOAK_REDIS_URL": redis.url, "SOAK_REDIS_KEY": f"soak-{uuid.uuid4().hex[:8]}"}
    nodes = []
    try:
        nodes = [
            start_thinkio_app(f"redis-{name}-{backend}", logs, backend=backend, env=env)
            for name in ("a", "b")
        ]
        local, remote = Listener(nodes[0].url), Listener(nodes[1].url)
        local.start()
        remote.start()
        sender = SioClient(nodes[0].url)
        acked: list[int] = []
        unacked = 0
        started = time.monotonic()
        kill_at = profile.redis_seconds / 3
        restart_at = kill_at + profile.redis_down_seconds
        phase = "up"
        killed_seq = restarted_seq = back_seq = 0
        back_after: float | None = None
        restarted = 0.0
        seq = 0
        # Until the planned end, and after the restart until node B hears again (bounded).
        while (elapsed := time.monotonic() - started) < profile.redis_seconds or (
            phase == "back"
            and back_after is None
            and elapsed < profile.redis_seconds + BACK_TIMEOUT
        ):
            if phase == "up" and elapsed >= kill_at:
                redis.kill()
                phase, killed_seq = "down", seq
            elif phase == "down" and elapsed >= restart_at:
                redis.start()
                phase, restarted_seq, restarted = "back", seq, time.monotonic()
            if phase == "back" and back_after is None and remote.seen_after(restarted_seq):
                back_after, back_seq = time.monotonic() - restarted, seq
            try:
                if sender.call("cast", seq, timeout=5) == [seq]:
                    acked.append(seq)
                else:
                    unacked += 1
            except ClientFailed as exc:
                unacked += 1
                result.notes.append(f"cast {seq}: {exc}")
                sender.close()
                sender = SioClient(nodes[0].url)
            seq += 1
            time.sleep(1 / profile.casts_per_second)
        time.sleep(1.0)  # the last broadcasts are on their way
        seen_local, seen_remote = local.stop(), remote.stop()
        sender.close()
        # Once back, every later broadcast reaches node B.
        after_back = [s for s in acked if back_after is not None and s >= back_seq]
        lost_after_back = [s for s in after_back if s not in seen_remote]
        lost_local = [s for s in acked if s not in seen_local]
        lost_remote = [s for s in acked if s not in seen_remote]
        tracebacks = sum(n.tracebacks() for n in nodes)
        result.figures = {
            "broadcasts acked": len(acked),
            "unacked": unacked,
            "lost locally": len(lost_local),
            "lost across nodes": len(lost_remote),
            "cross-node back after restart": "never"
            if back_after is None
            else f"{back_after:.1f} s",
            "lost once back": len(lost_after_back),
            "tracebacks": tracebacks,
        }
        if lost_remote:
            result.figures["lost across nodes"] = (
                f"{len(lost_remote)} (seq {lost_remote[0]}..{lost_remote[-1]}; Redis down "
                f"from seq {killed_seq} to {restarted_seq})"
            )
        for listener in (local, remote):
            if listener.error:
                result.notes.append(f"a listener's connection ended: {listener.error}")
        result.passed = (
            not lost_local and not unacked and back_after is not None and not lost_after_back
            and tracebacks == 0
        )  # fmt: skip
        if tracebacks:
            result.notes.append(next(n.first_traceback() for n in nodes if n.tracebacks()))
    finally:
        for node in nodes:
            node.stop()
        redis.kill()
    return result
