"""How a server answers its peers' requests (REDIS-INTEROP.md C1, request types 0-7).

Requests arrive on the namespace's request channel from other servers (thinkio or Node) and
from ``@socket.io/redis-emitter`` (which sends no ``uid``). Each is applied to *local*
sockets only: the options a peer sends are read with ``local=True``
(:func:`.wire.opts_from_wire`), so applying them never publishes again. Answers go to the
response channel (or the requester's own, with ``publish_on_specific_response_channel``).

The acked broadcast (type 7) is Node's ``io.timeout(ms).emitWithAck(...)``: every server
delivers the packet to its target sockets, each with an ack id, and answers twice: once
``{type: 8, requestId, clientCount}`` (JSON) so the originator knows how many acks to
expect, then ``{type: 9, requestId, packet: ackArg}`` (msgpack) per client ack, with the
first argument of the ack. A client that does not ack within ``flags.timeout`` is not
answered for: the originator's own timer reports the shortfall. Each target socket gets its
own ack id, so this path encodes per socket (through :meth:`~thinkio.server.Socket.call`);
acked broadcasts are rare, plain broadcasts never come here. thinkio itself sends no type 7.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any

import anyio

from ..errors import AckTimeout, LocalProtocolError
from ..server.adapter import BroadcastOptions
from .msgpack import packb
from .remote import describe
from .wire import Request, RequestType, encode_json

if TYPE_CHECKING:
    from ..server.socket import Socket
    from .redis import RedisAdapter

__all__ = ("answer", "answer_acked_broadcast")

log = logging.getLogger("thinkio.adapters.redis")


async def answer(adapter: RedisAdapter, request: Request) -> None:
    """Apply a peer's request (types 0-6) to local sockets and publish the answer it needs.

    Raises:
        RedisUnavailable: the answer could not be published.
        LocalProtocolError: the answer cannot be encoded.
    """
    rtype, rid, ns = request.type, request.request_id, adapter.namespace
    if rtype == RequestType.SOCKETS:
        sids = adapter.rooms.select(request.rooms)
        await adapter.reply(request, encode_json({"requestId": rid, "sockets": sids}))
    elif rtype == RequestType.ALL_ROOMS:
        rooms = sorted(adapter.rooms.all_rooms())
        await adapter.reply(request, encode_json({"requestId": rid, "rooms": rooms}))
    elif rtype == RequestType.REMOTE_FETCH:
        opts = request.opts or BroadcastOptions(local=True)
        parts = [_describe_json(s) for s in await adapter.fetch_sockets(opts)]
        head = encode_json({"requestId": rid})[:-1]
        await adapter.reply(request, head + b',"sockets":[' + b",".join(parts) + b"]}")
    elif rtype in (RequestType.REMOTE_JOIN, RequestType.REMOTE_LEAVE):
        join = rtype == RequestType.REMOTE_JOIN
        if request.opts is not None:
            if join:
                await adapter.add_sockets(request.opts, request.rooms)
            else:
                await adapter.del_sockets(request.opts, request.rooms)
        elif (
            request.sid is not None and request.sid in ns.sockets and request.room is not None
        ):  # the legacy form
            if join:
                adapter.join(request.sid, [request.room])
            else:
                adapter.leave(request.sid, request.room)
            await adapter.reply(request, encode_json({"requestId": rid}))
    elif rtype == RequestType.REMOTE_DISCONNECT:
        if request.opts is not None:
            await adapter.disconnect_sockets(request.opts, request.close)
        elif request.sid is not None and (socket := ns.sockets.get(request.sid)) is not None:
            await socket.disconnect(request.close)
            await adapter.reply(request, encode_json({"requestId": rid}))
    elif rtype == RequestType.SERVER_SIDE_EMIT:
        await _server_side_event(adapter, request)
    else:
        log.debug("ignoring request of unknown type %s", rtype)


async def _server_side_event(adapter: RedisAdapter, request: Request) -> None:
    event, args = request.data[0], request.data[1:]
    handlers = adapter.server_handlers.get(event, [])
    results = []
    for handler in handlers:
        result = handler(*args)
        results.append(await result if inspect.isawaitable(result) else result)
    # As in Node, only a server with a handler answers (its first handler's value), and
    # always on the shared response channel.
    if request.request_id is not None and handlers:
        body = {"type": int(RequestType.SERVER_SIDE_EMIT), "requestId": request.request_id}
        body["data"] = results[0]
        await adapter.link.publish(adapter.channels.response, encode_json(body))


def _describe_json(socket: Any) -> bytes:
    """One socket's JSON description; unserializable ``data`` is sent as null."""
    description = describe(socket)
    try:
        return encode_json(description)
    except LocalProtocolError:
        log.warning("socket %s: data is not JSON-serializable; sent as null", socket.id)
        description["data"] = None
        return encode_json(description)


def answer_acked_broadcast(adapter: RedisAdapter, request: Request) -> None:
    """Deliver a peer's acked broadcast (type 7) locally; answer with the count and acks."""
    ns = adapter.namespace
    data, opts, rid = request.packet_data, request.opts, request.request_id
    if data is None or opts is None or rid is None or request.packet_namespace != ns.name:
        return
    if not isinstance(data[0], str):
        return
    timeout_ms = opts.flags.get("timeout")
    timeout = (
        timeout_ms / 1000
        if isinstance(timeout_ms, int | float) and not isinstance(timeout_ms, bool)
        else adapter.requests_timeout
    )
    sockets = [ns.sockets[sid] for sid in adapter.local_targets(opts) if sid in ns.sockets]
    event, args = data[0], data[1:]

    async def ask(socket: Socket) -> None:
        try:
            acked = await socket.call(event, *args, timeout=timeout)
        except (AckTimeout, LocalProtocolError):
            return
        body: dict[str, Any] = {"type": int(RequestType.BROADCAST_ACK), "requestId": rid}
        body["packet"] = acked[0] if acked else None
        try:
            encoded = packb(body)
        except LocalProtocolError as exc:
            log.debug("a client's ack cannot be sent to the peer: %s", exc)
            return
        await adapter.reply(request, encoded)

    async def run() -> None:
        count = {"type": int(RequestType.BROADCAST_CLIENT_COUNT), "requestId": rid}
        count["clientCount"] = len(sockets)
        await adapter.reply(request, encode_json(count))
        async with anyio.create_task_group() as tg:
            for socket in sockets:
                tg.start_soon(ask, socket)

    ns.spawn(run)
