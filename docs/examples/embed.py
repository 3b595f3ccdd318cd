"""thinkio inside your own anyio program, on asyncio or trio.

    python docs/examples/embed.py [asyncio|trio]

The program owns the task group. It starts the App in it (``tg.start`` returns once the port
is listening), runs its own task next to it (a clock that pushes to every client through
``app.io``), connects a client, and shuts everything down. Prints what the client saw.
"""

from __future__ import annotations

import sys

import anyio

from thinkio import App, Controller
from thinkio.client import Client


class Chat(Controller):
    async def open_action(self) -> None:
        name = self.ctx.query.get("name", "stranger")  # the handshake, in every action
        self.websocket.data["name"] = name
        await self.emit("welcome", f"hello {name}")

    async def say_action(self) -> str:
        await self.broadcast("said", self.websocket.data["name"], self.ws_data)
        return "delivered"  # the ack, when the client asked for one


app = App(
    messages={"open": "/chat/open", "say": "/chat/say"},
    controllers={"chat": Chat},
)


async def clock(stop: anyio.Event) -> None:
    """The program's own work: it can reach every client through ``app.io``."""
    tick = 0
    while not stop.is_set():
        await app.io.emit("tick", tick)  # to every client of "/"
        tick += 1
        with anyio.move_on_after(0.05):
            await stop.wait()


async def main() -> None:
    seen: list[str] = []
    stop = anyio.Event()
    with anyio.fail_after(30):  # an example must never hang
        async with anyio.create_task_group() as tg:
            address = await tg.start(app.serve, "127.0.0.1", 0)  # port 0: any free port
            print(f"serving on {address.url}")
            tg.start_soon(clock, stop)

            client = Client(f"{address.url}/?name=ann")
            got_tick = anyio.Event()
            client.on("welcome", lambda text: seen.append(f"welcome: {text}"))
            client.on("said", lambda who, text: seen.append(f"said: {who}: {text}"))
            client.on("tick", lambda n: got_tick.set())
            async with client:
                answer = await client.call("say", "hi")
                await got_tick.wait()
            print(*seen, sep="\n")
            print(f"ack: {answer}")
            print("got a tick from the program's own task")

            stop.set()
            await app.shutdown()  # sessions end (clients reconnect); app.serve returns


if __name__ == "__main__":
    anyio.run(main, backend=sys.argv[1] if len(sys.argv) > 1 else "asyncio")
