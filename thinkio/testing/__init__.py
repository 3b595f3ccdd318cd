"""Tools for testing thinkio applications and extensions.

* :func:`check_adapter` (:mod:`.adapter_contract`): the behaviours every adapter must show,
  to run against your own (``docs/adapters/writing-an-adapter.md``).
"""

from .adapter_contract import CHECKS, ServerFactory, check_adapter

__all__ = ("CHECKS", "ServerFactory", "check_adapter")
