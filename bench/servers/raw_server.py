"""The load generator's ceiling: a server that answers the benchmark's packets for nothing.

    python -m bench.servers.raw_server [--port 0]

Not a Socket.IO server. A picows WebSocket server on uvloop that answers the packets the
generator sends with bytes it builds without parsing (an echo goes back as it came, an ack is
the request with its head rewritten), so the server's cost per message is about the kernel's.
What the generator reaches against it is the most it can measure on this machine; a real
server's figure near it would mean the generator, not the server, set the pace. WebSocket
only: it does not serve long-polling.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
from collections import defaultdict

import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

from . import MAX_COUNT

_TEXT = WSMsgType.TEXT
_ids = itertools.count(1)
_everyone: set[WSTransport] = set()
_rooms: defaultdict[str, set[WSTransport]] = defaultdict(set)


def _open_packet(n: int) -> bytes:
    return b'0{"sid":"raw%d","upgrades":[],"pingInterval":25000,"pingTimeout":20000,' % n + (
        b'"maxPayload":1000000}'
    )


class RawListener(WSListener):
    def on_ws_connected(self, transport: WSTransport) -> None:
        self.n = next(_ids)
        self.rooms: list[str] = []
        _everyone.add(transport)
        transport.send(_TEXT, _open_packet(self.n))

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        _everyone.discard(transport)
        for room in self.rooms:
            _rooms[room].discard(transport)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is not _TEXT:
            if frame.msg_type is WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()
            return
        data = frame.get_payload_as_bytes()
        if data.startswith(b'42["echo",'):
            transport.send(_TEXT, data)
        elif data.startswith(b"42") and (at := data.find(b'["ack",')) > 0:
            transport.send(_TEXT, b"43" + data[2:at] + b"[" + data[at + 7 :])
        elif data.startswith(b"42") and (at := data.find(b'["async_ack",')) > 0:
            transport.send(_TEXT, b"43" + data[2:at] + b"[" + data[at + 13 :])
        elif data == b"40":
            transport.send(_TEXT, b'40{"sid":"raw%d"}' % self.n)
        elif data.startswith(b"42"):
            self.rare(transport, data)

    def rare(self, transport: WSTransport, data: bytes) -> None:
        """join, broadcast and room_broadcast: parsed for real (they are not per message)."""
        at = data.index(b"[")
        ack_id, (event, *args) = data[2:at], json.loads(data[at:])
        if event == "join":
            self.rooms.append(args[0])
            _rooms[args[0]].add(transport)
            reply = args[0]
        elif event in ("broadcast", "room_broadcast"):
            targets = _everyone if event == "broadcast" else _rooms[args.pop(0)]
            count, payload = min(int(args[0]), MAX_COUNT), json.dumps(args[1])
            for i in range(count):
                message = b'42["tick",%d,%s]' % (i, payload.encode())
                for target in list(targets):
                    target.send(_TEXT, message)
            reply = count
        else:
            return
        if ack_id:
            transport.send(_TEXT, b"43" + ack_id + json.dumps([reply]).encode())


async def main(host: str, port: int) -> None:
    def factory(request: WSUpgradeRequest) -> RawListener:
        return RawListener()

    server = await ws_create_server(factory, host, port, backlog=4096)
    bound = server.sockets[0].getsockname()
    print(f"listening on {bound[0]}:{bound[1]}", flush=True)
    await server.serve_forever()


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers.raw_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(main(args.host, args.port))


if __name__ == "__main__":
    cli()
