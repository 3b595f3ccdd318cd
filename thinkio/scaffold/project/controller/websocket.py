"""The WebSocket controller of the ThinkJS guide (src/controller/websocket.js).

Each event of config/adapter.py's messages map runs one method here: "/websocket/addUser"
runs add_user_action (the action name in snake_case, then "_action").

Actions run on the event loop, one client's at a time: an action must not block (no
time.sleep, no blocking database or HTTP call), or every client waits. Put blocking work in
a plain def action marked @blocking (from thinkio.dispatch import blocking): it runs in a
worker thread.
"""

from thinkio import Controller


class WebsocketController(Controller):
    async def open_action(self) -> None:
        await self.emit("opend", "This client opened successfully!")
        await self.broadcast("joined", "There is a new client joined successfully!")

    async def add_user_action(self) -> None:
        # 获取客户端 addUser 事件发送的数据 (the data the client sent with addUser)
        self.logger.info("addUser data: %r", self.ws_data)
        # 获取当前 WebSocket 对象 (the current WebSocket object)
        self.logger.info("websocket: %r", self.websocket)
        # 判断当前请求是否是 WebSocket 请求 (whether this request is a WebSocket request)
        self.logger.info("is_websocket: %r", self.is_websocket)

    async def close_action(self) -> None:
        # Not in the guide's controller, but its messages map routes "close" here.
        self.logger.info("client %s left: %s", self.websocket.id, self.ws_data)
