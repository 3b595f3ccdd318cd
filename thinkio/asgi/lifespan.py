"""The ASGI ``lifespan`` scope: the thinkio server runs (timers, flusher, adapters, handler
tasks) between ``lifespan.startup`` and ``lifespan.shutdown``.

The server's tasks live in a task group opened here, in the lifespan's own task: the ASGI
server keeps that task alive for the application's whole life, on asyncio as on trio
(hypercorn ``--worker-class trio``). A wrapped application (``other_asgi_app``) gets its
lifespan events too, after thinkio started and before it stops; one that does not support
lifespan (it raises on the scope) is left alone, as ASGI servers do.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
import anyio.abc

from .types import ASGIApplication, Message, Receive, Scope, Send

__all__ = ("InnerLifespan",)

log = logging.getLogger("thinkio.asgi")


class InnerLifespan:
    """Drives a wrapped application's lifespan: :meth:`startup`, then :meth:`shutdown`."""

    def __init__(self, app: ASGIApplication, scope: Scope) -> None:
        self._app = app
        self._scope = scope
        self._to_app, self._app_in = anyio.create_memory_object_stream[Message](2)
        self._app_out, self._from_app = anyio.create_memory_object_stream[Message](2)
        self.supported = True

    async def _run(self) -> None:
        async def receive() -> Message:
            return await self._app_in.receive()

        async def send(message: Message) -> None:
            await self._app_out.send(message)

        try:
            await self._app(self._scope, receive, send)
        except Exception:
            if self.supported:
                log.debug("the wrapped application does not support lifespan", exc_info=True)
        finally:
            self.supported = False
            self._app_out.close()

    async def _step(self, kind: str) -> str | None:
        """Send ``lifespan.<kind>``; None when it completed, else the failure message."""
        if not self.supported:
            return None
        await self._to_app.send({"type": f"lifespan.{kind}"})
        try:
            reply = await self._from_app.receive()
        except anyio.EndOfStream:
            return None  # it returned (or raised): no lifespan support
        if reply["type"] == f"lifespan.{kind}.failed":
            return str(reply.get("message", ""))
        return None

    async def startup(self, tg: anyio.abc.TaskGroup) -> str | None:
        tg.start_soon(self._run)
        return await self._step("startup")

    async def shutdown(self) -> str | None:
        return await self._step("shutdown")


async def run_lifespan(
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    start: Callable[[anyio.abc.TaskGroup], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    inner: ASGIApplication | None,
) -> None:
    """Serve a lifespan scope: ``await start(tg)`` on startup (its tasks in ``tg``), ``await
    stop()`` on shutdown; ``inner``'s lifespan nested inside."""
    message = await receive()
    if message["type"] != "lifespan.startup":
        return
    async with anyio.create_task_group() as tg:
        nested = InnerLifespan(inner, scope) if inner is not None else None
        try:
            await start(tg)
            failure = await nested.startup(tg) if nested is not None else None
        except Exception as exc:
            log.exception("thinkio failed to start")
            failure = f"{type(exc).__name__}: {exc}"
        if failure is not None:
            await send({"type": "lifespan.startup.failed", "message": failure})
            tg.cancel_scope.cancel()
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()  # lifespan.shutdown
        failure = None
        if nested is not None:
            failure = await nested.shutdown()
        await stop()
        tg.cancel_scope.cancel()
    if failure is not None:
        await send({"type": "lifespan.shutdown.failed", "message": failure})
    else:
        await send({"type": "lifespan.shutdown.complete"})
