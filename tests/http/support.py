"""An HTTP server on a fake clock, driven through in-memory transports (no socket, no sleep)."""

from __future__ import annotations

from collections.abc import Callable

from thinkio.http import HttpExchange, HttpRequest, HttpServer, Router
from thinkio.http.protocol import SWEEP_INTERVAL
from thinkio.limits import Limits
from thinkio.net import TaskSpawner, TimerService
from thinkio.testing import FakeClock, MemoryTransport

#: Small limits so that the tests' requests cross them with a few bytes.
LIMITS = Limits(
    max_header_bytes=1024,
    max_body_bytes=100,
    header_timeout=10.0,
    request_timeout=30.0,
    keep_alive_timeout=5.0,
)

Response = tuple[int, dict[bytes, bytes], bytes]


class Harness:
    """One :class:`HttpServer` on a :class:`FakeClock` with a few mounts:

    * ``/``: answers 200 with an empty body and ``x-seen: <method> <target>``;
    * ``/echo``: answers 200 with the request's body;
    * ``/small``: like ``/echo`` with a 10-byte body limit;
    * ``/park``: parks the exchange (a long poll), kept in :attr:`parked`;
    * ``/silent``: never answers.

    Args:
        limits: the server's limits.
        quiet: ``/echo`` and ``/small`` answer an empty body (so that no body a test
            sends comes back to be read as a response).
    """

    def __init__(self, limits: Limits = LIMITS, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.clock = FakeClock()
        self.limits = limits
        self.tasks = TaskSpawner()
        self.seen: list[tuple[str, str, bytes]] = []
        self.parked: list[HttpExchange] = []
        self.aborted: list[HttpExchange] = []
        router = Router()
        router.mount("/", self._root)
        router.mount("/echo", self._echo)
        router.mount("/small", self._echo, max_body=10)
        router.mount("/park", self._park)
        router.mount("/silent", self._silent)
        self.router = router
        self.server = HttpServer(router, limits, TimerService(self.clock), self.tasks)

    def connect(self) -> MemoryTransport:
        """A new connection (``connection_made`` done)."""
        return MemoryTransport(self.server.protocol())

    def mount(self, path: str, handler: Callable[[HttpRequest, HttpExchange], object]) -> None:
        self.router.mount(path, handler)  # type: ignore[arg-type]

    def linger_out(self) -> None:
        """Let a refused connection's linger run out (it closes within two sweeps)."""
        self.clock.advance(2 * SWEEP_INTERVAL + 1.0)

    def _record(self, request: HttpRequest) -> None:
        self.seen.append((request.method, request.target, request.body))

    def _root(self, request: HttpRequest, exchange: HttpExchange) -> None:
        self._record(request)
        seen = f"{request.method} {request.target}".encode()
        exchange.respond(200, [(b"x-seen", seen)])

    def _echo(self, request: HttpRequest, exchange: HttpExchange) -> None:
        self._record(request)
        body = b"" if self.quiet else request.body
        exchange.respond(200, [(b"content-type", b"application/octet-stream")], body)

    def _park(self, request: HttpRequest, exchange: HttpExchange) -> None:
        self._record(request)
        self.parked.append(exchange)
        exchange.park(lambda: self.aborted.append(exchange))

    def _silent(self, request: HttpRequest, exchange: HttpExchange) -> None:
        self._record(request)


def parse_responses(data: bytes) -> list[Response]:
    """Split what a server wrote into (status, headers, body) triples (Content-Length framed).

    Raises:
        AssertionError: the bytes are not whole HTTP/1.1 responses.
    """
    out: list[Response] = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"incomplete response head: {data!r}"
        lines = head.split(b"\r\n")
        version, status, _reason = lines[0].split(b" ", 2)
        assert version == b"HTTP/1.1", lines[0]
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            assert colon, f"bad header line {line!r}"
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", b"0"))
        out.append((int(status), headers, rest[:length]))
        data = rest[length:]
    return out


def get(target: str = "/", *extra: str, version: str = "1.1") -> bytes:
    """A GET request's bytes."""
    lines = [f"GET {target} HTTP/{version}", "Host: test", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def post(target: str, body: bytes, *extra: str) -> bytes:
    """A POST request with a Content-Length."""
    lines = [f"POST {target} HTTP/1.1", "Host: test", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
