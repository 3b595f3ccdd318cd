"""Origin checks and CORS headers (DESIGN.md ``allow_origin``; PROTOCOL.md 1.1).

``allow_origin`` takes every form ThinkJS users know:

* ``None`` or ``"*"``: every origin (the default);
* a full origin: ``"https://chat.example.com"`` (scheme, host and port must match);
* the legacy ``host:port`` form, with ``*`` wildcards: ``"127.0.0.1:8360"``, ``"*:8360"``,
  ``"*.example.com:*"`` (any scheme);
* a list (or tuple, set) of the above;
* a callable ``(origin: str) -> bool``.

A request without an ``Origin`` header (not a browser, or same-origin navigation) is allowed:
origin checks protect browsers' users, and a non-browser client can send any header it likes.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from ..errors import ConfigError

__all__ = ("OriginPolicy", "cors_headers")

OriginSpec = str | Iterable[str] | Callable[[str], bool] | None

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _split(origin: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of an Origin header value, or None if it is not one."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port or _DEFAULT_PORTS.get(parts.scheme)


class OriginPolicy:
    """Decides whether a request's ``Origin`` is allowed."""

    def __init__(self, spec: OriginSpec = None) -> None:
        self.allow_all = spec is None or spec == "*"
        self._callable: Callable[[str], bool] | None = None
        self._rules: list[Callable[[str, str, int | None], bool]] = []
        if self.allow_all:
            return
        if callable(spec):
            self._callable = spec
            return
        items = [spec] if isinstance(spec, str) else list(spec)  # type: ignore[arg-type]
        for item in items:
            if not isinstance(item, str) or not item:
                raise ConfigError(f"allow_origin: expected origin strings, got {item!r}")
            if item == "*":
                self.allow_all = True
            self._rules.append(self._rule(item))

    @staticmethod
    def _rule(item: str) -> Callable[[str, str, int | None], bool]:
        if "://" in item:
            want = _split(item)
            if want is None:
                raise ConfigError(f"allow_origin: {item!r} is not an origin like https://host:port")
            return lambda scheme, host, port: (scheme, host, port) == want
        host_pat, _, port_pat = item.rpartition(":") if ":" in item else (item, "", "*")
        if not host_pat:
            host_pat, port_pat = port_pat, "*"
        host_pat = host_pat.lower()

        def match(scheme: str, host: str, port: int | None) -> bool:
            port_ok = port_pat == "*" or str(port) == port_pat
            return port_ok and fnmatch.fnmatchcase(host, host_pat)

        return match

    def allows(self, origin: str | None) -> bool:
        """Whether a request with this ``Origin`` header (None: absent) is allowed."""
        if origin is None or self.allow_all:
            return True
        if self._callable is not None:
            try:
                return bool(self._callable(origin))
            except Exception:
                return False
        parts = _split(origin)
        if parts is None:
            return False
        return any(rule(*parts) for rule in self._rules)


def cors_headers(origin: str | None) -> list[tuple[bytes, bytes]]:
    """CORS response headers for an allowed request (none when there is no Origin)."""
    if origin is None:
        return []
    return [
        (b"access-control-allow-origin", origin.encode("latin-1", "replace")),
        (b"access-control-allow-credentials", b"true"),
        (b"vary", b"Origin"),
    ]
