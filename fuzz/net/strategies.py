"""Hypothesis strategies for what the network fuzzer sends, valid and malformed.

The payload families reuse :mod:`fuzz.strategies` (JSON values JavaScript can hold, the
hostile tokens and the mutations of valid wire strings that reach deep into a decoder); here
they are put on the wire: Socket.IO packets inside Engine.IO packets inside polling payloads
or WebSocket frames, handshakes with every query parameter right or wrong, hand-made
WebSocket frames that break RFC 6455 one rule at a time, and requests that are not valid
HTTP/1.1. The soak suite's malformed flood draws from :func:`flood_inputs`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import strategies as st

from fuzz.strategies import HOSTILE_TOKENS, json_values, mutated_text

from .steps import EIO_MOUNT, SIO_MOUNT, BadFrame, Handshake, RawRequest
from .wire import FRAMINGS, OPCODES, http_request, sio_packet, ws_frame

__all__ = (
    "bad_frames",
    "eio_texts",
    "flood_inputs",
    "handshakes",
    "polling_bodies",
    "raw_requests",
    "sio_texts",
    "valid_handshakes",
    "ws_messages",
)

PH = '{{"_placeholder":true,"num":{}}}'
URL_SAFE = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
                   min_size=1, max_size=24)  # fmt: skip


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ------------------------------------------------------------------------- Socket.IO packets

namespaces = st.sampled_from(["/", "/", "/", "/custom", "/random", "/a,b", "/é"])
args = st.lists(json_values(max_depth=3, max_size=3), max_size=3)


@st.composite
def _valid_sio(draw: st.DrawFn) -> list[str | bytes]:
    """One Socket.IO packet a client may send, as its Engine.IO messages (text, then the
    binary attachments)."""
    namespace = draw(namespaces)
    kind = draw(st.sampled_from(["connect", "connect", "event", "event", "ack-event", "binary",
                                 "disconnect", "ack"]))  # fmt: skip
    if kind == "connect":
        auth = draw(st.none() | st.dictionaries(st.text(max_size=6), json_values(max_depth=2)))
        return [sio_packet(0, "" if auth is None else _json(auth), namespace=namespace)]
    if kind == "disconnect":
        return [sio_packet(1, namespace=namespace)]
    if kind == "ack":
        return [sio_packet(3, _json(draw(args)), namespace=namespace,
                           ack_id=draw(st.integers(0, 10**6)))]  # fmt: skip
    if kind == "binary":
        blobs = draw(st.lists(st.binary(max_size=16), min_size=1, max_size=3))
        name = draw(st.sampled_from(["message", "message-with-ack"]))
        ack = draw(st.integers(0, 10**6)) if name == "message-with-ack" else None
        data = [name, *[json.loads(PH.format(i)) for i in range(len(blobs))], *draw(args)]
        header = sio_packet(5, _json(data), namespace=namespace, ack_id=ack,
                            attachments=len(blobs))  # fmt: skip
        return [header, *blobs]
    name = draw(st.sampled_from(["message", "message-with-ack", "nobody-listens"]))
    ack = draw(st.integers(0, 2**53 - 1)) if kind == "ack-event" else None
    return [sio_packet(2, _json([name, *draw(args)]), namespace=namespace, ack_id=ack)]


#: Valid Socket.IO packet texts, the seeds of the mutations.
SIO_SEEDS = st.sampled_from([
    "0", "0/custom,", '0{"token":"123"}', "1", '2["message",1,"2",{"3":[true]}]',
    '21["message-with-ack",1]', '35["x"]',
    f'51-["message",{PH.format(0)}]', f'62-7[{PH.format(0)},{PH.format(1)}]',
    '2/custom,["message"]', "1/custom,", '4{"message":"x"}',
])  # fmt: skip


def sio_texts() -> st.SearchStrategy[str]:
    """Socket.IO packet texts: mutations of valid ones and hostile tokens glued together."""
    glued = st.lists(st.sampled_from(HOSTILE_TOKENS) | st.sampled_from("0123456-,/[]{}"),
                     min_size=1, max_size=6).map("".join)  # fmt: skip
    return st.one_of(mutated_text(SIO_SEEDS), glued, SIO_SEEDS)


def sio_messages() -> st.SearchStrategy[list[str | bytes]]:
    """The Engine.IO messages of one Socket.IO packet, valid or not (without the ``4``)."""
    broken = st.tuples(sio_texts(), st.lists(st.binary(max_size=8), max_size=2)).map(
        lambda t: [t[0], *t[1]]
    )
    return st.one_of(_valid_sio(), _valid_sio(), broken)


# ------------------------------------------------------------------------- Engine.IO packets

EIO_SEEDS = st.sampled_from(["4hello", "3", "2", "1", "2probe", "5", "6", "0", "4", "bAQIDBA=="])


def eio_texts() -> st.SearchStrategy[str]:
    """Engine.IO text packets that are not plain messages: every type, and mutations."""
    return st.one_of(EIO_SEEDS, mutated_text(EIO_SEEDS), st.text(max_size=12))


def _alone(message: str | bytes) -> list[str | bytes]:
    return [_utf8(message) if isinstance(message, str) else message]


def _utf8(text: str) -> str:
    """``text`` as a WebSocket text frame can carry it: UTF-8 has no lone surrogates (a frame
    with invalid UTF-8 is a BadFrame of its own, ``bad-utf8``)."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _as_eio(messages: list[str | bytes]) -> list[str | bytes]:
    return [_utf8("4" + m) if isinstance(m, str) else m for m in messages]


def ws_messages(mount: str) -> st.SearchStrategy[list[str | bytes]]:
    """WebSocket messages for a session on ``mount``: Engine.IO packets, and on
    ``/socket.io/`` the Engine.IO messages of one Socket.IO packet."""
    single = st.one_of(eio_texts(), st.binary(max_size=16)).map(_alone)
    if mount == EIO_MOUNT:
        return single | st.text(max_size=40).map(lambda t: [_utf8("4" + t)])
    return st.one_of(sio_messages().map(_as_eio), sio_messages().map(_as_eio), single)


def _payload(packets: list[str | bytes]) -> str:
    return "\x1e".join(
        p if isinstance(p, str) else "b" + base64.b64encode(p).decode("ascii") for p in packets
    )


def polling_bodies(mount: str) -> st.SearchStrategy[bytes]:
    """POST bodies for a polling session on ``mount``: payloads of valid and broken packets,
    mutated payloads, and bytes that are not UTF-8."""
    payloads = st.lists(ws_messages(mount), min_size=1, max_size=3).map(
        lambda groups: _payload([m for g in groups for m in g])
    )
    text = st.one_of(payloads, payloads, mutated_text(payloads))
    return st.one_of(
        text.map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=40),
        st.just(b""),
    )


# --------------------------------------------------------------------------------- handshakes

origins = st.sampled_from([None, None, "http://allowed.example", "http://evil.example"])


def valid_handshakes(transport: str) -> st.SearchStrategy[Handshake]:
    """Handshakes that open a session on the Socket.IO or the bare Engine.IO mount."""
    return st.builds(
        Handshake,
        mount=st.sampled_from([SIO_MOUNT, SIO_MOUNT, EIO_MOUNT]),
        transport=st.just(transport),
        upgrade=st.just(transport == "websocket"),
    )


def handshakes() -> st.SearchStrategy[Handshake]:
    """Requests without a session, each parameter right or wrong (PROTOCOL.md 1.8)."""
    return st.builds(
        Handshake,
        mount=st.sampled_from([SIO_MOUNT, EIO_MOUNT, "/restricted/"]),
        transport=st.sampled_from(
            [None, "polling", "websocket", "abc", "", "POLLING", "polling%00"]
        ),
        eio=st.sampled_from([None, "4", "4", "3", "5", "abc", "", "04", "4%20", "%D9%A4", "+4"]),
        method=st.sampled_from(["GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"]),
        upgrade=st.booleans(),
        origin=origins,
        unknown_sid=st.none() | st.none() | URL_SAFE,
    )


# ------------------------------------------------------------------------ broken WebSocket frames


@st.composite
def bad_frames(draw: st.DrawFn, session: str = "") -> BadFrame:
    """One frame (or two) breaking one rule of RFC 6455 section 5, with the close code 7.4.1
    gives it."""
    payload = draw(st.binary(max_size=20))
    text = b"4" + draw(st.text(max_size=10)).encode("utf-8")
    kind = draw(st.sampled_from([
        "rsv", "opcode", "unmasked", "control-fragmented", "control-too-long",
        "continuation-first", "interleaved", "bad-utf8", "close-bad-code", "close-one-byte",
        "huge-length", "over-max-payload",
    ]))  # fmt: skip
    if kind == "rsv":
        data, code = ws_frame(OPCODES["text"], text, rsv=draw(st.integers(1, 7))), 1002
    elif kind == "opcode":
        opcode = draw(st.sampled_from([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF]))
        data, code = ws_frame(opcode, payload), 1002
    elif kind == "unmasked":
        data, code = ws_frame(OPCODES["text"], text, masked=False), 1002
    elif kind == "control-fragmented":
        data, code = ws_frame(OPCODES["ping"], payload, fin=False), 1002
    elif kind == "control-too-long":
        data, code = ws_frame(OPCODES["ping"], b"p" * draw(st.integers(126, 300))), 1002
    elif kind == "continuation-first":
        data, code = ws_frame(OPCODES["cont"], text), 1002
    elif kind == "interleaved":
        data = ws_frame(OPCODES["text"], b"4a", fin=False) + ws_frame(OPCODES["text"], b"4b")
        code = 1002
    elif kind == "bad-utf8":
        bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]))
        data, code = ws_frame(OPCODES["text"], b"4" + bad), 1007
    elif kind == "close-bad-code":
        status = draw(st.sampled_from([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]))
        data, code = ws_frame(OPCODES["close"], status.to_bytes(2, "big")), 1002
    elif kind == "close-one-byte":
        data, code = ws_frame(OPCODES["close"], b"\x03"), 1002
    elif kind == "huge-length":
        data = ws_frame(OPCODES["binary"], payload, declared_length=draw(
            st.sampled_from([2**62, 2**63 - 1, 2**53])))  # fmt: skip
        code = 1009
    else:
        data = ws_frame(OPCODES["binary"], payload, declared_length=2_000_000)
        code = 1009
    return BadFrame(session, data, kind, code)


# ------------------------------------------------------------------------------- broken HTTP

_TARGET = "/socket.io/?EIO=4&transport=polling"


@st.composite
def raw_requests(draw: st.DrawFn) -> RawRequest:
    """Requests that are not valid HTTP/1.1, HEADs, and oversized heads."""
    kind = draw(st.sampled_from(["garbage", "line", "header", "version", "head", "big-head",
                                 "long-target", "smuggle"]))  # fmt: skip
    if kind == "garbage":
        # Not starting with an empty line, which a server may skip (RFC 9112 2.2).
        visible = st.binary(min_size=1, max_size=40).filter(lambda b: b[:1] not in b"\r\n \t")
        junk = draw(visible | st.sampled_from([
            bytes.fromhex("16030100a5010000a10303") + bytes(40),  # a TLS ClientHello
            b"PRI * HTTP/2.0\r\n\r\nSM",  # the HTTP/2 preface
        ]))  # fmt: skip
        return RawRequest(junk.replace(b"\r\n\r\n", b"") + b"\r\n\r\n", kind="garbage")
    if kind == "line":
        line = draw(mutated_text(st.just(f"GET {_TARGET} HTTP/1.1"))).encode(
            "utf-8", "surrogatepass"
        )
        return RawRequest(line.replace(b"\r\n", b"") + b"\r\nHost: x\r\n\r\n", kind="garbage")
    if kind == "header":
        bad = draw(st.sampled_from([b"no colon", b"X-A\x00: b", b" folded: x", b"X A: b",
                                    b"Content-Length: x", b"Content-Length: -1",
                                    b"Transfer-Encoding: gzip, chunked, x"]))  # fmt: skip
        return RawRequest(b"GET " + _TARGET.encode() + b" HTTP/1.1\r\nHost: x\r\n" + bad + b"\r\n\r\n",
                          kind="garbage")  # fmt: skip
    if kind == "version":
        version = draw(st.sampled_from(["HTTP/9.9", "HTTP/1.x", "HTTPS/1.1", "HTTP/1.1.1"]))
        return RawRequest(http_request("GET", _TARGET, version=version), kind="version")
    if kind == "head":
        path = draw(st.sampled_from([_TARGET, "/nothing-here", "/socket.io/", "/engine.io/?EIO=4"]))
        return RawRequest(http_request("HEAD", path), method="HEAD", kind="head")
    if kind == "big-head":
        size = draw(st.sampled_from([20_000, 60_000, 200_000]))
        headers = (("X-Big", "a" * size),)
        return RawRequest(http_request("GET", _TARGET, headers=headers), kind="big-head")
    if kind == "long-target":
        target = _TARGET + "&x=" + "a" * draw(st.sampled_from([20_000, 100_000]))
        return RawRequest(http_request("GET", target), kind="big-head")
    data = http_request("POST", _TARGET, body=b"40", framing="te-and-length")
    return RawRequest(data, method="POST", kind="smuggle")


# ---------------------------------------------------------------------------- the soak flood

framings = st.sampled_from(FRAMINGS)


def flood_inputs() -> st.SearchStrategy[tuple[str, Any]]:
    """One malformed input for the soak suite's flood, as ``(how, what)``:

    * ``("raw", RawRequest)``: a request on a new connection;
    * ``("handshake", Handshake)``: a request without a session;
    * ``("post", (body, framing))``: a POST on a live polling session on ``/socket.io/``;
    * ``("ws", [messages])``: messages on a live WebSocket session that joined ``/``;
    * ``("frame", BadFrame)``: a broken frame on a live WebSocket session.
    """
    return st.one_of(
        raw_requests().map(lambda r: ("raw", r)),
        handshakes().map(lambda h: ("handshake", h)),
        st.tuples(polling_bodies(SIO_MOUNT), framings).map(lambda p: ("post", p)),
        ws_messages(SIO_MOUNT).map(lambda m: ("ws", m)),
        ws_messages(SIO_MOUNT).map(lambda m: ("ws", m)),
        bad_frames().map(lambda f: ("frame", f)),
    )
