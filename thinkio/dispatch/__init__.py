"""The ThinkJS-style controller layer: controllers, routes, and the dispatcher.

``messages`` maps events to action paths (``{"addUser": "/websocket/addUser"}``); each path
resolves at start-up to a method of a :class:`Controller` subclass (``add_user_action`` of the
``websocket`` controller, see :func:`action_method`); the :class:`Dispatcher` registers one
handler per route on the server's namespaces.
"""

from .controller import Context, Controller, blocking, is_blocking
from .dispatcher import Dispatcher
from .http import (
    HttpController,
    HttpControllerLookup,
    HttpError,
    HttpRoute,
    RouteRequest,
    mount_routes,
    resolve_http_routes,
)
from .plain import PlainDispatcher
from .routes import ControllerLookup, Route, action_method, controllers_from, resolve_routes

__all__ = (
    "Context",
    "Controller",
    "ControllerLookup",
    "Dispatcher",
    "HttpController",
    "HttpControllerLookup",
    "HttpError",
    "HttpRoute",
    "PlainDispatcher",
    "Route",
    "RouteRequest",
    "action_method",
    "blocking",
    "controllers_from",
    "is_blocking",
    "mount_routes",
    "resolve_http_routes",
    "resolve_routes",
)
