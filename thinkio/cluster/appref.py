"""Naming the app a worker runs, so that a freshly started process can build it again.

A worker is a new Python process: it cannot receive a function object, only its name. An
app is named by an *import string*: ``"package.module:build_server"`` (a factory returning a
:class:`~thinkio.server.Server`, sync or async), ``"package.module:io"`` (a server built at
import time), or ``"path/to/app.py:build_server"`` for a script that is not importable. A
module-level function given as an object is turned into its import string (a script's
``__main__`` becomes its file path, loaded under another module name so that its
``if __name__ == "__main__":`` block does not run again in the worker).

A factory may be given string arguments (``app_args``: a project directory, say:
``"thinkio.app:App.from_project"`` with ``["./myproject"]``). It may also return an
application object that wraps the Server in an ``io`` or ``server`` attribute (a
:class:`thinkio.app.App`); the worker then serves that Server and shuts down through the
object's own ``shutdown(timeout)`` if it has one, so that its close hooks run.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..plain import SockJSEndpoint
from ..server import Server
from ..server.handlers import call_handler

__all__ = ("AppSpec", "LoadedApp", "app_reference", "import_reference", "load_app")

#: What ``thinkio.cluster.serve`` accepts as the app.
AppSpec = str | Callable[[], Any]

_SCRIPT_MODULE = "__thinkio_app__"


def app_reference(app: AppSpec) -> str:
    """The import string of ``app``.

    Raises:
        ConfigError: ``app`` is not ``"module:attribute"`` (or ``"file.py:attribute"``), or
            is a function other processes cannot import (a lambda, a nested function).
    """
    if isinstance(app, str):
        module, sep, attr = app.rpartition(":")
        if not sep or not module or not attr or not all(p.isidentifier() for p in attr.split(".")):
            raise ConfigError(
                f"app: expected an import string like 'package.module:build_server', got {app!r}"
            )
        return app
    module_name = getattr(app, "__module__", None)
    qualname = getattr(app, "__qualname__", None)
    if not callable(app) or not module_name or not qualname or "<" in qualname:
        raise ConfigError(
            f"app: {app!r} cannot be imported by a worker process; pass a module-level "
            "function or an import string like 'package.module:build_server'"
        )
    if module_name == "__main__":
        path = getattr(sys.modules["__main__"], "__file__", None)
        if not path:
            raise ConfigError("app: a function typed into an interactive session cannot be "
                              "imported by a worker; put it in a module")  # fmt: skip
        return f"{os.path.abspath(path)}:{qualname}"
    return f"{module_name}:{qualname}"


def import_reference(reference: str) -> Any:
    """The object an import string names.

    Raises:
        ConfigError: the module or attribute cannot be found (the import error is chained).
    """
    module_part, _, attr = reference.rpartition(":")
    try:
        if module_part.endswith(".py"):
            spec = importlib.util.spec_from_file_location(_SCRIPT_MODULE, module_part)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {module_part}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[_SCRIPT_MODULE] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_part)
    except (ImportError, OSError) as exc:
        raise ConfigError(f"app {reference!r}: cannot import {module_part!r}: {exc}") from exc
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(f"app {reference!r}: {module_part!r} has no {attr!r}") from None
    return obj


@dataclass(frozen=True, slots=True)
class LoadedApp:
    """What a worker runs: the server, and how to shut the app down."""

    server: Server
    #: ``shutdown(timeout)``: the app's own if it has one, else the server's.
    shutdown: Callable[[float], Awaitable[None]]
    #: The path of the app's SockJS endpoint (the ``sockjs`` type), whose sessions are
    #: named in the path: the supervisor routes them by it. None: no SockJS.
    sockjs_path: str | None = None


async def load_app(reference: str, args: Sequence[str] = ()) -> LoadedApp:
    """Import the app and build it (calling the factory with ``args``).

    Raises:
        ConfigError: the app cannot be imported, or does not give a Server.
    """
    obj = import_reference(reference)
    if not isinstance(obj, Server) and callable(obj):
        obj = await call_handler(obj, *args)
    elif args:
        raise ConfigError(f"app {reference!r}: arguments given, but it is not a factory")
    if isinstance(obj, Server):
        return LoadedApp(obj, obj.shutdown)
    for name in ("io", "server"):
        inner = getattr(obj, name, None)
        if isinstance(inner, Server):
            shutdown = getattr(obj, "shutdown", None)
            if not inspect.iscoroutinefunction(shutdown):
                shutdown = inner.shutdown
            endpoint = getattr(obj, "endpoint", None)
            sockjs = endpoint.path if isinstance(endpoint, SockJSEndpoint) else None
            return LoadedApp(inner, shutdown, sockjs)
    raise ConfigError(
        f"app {reference!r}: expected a thinkio.server.Server, an object holding one in "
        f"'io' or 'server', or a factory returning either; got {type(obj).__name__}"
    )
