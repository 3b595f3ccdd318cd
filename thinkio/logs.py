"""How ``thinkio run`` (and each cluster worker) writes its log: text lines, or JSON lines.

``--log-format json`` (or ``log_format = "json"`` in ``config/config.py``) writes one JSON
object per line on stderr, for log shippers (Loki, Elasticsearch, CloudWatch...)::

    {"time": "2026-12-04T03:55:01.123Z", "level": "INFO", "logger": "thinkio",
     "message": "listening on http://127.0.0.1:8360", "pid": 4242}

Every object has ``time`` (UTC, ISO 8601, milliseconds), ``level``, ``logger``, ``message``
and ``pid``; ``worker`` in a cluster worker; ``exception`` (the formatted traceback) when one
is logged; and any field passed with ``extra=`` — thinkio passes ``sid`` (the Engine.IO
session), ``socket`` (the socket id), ``namespace`` and ``event`` where it knows them, and an
application may add its own: ``log.info("paid", extra={"order": 42})``.

The formatter is :mod:`logging` and :mod:`json` from the standard library: a JSON log line is
a dozen lines of code over ``LogRecord``, not worth a dependency (python-json-logger).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

__all__ = ("LOG_FORMATS", "ContextLogger", "JsonFormatter", "configure_logging", "socket_fields")

#: The values of ``--log-format`` and of the ``log_format`` setting.
LOG_FORMATS = ("text", "json")

#: The attributes every LogRecord has: anything else on a record came with ``extra=``.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line (see the module docstring).

    Args:
        static: fields put in every object (``{"worker": 2}``).
    """

    def __init__(self, static: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.static = dict(static or {})

    def format(self, record: logging.LogRecord) -> str:
        seconds = time.gmtime(record.created)
        millis = int(record.msecs)
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", seconds) + f".{millis:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
            **self.static,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        # default=repr: a field JSON cannot hold is shown, never a logging error.
        return json.dumps(out, ensure_ascii=False, default=repr)


def socket_fields(socket: Any, **more: Any) -> dict[str, Any]:
    """The log fields naming a :class:`~thinkio.server.Socket`: its Engine.IO ``sid``, its
    ``socket`` id, its ``namespace``, the ``client``'s IP address, and ``more``."""
    fields = {"socket": socket.id, "namespace": socket.namespace.name}
    try:
        fields["sid"] = socket.driver.esock.sid
        fields["client"] = socket.handshake.address
    except AttributeError:
        pass  # a socket without a session here (a remote socket): what it has
    return {**fields, **more}


class ContextLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger that adds the same fields (a socket's ``sid``, ``socket``, ``namespace``...)
    to every record, merged with the ``extra=`` of each call (which wins)."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


def configure_logging(
    level: str | int = "INFO",
    log_format: str = "text",
    *,
    prefix: str = "",
    static: dict[str, Any] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Send the root logger's records to ``stream`` (stderr) in ``log_format``.

    Replaces the handler a previous call installed (and only that one), so the format can
    change once the project's settings are known.

    Args:
        level: the root logger's level.
        log_format: ``"text"`` (``time LEVEL logger: message``) or ``"json"``.
        prefix: put before the logger name in text lines (``"worker 1 [pid] "``).
        static: fields put in every JSON object.
        stream: where to write (default: stderr).

    Raises:
        ValueError: an unknown ``log_format``.
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(
            f"log format: expected one of {', '.join(LOG_FORMATS)}, got {log_format!r}"
        )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(static))
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {prefix}%(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "thinkio", False):
            root.removeHandler(old)
    handler.thinkio = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
