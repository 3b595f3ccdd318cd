"""Random ids (session ids, socket ids): 15 random bytes, base64url, like Node's base64id.

From the operating system's CSPRNG (an id is a credential: whoever knows a session's id can
poll it), read 64 ids' worth at a time: one ``getrandom`` call per 64 ids instead of one
each, and no trip through :mod:`secrets`/:mod:`base64`'s Python wrappers.
"""

from __future__ import annotations

import binascii
import os

__all__ = ("new_id",)

_ID_BYTES = 15
_BATCH = 64
_URLSAFE = bytes.maketrans(b"+/", b"-_")

_pool = b""
_offset = 0


def new_id() -> str:
    """A fresh random 20-character URL-safe id."""
    global _pool, _offset
    if _offset + _ID_BYTES > len(_pool):
        _pool = os.urandom(_ID_BYTES * _BATCH)
        _offset = 0
    raw = _pool[_offset : _offset + _ID_BYTES]
    _offset += _ID_BYTES
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).decode("ascii")


def _forget_pool() -> None:
    """A forked child must not hand out the ids its parent will also hand out."""
    global _pool, _offset
    _pool, _offset = b"", 0


os.register_at_fork(after_in_child=_forget_pool)
