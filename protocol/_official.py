"""The cases of the two official test suites (PROTOCOL.md 6), and the mark that maps tests to them.

Only the case *names* are listed here (as "describe / describe / it"), so that every official
case can be traced to the tests of this suite that cover it; ``test_official_coverage.py``
checks that none is missing. No code of the official suites is used.

Usage on a test: ``@official("engine.io", "handshake / HTTP long-polling / successfully opens
a session")``; several cases may be given, one ``@official`` per suite.
"""

from __future__ import annotations

import pytest

#: github:socketio/engine.io-protocol test-suite, 24 cases, served at /engine.io/.
ENGINE_IO: tuple[str, ...] = (
    "handshake / HTTP long-polling / successfully opens a session",
    "handshake / HTTP long-polling / fails with an invalid 'EIO' query parameter",
    "handshake / HTTP long-polling / fails with an invalid 'transport' query parameter",
    "handshake / HTTP long-polling / fails with an invalid request method",
    "handshake / WebSocket / successfully opens a session",
    "handshake / WebSocket / fails with an invalid 'EIO' query parameter",
    "handshake / WebSocket / fails with an invalid 'transport' query parameter",
    "message / HTTP long-polling / sends and receives a payload containing one plain text packet",
    "message / HTTP long-polling / sends and receives a payload containing several plain text"
    " packets",
    "message / HTTP long-polling / sends and receives a payload containing plain text and binary"
    " packets",
    "message / HTTP long-polling / closes the session upon invalid packet format",
    "message / HTTP long-polling / closes the session upon duplicate poll requests",
    "message / WebSocket / sends and receives a plain text packet",
    "message / WebSocket / sends and receives a binary packet",
    "message / WebSocket / closes the session upon invalid packet format",
    "heartbeat / HTTP long-polling / sends ping/pong packets",
    "heartbeat / HTTP long-polling / closes the session upon ping timeout",
    "heartbeat / WebSocket / sends ping/pong packets",
    "heartbeat / WebSocket / closes the session upon ping timeout",
    "close / HTTP long-polling / forcefully closes the session",
    "close / WebSocket / forcefully closes the session",
    "upgrade / successfully upgrades from HTTP long-polling to WebSocket",
    "upgrade / ignores HTTP requests with same sid after upgrade",
    "upgrade / ignores WebSocket connection with same sid after upgrade",
)

#: github:socketio/socket.io-protocol test-suite, 32 cases, served at /socket.io/.
SOCKET_IO: tuple[str, ...] = (
    "Engine.IO protocol / handshake / HTTP long-polling / should successfully open a session",
    "Engine.IO protocol / handshake / HTTP long-polling / should fail with an invalid 'EIO' query"
    " parameter",
    "Engine.IO protocol / handshake / HTTP long-polling / should fail with an invalid 'transport'"
    " query parameter",
    "Engine.IO protocol / handshake / HTTP long-polling / should fail with an invalid request"
    " method",
    "Engine.IO protocol / handshake / WebSocket / should successfully open a session",
    "Engine.IO protocol / handshake / WebSocket / should fail with an invalid 'EIO' query"
    " parameter",
    "Engine.IO protocol / handshake / WebSocket / should fail with an invalid 'transport' query"
    " parameter",
    "Engine.IO protocol / heartbeat / HTTP long-polling / should send ping/pong packets",
    "Engine.IO protocol / heartbeat / HTTP long-polling / should close the session upon ping"
    " timeout",
    "Engine.IO protocol / heartbeat / WebSocket / should send ping/pong packets",
    "Engine.IO protocol / heartbeat / WebSocket / should close the session upon ping timeout",
    "Engine.IO protocol / close / HTTP long-polling / should forcefully close the session",
    "Engine.IO protocol / close / WebSocket / should forcefully close the session",
    "Engine.IO protocol / upgrade / should successfully upgrade from HTTP long-polling to"
    " WebSocket",
    "Engine.IO protocol / upgrade / should ignore HTTP requests with same sid after upgrade",
    "Engine.IO protocol / upgrade / should ignore WebSocket connection with same sid after upgrade",
    "Socket.IO protocol / connect / should allow connection to the main namespace",
    "Socket.IO protocol / connect / should allow connection to the main namespace with a payload",
    "Socket.IO protocol / connect / should allow connection to a custom namespace",
    "Socket.IO protocol / connect / should allow connection to a custom namespace with a payload",
    "Socket.IO protocol / connect / should disallow connection to an unknown namespace",
    "Socket.IO protocol / connect / should disallow connection with an invalid handshake",
    "Socket.IO protocol / connect / should close the connection if no handshake is received",
    "Socket.IO protocol / disconnect / should disconnect from the main namespace",
    "Socket.IO protocol / disconnect / should connect then disconnect from a custom namespace",
    "Socket.IO protocol / message / should send a plain-text packet",
    "Socket.IO protocol / message / should send a packet with binary attachments",
    "Socket.IO protocol / message / should send a plain-text packet with an ack",
    "Socket.IO protocol / message / should send a packet with binary attachments and an ack",
    "Socket.IO protocol / message / should close the connection upon invalid format (unknown"
    " packet type)",
    "Socket.IO protocol / message / should close the connection upon invalid format (invalid"
    " payload format)",
    "Socket.IO protocol / message / should close the connection upon invalid format (invalid ack"
    " id)",
)

SUITES: dict[str, tuple[str, ...]] = {"engine.io": ENGINE_IO, "socket.io": SOCKET_IO}


def official(suite: str, *cases: str) -> pytest.MarkDecorator:
    """Mark a test as covering ``cases`` of the official ``suite`` ("engine.io"/"socket.io")."""
    return pytest.mark.official(suite, *cases)


def on_each_mount(engine_io_case: str | None, socket_io_case: str | None) -> pytest.MarkDecorator:
    """Parametrize a test over ``mount``: ``/engine.io/`` and ``/socket.io/``.

    Each parameter carries the official case it covers on that mount (None: no official case).
    """
    params = []
    for mount, suite, case in (
        ("/engine.io/", "engine.io", engine_io_case),
        ("/socket.io/", "socket.io", socket_io_case),
    ):
        marks = [official(suite, case)] if case is not None else []
        params.append(pytest.param(mount, id=suite, marks=marks))
    return pytest.mark.parametrize("mount", params)
