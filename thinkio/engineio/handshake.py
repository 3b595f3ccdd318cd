"""Routing and validating Engine.IO requests, and the open packet (PROTOCOL.md 1.3, 1.8).

:func:`route_request` turns what the I/O layer read off an HTTP request into either a new
session to create or an existing session to serve, or raises :class:`RequestRejected` with the
exact Engine.IO error Node would answer. The checks run in Node's order:

    transport (0) -> origin characters (3)
    -> with a sid:    unknown sid (1), transport mismatch (3), protocol mismatch (3),
                      origin refused by the CORS policy (4)
    -> without a sid: method (2), websocket without Upgrade (3), origin refused (4),
                      protocol version (5)

A refused origin is answered where Node's ``allowRequest`` hook would answer (403, code 4,
``Origin not allowed``). Node runs that hook before the version check; thinkio runs the
user's hook only on requests that passed every check here, so it never sees a malformed one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import NamedTuple, Protocol

from .._json import dumps
from ..errors import RequestRejected
from .options import EngineOptions

__all__ = (
    "ORIGIN_REFUSED",
    "EngineRequest",
    "ExistingSession",
    "NewSession",
    "open_packet_data",
    "route_request",
)


#: The message of the 403 (code 4) answered to an origin the CORS policy refuses.
ORIGIN_REFUSED = "Origin not allowed"


class EngineRequest(NamedTuple):
    """The parts of an HTTP request Engine.IO routing looks at."""

    method: str
    query: Mapping[str, str]
    #: The request carries ``Upgrade: websocket`` (and ``Connection: upgrade``).
    websocket_upgrade: bool = False
    #: The ``Origin`` header is absent or holds only valid header characters.
    origin_valid: bool = True
    #: The server's CORS policy accepts the origin (or there was no ``Origin`` header).
    origin_allowed: bool = True


class NewSession(NamedTuple):
    """A valid handshake: create a session on ``transport``."""

    transport: str
    protocol: int
    #: v3 only: the client asked for base64 binary in polling payloads (``b64=1``).
    b64: bool = False


class ExistingSession(NamedTuple):
    """A valid request for the session with id ``sid`` over ``transport``."""

    sid: str
    transport: str


class SessionView(Protocol):
    """What routing needs to know of a live session."""

    @property
    def transport(self) -> str: ...

    @property
    def protocol(self) -> int: ...


def _protocol(query: Mapping[str, str], options: EngineOptions) -> int | None:
    eio = query.get("EIO")
    if eio == "4":
        return 4
    if eio == "3" and options.allow_eio3:
        return 3
    return None


# The three records above are named tuples (immutable, and half the cost of a frozen
# dataclass to build): one of each is made for every Engine.IO request.


def route_request(
    request: EngineRequest, options: EngineOptions, session: SessionView | None
) -> NewSession | ExistingSession:
    """Validate an Engine.IO request and say what to do with it.

    Args:
        request: what the I/O layer read off the request.
        options: the server's options.
        session: the live session named by the ``sid`` query parameter, or None when there is
            no ``sid`` or it is unknown.

    Raises:
        RequestRejected: with the Engine.IO code, message and HTTP status to answer.
    """
    query = request.query
    transport = query.get("transport")
    if transport not in options.transports:
        raise RequestRejected(0, detail=f"transport {transport!r} is not enabled")
    if not request.origin_valid:
        raise RequestRejected(3, detail="invalid characters in the Origin header")
    if request.websocket_upgrade and transport != "websocket":
        raise RequestRejected(3, detail="a WebSocket upgrade needs transport=websocket")
    sid = query.get("sid")
    if sid is not None:
        if session is None:
            raise RequestRejected(1)
        if session.transport != transport and not (
            transport == "websocket" and request.websocket_upgrade
        ):
            raise RequestRejected(3, detail="transport mismatch")
        if _protocol(query, options) != session.protocol:
            raise RequestRejected(3, detail="protocol version mismatch")
        if not request.origin_allowed:
            raise RequestRejected(4, ORIGIN_REFUSED)  # a sid does not help another origin
        return ExistingSession(sid, transport)
    if request.method != "GET":
        raise RequestRejected(2)
    if transport == "websocket" and not request.websocket_upgrade:
        raise RequestRejected(3, detail="transport=websocket without an Upgrade header")
    if not request.origin_allowed:
        raise RequestRejected(4, ORIGIN_REFUSED)  # where Node's allowRequest would refuse it
    protocol = _protocol(query, options)
    if protocol is None:
        raise RequestRejected(5, detail=f"EIO={query.get('EIO')!r}")
    return NewSession(transport, protocol, b64=protocol == 3 and query.get("b64") in ("1", "true"))


def open_packet_data(sid: str, transport: str, options: EngineOptions) -> str:
    """The JSON of the open packet: exactly the five keys the suites check (PROTOCOL.md 1.3)."""
    upgrades = transport == "polling" and "websocket" in options.transports
    tail = _open_tail(
        upgrades,
        round(options.ping_interval * 1000),
        round(options.ping_timeout * 1000),
        options.limits.max_payload_bytes,
    )
    # Session ids are URL-safe text (no quote or backslash to escape); others go through dumps.
    quoted = f'"{sid}"' if _PLAIN_SID.fullmatch(sid) else dumps(sid)
    return '{"sid":' + quoted + tail


#: What a sid made by thinkio looks like (base64url, and a cluster's ``I.`` prefix).
_PLAIN_SID = re.compile(r"[A-Za-z0-9_.\-]*")


@functools.lru_cache(maxsize=16)
def _open_tail(upgrades: bool, ping_interval: int, ping_timeout: int, max_payload: int) -> str:
    # Everything after the sid is the same for every session of a server: built once.
    return dumps(
        {
            "sid": "",
            "upgrades": ["websocket"] if upgrades else [],
            "pingInterval": ping_interval,
            "pingTimeout": ping_timeout,
            "maxPayload": max_payload,
        }
    )[len('{"sid":""') :]
