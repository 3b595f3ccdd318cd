"""The server side of the WebSocket opening handshake (RFC 6455 section 4.2): the checks on the
client's request and the ``Sec-WebSocket-Accept`` token of the 101.

wsproto computes the token (:func:`wsproto.utilities.generate_accept_token`); what is here is
the validation of the two headers it depends on, with a reason a client can read.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping

from wsproto.utilities import generate_accept_token

from ..errors import RemoteProtocolError

__all__ = ("accept_token",)


def accept_token(headers: Mapping[str, str]) -> bytes:
    """The ``Sec-WebSocket-Accept`` value answering a request's headers (lower-cased names).

    Raises:
        RemoteProtocolError: (HTTP 400) the key is missing or is not 16 bytes in base64, or
            the version is not 13.
    """
    key = headers.get("sec-websocket-key", "").strip()
    try:
        valid = len(binascii.a2b_base64(key, strict_mode=True)) == 16
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise RemoteProtocolError("missing or malformed Sec-WebSocket-Key", http_status=400)
    if headers.get("sec-websocket-version", "").strip() != "13":
        raise RemoteProtocolError(
            "unsupported Sec-WebSocket-Version (13 is required)", http_status=400
        )
    return generate_accept_token(key.encode("ascii"))
