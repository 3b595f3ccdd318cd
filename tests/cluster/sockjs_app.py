"""The app of the cluster's SockJS test (``tests/cluster/test_sockjs.py``): the ``sockjs`` type,
whose every answer names the worker's pid."""

from __future__ import annotations

import os

from thinkio import App, Controller


class EchoController(Controller):
    async def open_action(self) -> None:
        await self.emit("hello", {"pid": os.getpid()})

    async def echo_action(self) -> None:
        await self.emit("echo", {"pid": os.getpid(), "data": self.ws_data})


def build_app() -> App:
    messages = {"open": "/websocket/open", "echo": "/websocket/echo"}
    return App(
        {"port": 0, "websocket": {"type": "sockjs", "sockjs": {"messages": messages}}},
        controllers={"websocket": EchoController},
    )
