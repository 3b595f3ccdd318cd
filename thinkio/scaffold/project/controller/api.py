"""HTTP actions (config/config.py's http map): a webhook or a REST call that reaches the
sockets through self.io, the Socket.IO server.

An action reads self.request (json(), text(), body, query, headers) and returns the answer:
a dict or list (JSON), a str (text), None (204), or (status, value). raise HttpError(status,
message) answers {"error": message}.
"""

from thinkio.dispatch import HttpController


class ApiController(HttpController):
    async def notify_action(self) -> dict[str, int]:
        # Every socket gets the JSON body as a "notice" event.
        await self.io.emit("notice", self.request.json())
        return {"sockets": len(self.io.sockets.sockets)}
