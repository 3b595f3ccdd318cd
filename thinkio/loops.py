"""The event loop thinkio runs on: asyncio, asyncio on uvloop, or trio.

thinkio's I/O is written once, against anyio; picking the loop is the only backend-specific
step, and it happens here, when a program starts one (``thinkio run``, :meth:`App.run`, the
cluster's processes). An app started inside a program's own ``anyio.run`` (or
``asyncio.run`` / ``trio.run``) runs on whatever loop that program chose.

===========  =====================================================  ==========================
loop         what runs                                              needs
===========  =====================================================  ==========================
``uvloop``   asyncio on uvloop's event loop (libuv); the default    ``thinkio[speed]``
             when uvloop is installed
``asyncio``  asyncio on the standard library's loop; the default
             without uvloop
``trio``     trio                                                   ``thinkio[trio]``
===========  =====================================================  ==========================
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, TypeVarTuple

import anyio

from .errors import ConfigError
from .extras import installed, require

__all__ = ("LOOPS", "default_loop", "resolve_loop", "run")

#: The loops thinkio can be run on.
LOOPS = ("asyncio", "uvloop", "trio")

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def default_loop() -> str:
    """``"uvloop"`` when uvloop is installed, else ``"asyncio"``."""
    return "uvloop" if installed("uvloop") else "asyncio"


def resolve_loop(loop: str | None) -> str:
    """The loop to run on: ``loop``, or :func:`default_loop` for None; checked to be usable.

    Raises:
        ConfigError: not one of :data:`LOOPS`.
        MissingExtra: its package is not installed (``trio``, ``uvloop``).
    """
    if loop is None:
        return default_loop()
    if loop not in LOOPS:
        raise ConfigError(f"loop: expected one of {', '.join(LOOPS)}, got {loop!r}")
    if loop != "asyncio":
        require(loop)
    return loop


def run(func: Callable[[*Ts], Awaitable[T]], *args: *Ts, loop: str | None = None) -> T:
    """``anyio.run(func, *args)`` on ``loop`` (see :func:`resolve_loop`).

    Raises:
        ConfigError: an unknown loop.
        MissingExtra: the loop's package is not installed.
    """
    name = resolve_loop(loop)
    options: dict[str, Any] = {"use_uvloop": True} if name == "uvloop" else {}
    backend = "trio" if name == "trio" else "asyncio"
    return anyio.run(func, *args, backend=backend, backend_options=options)
