"""Binary attachments: bytes out to placeholders, placeholders back to bytes.

A packet with binary data travels as a JSON header in which each bytes value is replaced by
``{"_placeholder":true,"num":k}``, followed by the k-th attachment as its own Engine.IO
binary message (PROTOCOL.md 2.1). Decoding is where attacks land (a placeholder pointing
past the attachments, a ``num`` that is a string or a float, extra keys): every object with
a ``_placeholder`` key is checked before anything is put back (PROTOCOL.md 2.2 #6).
"""

from __future__ import annotations

from typing import Any

from ..errors import LocalProtocolError, RemoteProtocolError

__all__ = ("BYTES_TYPES", "Slot", "deconstruct", "find_placeholders", "reconstruct")

#: What counts as binary data in an outgoing packet.
BYTES_TYPES = (bytes, bytearray, memoryview)

#: Where a placeholder sits: (its container, its key or index, the attachment number).
Slot = tuple[Any, Any, int]


def _replace(value: Any, attachments: list[bytes]) -> Any:
    if isinstance(value, BYTES_TYPES):
        # Key order matters: the suite compares strings (PROTOCOL.md 6).
        placeholder = {"_placeholder": True, "num": len(attachments)}
        attachments.append(bytes(value))
        return placeholder
    if isinstance(value, list | tuple):
        return [_replace(v, attachments) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, attachments) for k, v in value.items()}
    return value


def deconstruct(data: Any) -> tuple[Any, list[bytes]]:
    """Copy ``data`` with each bytes-like value replaced by a placeholder.

    Returns:
        The copy, and the attachments as ``bytes`` in placeholder order (a snapshot: later
        changes to a ``bytearray`` do not reach it).

    Raises:
        LocalProtocolError: ``data`` is nested too deep (or circular).
    """
    attachments: list[bytes] = []
    try:
        return _replace(data, attachments), attachments
    except RecursionError:
        raise LocalProtocolError("value nested too deep to encode (circular?)") from None


def _placeholder_num(obj: dict[str, Any], count: int) -> int:
    num = obj.get("num")
    if (
        len(obj) != 2
        or obj["_placeholder"] is not True
        or isinstance(num, bool)
        or not isinstance(num, int)
        or not 0 <= num < count
    ):
        raise RemoteProtocolError("invalid Socket.IO packet: malformed binary placeholder")
    return num


def find_placeholders(data: list[Any] | dict[str, Any], count: int) -> list[Slot]:
    """Find and check every placeholder in a decoded binary packet's payload.

    Every object holding a ``_placeholder`` key must be exactly
    ``{"_placeholder": true, "num": k}`` with an int ``0 <= k < count``. Attachments may be
    referenced more than once or not at all, as in socket.io-parser.

    Raises:
        RemoteProtocolError: a placeholder is malformed or points past the attachments.
    """
    slots: list[Slot] = []
    # Iterative; the payload's depth is already bounded by Limits.max_json_depth.
    stack: list[Any] = [data]
    while stack:
        container = stack.pop()
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, value in items:
            if isinstance(value, dict):
                if "_placeholder" in value:
                    slots.append((container, key, _placeholder_num(value, count)))
                else:
                    stack.append(value)
            elif isinstance(value, list):
                stack.append(value)
    return slots


def reconstruct(slots: list[Slot], attachments: list[bytes]) -> None:
    """Put each attachment where its placeholders were (in place)."""
    for container, key, num in slots:
        container[key] = attachments[num]
