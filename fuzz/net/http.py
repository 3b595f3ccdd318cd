"""One raw HTTP exchange: bytes out on a fresh connection, the first answer read with h11.

The request side may be anything (:mod:`fuzz.net.wire` builds broken requests on purpose);
the answer is parsed by ``h11`` in the client role, told only the method, so a ``HEAD``
answer is read without a body as RFC 9110 9.3.2 says.
"""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass, field

import h11

__all__ = ("Answer", "exchange")


@dataclass
class Answer:
    """What came back.

    Attributes:
        status: the status of the first response, or None if none arrived.
        headers: its headers (lower-case names).
        body: its body.
        end: ``"answered"`` (a whole response), ``"closed"`` (the server ended the
            connection; with a status, after answering), ``"reset"``, ``"timeout"`` (nothing
            more within the time), or ``"bad answer: ..."`` (not HTTP/1.1).
        seconds: how long the answer took.
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    end: str = "timeout"
    seconds: float = 0.0

    def __str__(self) -> str:
        if self.status is None:
            return f"no answer ({self.end} after {self.seconds:.2f} s)"
        return f"HTTP {self.status} {self.body[:160]!r} ({self.end})"


def exchange(
    address: tuple[str, int],
    data: bytes,
    *,
    method: str = "GET",
    timeout: float = 2.0,
    half_close: bool = False,
) -> Answer:
    """Send ``data`` on a new connection and read the first response.

    Args:
        address: the server's (host, port).
        data: the bytes to send (a request, a broken one, or not HTTP at all).
        method: the request's method as the answer is to be read (``HEAD``: no body).
        timeout: the most seconds to wait for the whole answer.
        half_close: shut the sending side down after ``data`` (a request that will never be
            finished, such as a body shorter than its Content-Length).
    """
    started = time.monotonic()
    answer = Answer()
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method=method.encode("latin-1", "replace") or b"GET", target=b"/",
                          headers=[(b"host", b"x")]))  # fmt: skip
    conn.send(h11.EndOfMessage())
    try:
        sock = socket.create_connection(address, timeout=timeout)
    except OSError as exc:
        answer.end = f"refused ({exc})"
        return answer
    with sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before reading everything: read on
        _read(sock, conn, answer, started + timeout)
    answer.seconds = time.monotonic() - started
    return answer


def _read(sock: socket.socket, conn: h11.Connection, answer: Answer, deadline: float) -> None:
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            answer.end = f"bad answer: {exc}"
            return
        if event is h11.NEED_DATA:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                answer.end = "timeout"
                return
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                answer.end = "timeout"
                return
            except ConnectionResetError:
                answer.end = "reset"
                return
            except OSError as exc:
                answer.end = f"reset ({exc})"
                return
            with contextlib.suppress(h11.RemoteProtocolError):
                conn.receive_data(chunk)
            if not chunk and answer.status is None and conn.their_state is h11.SEND_RESPONSE:
                answer.end = "closed"
                return
        elif isinstance(event, h11.InformationalResponse):
            continue
        elif isinstance(event, h11.Response):
            answer.status = event.status_code
            answer.headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in event.headers}
        elif isinstance(event, h11.Data):
            answer.body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            answer.end = "answered"
            return
        elif isinstance(event, h11.ConnectionClosed):
            answer.end = "closed"
            return
