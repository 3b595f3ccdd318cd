"""Random ids (session ids, socket ids): 15 random bytes, base64url, like Node's base64id.

From the operating system's CSPRNG (an id is a credential: whoever knows a session's id can
poll it), read and encoded 64 ids' worth at a time: one ``getrandom`` and one base64 call per
64 ids instead of one each, and no trip through :mod:`secrets`/:mod:`base64`'s Python
wrappers. Each id is its own 15 bytes (a multiple of 3: no base64 group straddles two ids).
"""

from __future__ import annotations

import binascii
import os

__all__ = ("new_id",)

_ID_BYTES = 15
#: Characters per id: 15 bytes are 20 base64 characters, with no padding.
_ID_CHARS = 20
_BATCH = 64
_URLSAFE = bytes.maketrans(b"+/", b"-_")

#: 64 ids, encoded together (one base64 call for the batch; each id is then one slice).
_pool = ""
_offset = 0


def new_id() -> str:
    """A fresh random 20-character URL-safe id."""
    global _pool, _offset
    offset = _offset
    if offset >= len(_pool):
        raw = os.urandom(_ID_BYTES * _BATCH)
        _pool = binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).decode("ascii")
        offset = 0
    _offset = offset + _ID_CHARS
    return _pool[offset : offset + _ID_CHARS]


def _forget_pool() -> None:
    """A forked child must not hand out the ids its parent will also hand out."""
    global _pool, _offset
    _pool, _offset = "", 0


os.register_at_fork(after_in_child=_forget_pool)
