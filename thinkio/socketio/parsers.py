"""The Socket.IO parsers a server or client can speak: ``"default"`` and ``"msgpack"``.

A parser is how packets become Engine.IO messages and back (Node's ``parser`` option). Both
sides of a connection must use the same one; a server uses one parser for all its clients,
as Node does. The choice is made once per connection (:class:`.connection.Connection` and
:class:`.client.ClientConnection` keep the parser's functions), so the default parser's fast
path costs nothing more for the other one existing.

* ``"default"`` -- socket.io-parser's text form with binary attachments (:mod:`.packets`).
* ``"msgpack"`` -- one MessagePack map per packet, as npm ``socket.io-msgpack-parser``
  (:mod:`.msgpack_parser`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from ..errors import ConfigError
from ..limits import Limits
from .msgpack_parser import (
    MsgpackDecoder,
    encode_msgpack,
    encode_msgpack_ack,
    encode_msgpack_event,
)
from .packets import (
    Decoder,
    Packet,
    PacketType,
    encode,
    encode_ack,
    encode_connect,
    encode_event,
)

__all__ = ("DEFAULT_PARSER", "MSGPACK_PARSER", "PARSERS", "PacketDecoder", "Parser", "parser_named")


class PacketDecoder(Protocol):
    """What a connection needs from a parser's decoder (:class:`.packets.Decoder`)."""

    @property
    def awaiting_attachments(self) -> int:
        """Binary messages the current packet still waits for."""

    def feed(self, message: str | bytes) -> Packet | None:
        """Take one message; the finished packet, or None while attachments are due."""

    def decode_common(self, text: str) -> tuple[PacketType, int | None, Any] | None:
        """An EVENT/ACK on ``/`` decoded without a Packet, or None (see Decoder)."""


@dataclass(frozen=True, slots=True)
class Parser:
    """One wire format for Socket.IO packets.

    Attributes:
        name: what ``parser=`` names it by.
        encode: a packet to Engine.IO message payloads (``protocol=`` 5 or 4).
        encode_ack: ``(namespace, ack_id, args)`` to the payloads of an ACK.
        encode_event: ``(namespace, args, ack_id)`` to the payloads of an EVENT.
        decoder: makes a decoder for one connection, from the limits and ``protocol=``.
        encode_connect: ``(namespace, data, protocol)`` to the payloads of a CONNECT (the
            server's reply to one); None: ``encode`` of the packet.
    """

    name: str
    encode: Callable[..., list[str | bytes]]
    encode_ack: Callable[[str, int | None, Any], list[str | bytes]]
    encode_event: Callable[[str, Any, int | None], list[str | bytes]]
    decoder: Callable[..., PacketDecoder]
    encode_connect: Callable[[str, Any, int], list[str | bytes]] | None = None

    def new_decoder(self, limits: Limits, *, protocol: int = 5) -> PacketDecoder:
        """A decoder for one connection."""
        return self.decoder(limits, protocol=protocol)


#: socket.io-parser's text form (the default of every Socket.IO implementation).
DEFAULT_PARSER: Final = Parser(
    "default", encode, encode_ack, encode_event, Decoder, encode_connect=encode_connect
)
#: npm socket.io-msgpack-parser's MessagePack maps.
MSGPACK_PARSER: Final = Parser(
    "msgpack", encode_msgpack, encode_msgpack_ack, encode_msgpack_event, MsgpackDecoder
)
#: The parsers by name.
PARSERS: Final = {p.name: p for p in (DEFAULT_PARSER, MSGPACK_PARSER)}


def parser_named(parser: str | Parser) -> Parser:
    """The parser a ``parser=`` option names (a :class:`Parser` is returned as is).

    Raises:
        ConfigError: the name is not one of :data:`PARSERS`.
    """
    if isinstance(parser, Parser):
        return parser
    found = PARSERS.get(parser) if isinstance(parser, str) else None
    if found is None:
        raise ConfigError(
            f"parser: expected one of {', '.join(map(repr, PARSERS))}, got {parser!r}"
        )
    return found
