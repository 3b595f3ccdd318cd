"""Action paths to controller methods, resolved once at start-up.

The rule (ThinkJS's, with Python names)::

    /websocket/addUser   ->  controller "websocket"   (controller/websocket.py)
                             method     "add_user_action"
    /admin/user/list     ->  controller "admin/user"  (controller/admin/user.py)
                             method     "list_action"

The last part of the path is the action; everything before it names the controller. The
method is the action in snake_case followed by ``_action``: an underscore goes before each
capital that follows a lower-case letter or digit, and before the last capital of a run of
capitals followed by a lower-case letter; then everything is lower-cased (``addUser`` ->
``add_user``, ``getHTTPStatus`` -> ``get_http_status``, ``open`` -> ``open``).

Every route of the ``messages`` maps is resolved when the application is built; a missing
controller, class or method stops the start with a :class:`~thinkio.errors.ConfigError`
naming the route and where it was configured. How each route runs is decided then too:
in a worker thread (an action marked :func:`~thinkio.dispatch.blocking`), inline on the event
loop (``before``, the action and ``after`` all plain ``def``), or as a coroutine.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ..config import NamespaceMessages
from ..errors import ConfigError
from .controller import Controller, is_blocking

__all__ = ("ControllerLookup", "Route", "action_method", "controllers_from", "resolve_routes")

#: ``name -> controller class``; raises LookupError (with the reason) for an unknown name.
ControllerLookup = Callable[[str], type[Controller]]

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def action_method(action: str) -> str:
    """The method name of an action: ``addUser`` -> ``add_user_action``."""
    return _BOUNDARY.sub("_", action).lower() + "_action"


@dataclass(frozen=True, slots=True)
class Route:
    """One event of one namespace, resolved to a controller method."""

    namespace: str | re.Pattern[str]
    #: The event: ``"open"``, ``"close"`` or a client event name.
    event: str
    #: The configured action path, ``"/websocket/addUser"``.
    path: str
    #: ``"websocket"`` (``"admin/user"`` for a nested one).
    controller_name: str
    controller: type[Controller]
    #: ``"add_user_action"``.
    method: str
    #: The action was marked :func:`~thinkio.dispatch.blocking`: it runs in a worker thread.
    blocking: bool = False
    #: ``before``, the action and ``after`` are plain ``def``: the call never suspends, so it
    #: runs inline on the event loop, without a task of its own.
    inline: bool = False


def controllers_from(controllers: Mapping[str, type[Controller]]) -> ControllerLookup:
    """A lookup over a dict of controller classes (``{"websocket": WebsocketController}``).

    Raises:
        ConfigError: a key is not a controller name or a value not a Controller subclass.
    """
    table = dict(controllers)
    for name, cls in table.items():
        if not isinstance(name, str) or not name or name.startswith("/"):
            raise ConfigError(f"controllers: {name!r} is not a controller name like 'websocket'")
        if not (isinstance(cls, type) and issubclass(cls, Controller)):
            raise ConfigError(
                f"controllers[{name!r}]: expected a thinkio.Controller subclass, got {cls!r}"
            )

    def lookup(name: str) -> type[Controller]:
        try:
            return table[name]
        except KeyError:
            known = ", ".join(map(repr, table)) or "none"
            raise LookupError(
                f"no controller {name!r} among the controllers given ({known})"
            ) from None

    return lookup


def resolve_routes(
    messages: Iterable[NamespaceMessages], lookup: ControllerLookup
) -> tuple[Route, ...]:
    """Every route of the messages maps, resolved.

    Raises:
        ConfigError: a controller or method is missing; the message names the route.
    """
    found: dict[str, type[Controller] | LookupError] = {}
    routes: list[Route] = []
    for ns in messages:
        for event, path in ns.messages:
            where = f"{ns.where}.{event}: {path!r}"
            controller_name, _, action = path.strip("/").rpartition("/")
            if controller_name not in found:
                try:
                    found[controller_name] = lookup(controller_name)
                except LookupError as exc:
                    found[controller_name] = exc
            cls = found[controller_name]
            if isinstance(cls, LookupError):
                raise ConfigError(f"{where}: controller {controller_name!r} not found: {cls}")
            method = action_method(action)
            fn = getattr(cls, method, None)
            if not callable(fn):
                raise ConfigError(
                    f"{where}: controller {controller_name!r} ({cls.__qualname__}) has no "
                    f"method {method}() for the action {action!r}"
                )
            threaded = is_blocking(fn)
            if threaded and inspect.iscoroutinefunction(fn):
                raise ConfigError(
                    f"{where}: {cls.__qualname__}.{method}() is async and marked @blocking; "
                    "@blocking is for plain def actions (an async action awaits "
                    "anyio.to_thread.run_sync(...) for its blocking part)"
                )
            plain = not any(inspect.iscoroutinefunction(f) for f in (fn, cls.before, cls.after))
            routes.append(
                Route(
                    ns.namespace,
                    event,
                    path,
                    controller_name,
                    cls,
                    method,
                    blocking=threaded,
                    inline=plain and not threaded,
                )
            )
    return tuple(routes)
