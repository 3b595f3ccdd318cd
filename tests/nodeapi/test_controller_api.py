"""Node's server API from controllers: a ``messages`` map for dynamic namespaces (a compiled
pattern), ``self.nsp`` with the broadcast flags, ``self.timeout(s)`` to ask the client, and
``self.websocket.use`` / ``on_any_outgoing``. Asyncio and trio."""

from __future__ import annotations

import re
from typing import Any

import anyio
import pytest

from thinkio import AckTimeout, App, Controller
from thinkio.client import Client

from ..dispatch.harness import serving

pytestmark = pytest.mark.anyio

OUTGOING: list[tuple[Any, ...]] = []


class Game(Controller):
    def open_action(self) -> None:
        self.websocket.on_any_outgoing(lambda *data: OUTGOING.append(data))

        @self.websocket.use
        def no_cheats(packet: list[Any], next_: Any) -> None:
            next_(ValueError("cheat") if packet[0] == "cheat" else None)

    async def move_action(self) -> dict[str, Any]:
        answer = await self.timeout(2).emit_with_ack("confirm", self.ws_data)
        everyone = await self.nsp.local.timeout(2).emit_with_ack("confirm", "all")
        await self.nsp.volatile.compress(False).emit("moved", self.ws_data)
        return {"room": self.nsp.name, "answer": answer, "everyone": everyone}

    def cheat_action(self) -> str:
        return "never reached"


async def test_controllers_reach_nodes_server_api() -> None:
    OUTGOING.clear()
    messages = [
        {
            "namespace": re.compile(r"^/game-\d+$"),
            "open": "/game/open",
            "move": "/game/move",
            "cheat": "/game/cheat",
        }
    ]
    app = App(messages=messages, controllers={"game": Game})
    async with serving(app) as url:
        c = Client(url, namespaces=["/game-1"], transports=("websocket",), reconnection=False)
        c.on("confirm", lambda v: f"ok {v}", namespace="/game-1")
        moved: list[Any] = []
        c.on("moved", moved.append, namespace="/game-1")
        async with c:
            result = await c.call("move", "e4", namespace="/game-1")
            assert result == [{"room": "/game-1", "answer": ["ok e4"], "everyone": ["ok all"]}]
            with anyio.fail_after(5):
                while not moved:
                    await anyio.sleep(0.01)
            assert moved == ["e4"]
            with pytest.raises(AckTimeout):
                await c.call("cheat", namespace="/game-1", timeout=0.2)
    assert OUTGOING == [("confirm", "e4"), ("confirm", "all"), ("moved", "e4")]
