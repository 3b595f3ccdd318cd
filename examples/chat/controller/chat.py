"""The chat's actions: one method per event of config/adapter.py's messages map.

A controller instance lives for one action call, so what must outlive the call is kept on
the socket: ``self.websocket.data["username"]``. Everyone who picked a name is in the room
``users``; the participant count is the size of that room, so it cannot drift: a socket
leaves every room when it disconnects (before ``close`` runs), and a socket that never
picked a name was never in it.

"The others" is ``self.websocket.to(USERS)``: the named users, this socket left out (Node's
``socket.to(room)``). Not ``self.broadcast(...)``: in thinkio, as in ThinkJS, ``broadcast``
reaches every socket of the namespace, the sender included, and the sender must not see its
own join notice, message or typing twice.
"""

from typing import Any

from thinkio import Controller

#: The room of every socket that picked a name.
USERS = "users"
#: The longest name and message the server accepts (in characters).
MAX_NAME = 32
MAX_MESSAGE = 2000


def _username(socket: Any) -> str | None:
    """The name a (local or remote) socket picked, or None."""
    data = socket.data
    return data.get("username") if isinstance(data, dict) else None


class ChatController(Controller):
    @property
    def username(self) -> str | None:
        return _username(self.websocket)

    async def num_users(self) -> int:
        """How many people picked a name (on every server, through the adapter)."""
        return len(await self.to(USERS).fetch_sockets())

    def before(self) -> bool:
        # ThinkJS's __before: chat and typing only from someone who picked a name.
        if self.event in ("newMessage", "typing", "stopTyping") and self.username is None:
            self.logger.debug("%s from %s before addUser: ignored", self.event, self.websocket.id)
            return False
        return True

    async def add_user_action(self) -> None:
        if self.username is not None or not self.websocket.connected:
            return  # already named (a second addUser), or gone before this event ran
        name = self.ws_data.strip() if isinstance(self.ws_data, str) else ""
        if not name or len(name) > MAX_NAME:
            await self.emit(
                "loginError", {"message": f"Pick a name of 1 to {MAX_NAME} characters."}
            )
            return
        here = [n for s in await self.to(USERS).fetch_sockets() if (n := _username(s))]
        if name.casefold() in {n.casefold() for n in here}:
            await self.emit("loginError", {"message": f"{name} is already taken here."})
            return
        self.websocket.data["username"] = name
        self.join(USERS)
        num_users = await self.num_users()
        self.logger.info("%s joined (%d here)", name, num_users)
        # To the newcomer: the count, and who was already here.
        await self.emit("login", {"username": name, "numUsers": num_users, "users": here})
        await self.websocket.to(USERS).emit("userJoined", {"username": name, "numUsers": num_users})

    async def new_message_action(self) -> None:
        message = self.ws_data
        if not isinstance(message, str) or not message.strip() or len(message) > MAX_MESSAGE:
            self.logger.debug("message from %s refused: %r", self.username, message)
            return
        await self.websocket.to(USERS).emit(
            "newMessage", {"username": self.username, "message": message}
        )

    async def typing_action(self) -> None:
        await self.websocket.to(USERS).emit("typing", {"username": self.username})

    async def stop_typing_action(self) -> None:
        await self.websocket.to(USERS).emit("stopTyping", {"username": self.username})

    async def close_action(self) -> None:
        # The socket has already left the users room: the count is the people still here.
        name = self.username
        if name is None:
            return  # never picked a name: nobody saw it arrive, nobody is told it left
        num_users = await self.num_users()
        self.logger.info("%s left (%s; %d here)", name, self.ws_data, num_users)
        await self.websocket.to(USERS).emit("userLeft", {"username": name, "numUsers": num_users})
