"""Engine.IO's ``cookie`` option: a cookie holding the session id, for sticky load balancers.

Node's engine.io sets it on the handshake response (the first polling GET, or the 101 of a
WebSocket opened first) when ``cookie`` is set: ``true`` means ``{name: "io", path: "/",
httpOnly: true, sameSite: "lax"}``, an object overrides those. A layer-7 load balancer (nginx
``sticky cookie``, HAProxy ``cookie io``...) then keeps sending the session's requests to the
server that holds it. Serialised with the standard library's :class:`http.cookies.Morsel`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import Morsel
from typing import Any

from ..errors import ConfigError

__all__ = ("SessionCookie",)

_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None"}
_KEYS = {
    "name": "name",
    "path": "path",
    "http_only": "http_only",
    "httpOnly": "http_only",
    "same_site": "same_site",
    "sameSite": "same_site",
    "domain": "domain",
    "secure": "secure",
    "max_age": "max_age",
    "maxAge": "max_age",
}


@dataclass(frozen=True, slots=True)
class SessionCookie:
    """The cookie set on a new session's handshake response (Node's ``cookie`` option).

    Attributes:
        name: the cookie's name (Node: ``io``).
        path: its ``Path``; None for none (Node's ``path: false``, which also turns
            ``HttpOnly`` off unless given).
        http_only: ``HttpOnly``.
        same_site: ``"lax"``, ``"strict"``, ``"none"`` or None.
        domain: ``Domain``, or None.
        secure: ``Secure``.
        max_age: ``Max-Age`` in seconds, or None (a session cookie).
    """

    name: str = "io"
    path: str | None = "/"
    http_only: bool = True
    same_site: str | None = "lax"
    domain: str | None = None
    secure: bool = False
    max_age: int | None = None

    @classmethod
    def from_option(cls, value: Any) -> SessionCookie | None:
        """Node's option: False/None (no cookie), True (the defaults), a mapping (snake_case
        or Node's camelCase keys, ``path: False`` for none) or a :class:`SessionCookie`.

        Raises:
            ConfigError: an unknown key or a value of the wrong kind.
        """
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, SessionCookie):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"cookie: expected True, False or a mapping, got {value!r}")
        fields: dict[str, Any] = {}
        for key, item in value.items():
            name = _KEYS.get(key)
            if name is None:
                raise ConfigError(f"cookie: unknown key {key!r} (known: {sorted(set(_KEYS))})")
            fields[name] = item
        if fields.get("same_site") is False:
            fields["same_site"] = None
        elif fields.get("same_site") is True:  # the cookie package's meaning of true
            fields["same_site"] = "strict"
        if fields.get("path", "/") is False:
            fields["path"] = None
            fields.setdefault("http_only", False)
        cookie = cls(**fields)
        if not isinstance(cookie.name, str) or not cookie.name:
            raise ConfigError(f"cookie: name must be a non-empty string, got {cookie.name!r}")
        if cookie.same_site is not None and str(cookie.same_site).lower() not in _SAME_SITE:
            raise ConfigError(
                f"cookie: same_site must be 'lax', 'strict' or 'none', got {cookie.same_site!r}"
            )
        try:
            cookie.header("x")
        except Exception as exc:
            raise ConfigError(f"cookie: {exc}") from exc
        return cookie

    def header(self, sid: str) -> tuple[bytes, bytes]:
        """The ``Set-Cookie`` header carrying session id ``sid``."""
        morsel: Morsel[str] = Morsel()
        morsel.set(self.name, sid, sid)
        if self.path is not None:
            morsel["path"] = self.path
        if self.domain is not None:
            morsel["domain"] = self.domain
        if self.max_age is not None:
            morsel["max-age"] = str(int(self.max_age))
        if self.http_only:
            morsel["httponly"] = True
        if self.secure:
            morsel["secure"] = True
        if self.same_site:
            morsel["samesite"] = _SAME_SITE[str(self.same_site).lower()]
        return b"set-cookie", morsel.OutputString().encode("latin-1")
