"""A python-socketio (PyPI) AsyncClient that waits for one event: the client side of the
ASGI tests.

    python -m tests.asgi.listener --url http://127.0.0.1:PORT [--path /ws/socket.io]
                                  --mode polling|websocket|upgrade --event notice

Prints ``{"connected": SID, "transport": ...}`` once connected (after the upgrade, in the
upgrade mode), then ``{"event": NAME, "args": [...], "transport": ...}`` when the event comes,
and exits. Every wait is bounded; a failure is printed as ``{"error": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import socketio

TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": ["polling", "websocket"],
}


def say(obj: object) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main(args: argparse.Namespace) -> None:
    client = socketio.AsyncClient(reconnection=False)
    got: asyncio.Future[list[object]] = asyncio.get_running_loop().create_future()

    @client.on(args.event)
    def on_event(*data: object) -> None:
        if not got.done():
            got.set_result(list(data))

    try:
        await asyncio.wait_for(
            client.connect(args.url, socketio_path=args.path, transports=TRANSPORTS[args.mode]),
            10,
        )
        if args.mode == "upgrade":
            for _ in range(100):  # python-socketio upgrades in the background
                if client.transport() == "websocket":
                    break
                await asyncio.sleep(0.05)
        say({"connected": client.get_sid(), "transport": client.transport()})
        data = await asyncio.wait_for(got, 10)
        say({"event": args.event, "args": data, "transport": client.transport()})
    except Exception as exc:
        say({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        await client.disconnect()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--path", default="/socket.io")
    parser.add_argument("--mode", choices=tuple(TRANSPORTS), default="upgrade")
    parser.add_argument("--event", default="notice")
    asyncio.run(main(parser.parse_args()))
