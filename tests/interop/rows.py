"""The "other real clients" rows of the interop matrix: real-client tests that live next to
their feature (tests/admin, tests/plain, tests/server, tests/adapters, tests/cluster), not in
tests/interop.

Each row names the tests that make it (pytest node ids, without parameters, optionally
narrowed to some parameter values); a cell is the worst outcome of those tests on that
backend (their ``anyio_backend`` parameter). The tests stay
where they are and run once in ``make unit`` as before; ``make interop-table`` runs them
again with the matrix::

    python -m tests.interop.rows     # prints their node ids, for the pytest command line
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest


@dataclass(frozen=True)
class Row:
    """One row: which real client, over which transport, against which server set-up."""

    feature: str
    #: The client's label; ``{name}`` placeholders are filled with versions (table.py).
    client: str
    transport: str
    #: The server side: one process, workers, servers sharing Redis...
    server: str
    #: What the tests check, in a few words.
    checks: str
    #: Node ids (``path::test``, no parameters).
    tests: tuple[str, ...]
    #: Only the runs of ``tests`` whose parameters have these values.
    params: Mapping[str, str] = field(default_factory=dict)

    def matches(self, item: pytest.Item) -> bool:
        if item.nodeid.partition("[")[0] not in self.tests:
            return False
        given = getattr(getattr(item, "callspec", None), "params", {})
        # a test without the parameter (another test of the row) is not narrowed by it
        return all(str(given[k]) == v for k, v in self.params.items() if k in given)


ADMIN = "tests/admin/test_dashboard.py::"
WS = "tests/plain/test_ws_type.py::"
SOCKJS = "tests/plain/test_sockjs_type.py::"
PLAIN_CHROMIUM = "tests/plain/test_chromium.py::test_chromium_pages"
RECOVERY = "tests/server/test_recovery.py::"
RECOVERY_REDIS = "tests/adapters/test_recovery_redis.py::"
RECOVERY_WORKERS = "tests/cluster/test_recovery.py::"
SOCKJS_WORKERS = "tests/cluster/test_sockjs.py::"
CUT = RECOVERY + "test_the_node_client_misses_nothing_when_its_transport_is_cut"
GUIDE = "the guide's chat controllers"

ROWS: tuple[Row, ...] = (
    Row(
        "Admin UI",
        "@socket.io/admin-ui {admin_ui} dashboard in Chromium {chromium}",
        "websocket",
        "one process",
        "served by thinkio at `/admin/`, logs in (basic auth, bcrypt), lists the sockets "
        "of a WebSocket and a polling client, 1 server",
        (ADMIN + "test_the_dashboard_lists_the_connected_sockets",),
    ),
    Row(
        "Admin UI",
        "@socket.io/admin-ui {admin_ui} dashboard in Chromium {chromium}",
        "websocket",
        "`thinkio.cluster`, 2 workers",
        "4 WebSocket clients, 2 on each worker; the dashboard, connected to one worker, "
        "lists all 4 sockets and shows 2 servers",
        (ADMIN + "test_the_dashboard_shows_every_worker",),
    ),
    Row(
        '`type: "ws"`',
        "websockets {websockets} (Python)",
        "websocket",
        "one process",
        GUIDE + "; an oversized message, bad JSON, a bad envelope and a binary frame closed "
        "with a code and a reason; a refused origin gets 403, a client over "
        "`max_connections` 503",
        (
            WS + "test_the_guide_over_a_plain_websocket",
            WS + "test_bad_messages_close_with_a_code_and_a_reason",
            WS + "test_a_refused_origin_gets_403_before_the_upgrade",
            WS + "test_max_connections_refuses_the_next_client_with_503",
        ),
    ),
    Row(
        '`type: "ws"`',
        "Chromium {chromium}, `WebSocket`",
        "websocket",
        "one process",
        GUIDE + "; text that is not JSON closed with 1007; a page of another origin refused",
        (PLAIN_CHROMIUM,),
    ),
    *(
        Row(
            '`type: "sockjs"`',
            "sockjs-client {sockjs} (Node)",
            transport,
            "one process",
            GUIDE + " (U+2028 in text, escaped as sockjs-node does); a bad envelope closes "
            "the session with a reason",
            (
                SOCKJS + "test_the_guide_over_sockjs",
                SOCKJS + "test_a_bad_envelope_closes_the_session_with_a_reason",
            ),
            {"transport": transport},
        )
        for transport in ("websocket", "xhr-streaming", "xhr-polling")
    ),
    *(
        Row(
            '`type: "sockjs"`',
            "Chromium {chromium}, sockjs-client {sockjs} bundle",
            transport,
            "one process",
            GUIDE + "; text that is not JSON closed with 1007",
            (PLAIN_CHROMIUM,),
        )
        for transport in ("websocket", "xhr-streaming", "xhr-polling")
    ),
    Row(
        "connection state recovery",
        "socket.io-client {sio4} (Node)",
        "websocket",
        "one process",
        "the transport cut while the server emits (broadcast, room, own id, `socket.emit`): "
        "every tick once and in order, same id, rooms, data, `recovered`; a session past "
        "`max_disconnection_duration` and a deliberate disconnect start afresh",
        (
            CUT,
            RECOVERY + "test_a_session_past_the_max_disconnection_duration_starts_afresh",
            RECOVERY + "test_a_client_that_disconnects_on_purpose_is_not_recovered",
        ),
        {"transport": "websocket", "parser": "default"},
    ),
    *(
        Row(
            '`type: "sockjs"`',
            "sockjs-client {sockjs} (Node)",
            transport,
            "`thinkio.cluster`, 2 workers",
            "4 sessions at once, 12 messages each echoed with the worker's pid: every request "
            "of a session served by one worker",
            (SOCKJS_WORKERS + "test_every_request_of_a_sockjs_session_reaches_its_worker",),
            {"transport": transport},
        )
        for transport in ("xhr-streaming", "xhr-polling")
    ),
    *(
        Row(
            "connection state recovery",
            "socket.io-client {sio4} (Node)",
            transport,
            "`thinkio.cluster`, 2 workers, the worker bus",
            "the transport cut 3 times while both workers broadcast (namespace, room, own id); "
            "each time back on the other worker: every tick of both once and in order, same "
            "id, rooms, data, `recovered`",
            (RECOVERY_WORKERS + "test_a_client_that_comes_back_to_another_worker_misses_nothing",),
            {"transport": transport},
        )
        for transport in ("websocket", "polling")
    ),
    Row(
        "connection state recovery",
        "socket.io-client {sio4} (Node)",
        "polling",
        "one process",
        "the transport cut while the server emits: every tick once and in order, same id, "
        "rooms, data; middlewares run again only without `skip_middlewares`",
        (CUT, RECOVERY + "test_middlewares_run_again_only_if_asked"),
        {"transport": "polling", "parser": "default"},
    ),
    Row(
        "connection state recovery",
        "socket.io-client {sio4} (Node) + socket.io-msgpack-parser {msgpack}",
        "websocket",
        'one process, `parser="msgpack"`',
        "the transport cut while the server emits: every tick once and in order, same id, "
        "rooms, data, `recovered`",
        (CUT,),
        {"transport": "websocket", "parser": "msgpack"},
    ),
    Row(
        "connection state recovery",
        "socket.io-client {sio4} (Node)",
        "websocket",
        "3 servers on Redis Streams",
        "the client's server shut down, another started on its port: id, rooms, data and "
        "every broadcast of a third server restored from Redis, once and in order",
        (RECOVERY_REDIS + "test_a_client_restored_on_another_server_misses_no_broadcast",),
    ),
    Row(
        "connection state recovery",
        "socket.io-client {sio4} (Node)",
        "websocket",
        "2 servers on Redis pub/sub",
        "the transport cut, back on its server: the other server's broadcasts it missed, "
        "once and in order",
        (RECOVERY_REDIS + "test_a_client_back_on_its_server_gets_the_other_servers_broadcasts",),
    ),
)


def node_ids() -> list[str]:
    """Every test the rows name, once, in order."""
    return list(dict.fromkeys(test for row in ROWS for test in row.tests))


if __name__ == "__main__":
    print(" ".join(node_ids()))
