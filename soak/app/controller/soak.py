"""The soak server's actions: what the scenarios' clients ask of it."""

import os
from typing import Any

from thinkio import Controller


class SoakController(Controller):
    def echo_action(self) -> tuple[Any, ...]:
        """The bystanders' round trip: the ack carries the event's arguments back."""
        return self.ws_args

    def whoami_action(self) -> int:
        """The serving process (a worker of the cluster scenario)."""
        return os.getpid()

    def join_action(self) -> str:
        """Join the room named by the event's data."""
        self.join(str(self.ws_data))
        return "joined"

    async def blast_action(self) -> int:
        """``{"room", "count", "size"}``: send ``count`` events of ``size`` bytes to a room.

        Each event carries bytes of its own, as real traffic would: one object sent many
        times would be held once however many sockets queue it.
        """
        spec = self.ws_data if isinstance(self.ws_data, dict) else {}
        count = min(int(spec.get("count", 1)), 10_000)
        size = min(int(spec.get("size", 1024)), 1_000_000)
        for i in range(count):
            blob = i.to_bytes(4, "big") * (size // 4)
            await self.to(str(spec.get("room", "sink"))).emit("blob", blob)
        return count

    async def cast_action(self) -> Any:
        """Broadcast the event's data to every client of every node (through the adapter)."""
        await self.broadcast("cast", self.ws_data)
        return self.ws_data
