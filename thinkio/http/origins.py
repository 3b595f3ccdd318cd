"""Which browser origins may connect: ``allow_origin`` / ``cors["origin"]``, checked at start-up.

One grammar serves ThinkJS's ``allowOrigin`` and the ``origin`` of Node's ``cors`` options:

* ``None``, ``True``, ``"*"`` or ``"*:*"``: every origin (the default);
* a full origin, ``"https://chat.example.com"``: scheme, host and port must match (a default
  port may be written or not: ``https://a.com:443`` is ``https://a.com``);
* the legacy ``host:port`` form with ``*`` wildcards, any scheme: ``"127.0.0.1:8360"``,
  ``"*:8360"``, ``"*.example.com:*"``, ``"[::1]:8360"``, or a host alone (any port);
* a compiled regex, matched against the **whole** ``Origin`` header (``re.fullmatch``; Node's
  ``RegExp.test`` finds a match anywhere, so ``/example\\.com/`` there lets
  ``https://example.com.evil.net`` in; here a pattern that is not anchored fails closed);
* a list (or tuple, set) of the above;
* a callable ``(origin: str) -> bool``, for anything else (it may raise: that refuses).

Every entry is checked when the policy is built: an entry that can never match a real
``Origin`` header (a wildcard inside a full origin, a path, a non-numeric port, an empty host,
an IPv6 address without brackets...) raises :class:`~thinkio.errors.ConfigError` naming the
entry and why, instead of refusing every browser later with only a log line.

A request without an ``Origin`` header (not a browser, or a same-origin GET) is allowed:
origin checks protect browsers' users, and a non-browser client can send any header it likes.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from ..errors import ConfigError

__all__ = ("OriginPolicy", "OriginSpec", "split_origin")

log = logging.getLogger("thinkio.engineio")

#: What ``allow_origin`` and ``cors["origin"]`` accept (see the module docstring).
OriginSpec = (
    bool | str | re.Pattern[str] | Iterable[str | re.Pattern[str]] | Callable[[str], bool] | None
)

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*\Z")
#: A host pattern of the legacy form: name characters and ``*`` (so fnmatch sees no ``?``/``[``).
_HOST_PATTERN = re.compile(r"[a-z0-9_.*-]+\Z")
_IPV6_PATTERN = re.compile(r"[0-9a-f:.*]+\Z")
_EVERY = frozenset({"*", "*:*"})

#: A compiled string entry: (scheme, host, port) of the request's Origin -> matches.
_Rule = Callable[[str, str, int | None], bool]


def split_origin(origin: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of an ``Origin`` header value, or None if it is not one.

    An origin is ``scheme://host[:port]`` and nothing else (RFC 6454 section 7): a value with
    a path, query, user info or a bad port is not one (``null`` is not either).
    """
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if (
        not parts.scheme
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
        or origin != origin.strip()
        or "," in origin
    ):
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS.get(scheme)


class OriginPolicy:
    """Decides whether a request's ``Origin`` is allowed.

    Args:
        spec: the allowed origins (see the module docstring); None allows every origin.
        name: how error messages name the setting (``"allow_origin"``, ``"cors.origin"``,
            or where a config file wrote it).

    Raises:
        ConfigError: an entry can never match a browser's ``Origin`` header, or is not a
            string, regex or callable. The message names the entry and says why.
    """

    def __init__(self, spec: OriginSpec = None, *, name: str = "allow_origin") -> None:
        #: Every origin is allowed (``None``, ``True``, ``"*"``, ``"*:*"``, or a list with one).
        self.allow_all = spec is None or spec is True or (isinstance(spec, str) and spec in _EVERY)
        self._callable: Callable[[str], bool] | None = None
        self._rules: list[_Rule] = []
        self._regexes: list[re.Pattern[str]] = []
        if self.allow_all:
            return
        if spec is False:
            raise ConfigError(
                f"{name}: False is not supported (Node's cors uses it to send no CORS headers); "
                "list the origins that may connect, or pass a function"
            )
        if callable(spec):
            self._callable = spec
            return
        if isinstance(spec, str | re.Pattern):
            items: list[object] = [spec]
        elif isinstance(spec, Iterable) and not isinstance(spec, bytes | Mapping):
            items = list(spec)
            if not items:
                raise ConfigError(f"{name}: an empty list allows no browser at all; list origins")
        else:
            raise ConfigError(
                f"{name}: expected an origin string, a regex, a list of them, or a function, "
                f"got {spec!r}"
            )
        for item in items:
            if isinstance(item, str) and item in _EVERY:
                self.allow_all = True
            elif isinstance(item, re.Pattern):
                self._regexes.append(item)
            elif isinstance(item, str):
                self._rules.append(_string_rule(item, name))
            else:
                raise ConfigError(
                    f"{name}: expected origin strings or compiled regexes, got {item!r}"
                )
        if self.allow_all:
            self._rules.clear()
            self._regexes.clear()

    def allows(self, origin: str | None) -> bool:
        """Whether a request with this ``Origin`` header (None: absent) is allowed."""
        if origin is None or self.allow_all:
            return True
        if self._callable is not None:
            try:
                return bool(self._callable(origin))
            except Exception:
                # Fail closed, but say so: a broken check would otherwise refuse silently.
                log.exception("the origin check raised for %r: refused", origin)
                return False
        if any(regex.fullmatch(origin) for regex in self._regexes):
            return True
        parts = split_origin(origin)
        return parts is not None and any(rule(*parts) for rule in self._rules)


# -- compiling entries ---------------------------------------------------------------------------


def _bad(name: str, item: str, why: str) -> ConfigError:
    return ConfigError(f"{name}: {item!r} never matches a browser's Origin: {why}")


def _string_rule(item: str, name: str) -> _Rule:
    if not item:
        raise ConfigError(f"{name}: an empty string is not an origin")
    if item != item.strip() or any(c in item for c in " \t,"):
        raise _bad(name, item, "an origin has no spaces or commas; give a list for several")
    if item.lower() == "null":
        raise ConfigError(
            f"{name}: 'null' is the Origin of sandboxed frames and file:// pages, which any "
            "web site can produce; allowing it allows everyone (use a function if you must)"
        )
    if "://" in item:
        return _full_origin_rule(item, name)
    return _host_port_rule(item, name)


def _full_origin_rule(item: str, name: str) -> _Rule:
    scheme = item.split("://", 1)[0].lower()
    if not _SCHEME.match(scheme):
        raise _bad(name, item, f"{scheme!r} is not a URL scheme like 'https'")
    if "*" in item:
        rest = item.split("://", 1)[1].rstrip("/")
        if ":" not in rest.rpartition("]")[2]:
            rest += f":{_DEFAULT_PORTS.get(scheme, '*')}"
        raise _bad(
            name,
            item,
            "a full origin (with '://') is compared exactly, without wildcards; write the "
            f"host:port form ({rest!r}, any scheme) or a regex",
        )
    parts = urlsplit(item)
    if parts.path == "/" and not parts.query and not parts.fragment:
        raise _bad(name, item, f"browsers send no trailing '/'; write {item.rstrip('/')!r}")
    if parts.path or parts.query or parts.fragment:
        raise _bad(name, item, "an origin is scheme://host[:port], without a path or query")
    if "@" in parts.netloc:
        raise _bad(name, item, "an origin carries no user name or password")
    try:
        parts.port  # noqa: B018  # urlsplit checks the port only when asked for it
    except ValueError:
        raise _bad(name, item, "its port is not a number from 0 to 65535") from None
    want = split_origin(item)
    if want is None:
        raise _bad(name, item, "it has no host")

    def match(scheme: str, host: str, port: int | None) -> bool:
        return (scheme, host, port) == want

    return match


def _host_port_rule(item: str, name: str) -> _Rule:
    text = item.lower()
    if "/" in text:
        hint = "did you mean 'https://...'?" if text.startswith(("http:", "https:")) else ""
        raise _bad(name, item, f"a host:port pattern has no path {hint}".rstrip())
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise _bad(name, item, "an IPv6 address is written '[::1]:8360'")
        port = rest[1:] if rest else "*"
        if not host or not _IPV6_PATTERN.match(host):
            raise _bad(name, item, f"{host!r} is not an IPv6 address")
    else:
        if text.count(":") > 1:
            raise _bad(name, item, "write an IPv6 address in brackets: '[::1]:8360'")
        host, colon, port = text.partition(":")
        if not colon:
            port = "*"
        if host in _DEFAULT_PORTS and not port.isdigit() and port != "*":
            raise _bad(name, item, f"a scheme needs '//': did you mean '{host}://{port}'?")
        if not host:
            raise _bad(name, item, "the host is empty; write '*:PORT' for any host on a port")
        if not _HOST_PATTERN.match(host):
            raise _bad(name, item, f"{host!r} has characters no host name has")
    if not port:
        raise _bad(name, item, "the port after ':' is empty; write 'host:*' for any port")
    if port != "*" and not (port.isdigit() and int(port) <= 65535):
        raise _bad(name, item, f"the port {port!r} is not a number from 0 to 65535 (or '*')")
    want_port = None if port == "*" else int(port)

    def match(scheme: str, host_: str, port_: int | None) -> bool:
        return (want_port is None or port_ == want_port) and fnmatch.fnmatchcase(host_, host)

    return match
