"""A rule-based state machine over one Engine.IO :class:`Session` (PROTOCOL.md 1.3-1.7, 4).

Hypothesis plays client, server application and clock at once: GETs that start, wait, get
answered or are aborted; POSTs of valid packets, garbage, refused bodies, overlapping
requests; WebSocket messages; a probe WebSocket that pings, upgrades, misbehaves or dies;
server sends (volatile or not) and closes; the clock moving with and without the I/O layer's
timer firing. Sessions start on polling or WebSocket, in v4 or v3, with default or tiny limits.

Everything that ends a session is one rule (``something_goes_wrong``), so sessions usually
live long enough to upgrade, heartbeat and exchange messages before they die.

After every step the invariants below must hold. Every call says which exceptions the session
may raise in the situation the rule creates; anything else (another ThinkioError included)
fails the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from thinkio.engineio import (
    EnginePacket,
    EnginePacketType,
    MessageReceived,
    Session,
    SessionClosed,
    SessionState,
    UpgradeAborted,
    Upgraded,
    encode_ws,
)
from thinkio.engineio.payload import SEPARATOR
from thinkio.errors import RemoteProtocolError, RequestRejected, ThinkioError
from thinkio.limits import DEFAULT_LIMITS, Limits

from .sessions import FAST, decode_response, options_with, post_body
from .strategies import NO_SURROGATES, garbage_bytes, garbage_text

TINY = Limits(max_outbox_packets=6, max_outbox_bytes=64, max_packets_per_payload=4)
INTERVAL, TIMEOUT = FAST.ping_interval, FAST.ping_timeout

text_data = st.text(
    alphabet=st.characters(exclude_characters=SEPARATOR, exclude_categories=NO_SURROGATES),
    max_size=10,
)
message_data = text_data | st.binary(max_size=10)
#: Clock steps: half of them short (a session with a heartbeat lives on), half around the
#: timer edges (interval 0.3, timeout 0.2, upgrade 1.0, close 2.0) or far beyond them.
dt = st.sampled_from([0.01, 0.05, 0.1]) | st.sampled_from(
    [0.0, 0.19, 0.2, 0.21, 0.29, 0.3, 0.5, 0.99, 1.0, 2.0, 2.5]
)

#: Packets a well-behaved client sends. The heartbeat packet of the wrong direction for the
#: revision is dropped by the rules (``_benign``); sending it is in ``something_goes_wrong``.
BENIGN_PACKETS = st.one_of(
    st.builds(EnginePacket, st.just(EnginePacketType.MESSAGE), message_data),
    st.sampled_from(
        [
            EnginePacket(EnginePacketType.PONG),
            EnginePacket(EnginePacketType.PING),
            EnginePacket(EnginePacketType.PING, "probe"),
            EnginePacket(EnginePacketType.NOOP),
            EnginePacket(EnginePacketType.UPGRADE),
        ]
    ),
)
#: Packets that end the session: a close, or an open from the client.
FATAL_PACKETS = st.sampled_from(
    [EnginePacket(EnginePacketType.CLOSE), EnginePacket(EnginePacketType.OPEN)]
)
CLIENT_PACKETS = BENIGN_PACKETS | FATAL_PACKETS
GARBAGE_BODIES = garbage_bytes(
    st.lists(CLIENT_PACKETS, min_size=1, max_size=3).map(lambda ps: post_body(ps, 4, False))
    | st.lists(CLIENT_PACKETS, min_size=1, max_size=3).map(lambda ps: post_body(ps, 3, False))
)
GARBAGE_WS = garbage_text(st.sampled_from(["4hello", "2probe", "3", "5", "1"])) | garbage_bytes(
    st.just(b"\x04\x01\x02")
)
TROUBLES = (
    "abort GET",
    "overlapping GET",
    "overlapping POST",
    "garbage POST",
    "fatal POST",
    "wrong heartbeat",
    "WebSocket closed",
    "garbage WebSocket message",
    "fatal WebSocket message",
    "probe closed",
    "garbage probe message",
)


def _has_heartbeat(packets: list[EnginePacket]) -> bool:
    return any(p.type in (EnginePacketType.PING, EnginePacketType.PONG) for p in packets)


def _messages_until_stop(packets: list[EnginePacket], protocol: int) -> list[str | bytes]:
    """The messages of a valid batch the session must deliver: up to a close or an error."""
    out: list[str | bytes] = []
    wrong_heartbeat = EnginePacketType.PING if protocol >= 4 else EnginePacketType.PONG
    for p in packets:
        if p.type in (EnginePacketType.CLOSE, EnginePacketType.OPEN, wrong_heartbeat):
            break
        if p.type is EnginePacketType.MESSAGE:
            out.append(p.data)
    return out


class SessionMachine(RuleBasedStateMachine):
    """One session, one client, one server application, one clock."""

    examples_run = 0  # read by fuzz.campaign

    def __init__(self) -> None:
        super().__init__()
        type(self).examples_run += 1
        self.session: Session | None = None

    # -- setup --------------------------------------------------------------------------------

    @initialize(
        transport=st.sampled_from(["polling", "websocket"]),
        protocol=st.sampled_from([3, 4]),
        b64=st.booleans(),
        tiny=st.booleans(),
    )
    def start(self, transport: str, protocol: int, b64: bool, tiny: bool) -> None:
        self.limits = TINY if tiny else DEFAULT_LIMITS
        self.now = 1000.0
        #: The latest ``now`` the session was given by a call that runs its timers.
        self.session_now = self.now
        self.protocol = protocol
        self.session = Session(
            "sid",
            transport,
            options=options_with(self.limits),
            now=self.now,
            protocol=protocol,
            b64=b64,
        )
        self.events: list[Any] = []
        self.states: list[SessionState] = [SessionState.OPEN]
        self.ever_websocket = transport == "websocket"
        # The client's view of its own connections.
        self.get_pending = False
        self.post_in_flight = False
        self.probe_open = False
        self.probe_opened_at = 0.0
        self.close_started_at: float | None = None
        #: When the client last sent something that may keep the heartbeat alive.
        self.last_heartbeat = self.now
        #: (the heartbeat it follows, when) the first timed call after the ping fell due: a
        #: late timer sends the ping then, and the client gets at least half the timeout.
        self.ping_sent: tuple[float, float] | None = None
        # The client's valid messages handed to the session, in order; ``clean`` while no
        # garbage was handed over (garbage may hold messages we can't predict).
        self.client_sent: list[str | bytes] = []
        self.clean = True
        # The server's accepted sends, and every packet that reached the client.
        self.server_sent: list[str | bytes] = []
        self.delivered: list[EnginePacket] = []

    @property
    def s(self) -> Session:
        assert self.session is not None
        return self.session

    # -- plumbing -----------------------------------------------------------------------------

    def call(
        self,
        name: str,
        fn: Callable[..., Any],
        *args: Any,
        expect: tuple[type[BaseException], ...] = (),
        timed: bool = True,
        **kwargs: Any,
    ) -> tuple[Any, BaseException | None]:
        """Call a session method; return (result, expected exception or None).

        An exception outside ``expect`` fails the run, naming the call. ``timed`` calls take
        ``now`` and must run the timers that are due.
        """
        if (
            timed
            and self.protocol >= 4
            and self.now >= self.last_heartbeat + INTERVAL
            and (self.ping_sent is None or self.ping_sent[0] != self.last_heartbeat)
        ):
            self.ping_sent = (self.last_heartbeat, self.now)
        try:
            result = fn(*args, **kwargs)
        except expect as exc:
            outcome: tuple[Any, BaseException | None] = (None, exc)
        except Exception as exc:
            kind = "ThinkioError" if isinstance(exc, ThinkioError) else "non-ThinkioError"
            raise AssertionError(
                f"{name} raised an unexpected {kind} {type(exc).__name__}: {exc}"
            ) from exc
        else:
            outcome = (result, None)
        if timed:
            self.session_now = max(self.session_now, self.now)
        self.collect()
        return outcome

    def collect(self) -> None:
        while (event := self.s.next_event()) is not None:
            assert not any(isinstance(e, SessionClosed) for e in self.events), (
                f"{event!r} after SessionClosed"
            )
            self.events.append(event)
            if isinstance(event, Upgraded | UpgradeAborted):
                assert self.probe_open, f"{event!r} without a probe"
                self.probe_open = False  # it became the transport, or the I/O layer closes it
            if isinstance(event, Upgraded):
                self.ever_websocket = True
            if isinstance(event, SessionClosed) and self.close_started_at is None:
                self.close_started_at = self.now
        self.states.append(self.s.state)

    def failed_by_peer(self, exc: BaseException | None) -> None:
        """After a RemoteProtocolError other than a rejection, the session is closed."""
        if isinstance(exc, RemoteProtocolError) and not isinstance(exc, RequestRejected):
            assert self.s.closed, f"{exc!r} raised but the session is {self.s.state.name}"

    def deliver(self, packets: list[EnginePacket]) -> None:
        assert all(isinstance(p, EnginePacket) for p in packets)
        self.delivered.extend(packets)

    def _polling(self) -> bool:
        return self.s.transport == "polling"

    def _on_websocket(self) -> bool:
        return self.session is not None and self.s.transport == "websocket"

    def _benign(self, packets: list[EnginePacket]) -> list[EnginePacket]:
        """Drop the heartbeat packets that go the wrong way in this revision."""
        wrong = EnginePacketType.PING if self.protocol >= 4 else EnginePacketType.PONG
        kept = [p for p in packets if p.type is not wrong]
        return kept or [EnginePacket(EnginePacketType.NOOP)]

    # -- polling GET --------------------------------------------------------------------------

    def _get(self) -> None:
        was_pending, was_closed = self.get_pending, self.s.closed
        _, exc = self.call("begin_get", self.s.begin_get, self.now, expect=(RemoteProtocolError,))
        if exc is None:
            assert not was_pending and not was_closed
            self.get_pending = True
            self.poll()
        elif isinstance(exc, RequestRejected):
            assert self.s.closed or not self._polling(), f"{exc!r} on a live polling session"
            assert exc.code in (1, 3)
        else:
            assert was_pending, f"{exc!r} without an overlapping GET"
            self.failed_by_peer(exc)

    @precondition(lambda self: self.session is not None and not self.get_pending)
    @rule()
    def get(self) -> None:
        self._get()

    @precondition(lambda self: self.session is not None and self.get_pending)
    @rule()
    def poll(self) -> None:
        result, _ = self.call("take_poll_response", self.s.take_poll_response, self.now)
        if result is None:
            assert not self.s.closed, "a GET left waiting on a closed session"
            return
        self.get_pending = False
        body, content_type = result
        assert isinstance(body, bytes) and body
        try:
            packets = decode_response(body, content_type, self.protocol)
        except RemoteProtocolError as exc:
            raise AssertionError(f"a response its client cannot decode: {body!r}") from exc
        self.deliver(packets)

    def _abort_get(self) -> None:
        was_pending, was_polling, was_closed = self.get_pending, self._polling(), self.s.closed
        self.call("abort_get", self.s.abort_get, self.now, timed=was_pending)
        self.get_pending = False
        if was_pending and was_polling and not was_closed:
            assert self.s.closed, "an aborted poll must end a polling session"

    # -- polling POST -------------------------------------------------------------------------

    def _begin_post(self) -> bool:
        was_in_flight = self.post_in_flight
        _, exc = self.call("begin_post", self.s.begin_post, self.now, expect=(RemoteProtocolError,))
        if exc is None:
            assert not was_in_flight
            self.post_in_flight = True
            return True
        if isinstance(exc, RequestRejected):
            assert self.s.closed or not self._polling()
        else:
            assert was_in_flight, f"{exc!r} without an overlapping POST"
            self.failed_by_peer(exc)
        return False

    def _end_post(self, body: bytes | None, binary: bool, valid: list[EnginePacket] | None) -> None:
        # ``valid``: the packets the body encodes, or None for garbage.
        accepting = self.s.state not in (SessionState.CLOSING, SessionState.CLOSED)
        _, exc = self.call(
            "end_post",
            self.s.end_post,
            body,
            self.now,
            binary=binary,
            expect=(RemoteProtocolError,),
        )
        self.post_in_flight = False
        assert not isinstance(exc, RequestRejected)
        self.failed_by_peer(exc)
        if body is None:
            return
        if valid is None or _has_heartbeat(valid):
            self.last_heartbeat = self.now
        if valid is None:
            self.clean = False
        elif accepting:
            self.client_sent += _messages_until_stop(valid, self.protocol)

    def _post(self, packets: list[EnginePacket], binary: bool = False) -> None:
        binary = binary and self.protocol == 3
        if self._begin_post():
            self._end_post(post_body(packets, self.protocol, binary), binary, packets)

    @precondition(lambda self: self.session is not None and not self.post_in_flight)
    @rule(packets=st.lists(BENIGN_PACKETS, min_size=1, max_size=4), binary=st.booleans())
    def post(self, packets: list[EnginePacket], binary: bool) -> None:
        self._post(self._benign(packets), binary)

    @precondition(lambda self: self.session is not None and not self.post_in_flight)
    @rule()
    def post_refused(self) -> None:
        """A POST whose body the I/O layer refused (too large: 413). The session lives on."""
        if self._begin_post():
            self._end_post(None, False, [])

    @precondition(lambda self: self.session is not None and not self.post_in_flight)
    @rule()
    def post_begin_only(self) -> None:
        """A POST whose body is still being read."""
        self._begin_post()

    @precondition(lambda self: self.session is not None and self.post_in_flight)
    @rule(packets=st.lists(BENIGN_PACKETS, min_size=1, max_size=4))
    def post_finish(self, packets: list[EnginePacket]) -> None:
        packets = self._benign(packets)
        self._end_post(post_body(packets, self.protocol, False), False, packets)

    @rule()
    def keepalive(self) -> None:
        """The heartbeat a well-behaved client sends: pong (v4) or ping (v3)."""
        packet = EnginePacket(
            EnginePacketType.PONG if self.protocol >= 4 else EnginePacketType.PING
        )
        if self._on_websocket():
            self._ws_send(packet)
        elif not self.post_in_flight:
            self._post([packet])

    # -- WebSocket transport ------------------------------------------------------------------

    def _ws_send(self, packet: EnginePacket) -> None:
        accepting = not self.s.closed
        _, exc = self.call(
            "receive_ws",
            self.s.receive_ws,
            encode_ws(packet, protocol=self.protocol),
            self.now,
            expect=(RemoteProtocolError,),
        )
        assert not isinstance(exc, RequestRejected)
        self.failed_by_peer(exc)
        if _has_heartbeat([packet]):
            self.last_heartbeat = self.now
        if accepting:
            self.client_sent += _messages_until_stop([packet], self.protocol)

    @precondition(_on_websocket)
    @rule(packet=BENIGN_PACKETS)
    def ws_message(self, packet: EnginePacket) -> None:
        self._ws_send(self._benign([packet])[0])

    @precondition(_on_websocket)
    @rule()
    def ws_write(self) -> None:
        packets, _ = self.call("take_ws_packets", self.s.take_ws_packets, timed=False)
        for p in packets:
            encode_ws(p, protocol=self.protocol)
        self.deliver(packets)

    # -- upgrade probe ------------------------------------------------------------------------

    @rule()
    def probe_arrives(self) -> None:
        before = (self.s.state, self.s.transport)
        # A probe past its deadline is dropped by the session's timers, which run first (the
        # state read above is from before they ran): the session is open on polling again.
        expired = self.probe_open and self.now >= self.probe_opened_at + FAST.upgrade_timeout
        _, exc = self.call(
            "begin_upgrade", self.s.begin_upgrade, self.now, expect=(RemoteProtocolError,)
        )
        if exc is None:
            assert not self.probe_open, "a second probe was accepted"
            if expired:
                assert before[1] == "polling"
                assert isinstance(self.events[-1], UpgradeAborted), self.events[-1:]
            else:
                assert before == (SessionState.OPEN, "polling")
            self.probe_open = True
            self.probe_opened_at = self.now
        else:
            # Only the new WebSocket is refused; the session is untouched (unless its own
            # timers, run first, ended it).
            assert not isinstance(exc, RequestRejected)
            assert (self.s.state, self.s.transport) == before or self.s.closed

    @precondition(
        lambda self: (
            self.session is not None and self.s.transport == "polling" and not self.probe_open
        )
    )
    @rule()
    def upgrade(self) -> None:
        """The whole happy path of an upgrade in one step: probe, 2probe, a GET, 5."""
        self.probe_arrives()
        if self.probe_open:
            self.probe_message("2probe")
        if self.probe_open and not self.get_pending:
            self._get()
        if self.probe_open:
            self.probe_message("5")

    @precondition(lambda self: self.session is not None and self.probe_open)
    @rule(message=st.sampled_from(["2probe", "5", "2probe", "5", "6", "2", "3probe", "1", "4x"]))
    def probe_message(self, message: str) -> None:
        replies, _ = self.call("receive_probe", self.s.receive_probe, message, self.now)
        assert isinstance(replies, list)
        for p in replies:
            encode_ws(p, protocol=self.protocol)
            assert p == EnginePacket(EnginePacketType.PONG, "probe")

    # -- the server application ---------------------------------------------------------------

    @rule(data=message_data, volatile=st.booleans())
    def send(self, data: str | bytes, volatile: bool) -> None:
        ok, _ = self.call("send_message", self.s.send_message, data, volatile=volatile, timed=False)
        assert isinstance(ok, bool)
        if ok:
            self.server_sent.append(data)

    @rule(batch=st.lists(message_data, min_size=1, max_size=8))
    def send_many(self, batch: list[str | bytes]) -> None:
        packets = [EnginePacket(EnginePacketType.MESSAGE, d) for d in batch]
        ok, _ = self.call("send", self.s.send, packets, timed=False)
        if ok:
            self.server_sent += batch

    @rule(reason=st.sampled_from(["forced close", "server shutting down"]))
    def server_close(self, reason: str) -> None:
        self.call("close", self.s.close, self.now, reason)
        assert self.s.state in (SessionState.CLOSING, SessionState.CLOSED)

    # -- the clock ----------------------------------------------------------------------------

    @rule(seconds=dt)
    def timer_fires(self, seconds: float) -> None:
        self.now += seconds
        self.call("handle_timeout", self.s.handle_timeout, self.now)

    @rule(seconds=dt)
    def time_passes(self, seconds: float) -> None:
        """The clock moves but the I/O layer's timer has not fired yet (PROTOCOL.md 5.3)."""
        self.now += seconds

    # -- endings: one rule, so they are rarer than the steps of a living session -------------

    @rule(kind=st.sampled_from(TROUBLES), data=st.data())
    def something_goes_wrong(self, kind: str, data: st.DataObject) -> None:
        if kind == "abort GET":
            self._abort_get()
        elif kind == "overlapping GET":
            if not self.get_pending:
                self._get()
            if self.get_pending:
                self._get()
        elif kind == "overlapping POST":
            if not self.post_in_flight:
                self._begin_post()
            if self.post_in_flight:
                self._begin_post()
        elif kind == "garbage POST":
            body = data.draw(GARBAGE_BODIES, label="body")
            binary = data.draw(st.booleans(), label="binary")
            if not self.post_in_flight and self._begin_post():
                self._end_post(body, binary, None)
        elif kind == "fatal POST":
            packets = data.draw(st.lists(CLIENT_PACKETS, max_size=3), label="packets")
            fatal = data.draw(FATAL_PACKETS, label="fatal")
            packets.insert(data.draw(st.integers(0, len(packets)), label="at"), fatal)
            if not self.post_in_flight:
                self._post(packets)
        elif kind == "wrong heartbeat":
            packet = EnginePacket(
                EnginePacketType.PING if self.protocol >= 4 else EnginePacketType.PONG
            )
            if self._on_websocket():
                self._ws_send(packet)
            elif not self.post_in_flight:
                self._post([packet])
        elif kind == "WebSocket closed" and self._on_websocket():
            self.call("transport_closed", self.s.transport_closed, self.now)
            assert self.s.closed
        elif kind == "garbage WebSocket message" and self._on_websocket():
            message = data.draw(GARBAGE_WS, label="message")
            _, exc = self.call(
                "receive_ws", self.s.receive_ws, message, self.now, expect=(RemoteProtocolError,)
            )
            assert not isinstance(exc, RequestRejected)
            self.failed_by_peer(exc)
            self.clean = False
            self.last_heartbeat = self.now
        elif kind == "fatal WebSocket message" and self._on_websocket():
            self._ws_send(data.draw(FATAL_PACKETS, label="packet"))
        elif kind == "probe closed" and self.probe_open:
            self.call("probe_closed", self.s.probe_closed, self.now)
            self.probe_open = False
            assert not self.s.upgrading
        elif kind == "garbage probe message" and self.probe_open:
            message = data.draw(GARBAGE_WS, label="message")
            replies, _ = self.call("receive_probe", self.s.receive_probe, message, self.now)
            assert all(p == EnginePacket(EnginePacketType.PONG, "probe") for p in replies)

    def teardown(self) -> None:
        # Shown by ``pytest --hypothesis-show-statistics``: how far the runs got.
        if self.session is not None:
            upgraded = any(isinstance(e, Upgraded) for e in self.events)
            event(f"ended {self.s.state.name} (close reason {self.s.close_reason})")
            event(
                f"upgraded: {upgraded}; messages in/out: {bool(self.client_sent)}/"
                f"{bool(self.server_sent)}"
            )

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def one_pending_get_at_most(self) -> None:
        if self.session is not None:
            assert self.s.get_pending == self.get_pending

    @invariant()
    def outbox_is_bounded(self) -> None:
        if self.session is None:
            return
        slack = 1  # the open packet is queued before any limit applies
        assert self.s.outbox_size <= self.limits.max_outbox_packets + slack

    @invariant()
    def deadline_not_in_the_past(self) -> None:
        if self.session is None:
            return
        deadline = self.s.next_deadline()
        assert deadline is None or deadline > self.session_now, (
            f"next_deadline() {deadline} <= now {self.session_now}"
        )
        if self.s.closed:
            assert deadline is None, "a closed session still wants a timer"

    @invariant()
    def closed_is_terminal_and_announced_once(self) -> None:
        if self.session is None:
            return
        closes = [e for e in self.events if isinstance(e, SessionClosed)]
        assert len(closes) <= 1
        ending = self.s.state in (SessionState.CLOSING, SessionState.CLOSED)
        assert bool(closes) == ending, f"SessionClosed: {closes}, state {self.s.state.name}"
        if closes:
            assert self.events[-1] is closes[0]
            assert self.s.close_reason == closes[0].reason
        if SessionState.CLOSED in self.states:
            after = self.states[self.states.index(SessionState.CLOSED) :]
            assert set(after) == {SessionState.CLOSED}
        if SessionState.CLOSING in self.states:
            after = self.states[self.states.index(SessionState.CLOSING) :]
            assert set(after) <= {SessionState.CLOSING, SessionState.CLOSED}
        assert self.s.closed == (self.s.state is SessionState.CLOSED)

    @invariant()
    def transport_and_probe_agree(self) -> None:
        if self.session is None:
            return
        assert self.s.transport in ("polling", "websocket")
        if self.ever_websocket:
            assert self.s.transport == "websocket"
        assert self.s.upgrading == self.probe_open
        if self.s.upgrading:
            assert self.s.transport == "polling"
            assert self.session_now < self.probe_opened_at + FAST.upgrade_timeout

    @invariant()
    def heartbeat_and_close_timers_are_enforced(self) -> None:
        if self.session is None:
            return
        if self.s.state in (SessionState.OPEN, SessionState.PROBING, SessionState.PROBED):
            limit = self.last_heartbeat + INTERVAL + TIMEOUT
            if self.ping_sent is not None and self.ping_sent[0] == self.last_heartbeat:
                limit = max(limit, self.ping_sent[1] + TIMEOUT / 2)
            assert self.session_now < limit, "the session outlived its heartbeat"
        if self.s.state is SessionState.CLOSING:
            assert self.close_started_at is not None
            assert self.session_now < self.close_started_at + FAST.close_timeout

    @invariant()
    def server_messages_arrive_in_order(self) -> None:
        if self.session is None or not self.delivered:
            return
        assert self.delivered[0].type is EnginePacketType.OPEN
        assert all(p.type is not EnginePacketType.OPEN for p in self.delivered[1:])
        closes = [i for i, p in enumerate(self.delivered) if p.type is EnginePacketType.CLOSE]
        assert len(closes) <= 1, "two close packets delivered"
        if closes:
            assert all(p.type is EnginePacketType.NOOP for p in self.delivered[closes[0] + 1 :])
        sent = [p.data for p in self.delivered if p.type is EnginePacketType.MESSAGE]
        assert sent == self.server_sent[: len(sent)], "server messages lost, reordered or doubled"

    @invariant()
    def client_messages_arrive_in_order(self) -> None:
        if self.session is None or not self.clean:
            return
        received = [e.data for e in self.events if isinstance(e, MessageReceived)]
        if self.s.state in (SessionState.CLOSING, SessionState.CLOSED):
            assert received == self.client_sent[: len(received)]
        else:
            assert received == self.client_sent


TestSessionMachine = SessionMachine.TestCase
