"""One Engine.IO v4 session from the client's side, on anyio (PROTOCOL.md 1).

:class:`EngineClient` drives a sans-IO :class:`~thinkio.engineio.ClientSession`: it opens the
session (a polling GET, or a WebSocket), then runs, in its own task group,

* the long-poll loop (one GET outstanding on its own keep-alive connection, 1.4), or the
  WebSocket reader;
* the upgrade (a probe WebSocket: ``2probe`` / ``3probe``, wait for polling to go idle, ``5``,
  1.6) when polling is first and WebSocket is allowed;
* the timer that closes the session when no ping came within pingInterval + pingTimeout (1.5).

Writes go through :meth:`EngineClient.send`: packets are queued in the session and flushed
under one lock, so at most one POST is in flight (1.4) and WebSocket frames keep their order.
Every received message is handed, in order, to the ``on_message`` coroutine.

The session ends for good when it closes (any reason); reconnecting is the caller's business
and takes a new :class:`EngineClient`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
from anyio.abc import TaskStatus

from ..engineio import ClientReason, ClientSession, ClientState, MessageReceived
from ..errors import Disconnected, RemoteProtocolError
from ..limits import DEFAULT_LIMITS, Limits
from .endpoint import Endpoint
from .http import HttpClientConnection, RequestFailed
from .websocket import ClientWebSocket, connect_websocket

__all__ = ("EngineClient",)

log = logging.getLogger("thinkio.client")

#: Largest response body / WebSocket message accepted from the server.
MAX_INCOMING = 64 * 1024 * 1024
_NET_ERRORS = (OSError, RequestFailed, TimeoutError)
_POST_HEADERS = [("content-type", "text/plain;charset=UTF-8")]


class EngineClient:
    """The I/O for one Engine.IO session.

    Args:
        endpoint: the server.
        on_message: called with each message (text or bytes), in order.
        transports: ``("polling", "websocket")`` (open on polling, then upgrade),
            ``("websocket",)`` or ``("polling",)``.
        headers: extra HTTP headers for every request and the WebSocket handshakes.
        request_timeout: seconds a POST or a WebSocket connect may take.
        upgrade_timeout: seconds an upgrade may take.
        limits: bounds (packets per payload).
    """

    def __init__(
        self,
        endpoint: Endpoint,
        on_message: Callable[[str | bytes], Awaitable[None]],
        *,
        transports: Sequence[str] = ("polling", "websocket"),
        headers: Sequence[tuple[str, str]] = (),
        request_timeout: float = 20.0,
        upgrade_timeout: float = 10.0,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._endpoint = endpoint
        self._on_message = on_message
        self._transports = tuple(transports)
        self._headers = list(headers)
        self._request_timeout = request_timeout
        self._upgrade_timeout = upgrade_timeout
        self._limits = limits
        conn_args: dict[str, Any] = {
            "tls": endpoint.tls,
            "host_header": endpoint.host_header,
            "max_body": MAX_INCOMING,
        }
        self._get_conn = HttpClientConnection(endpoint.host, endpoint.port, **conn_args)
        self._post_conn = HttpClientConnection(endpoint.host, endpoint.port, **conn_args)
        self._ws: ClientWebSocket | None = None
        self.session: ClientSession | None = None
        self.close_reason: str | None = None
        self._closed = anyio.Event()
        self._poll_done = anyio.Event()
        self._timer_wake = anyio.Event()
        self._write_lock = anyio.Lock()
        self._drain_lock = anyio.Lock()

    # -- public -----------------------------------------------------------------------------

    @property
    def transport(self) -> str | None:
        """``"polling"`` or ``"websocket"`` while open, else None."""
        session = self.session
        return None if session is None or session.closed else session.transport

    @property
    def closed(self) -> bool:
        """The session has ended."""
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        """Return when the session has ended; :attr:`close_reason` says why."""
        await self._closed.wait()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Open the session, report ready, and run it until it ends.

        Use with ``await task_group.start(engine.run)``: it returns once the handshake is
        done, or raises what made the handshake fail.

        Raises:
            OSError: the server could not be reached.
            RequestFailed: an HTTP request or the WebSocket handshake failed.
            RemoteProtocolError: the server's handshake was not Engine.IO v4.
        """
        try:
            await self._open()
            task_status.started()
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._guard, self._timer_loop)
                session = self.session
                assert session is not None
                if session.transport == "polling":
                    tg.start_soon(self._guard, self._poll_loop)
                    if "websocket" in self._transports and session.can_upgrade:
                        tg.start_soon(self._guard, self._upgrade)
                else:
                    assert self._ws is not None
                    tg.start_soon(self._guard, self._ws_loop, self._ws)
                await self._closed.wait()
                tg.cancel_scope.cancel()
        finally:
            self._closed.set()
            await self._release()

    async def send(self, messages: Sequence[str | bytes]) -> None:
        """Queue Engine.IO messages and write them out (in order, with everything queued).

        Raises:
            Disconnected: the session is not open.
        """
        session = self.session
        if session is None or session.closed:
            raise Disconnected(self.close_reason or "not connected")
        for message in messages:
            session.send_message(message)
        await self._flush()

    async def close(self) -> None:
        """Close gracefully: flush what is queued, then ``1`` on polling (PROTOCOL.md 1.7)."""
        session = self.session
        if session is not None and not session.closed:
            session.close()
            with anyio.move_on_after(self._request_timeout, shield=True):
                await self._flush()
        self._sync_closed()
        self._closed.set()

    def abort(self, reason: str) -> None:
        """End the session now with ``reason`` (e.g. ``"parse error"`` from the layer above)."""
        if self.session is not None:
            self.session.transport_closed(anyio.current_time(), reason)
        self._sync_closed()
        self._closed.set()

    # -- opening ----------------------------------------------------------------------------

    async def _open(self) -> None:
        transport = self._transports[0]
        session = self.session = ClientSession(
            transport,
            now=anyio.current_time(),
            upgrade_timeout=self._upgrade_timeout,
            max_packets=self._limits.max_packets_per_payload,
        )
        target = self._endpoint.target(transport)
        if transport == "polling":
            response = await self._get_conn.request("GET", target, headers=self._headers)
            if response.status != 200:
                text = response.body[:200].decode("utf-8", "replace")
                raise RemoteProtocolError(f"handshake refused: HTTP {response.status} {text}")
            session.receive_poll_body(response.body, anyio.current_time())
        else:
            with anyio.fail_after(self._request_timeout):
                self._ws = await self._connect_ws(target)
                message = await self._ws.receive()
            if message is None:
                raise RequestFailed("the WebSocket closed before the open packet")
            session.receive_ws(message, anyio.current_time())
        if session.state is not ClientState.OPEN:
            raise RemoteProtocolError(f"no open packet (session {session.state.value})")
        await self._drain()

    async def _connect_ws(self, target: str) -> ClientWebSocket:
        ep = self._endpoint
        return await connect_websocket(
            ep.host,
            ep.port,
            target,
            tls=ep.tls,
            host_header=ep.host_header,
            headers=self._headers,
            max_message=MAX_INCOMING,
        )

    # -- the session's tasks ----------------------------------------------------------------

    async def _guard(self, func: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Run a task; a bug in it ends the session instead of crashing the caller's tasks."""
        try:
            await func(*args)
        except Exception:
            log.exception("Engine.IO client task %s failed", getattr(func, "__name__", func))
            self.abort(ClientReason.TRANSPORT_ERROR)

    async def _timer_loop(self) -> None:
        session = self.session
        assert session is not None
        while not session.closed:
            deadline = session.next_deadline()
            self._timer_wake = anyio.Event()
            delay = math.inf if deadline is None else deadline - anyio.current_time()
            if delay > 0:
                with anyio.move_on_after(delay):
                    await self._timer_wake.wait()
            session.handle_timeout(anyio.current_time())
            await self._drain()

    async def _poll_loop(self) -> None:
        session = self.session
        assert session is not None and session.handshake is not None
        hs = session.handshake
        # The server holds a GET at most until its next ping; the timer catches a dead link
        # first, this only bounds the request.
        timeout = hs.ping_interval + hs.ping_timeout + 1.0
        try:
            while session.polling:
                target = self._endpoint.target("polling", session.sid)
                try:
                    with anyio.fail_after(timeout):
                        response = await self._get_conn.request(
                            "GET", target, headers=self._headers
                        )
                except _NET_ERRORS as exc:
                    log.debug("poll failed: %r", exc)
                    self.abort(ClientReason.TRANSPORT_ERROR)
                    return
                if response.status != 200:
                    log.debug("poll answered HTTP %s", response.status)
                    self.abort(ClientReason.TRANSPORT_ERROR)
                    return
                try:
                    session.receive_poll_body(response.body, anyio.current_time())
                except RemoteProtocolError as exc:
                    log.debug("bad payload from the server: %s", exc)
                await self._drain()
                await self._flush()  # the pong, if the payload held a ping
        finally:
            self._poll_done.set()

    async def _ws_loop(self, ws: ClientWebSocket) -> None:
        session = self.session
        assert session is not None
        while not session.closed:
            message = await ws.receive()
            if message is None:
                session.transport_closed(anyio.current_time(), ClientReason.TRANSPORT_CLOSE)
            else:
                try:
                    session.receive_ws(message, anyio.current_time())
                except RemoteProtocolError as exc:
                    log.debug("bad packet from the server: %s", exc)
            await self._drain()
            await self._flush()

    async def _upgrade(self) -> None:
        """PROTOCOL.md 1.6, from the client's side."""
        session = self.session
        assert session is not None
        probe_message = session.begin_upgrade(anyio.current_time())
        self._timer_wake.set()  # the upgrade deadline may come before the ping deadline
        probe: ClientWebSocket | None = None
        try:
            with anyio.fail_after(self._upgrade_timeout):
                probe = await self._connect_ws(self._endpoint.target("websocket", session.sid))
                await probe.send(probe_message)
                answer = await probe.receive()
                if answer is None:
                    session.abort_upgrade("the probe closed")
                    return
                session.receive_probe(answer, anyio.current_time())
                if session.state is not ClientState.PAUSED:
                    return
                # Polling pauses: the pending GET comes back (the server answers it ``6``).
                await self._poll_done.wait()
                async with self._write_lock:
                    if session.state is not ClientState.PAUSED:
                        return
                    for message in session.finish_upgrade(anyio.current_time()):
                        await probe.send(message)
                self._ws, probe = probe, None
        except _NET_ERRORS as exc:
            session.abort_upgrade(f"probe failed: {exc!r}")
            return
        finally:
            if probe is not None:
                await probe.close()
            await self._drain()
        log.debug("upgraded to websocket")
        await self._ws_loop(self._ws)

    # -- plumbing ---------------------------------------------------------------------------

    async def _drain(self) -> None:
        """Hand received messages up, in order; notice the end of the session."""
        session = self.session
        assert session is not None
        async with self._drain_lock:
            while (event := session.next_event()) is not None:
                if isinstance(event, MessageReceived):
                    await self._on_message(event.data)
                else:
                    log.debug("engine.io: %r", event)
        self._sync_closed()

    def _sync_closed(self) -> None:
        session = self.session
        if session is not None and session.closed and not self._closed.is_set():
            self.close_reason = session.close_reason
            self._closed.set()

    async def _flush(self) -> None:
        session = self.session
        assert session is not None
        async with self._write_lock:
            while True:
                if session.transport == "websocket":
                    messages = session.take_ws_messages()
                    if not messages or self._ws is None:
                        return
                    for message in messages:
                        await self._ws.send(message)
                else:
                    bodies = session.take_poll_bodies()
                    if not bodies:
                        return
                    for body in bodies:
                        if not await self._post(body):
                            return

    async def _post(self, body: bytes) -> bool:
        session = self.session
        assert session is not None
        target = self._endpoint.target("polling", session.sid)
        try:
            with anyio.fail_after(self._request_timeout):
                response = await self._post_conn.request(
                    "POST", target, headers=_POST_HEADERS + self._headers, body=body
                )
        except _NET_ERRORS as exc:
            log.debug("POST failed: %r", exc)
            self.abort(ClientReason.TRANSPORT_ERROR)
            return False
        if response.status != 200:
            log.debug("POST answered HTTP %s", response.status)
            self.abort(ClientReason.TRANSPORT_ERROR)
            return False
        return True

    async def _release(self) -> None:
        with anyio.CancelScope(shield=True):
            if self._ws is not None:
                with anyio.move_on_after(1.0):
                    await self._ws.close()
            await self._get_conn.aclose()
            await self._post_conn.aclose()
