"""One raw exchange (fuzz/net/http.py) against a loopback server with canned behaviours."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from fuzz.net.http import exchange

BEHAVIOURS = {
    "answer": b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\nno",
    "head": b"HTTP/1.1 400 Bad Request\r\ncontent-length: 43\r\n\r\n",
    "close": b"",
    "silent": None,
}


@pytest.fixture
def canned() -> Iterator[tuple[str, int]]:
    """A server that reads a request line, then does what its first word says."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                word = conn.recv(1024).split(b" ", 1)[0].decode().lower()
                reply = BEHAVIOURS.get(word, b"")
                if reply is None:
                    done.wait(1.0)
                elif reply:
                    conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()
    done.set()
    listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close() alone does not)
    listener.close()
    thread.join(2)


def test_a_whole_answer(canned: tuple[str, int]) -> None:
    answer = exchange(canned, b"ANSWER / HTTP/1.1\r\n\r\n")
    assert (answer.status, answer.body, answer.end) == (400, b"no", "answered")


def test_a_head_answer_has_no_body(canned: tuple[str, int]) -> None:
    answer = exchange(canned, b"HEAD / HTTP/1.1\r\n\r\n", method="HEAD")
    assert (answer.status, answer.body, answer.end) == (400, b"", "answered")


def test_closed_without_an_answer(canned: tuple[str, int]) -> None:
    answer = exchange(canned, b"CLOSE / HTTP/1.1\r\n\r\n")
    assert answer.status is None and answer.end == "closed"
    assert "no answer" in str(answer)


def test_silence_is_bounded(canned: tuple[str, int]) -> None:
    answer = exchange(canned, b"SILENT / HTTP/1.1\r\n\r\n", timeout=0.2)
    assert answer.status is None and answer.end == "timeout" and answer.seconds < 1.0
