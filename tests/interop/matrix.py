"""The cells of the interop matrix: client x transport x feature, and the known failures."""

from __future__ import annotations

from typing import Any

import pytest

FEATURES = ("text", "binary", "acks", "namespaces", "rooms", "reconnect")

#: Client -> (its label in the table, the transport modes it is run over).
CLIENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "node4": ("socket.io-client {sio4} (Node)", ("websocket", "polling", "upgrade")),
    "node2": ("socket.io-client {sio2} (Node)", ("websocket", "polling", "upgrade")),
    "python": ("python-socketio {pysio} AsyncClient", ("websocket", "polling", "upgrade")),
    "chromium": (
        "Chromium {chromium}, official bundle {sio4}",
        ("websocket", "polling", "blocked"),
    ),
    "chromium2": (
        "Chromium {chromium}, official bundle {sio2}",
        ("websocket", "polling", "upgrade"),
    ),
    # thinkio.asgi under real ASGI servers (tests/interop/asgi_app.py): uvicorn runs on
    # asyncio only; hypercorn on asyncio and trio (--worker-class).
    "node4-uvicorn": (
        "socket.io-client {sio4} (Node), thinkio.asgi on uvicorn {uvicorn}",
        ("websocket", "polling", "upgrade"),
    ),
    "python-uvicorn": (
        "python-socketio {pysio} AsyncClient, thinkio.asgi on uvicorn {uvicorn}",
        ("websocket", "polling", "upgrade"),
    ),
    "node4-hypercorn": (
        "socket.io-client {sio4} (Node), thinkio.asgi on hypercorn {hypercorn}",
        ("websocket", "polling", "upgrade"),
    ),
    "python-hypercorn": (
        "python-socketio {pysio} AsyncClient, thinkio.asgi on hypercorn {hypercorn}",
        ("websocket", "polling", "upgrade"),
    ),
}

#: Rows that run on some backends only (the others: asyncio and trio).
CLIENT_BACKENDS: dict[str, tuple[str, ...]] = {
    "node4-uvicorn": ("asyncio",),
    "python-uvicorn": ("asyncio",),
}

#: What each transport mode means, for the table's legend.
MODES = {
    "websocket": 'WebSocket only (`transports: ["websocket"]`)',
    "polling": 'HTTP long-polling only (`transports: ["polling"]`)',
    "upgrade": "the default: polling, then the upgrade to WebSocket (checked to happen)",
    "blocked": "the default, behind a proxy that refuses WebSocket upgrades with 403: the "
    "upgrade fails and the client must keep working on polling",
}

#: What the server must have seen of each feature's requests, per mode.
SEEN = {
    "websocket": {"websocket"},
    "polling": {"polling"},
    "upgrade": {"polling", "websocket"},
    "blocked": {"polling"},
}

#: In Node, socket.io-client 2.x has no binary-capable XHR, so it always asks for base64
#: binary in v3 polling payloads (``b64=1``); the server logs that as ``polling-b64``. The 2.x
#: browser bundle in Chromium uses the binary (octet-stream) payloads instead.
B64_CLIENTS = {"node2"}

#: Footnotes of the table that are not failures.
TABLE_NOTES = (
    "socket.io-client 2.x in Node has no binary-capable XHR, so over polling it always asks "
    "for base64 binary (`b64=1`: `b4<base64>` packets in v3 text payloads); the 2.x browser "
    "bundle in Chromium uses the binary form (`application/octet-stream` payloads). The "
    "server's request log confirms which form each row used."
)


def expected_seen(client: str, transport: str) -> set[str]:
    """The transports (as the server logs them) a cell's requests must have used."""
    if client in B64_CLIENTS:
        return {"polling-b64" if t == "polling" else t for t in SEEN[transport]}
    return SEEN[transport]


#: Cells that fail for a reason outside the cell's control, with the reason. They run as
#: strict xfails: when the cause is fixed they pass, fail as XPASS, and the entry goes.
KNOWN_FAILURES: dict[tuple[str, str, str], str] = {}


def cells(*clients: str) -> list[Any]:
    """pytest params ``(client, transport, feature)`` with ids like ``node4-websocket-binary``."""
    params = []
    for client in clients:
        for transport in CLIENTS[client][1]:
            for feature in FEATURES:
                reason = KNOWN_FAILURES.get((client, transport, feature))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                params.append(
                    pytest.param(
                        client,
                        transport,
                        feature,
                        id=f"{client}-{transport}-{feature}",
                        marks=marks,
                    )
                )
    return params
