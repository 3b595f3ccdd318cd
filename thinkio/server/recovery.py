"""Connection state recovery (Node's ``connectionStateRecovery``, socket.io >= 4.6).

A client whose transport dropped (not one that disconnected on purpose) comes back within
``max_disconnection_duration`` and finds its socket as it left it: the same id, its rooms,
its ``data``, and every packet it missed, in order; ``socket.recovered`` is True on both
sides. The wire (PROTOCOL.md 2.7):

* the server's CONNECT answer carries a private session id: ``0{"sid":"..","pid":".."}``;
* every packet the server may have to send again carries an *offset*, a string, as its last
  argument (the client remembers the last one it received): EVENTs without an ack id that
  are not volatile, broadcast or sent to one socket;
* a client that reconnects sends ``{"pid":..,"offset":..}`` in its CONNECT auth (merged with
  its own auth); the server answers with the same ``sid`` and ``pid``, then the packets
  after ``offset`` that the session's rooms would have received.

This module holds the options and the in-memory store (:class:`RecoveryStore`) that the
adapters use: the recent packets with their offsets and targets, and the sessions of sockets
that dropped. Time comes from the server's clock, so a test with a
:class:`~thinkio.testing.FakeClock` moves it; expired entries are dropped as the store is
used (no timer).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._ids import new_id
from ..errors import ConfigError

__all__ = (
    "RECOVERABLE_REASONS",
    "RecoveredSession",
    "RecoveryOptions",
    "RecoveryStore",
    "SavedSession",
    "recovery_options",
    "should_include",
    "split_offset",
)

#: The disconnect reasons after which a session is kept (Node's
#: ``RECOVERABLE_DISCONNECT_REASONS``): the transport went away, not the client or the
#: application on purpose.
RECOVERABLE_REASONS = frozenset(
    {
        "transport error",
        "transport close",
        "forced close",
        "ping timeout",
        "server shutting down",
        "forced server close",
    }
)


@dataclass(frozen=True, slots=True)
class RecoveryOptions:
    """``Server(connection_state_recovery=...)``.

    Attributes:
        max_disconnection_duration: seconds a dropped session and the packets sent meanwhile
            are kept (Node's ``maxDisconnectionDuration``, 2 minutes, there in ms).
        skip_middlewares: a recovered socket does not run the connect middlewares again.
    """

    max_disconnection_duration: float = 120.0
    skip_middlewares: bool = True

    def __post_init__(self) -> None:
        duration = self.max_disconnection_duration
        if isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0:
            raise ConfigError(
                "connection_state_recovery.max_disconnection_duration: expected seconds > 0, "
                f"got {duration!r}"
            )
        if not isinstance(self.skip_middlewares, bool):
            raise ConfigError(
                "connection_state_recovery.skip_middlewares: expected True or False, "
                f"got {self.skip_middlewares!r}"
            )


_KEYS = {
    "max_disconnection_duration": ("max_disconnection_duration", 1.0),
    "maxDisconnectionDuration": ("max_disconnection_duration", 0.001),  # Node's, in ms
    "skip_middlewares": ("skip_middlewares", None),
    "skipMiddlewares": ("skip_middlewares", None),
}


def recovery_options(
    spec: RecoveryOptions | Mapping[str, Any] | bool | None,
) -> RecoveryOptions | None:
    """Read the ``connection_state_recovery`` argument: None or False (off), True (Node's
    defaults), a :class:`RecoveryOptions`, or a mapping with ``max_disconnection_duration``
    in **seconds** or Node's ``maxDisconnectionDuration`` in milliseconds, and
    ``skip_middlewares`` / ``skipMiddlewares``.

    Raises:
        ConfigError: an unknown key or a bad value.
    """
    if spec is None or spec is False:
        return None
    if spec is True:
        return RecoveryOptions()
    if isinstance(spec, RecoveryOptions):
        return spec
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"connection_state_recovery: expected True, a dict or RecoveryOptions, got {spec!r}"
        )
    values: dict[str, Any] = {}
    for key, value in spec.items():
        known = _KEYS.get(key)
        if known is None:
            raise ConfigError(
                f"connection_state_recovery: unknown key {key!r}; known: "
                "max_disconnection_duration (seconds), maxDisconnectionDuration (ms), "
                "skip_middlewares"
            )
        name, scale = known
        if scale is not None and isinstance(value, int | float) and not isinstance(value, bool):
            value = value * scale
        values[name] = value
    return RecoveryOptions(**values)


@dataclass(slots=True)
class SavedSession:
    """What is kept of a socket that dropped (Node's ``SessionToPersist``)."""

    sid: str
    pid: str
    rooms: tuple[str, ...]
    data: Any
    #: When it dropped, on the server's clock (seconds).
    disconnected_at: float = 0.0


@dataclass(slots=True)
class RecoveredSession:
    """A session given back to a client that came back: its socket's id, rooms and data,
    and the EVENT payloads (``[name, *args, offset]``) it missed, oldest first."""

    sid: str
    pid: str
    rooms: tuple[str, ...]
    data: Any
    missed: list[list[Any]] = field(default_factory=list)
    #: The offset the client gave (the last packet it had).
    offset: str = ""
    #: Set while async middlewares run: the store's position (:meth:`RecoveryStore.position`)
    #: from which what was kept meanwhile is sent too.
    catch_up_from: int | None = None


def split_offset(offset: str) -> tuple[str, int] | None:
    """``(server prefix, counter)`` of an offset :meth:`RecoveryStore.new_offset` made, or
    None for another kind (a Redis stream entry id is one too, but no store tracks those)."""
    prefix, sep, counter = offset.rpartition("-")
    if not sep:
        return None
    try:
        return prefix, int(counter, 16)
    except ValueError:
        return None


def should_include(
    session_rooms: Iterable[str], rooms: Iterable[str], except_rooms: Iterable[str]
) -> bool:
    """Whether a socket in ``session_rooms`` was a target of a broadcast to ``rooms``
    (every socket if empty) except ``except_rooms`` (Node's ``shouldIncludePacket``)."""
    mine = set(session_rooms)
    targets = frozenset(rooms)
    if targets and mine.isdisjoint(targets):
        return False
    return mine.isdisjoint(except_rooms)


@dataclass(slots=True)
class _Logged:
    seq: int
    offset: str
    rooms: frozenset[str]
    except_rooms: frozenset[str]
    data: list[Any]
    at: float


class RecoveryStore:
    """The packets sent recently and the sessions that dropped, in memory, for one
    namespace on one server.

    Args:
        options: how long things are kept.
        clock: ``() -> seconds`` (the server's clock).
    """

    def __init__(self, options: RecoveryOptions, now: Any) -> None:
        self.options = options
        self._now = now
        self._packets: deque[_Logged] = deque()
        self._by_offset: dict[str, int] = {}
        self._seq = 0
        self._sessions: dict[str, SavedSession] = {}
        self._prefix = new_id()[:8]
        self._counter = itertools.count(1)
        #: Keep :meth:`heard` up to date (a cluster transport that hands sessions over).
        self.track_sources = False
        self._heard: dict[str, int] = {}

    def __len__(self) -> int:
        """How many packets are kept."""
        return len(self._packets)

    @property
    def sessions(self) -> int:
        """How many dropped sessions are kept."""
        return len(self._sessions)

    def new_offset(self) -> str:
        """A fresh offset, unique across servers (a random prefix and a counter)."""
        return f"{self._prefix}-{next(self._counter):x}"

    def position(self) -> int:
        """Where the next packet kept will be (for :meth:`since`)."""
        return self._seq

    def log(
        self,
        offset: str,
        rooms: frozenset[str],
        except_rooms: frozenset[str],
        data: list[Any],
        *,
        shared: bool = True,
    ) -> None:
        """Keep a packet sent with ``offset`` (its last element) to these targets.

        ``shared``: a broadcast every server of a cluster keeps too (False: a packet sent to
        one socket of this server, which only this server knows)."""
        now = self._now()
        self._expire(now)
        seq = self._seq
        self._seq = seq + 1
        self._packets.append(_Logged(seq, offset, rooms, except_rooms, data, now))
        self._by_offset[offset] = seq
        if self.track_sources and shared:
            source = split_offset(offset)
            if source is not None:
                prefix, counter = source
                if counter > self._heard.get(prefix, 0):
                    self._heard[prefix] = counter

    def heard(self) -> dict[str, int]:
        """For each server whose broadcasts were kept here (this one included), the counter
        of the last one (offsets are ``prefix-counter``, and each server's broadcasts reach
        every other in the order it sent them). Kept only with :attr:`track_sources`."""
        return dict(self._heard)

    def has_heard(self, heard: Mapping[str, int]) -> bool:
        """Whether every broadcast counted in ``heard`` (another server's :meth:`heard`)
        was kept here too, for the servers this one ever heard from (one it never heard
        from is most likely gone since, or sent before this one started: its broadcasts
        will not come)."""
        mine = self._heard
        return all(mine.get(prefix, counter) >= counter for prefix, counter in heard.items())

    def unheard(
        self, rooms: Iterable[str], heard: Mapping[str, int], since: int
    ) -> list[list[Any]]:
        """The broadcasts kept here for a socket in ``rooms`` that the server whose
        :meth:`heard` is ``heard`` had not received: those past its counter for their
        server, and those of servers it never heard from kept from position ``since`` on."""
        rooms = tuple(rooms)
        missed: list[list[Any]] = []
        for p in self._packets:
            source = split_offset(p.offset)
            if source is None:
                continue
            prefix, counter = source
            known = heard.get(prefix)
            if (counter > known if known is not None else p.seq >= since) and should_include(
                rooms, p.rooms, p.except_rooms
            ):
                missed.append(p.data)
        return missed

    def persist(self, session: SavedSession) -> None:
        """Keep a dropped socket's session until it expires."""
        now = self._now()
        self._expire(now)
        session.disconnected_at = now
        self._sessions.pop(session.pid, None)
        self._sessions[session.pid] = session  # dict order is disconnection order

    def restore(self, pid: str, offset: str) -> RecoveredSession | None:
        """Take back a session and the packets sent after ``offset`` to its rooms; None if
        the session expired or is unknown, or the offset is no longer (or never was) kept."""
        now = self._now()
        self._expire(now)
        session = self._sessions.get(pid)
        seq = self._by_offset.get(offset)
        if session is None or seq is None:
            return None
        del self._sessions[pid]
        packets = self._packets
        first = seq - packets[0].seq + 1
        rooms = session.rooms
        missed = [
            p.data
            for p in itertools.islice(packets, first, None)
            if should_include(rooms, p.rooms, p.except_rooms)
        ]
        return RecoveredSession(session.sid, session.pid, rooms, session.data, missed, offset)

    def since(self, position: int, rooms: Iterable[str]) -> list[list[Any]]:
        """The packets kept from ``position`` (:meth:`position`) on for a socket in
        ``rooms``: what a restored socket may have missed while its middlewares ran."""
        packets = self._packets
        if not packets:
            return []
        rooms = tuple(rooms)
        return [
            p.data
            for p in itertools.islice(packets, max(0, position - packets[0].seq), None)
            if should_include(rooms, p.rooms, p.except_rooms)
        ]

    def _expire(self, now: float) -> None:
        threshold = now - self.options.max_disconnection_duration
        packets = self._packets
        while packets and packets[0].at < threshold:
            del self._by_offset[packets.popleft().offset]
        sessions = self._sessions
        while sessions:
            pid, session = next(iter(sessions.items()))
            if session.disconnected_at >= threshold:
                break
            del sessions[pid]
