"""Request routing and the error table of PROTOCOL.md 1.8, in Node's order."""

from __future__ import annotations

import pytest

from thinkio.engineio import (
    EngineOptions,
    EngineRequest,
    ExistingSession,
    NewSession,
    route_request,
)
from thinkio.engineio.handshake import ORIGIN_REFUSED
from thinkio.errors import RequestRejected


class FakeSession:
    def __init__(self, transport: str = "polling", protocol: int = 4) -> None:
        self.transport = transport
        self.protocol = protocol


OPTS = EngineOptions()
V3 = EngineOptions(allow_eio3=True)


def q(**kw: str) -> dict[str, str]:
    return kw


@pytest.mark.parametrize(
    ("request_", "session", "code", "status"),
    [
        (EngineRequest("GET", q(EIO="4")), None, 0, 400),
        (EngineRequest("GET", q(EIO="4", transport="abc")), None, 0, 400),
        (EngineRequest("GET", q(transport="polling")), None, 5, 400),
        (EngineRequest("GET", q(EIO="abc", transport="polling")), None, 5, 400),
        (EngineRequest("GET", q(EIO="3", transport="polling")), None, 5, 400),
        (EngineRequest("POST", q(EIO="4", transport="polling")), None, 2, 400),
        (EngineRequest("PUT", q(EIO="4", transport="polling")), None, 2, 400),
        (EngineRequest("GET", q(EIO="4", transport="websocket")), None, 3, 400),
        (EngineRequest("GET", q(EIO="4", transport="polling", sid="nope")), None, 1, 400),
        (
            EngineRequest("GET", q(EIO="4", transport="polling"), origin_valid=False),
            None,
            3,
            400,
        ),
        (
            EngineRequest("GET", q(EIO="4", transport="polling"), origin_allowed=False),
            None,
            4,
            403,
        ),
        (  # the method comes before the origin policy, the policy before the version
            EngineRequest("POST", q(EIO="4", transport="polling"), origin_allowed=False),
            None,
            2,
            400,
        ),
        (
            EngineRequest("GET", q(EIO="9", transport="polling"), origin_allowed=False),
            None,
            4,
            403,
        ),
        (  # an unknown sid is said before the origin is refused
            EngineRequest("GET", q(EIO="4", transport="polling", sid="x"), origin_allowed=False),
            None,
            1,
            400,
        ),
        (
            EngineRequest("GET", q(EIO="4", transport="polling", sid="s")),
            FakeSession("websocket"),
            3,
            400,
        ),
        (
            EngineRequest("GET", q(EIO="3", transport="polling", sid="s")),
            FakeSession("polling", 4),
            3,
            400,
        ),
        # Order: a bad transport wins over everything else.
        (EngineRequest("POST", q(EIO="9", transport="x", sid="nope")), None, 0, 400),
        # Order: an unknown sid is reported before the method.
        (EngineRequest("PUT", q(EIO="4", transport="polling", sid="nope")), None, 1, 400),
        # Order: the method is reported before the version.
        (EngineRequest("POST", q(EIO="9", transport="polling")), None, 2, 400),
    ],
)
def test_errors(
    request_: EngineRequest, session: FakeSession | None, code: int, status: int
) -> None:
    with pytest.raises(RequestRejected) as info:
        route_request(request_, OPTS, session)
    assert (info.value.code, info.value.http_status) == (code, status)
    # Node's messages; a refused origin says so, as Node's cors answer does
    message = ORIGIN_REFUSED if code == 4 else RequestRejected.CODES[code][0]
    assert info.value.json_body() == f'{{"code":{code},"message":"{message}"}}'.encode()


def test_valid_handshakes() -> None:
    assert route_request(EngineRequest("GET", q(EIO="4", transport="polling")), OPTS, None) == (
        NewSession("polling", 4)
    )
    ws = EngineRequest("GET", q(EIO="4", transport="websocket"), websocket_upgrade=True)
    assert route_request(ws, OPTS, None) == NewSession("websocket", 4)
    v3 = EngineRequest("GET", q(EIO="3", transport="polling", b64="1"))
    assert route_request(v3, V3, None) == NewSession("polling", 3, b64=True)


def test_upgrade_request_for_a_polling_session() -> None:
    req = EngineRequest("GET", q(EIO="4", transport="websocket", sid="s"), websocket_upgrade=True)
    assert route_request(req, OPTS, FakeSession("polling")) == ExistingSession("s", "websocket")


def test_disabled_transport_is_unknown() -> None:
    opts = EngineOptions(transports=("polling",))
    req = EngineRequest("GET", q(EIO="4", transport="websocket"), websocket_upgrade=True)
    with pytest.raises(RequestRejected) as info:
        route_request(req, opts, None)
    assert info.value.code == 0
