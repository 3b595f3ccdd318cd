"""permessage-deflate (RFC 7692) for the server's WebSockets: the option, the negotiation,
and wsproto's extension with a bound on what one message may inflate to.

Off by default, as in Node (engine.io's ``perMessageDeflate: false``). When on, a client that
offers the extension in ``Sec-WebSocket-Extensions`` gets it accepted in the 101; messages of
``threshold`` bytes or more are then sent compressed (RSV1 set), smaller ones as they are
(engine.io's threshold, 1024 by default), and the client's compressed messages are inflated.

The compression itself is wsproto's :class:`~wsproto.extensions.PerMessageDeflate` (zlib,
context takeover, window bits). One thing is added here: wsproto inflates a frame in one
``decompress`` call with no output bound, so a frame within ``max_message`` could inflate a
thousand times larger before any size check runs. :class:`BoundedDeflate` gives zlib a
``max_length`` and refuses the message with 1009 ("message too big") once it would exceed
``max_message``, as Node's ``ws`` does with ``maxPayload``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason, FrameDecoder, FrameProtocol

from ..errors import ConfigError

__all__ = ("BoundedDeflate", "DeflateOptions", "deflate_options")

#: Node's option names (engine.io passes them to ``ws``) -> ours.
_NODE_NAMES = {
    "threshold": "threshold",
    "serverNoContextTakeover": "server_no_context_takeover",
    "clientNoContextTakeover": "client_no_context_takeover",
    "serverMaxWindowBits": "server_max_window_bits",
    "clientMaxWindowBits": "client_max_window_bits",
}


@dataclass(frozen=True, slots=True)
class DeflateOptions:
    """What the server negotiates (RFC 7692 section 7.1) and when it compresses."""

    #: Messages smaller than this many bytes are sent uncompressed (engine.io: 1024).
    threshold: int = 1024
    #: Reset our compressor after each message (less memory, worse ratio).
    server_no_context_takeover: bool = False
    #: Ask the client to reset its compressor after each message.
    client_no_context_takeover: bool = False
    #: Our LZ77 window, 9..15 bits, when the client asks to bound it; None: 15.
    server_max_window_bits: int | None = None
    #: The client's window, when it offers to bound it; None: what the client says.
    client_max_window_bits: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int):
            raise ConfigError(
                f"per_message_deflate.threshold: expected bytes, got {self.threshold!r}"
            )
        if self.threshold < 0:
            raise ConfigError("per_message_deflate.threshold: expected 0 or more bytes")
        for name in ("server_no_context_takeover", "client_no_context_takeover"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"per_message_deflate.{name}: expected True or False")
        for name in ("server_max_window_bits", "client_max_window_bits"):
            bits = getattr(self, name)
            if bits is not None and (
                isinstance(bits, bool) or not isinstance(bits, int) or not 9 <= bits <= 15
            ):
                raise ConfigError(
                    f"per_message_deflate.{name}: expected 9..15 or None, got {bits!r}"
                )

    def negotiate(self, header: str, max_message: int) -> tuple[BoundedDeflate, bytes] | None:
        """Answer a ``Sec-WebSocket-Extensions`` request header.

        The first acceptable permessage-deflate offer wins (RFC 7692 section 5: offers are in
        the client's order of preference); an offer with parameters we cannot take is passed
        over, not an error.

        Returns:
            The connection's extension and the value of the 101's ``Sec-WebSocket-Extensions``
            header, or None when nothing was offered that we accept.
        """
        for offer in header.split(","):
            if offer.split(";", 1)[0].strip().lower() != PerMessageDeflate.name:
                continue
            extension = BoundedDeflate(self, max_message=max_message)
            try:
                accepted = extension.accept(offer)
            except ValueError:  # a parameter value that is not a number
                continue
            if isinstance(accepted, str):
                params = f"; {accepted}" if accepted else ""
                return extension, f"{PerMessageDeflate.name}{params}".encode("ascii")
        return None


def deflate_options(value: Any) -> DeflateOptions | None:
    """The ``per_message_deflate`` option: False/None (off), True (Node's defaults), a dict of
    :class:`DeflateOptions` fields (snake_case or Node's camelCase), or the options object.

    Raises:
        ConfigError: another type, an unknown key, or a bad value.
    """
    if value is None or value is False:
        return None
    if value is True:
        return DeflateOptions()
    if isinstance(value, DeflateOptions):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"per_message_deflate: expected True, False or a dict of options, got {value!r}"
        )
    known = {f.name for f in fields(DeflateOptions)}
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        name = _NODE_NAMES.get(key, key)
        if name not in known:
            raise ConfigError(
                f"per_message_deflate: unknown key {key!r}; known: {', '.join(sorted(known))}"
            )
        kwargs[name] = item
    return DeflateOptions(**kwargs)


class BoundedDeflate(PerMessageDeflate):
    """wsproto's permessage-deflate, with inflation bounded by ``max_message`` (see the
    module docstring). Everything else (negotiation, compression, context takeover) is
    wsproto's; this class only overrides how a compressed payload is inflated.

    Args:
        options: the server's negotiable parameters.
        max_message: the largest inflated message accepted, in bytes.
    """

    def __init__(self, options: DeflateOptions, *, max_message: int) -> None:
        super().__init__(
            client_no_context_takeover=options.client_no_context_takeover,
            client_max_window_bits=options.client_max_window_bits,
            server_no_context_takeover=options.server_no_context_takeover,
            server_max_window_bits=options.server_max_window_bits,
        )
        self.threshold = options.threshold
        self._max_message = max_message
        self._inflated = 0

    def frame_inbound_payload_data(
        self, proto: FrameDecoder | FrameProtocol, data: bytes
    ) -> bytes | CloseReason:
        # The parent's state, read as the parent's own method reads it (wsproto 1.2).
        if not self._inbound_compressed or not self._inbound_is_compressible:
            return data
        decompressor = self._decompressor
        assert decompressor is not None
        room = self._max_message - self._inflated
        try:
            out = decompressor.decompress(bytes(data), room + 1)
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        if len(out) > room:
            return CloseReason.MESSAGE_TOO_BIG
        self._inflated += len(out)
        return out

    def frame_inbound_complete(
        self, proto: FrameDecoder | FrameProtocol, fin: bool
    ) -> bytes | CloseReason | None:
        if fin:
            self._inflated = 0
        return super().frame_inbound_complete(proto, fin)
