"""Optional dependencies: which ``pip install 'thinkio[EXTRA]'`` brings what, and the one-line
error a user gets when a feature needs a package that is not installed.

=============  ===============  ===============================================================
extra          brings           for
=============  ===============  ===============================================================
``trio``       trio             ``thinkio run --loop trio``, ``App.run(loop="trio")``
``speed``      uvloop           the asyncio loop thinkio picks by default when installed
``redis``      (the Redis       ``adapter = {"type": "redis", ...}``
               client library)
``reload``     watchfiles       ``thinkio run --reload``
``metrics``    prometheus       ``Server(metrics={"path": "/metrics"})``
               _client
``admin``      bcrypt           ``thinkio.admin.instrument(io, auth=...)``
=============  ===============  ===============================================================

A missing package is found when the feature is asked for, before anything starts, and
reported as :class:`MissingExtra` (a :class:`~thinkio.errors.ConfigError`):
``trio is not installed: pip install 'thinkio[trio]'``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import ConfigError

__all__ = ("EXTRAS", "MissingExtra", "installed", "require")

#: The extra that installs each optional top-level module.
EXTRAS: dict[str, str] = {
    "trio": "trio",
    "uvloop": "speed",
    "watchfiles": "reload",
    "prometheus_client": "metrics",
    "bcrypt": "admin",
}


class MissingExtra(ConfigError):
    """A feature needs a package that is not installed; the message says what to install.

    Args:
        module: the missing top-level module (``"trio"``).
        extra: the thinkio extra that installs it (``"trio"``).
    """

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(f"{module} is not installed: pip install 'thinkio[{extra}]'")


def require(module: str, extra: str | None = None) -> ModuleType:
    """Import an optional module, or say which extra installs it.

    Args:
        module: a top-level module name (``"uvloop"``).
        extra: the extra that installs it (default: from :data:`EXTRAS`).

    Raises:
        MissingExtra: the module is not installed.
        ImportError: it is installed but fails to import (a broken install keeps its own
            traceback: "not installed" would send the user the wrong way).
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise MissingExtra(module, extra or EXTRAS[module]) from None


def installed(module: str) -> bool:
    """Whether an optional module can be imported."""
    try:
        require(module, "")
    except MissingExtra:
        return False
    return True
