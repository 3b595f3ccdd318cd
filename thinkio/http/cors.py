"""CORS: Node's ``cors`` options, safe by default, and the headers they put on every answer.

socket.io hands its ``cors`` option to the npm ``cors`` package; thinkio takes the same keys
with the same meaning (``Server(cors={...})``, or ``cors = {...}`` in a project's config):

* ``origin``: which origins may connect (:mod:`.origins`); default ``allow_origin``, and
  without it every origin. Answered in ``Access-Control-Allow-Origin``.
* ``credentials``: default ``False``; True sends ``Access-Control-Allow-Credentials: true``.
* ``methods``: default ``GET, POST`` (what Engine.IO uses); ``Access-Control-Allow-Methods``
  of the answer to a preflight (``OPTIONS``, always answered 204).
* ``allowed_headers``: default: the preflight's ``Access-Control-Request-Headers``, reflected;
  ``Access-Control-Allow-Headers``.
* ``exposed_headers``: default none; ``Access-Control-Expose-Headers``.
* ``max_age``: default none; seconds, as in ``Access-Control-Max-Age`` (not milliseconds
  like thinkio's timing settings).

camelCase spellings (``allowedHeaders``, ``exposedHeaders``, ``maxAge``) are accepted too.

What differs from Node, on purpose (docs/security.md says why):

* **Credentials never go with every origin.** Without configuration the answer is
  ``Access-Control-Allow-Origin: *`` and no ``Access-Control-Allow-Credentials``: any page may
  open a session, but the browser sends it no cookies and lets it read nothing that needs them.
  ``credentials=True`` needs the origins named (a list, a regex, a function); with every
  origin (``*``, ``True``, no origin at all) it is refused at start-up, as browsers refuse
  ``*`` with credentials, and as socket.io 2.4.0 removed exactly that default (CVE-2020-28481).
* **An origin that is not allowed is refused** (403, Engine.IO error code 4, on polling and
  before any 101 on WebSocket; :mod:`.engine` does that), where Node's ``cors`` only leaves
  the header out. CORS does not cover WebSocket at all: the refusal is what protects it.
* A regex must match the whole ``Origin`` (``re.fullmatch``; Node's ``test`` matches
  anywhere), and ``origin=False`` (Node: send no CORS headers) is refused: see :mod:`.origins`.
* ``allow_origin`` (ThinkJS's ``allowOrigin``) and ``cors["origin"]`` are one setting spelled
  two ways: give one of them. Both at once is a :class:`~thinkio.errors.ConfigError`.

Why ``*`` rather than the request's origin echoed when every origin is allowed: ``*`` is what
Node's ``cors`` sends by default, it is the one value a browser never accepts with
credentials (so the default cannot leak cookies even if a credentials header were added
later), and the answer does not vary by origin, so no ``Vary: Origin`` is needed for caches.
When origins are restricted, the request's origin is echoed with ``Vary: Origin``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..errors import ConfigError
from .origins import OriginPolicy, OriginSpec

__all__ = ("CorsOptions", "CorsPolicy")

Headers = list[tuple[bytes, bytes]]

#: The keys of Node's ``cors`` options thinkio takes, and their camelCase spellings.
_KEYS = ("origin", "credentials", "methods", "allowed_headers", "exposed_headers", "max_age")
_ALIASES = {"allowedHeaders": "allowed_headers", "exposedHeaders": "exposed_headers",
            "maxAge": "max_age"}  # fmt: skip
#: What Engine.IO's polling uses (socket.io's documented ``methods: ["GET", "POST"]``).
_DEFAULT_METHODS = ("GET", "POST")
#: An HTTP token (RFC 9110 section 5.6.2): method and header names.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


@dataclass(frozen=True, slots=True)
class CorsOptions:
    """Node's ``cors`` options, checked (build one with :meth:`from_mapping`).

    Attributes:
        origin: which origins may connect (see :mod:`.origins`); None: ``allow_origin``
            decides, and without it every origin.
        credentials: send ``Access-Control-Allow-Credentials: true`` (cookies and HTTP auth
            go with cross-origin requests). Needs named origins.
        methods: ``Access-Control-Allow-Methods`` of a preflight answer.
        allowed_headers: ``Access-Control-Allow-Headers`` of a preflight answer; None
            reflects the request's ``Access-Control-Request-Headers``.
        exposed_headers: ``Access-Control-Expose-Headers``: response headers a page may read.
        max_age: seconds a browser may cache a preflight answer; None sends no header.
    """

    origin: OriginSpec = None
    credentials: bool = False
    methods: tuple[str, ...] = _DEFAULT_METHODS
    allowed_headers: tuple[str, ...] | None = None
    exposed_headers: tuple[str, ...] = ()
    max_age: int | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, where: str = "cors") -> CorsOptions:
        """Check a dict of Node's ``cors`` options (snake_case or camelCase keys).

        Args:
            data: the options, e.g. ``{"origin": ["https://a.com"], "credentials": True}``.
            where: how error messages name the setting.

        Raises:
            ConfigError: an unknown key, a key given twice, or a value of the wrong type.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: expected a dict of cors options, got {data!r}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            name = _ALIASES.get(key, key) if isinstance(key, str) else key
            if name not in _KEYS:
                known = ", ".join(_KEYS)
                raise ConfigError(f"{where}: unknown key {key!r}; known keys: {known}")
            if name in values:
                raise ConfigError(f"{where}: {key!r} is given twice (snake_case and camelCase)")
            values[name] = value
        origin = values.get("origin")
        if origin is not None:
            OriginPolicy(origin, name=f"{where}.origin")  # checks every entry now
            if isinstance(origin, list | set | frozenset):
                origin = tuple(origin)
        credentials = values.get("credentials", False)
        if not isinstance(credentials, bool):
            raise ConfigError(f"{where}.credentials: expected True or False, got {credentials!r}")
        max_age = values.get("max_age")
        if max_age is not None and (
            not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 0
        ):
            raise ConfigError(
                f"{where}.max_age: expected a number of seconds (as in the header), got {max_age!r}"
            )
        methods = values.get("methods", _DEFAULT_METHODS)
        allowed = values.get("allowed_headers")
        exposed = values.get("exposed_headers", ())
        return cls(
            origin=origin,
            credentials=credentials,
            methods=_tokens(f"{where}.methods", methods, upper=True),
            allowed_headers=None
            if allowed is None
            else _tokens(f"{where}.allowed_headers", allowed),
            exposed_headers=_tokens(f"{where}.exposed_headers", exposed),
            max_age=max_age,
        )


def _tokens(where: str, value: Any, *, upper: bool = False) -> tuple[str, ...]:
    """A list of HTTP tokens, or a comma-separated string of them (Node takes both)."""
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ConfigError(f"{where}: expected a list of names or a 'A,B' string, got {value!r}")
    out: list[str] = []
    for item in items:
        name = item.strip() if isinstance(item, str) else item
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ConfigError(f"{where}: {item!r} is not a method or header name")
        out.append(name.upper() if upper else name)
    return tuple(out)


class CorsPolicy:
    """Which origins may connect, and the CORS headers of every answer to them.

    Args:
        options: Node's ``cors`` options (a dict or :class:`CorsOptions`); None: defaults.
        allow_origin: ThinkJS's ``allowOrigin``; the same setting as ``cors["origin"]``.

    Raises:
        ConfigError: ``allow_origin`` and ``cors["origin"]`` are both given; credentials are
            asked for with every origin allowed; or an option is wrong (see
            :meth:`CorsOptions.from_mapping` and :class:`~.origins.OriginPolicy`).
    """

    def __init__(
        self,
        options: CorsOptions | Mapping[str, Any] | None = None,
        *,
        allow_origin: OriginSpec = None,
    ) -> None:
        if isinstance(options, CorsOptions):  # built directly: check it all the same
            options = CorsOptions.from_mapping(
                {f.name: getattr(options, f.name) for f in fields(options)}
            )
        else:
            options = CorsOptions.from_mapping(options or {})
        self.options = options
        if options.origin is not None and allow_origin is not None:
            raise ConfigError(
                "cors.origin: the origins are also given as allow_origin (allow_origin and "
                "cors.origin are one setting); keep one"
            )
        if options.origin is not None:
            self.origins = OriginPolicy(options.origin, name="cors.origin")
        else:
            self.origins = OriginPolicy(allow_origin, name="allow_origin")
        if options.credentials and self.origins.allow_all:
            raise ConfigError(
                "cors.credentials: True needs the allowed origins named in cors.origin or "
                "allow_origin (a list, a regex or a function), not every origin ('*', True, or "
                "none given): any web site could act with your users' cookies (socket.io's "
                "CVE-2020-28481), and browsers refuse '*' with credentials anyway"
            )
        #: Answer ``*`` (every origin, no credentials) rather than echo the request's origin.
        self.wildcard = self.origins.allow_all
        common: Headers = []
        if options.credentials:
            common.append((b"access-control-allow-credentials", b"true"))
        if options.exposed_headers:
            common.append(
                (b"access-control-expose-headers", ", ".join(options.exposed_headers).encode())
            )
        self._common = common
        self._methods = (b"access-control-allow-methods", ", ".join(options.methods).encode())
        self._allowed_headers: tuple[bytes, bytes] | None = None
        if options.allowed_headers is not None:
            allowed = ", ".join(options.allowed_headers).encode()
            self._allowed_headers = (b"access-control-allow-headers", allowed)
        self._max_age: tuple[bytes, bytes] | None = None
        if options.max_age is not None:
            self._max_age = (b"access-control-max-age", b"%d" % options.max_age)

    def allows(self, origin: str | None) -> bool:
        """Whether a request with this ``Origin`` header (None: absent) may be served."""
        return self.origins.allows(origin)

    def headers(self, origin: str | None) -> Headers:
        """The CORS headers of an answer to an allowed request (polling, or an error).

        Args:
            origin: the request's ``Origin`` header, None if it had none.
        """
        if self.wildcard:
            return [(b"access-control-allow-origin", b"*"), *self._common]
        if origin is None:  # no browser asked; the answer still varies with the Origin
            return [(b"vary", b"Origin")]
        return [
            (b"access-control-allow-origin", origin.encode("latin-1", "replace")),
            (b"vary", b"Origin"),
            *self._common,
        ]

    def preflight_headers(self, origin: str | None, request_headers: str | None) -> Headers:
        """The headers of the 204 answer to an allowed ``OPTIONS`` preflight.

        Args:
            origin: the request's ``Origin`` header, None if it had none.
            request_headers: its ``Access-Control-Request-Headers``, None if absent.
        """
        out = self.headers(origin)
        out.append(self._methods)
        if self._allowed_headers is not None:
            out.append(self._allowed_headers)
        else:
            # Reflected, so the answer varies with that header too (Node's cors says so).
            if request_headers:
                out.append((b"access-control-allow-headers", request_headers.encode("latin-1")))
            out.append((b"vary", b"Access-Control-Request-Headers"))
        if self._max_age is not None:
            out.append(self._max_age)
        return out
