"""thinkio's ASGIApp mounted in a Starlette app (``tests.asgi.apps:mounted``, at ``/ws``,
its lifespan given to Starlette) under uvicorn and hypercorn (asyncio, trio)."""

from __future__ import annotations

import httpx
import pytest

from ..interop.harness import AsgiServerUnderTest
from .conftest import Listener

APP = "mounted"


@pytest.mark.parametrize("mode", ["polling", "upgrade"])
@pytest.mark.parametrize("client", ["python", "node"])
def test_mounted_under_a_prefix_a_starlette_route_emits_to_clients(
    asgi_server: AsgiServerUnderTest, listeners: list[Listener], client: str, mode: str
) -> None:
    listener = Listener(client, asgi_server.url, "/ws/socket.io", mode)
    listeners.append(listener)
    hello = listener.next()
    assert hello["transport"] == ("polling" if mode == "polling" else "websocket")
    reply = httpx.post(asgi_server.url + "/notify", json={"deploy": "done"}, timeout=5)
    assert reply.status_code == 200
    assert listener.next()["args"] == [{"deploy": "done"}]


def test_the_engine_io_path_is_below_the_mount(asgi_server: AsgiServerUnderTest) -> None:
    ok = httpx.get(asgi_server.url + "/ws/socket.io/?EIO=4&transport=polling", timeout=5)
    assert ok.status_code == 200 and ok.text.startswith('0{"sid":')
    assert httpx.get(asgi_server.url + "/socket.io/?EIO=4", timeout=5).status_code == 404


def test_an_app_whose_lifespan_never_ran_says_so(asgi_server: AsgiServerUnderTest) -> None:
    reply = httpx.get(asgi_server.url + "/cold/socket.io/?EIO=4&transport=polling", timeout=5)
    assert reply.status_code == 503
    assert "lifespan" in reply.text and "docs/asgi.md" in reply.text
