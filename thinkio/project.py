"""A thinkio project directory: the ThinkJS layout, in Python.

::

    DIR/
      config/config.py       application keys: host, port, sticky_cluster, middleware...
      config/adapter.py      websocket = {"type": "socketio", "socketio": {...messages...}}
      controller/*.py        one controller per module (controller/admin/user.py: "admin/user")
      www/                   static files, served at /

Every module of the project is imported under a package of its own, made up for each
:class:`Project` (``thinkio_project_1``...): two projects loaded in one process never share a
module, and a controller may import its neighbours relatively (``from .base import Base``,
``from ..service import users``).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import itertools
import sys
import types
from pathlib import Path
from typing import Any

from .config import Config
from .dispatch import Controller, HttpController
from .errors import ConfigError
from .settings import config_from_sources

__all__ = ("Project",)

_counter = itertools.count(1)


def _public_attributes(module: types.ModuleType) -> dict[str, Any]:
    """A config module's settings: its public names, minus imports and definitions.

    ``import os``, ``from x import helper`` and ``def check(socket): ...`` are not settings;
    ``middleware = [check]`` is.
    """
    names = getattr(module, "__all__", None)
    out: dict[str, Any] = {}
    for name, value in vars(module).items():
        if name.startswith("_") or (names is not None and name not in names):
            continue
        if isinstance(value, types.ModuleType):
            continue
        if (inspect.isfunction(value) or inspect.isclass(value)) and value.__name__ == name:
            continue
        out[name] = value
    return out


class Project:
    """A project directory and the modules loaded from it.

    Args:
        root: the project directory.

    Raises:
        ConfigError: ``root`` is not a directory, or has no ``config/`` directory.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ConfigError(f"{root}: no such directory")
        if not (self.root / "config").is_dir():
            raise ConfigError(
                f"{root} is not a thinkio project: it has no config/ directory "
                "(create a project with `thinkio new DIR`)"
            )
        self.package = f"thinkio_project_{next(_counter)}"
        pkg = types.ModuleType(self.package)
        pkg.__path__ = [str(self.root)]
        pkg.__file__ = None
        pkg.__package__ = self.package
        sys.modules[self.package] = pkg

    def _import(self, relative: str, what: str) -> types.ModuleType:
        try:
            return importlib.import_module(f"{self.package}.{relative}")
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(f"{what}: importing it failed: {type(exc).__name__}: {exc}") from exc

    def load_config(self) -> Config:
        """Read ``config/config.py`` and ``config/adapter.py`` (each optional).

        Raises:
            ConfigError: a module fails to import, or a key is wrong (see :class:`Config`).
        """
        settings: dict[str, dict[str, Any]] = {}
        for name in ("config", "adapter"):
            path = self.root / "config" / f"{name}.py"
            settings[name] = (
                _public_attributes(self._import(f"config.{name}", f"config/{name}.py"))
                if path.is_file()
                else {}
            )
        config = config_from_sources(settings["config"], settings["adapter"], root=self.root)
        if config.static_dir is None and (self.root / "www").is_dir():
            config = dataclasses.replace(config, static_dir=self.root / "www")
        if config.socketio.client_dir is None:
            socketio = dataclasses.replace(config.socketio, client_dir=self.root)
            config = dataclasses.replace(config, socketio=socketio)
        return config

    def controller(self, name: str) -> type[Controller]:
        """The controller class of ``controller/<name>.py``.

        The module must define exactly one :class:`Controller` subclass, or, if it defines
        several, one named after the file (``websocket`` -> ``WebsocketController``).

        Raises:
            LookupError: no such module, or no single controller class in it (the message
                says which).
            ConfigError: the module fails to import.
        """
        return pick_controller(self._controller_module(name), name, self._where(name))

    def http_controller(self, name: str) -> type[HttpController]:
        """The HTTP controller class of ``controller/<name>.py`` (for the ``http`` map): the
        module's :class:`~thinkio.dispatch.HttpController` subclass, picked as
        :meth:`controller` picks (a module may hold one of each kind).

        Raises:
            LookupError: no such module, or no single HTTP controller class in it.
            ConfigError: the module fails to import.
        """
        module = self._controller_module(name)
        return pick_controller(module, name, self._where(name), HttpController)

    @staticmethod
    def _where(name: str) -> str:
        return str(Path("controller", *name.split("/")).with_suffix(".py"))

    def _controller_module(self, name: str) -> types.ModuleType:
        relative = Path(self._where(name))
        if not (self.root / relative).is_file():
            raise LookupError(f"{relative} not found in {self.root}")
        return self._import(".".join(relative.with_suffix("").parts), str(relative))


def pick_controller(
    module: types.ModuleType, name: str, where: str, base: type[Any] = Controller
) -> type[Any]:
    """The ``base`` subclass a module defines (see :meth:`Project.controller`).

    Raises:
        LookupError: none, or several and none named after the module.
    """
    found = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, base)
        and value is not base
        and value.__module__ == module.__name__
    ]
    if len(found) == 1:
        return found[0]
    wanted = "".join(p.capitalize() for p in name.replace("/", "_").split("_")) + "Controller"
    for cls in found:
        if cls.__name__ == wanted:
            return cls
    if not found:
        raise LookupError(f"{where} defines no subclass of thinkio.{base.__name__}")
    names = ", ".join(c.__name__ for c in found)
    raise LookupError(
        f"{where} defines several controllers ({names}); name the one to use {wanted}"
    )
