"""The Socket.IO :class:`Connection` (PROTOCOL.md 2.3-2.6): garbage in, and a state machine.

The state machine keeps its own model of every namespace (ABSENT / CONNECTING / CONNECTED),
feeds the connection valid packets in any order (so half of them break the namespace rules
and must be RemoteProtocolError), plays the server (accept, reject, emit, ack, disconnect,
on any namespace: the wrong ones must be LocalProtocolError), moves the connect timer, and
checks every event and every payload sent against the model.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from thinkio.errors import LocalProtocolError, RemoteProtocolError, ThinkioError
from thinkio.limits import DEFAULT_LIMITS, Limits
from thinkio.socketio import (
    AckReceived,
    Connection,
    ConnectRequest,
    Decoder,
    EventReceived,
    NamespaceDisconnected,
    NamespaceState,
    Packet,
    PacketType,
    encode,
)

from .strategies import (
    event_names,
    garbage_bytes,
    garbage_text,
    json_keys,
    json_values,
    normal_json,
    normal_packet,
    sio_packets,
)

ABSENT, CONNECTING, CONNECTED = (
    NamespaceState.ABSENT,
    NamespaceState.CONNECTING,
    NamespaceState.CONNECTED,
)

# ------------------------------------------------------------------ garbage: value or error

_wire = st.sampled_from([4, 5]).flatmap(
    lambda p: sio_packets(p).map(lambda pk: tuple(encode(pk, protocol=p)))
)
connection_inputs = st.lists(
    _wire
    | garbage_text(_wire.map(lambda w: str(w[0]))).map(lambda t: (t,))
    | garbage_bytes(st.binary(max_size=6)).map(lambda b: (b,)),
    min_size=1,
    max_size=8,
)


@given(connection_inputs, st.sampled_from([4, 5]), st.lists(st.booleans(), max_size=10))
@example([("0",), ('2["a"]',), ("1",), ('2["a"]',)], 5, [True])
@example([("0/admin",), ("0/admin",)], 5, [])
@example([("4{}",)], 5, [])
@example([("0/admin?a=1,",), ('2/admin,["x"]',)], 4, [True])
def test_receive_message_gives_events_or_remote_protocol_error(
    inputs: list[tuple[str | bytes, ...]], protocol: int, answers: list[bool]
) -> None:
    conn = Connection(protocol=protocol, now=0.0)
    replies = iter(answers)
    for exchange in inputs:
        for message in exchange:
            try:
                conn.receive_message(message, 0.0)
            except RemoteProtocolError as exc:
                assert conn.closed
                assert exc.close_reason == "parse error"
                with _raises(LocalProtocolError):
                    conn.receive_message("0", 0.0)
                return
        while (event := conn.next_event()) is not None:
            if isinstance(event, ConnectRequest):
                assert conn.state_of(event.namespace) is CONNECTING
                assert isinstance(event.auth, dict)
                if next(replies, True):
                    conn.accept(event.namespace, "sid")
                else:
                    conn.reject_invalid_namespace(event.namespace)
            elif isinstance(event, EventReceived | AckReceived):
                assert conn.state_of(event.namespace) is CONNECTED
    # Whatever the connection queued, a client can decode.
    _decode_stream(conn.data_to_send(), protocol)


class _raises:
    """``pytest.raises`` without pytest's output capture games inside Hypothesis."""

    def __init__(self, kind: type[BaseException]) -> None:
        self.kind = kind

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, value: Any, tb: Any) -> bool:
        assert kind is not None and issubclass(kind, self.kind), f"expected {self.kind.__name__}"
        return True


def _decode_stream(payloads: list[str | bytes], protocol: int) -> list[Packet]:
    """Decode what a connection sent, the way its client would."""
    decoder = Decoder(protocol=protocol)
    out = []
    for payload in payloads:
        packet = decoder.feed(payload)
        if packet is not None:
            out.append(packet)
    assert decoder.awaiting_attachments == 0, "a binary packet sent without all attachments"
    return out


# -------------------------------------------------------------------------- state machine

NAMESPACES = ("/", "/admin", "/chat")
safe_values = json_values(max_depth=2, with_bytes=True)
auth_dicts = st.dictionaries(json_keys, json_values(max_depth=2), max_size=3)
query_dicts = st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2)


class ConnectionMachine(RuleBasedStateMachine):
    """One Socket.IO connection against a model of its namespaces."""

    examples_run = 0  # read by fuzz.campaign

    def __init__(self) -> None:
        super().__init__()
        type(self).examples_run += 1
        self.conn: Connection | None = None

    @initialize(
        protocol=st.sampled_from([4, 5]),
        tiny=st.booleans(),
        connect_timeout=st.sampled_from([None, 1.0]),
    )
    def start(self, protocol: int, tiny: bool, connect_timeout: float | None) -> None:
        self.protocol = protocol
        self.limits = Limits(max_namespaces_per_connection=2) if tiny else DEFAULT_LIMITS
        self.now = 0.0
        self.deadline = connect_timeout
        self.conn = Connection(
            limits=self.limits, protocol=protocol, now=self.now, connect_timeout=connect_timeout
        )
        self.model: dict[str, NamespaceState] = {}
        self.expected_events: list[Any] = []
        self.expected_out: list[Packet] = []
        self.closed = False
        self.failed: RemoteProtocolError | None = None
        if protocol == 4:
            self.model["/"] = CONNECTING
            self.expected_events.append(ConnectRequest("/", {}))
        self.check_events()

    @property
    def c(self) -> Connection:
        assert self.conn is not None
        return self.conn

    def _live(self) -> bool:
        return self.conn is not None and not self.closed

    def check_events(self) -> None:
        got = []
        while (event := self.c.next_event()) is not None:
            got.append(event)
        expected, self.expected_events = self.expected_events, []
        if (
            got
            and isinstance(got[0], NamespaceDisconnected)
            and all(
                isinstance(e, NamespaceDisconnected) and e.reason != "client namespace disconnect"
                for e in got
            )
        ):
            # close() reports its namespaces in no particular order.
            assert Counter(got) == Counter(expected), (got, expected)
        else:
            assert [_normal_event(e) for e in got] == [_normal_event(e) for e in expected]

    # -- the client ---------------------------------------------------------------------------

    def _expect_timer(self) -> bool:
        """Run the model's connect timer at ``now``; True if it closes the connection."""
        if self.deadline is not None and self.now >= self.deadline:
            self.deadline = None
            if not any(s is CONNECTED for s in self.model.values()):
                return True
        return False

    def _client_sends(self, packet: Packet) -> None:
        messages = encode(packet, protocol=self.protocol)
        times_out = self._expect_timer()
        state = self.model.get(packet.namespace, ABSENT)
        ptype = packet.type
        ok = not times_out and (
            (
                ptype is PacketType.CONNECT
                and state is ABSENT
                and len(self.model) < self.limits.max_namespaces_per_connection
            )
            or (ptype is PacketType.DISCONNECT and state is CONNECTED)
            or (ptype in (PacketType.EVENT, PacketType.BINARY_EVENT) and state is CONNECTED)
            or (ptype in (PacketType.ACK, PacketType.BINARY_ACK) and state is CONNECTED)
        )
        try:
            for message in messages:
                self.c.receive_message(message, self.now)
        except RemoteProtocolError as exc:
            assert not ok, f"{packet!r} refused in state {state}: {exc}"
            assert exc.close_reason == ("connect timeout" if times_out else "parse error")
            self._failed(exc)
            return
        except ThinkioError as exc:
            raise AssertionError(f"receive_message raised {type(exc).__name__}: {exc}") from exc
        assert ok, f"{packet!r} accepted in state {state}"
        ns = packet.namespace
        if ptype is PacketType.CONNECT:
            self.model[ns] = CONNECTING
            auth = packet.data if packet.data is not None else {}
            self.expected_events.append(ConnectRequest(ns, auth))
        elif ptype is PacketType.DISCONNECT:
            del self.model[ns]
            self.expected_events.append(NamespaceDisconnected(ns, "client namespace disconnect"))
        elif ptype in (PacketType.EVENT, PacketType.BINARY_EVENT):
            self.expected_events.append(EventReceived(ns, packet.data, packet.id))
        else:
            assert packet.id is not None
            self.expected_events.append(AckReceived(ns, packet.id, packet.data))
        self.check_events()

    def _failed(self, exc: RemoteProtocolError) -> None:
        """What the I/O layer does on a RemoteProtocolError: close with its reason."""
        assert self.c.closed
        self.failed = exc
        self._close(exc.close_reason)

    def _close(self, reason: str) -> None:
        self.c.close(reason)
        self.expected_events += [
            NamespaceDisconnected(ns, reason) for ns, s in self.model.items() if s is CONNECTED
        ]
        self.model.clear()
        self.expected_out = []
        self.closed = True
        self.deadline = None
        self.check_events()

    @precondition(_live)
    @rule(ns=st.sampled_from(NAMESPACES), data=st.data())
    def client_connect(self, ns: str, data: st.DataObject) -> None:
        payload = data.draw(st.none() | (query_dicts if self.protocol == 4 else auth_dicts))
        if self.protocol == 4 and not payload:
            payload = None
        self._client_sends(Packet(PacketType.CONNECT, ns, payload))

    @precondition(_live)
    @rule(ns=st.sampled_from(NAMESPACES))
    def client_disconnect(self, ns: str) -> None:
        self._client_sends(Packet(PacketType.DISCONNECT, ns))

    @precondition(_live)
    @rule(
        ns=st.sampled_from(NAMESPACES),
        name=event_names,
        args=st.lists(safe_values, max_size=3),
        ack_id=st.none() | st.integers(0, 10**6),
    )
    def client_event(self, ns: str, name: Any, args: list[Any], ack_id: int | None) -> None:
        data = [name, *args]
        if _count_bytes(data) > self.limits.max_attachments:
            data = [name]
        ptype = PacketType.BINARY_EVENT if _count_bytes(data) else PacketType.EVENT
        self._client_sends(Packet(ptype, ns, data, ack_id))

    @precondition(_live)
    @rule(
        ns=st.sampled_from(NAMESPACES),
        args=st.lists(safe_values, max_size=3),
        ack_id=st.integers(0, 10**6),
    )
    def client_ack(self, ns: str, args: list[Any], ack_id: int) -> None:
        if _count_bytes(args) > self.limits.max_attachments:
            args = []
        ptype = PacketType.BINARY_ACK if _count_bytes(args) else PacketType.ACK
        self._client_sends(Packet(ptype, ns, args, ack_id))

    @precondition(_live)
    @rule(ns=st.sampled_from(NAMESPACES))
    def client_connect_error(self, ns: str) -> None:
        self._client_sends(Packet(PacketType.CONNECT_ERROR, ns, {"message": "no"}))

    @precondition(_live)
    @rule(message=garbage_text(st.sampled_from(['2["a"]', "0/admin,", "1", "3/chat,1[]", "51-[]"])))
    def client_garbage(self, message: str) -> None:
        if not self._raw(message):
            return
        events = self._drain()
        if message[:1] in ("5", "6"):
            # A binary header that parsed waits for its attachments: send them until the
            # packet completes, so the next valid packet is not "text while attachments are
            # pending". Completion always gives an event or an error.
            assert not events
            for _ in range(self.limits.max_attachments):
                if not self._raw(b"\x00"):
                    return
                events = self._drain()
                if events:
                    break
            assert events, "a binary packet never completed"
        self._resync(events)

    def _raw(self, message: str | bytes) -> bool:
        """Feed a message whose meaning the model can't predict; False if it failed."""
        times_out = self._expect_timer()
        try:
            self.c.receive_message(message, self.now)
        except RemoteProtocolError as exc:
            assert exc.close_reason == ("connect timeout" if times_out else "parse error")
            self._failed(exc)
            return False
        assert not times_out
        return True

    def _drain(self) -> list[Any]:
        events = []
        while (event := self.c.next_event()) is not None:
            events.append(event)
        return events

    def _resync(self, events: list[Any]) -> None:
        """Take the model from the connection after input the model could not predict."""
        for event in events:
            if isinstance(event, ConnectRequest):
                self.model[event.namespace] = CONNECTING
            elif isinstance(event, NamespaceDisconnected):
                self.model.pop(event.namespace, None)
        self.expected_events = []
        for ns in NAMESPACES:
            assert self.c.state_of(ns) is self.model.get(ns, ABSENT)

    # -- the server ---------------------------------------------------------------------------

    def _server(self, name: str, allowed: bool, out: list[Packet], *args: Any, **kw: Any) -> bool:
        """Call a server method; it must succeed iff ``allowed`` (else LocalProtocolError)."""
        try:
            getattr(self.c, name)(*args, **kw)
        except LocalProtocolError:
            assert not allowed, f"{name}{args} refused"
            return False
        except Exception as exc:
            raise AssertionError(f"{name} raised {type(exc).__name__}: {exc}") from exc
        assert allowed, f"{name}{args} allowed with model {self.model}, closed={self.closed}"
        self.expected_out += out
        return True

    @precondition(lambda self: self.conn is not None)
    @rule(ns=st.sampled_from(NAMESPACES), sid=st.text(min_size=1, max_size=8))
    def server_accept(self, ns: str, sid: str) -> None:
        allowed = not self.closed and self.model.get(ns) is CONNECTING
        data = None if self.protocol == 4 else {"sid": sid}
        if self._server("accept", allowed, [Packet(PacketType.CONNECT, ns, data)], ns, sid):
            self.model[ns] = CONNECTED
            self.deadline = None  # the connect timer ends with the first join, as in Node

    @precondition(lambda self: self.conn is not None)
    @rule(
        ns=st.sampled_from(NAMESPACES),
        message=st.text(max_size=8),
        data=st.none() | json_values(max_depth=2),
    )
    def server_reject(self, ns: str, message: str, data: Any) -> None:
        allowed = not self.closed and self.model.get(ns) is CONNECTING
        if self.protocol == 4:
            payload = data if data is not None else message
            # Protocol 4's CONNECT_ERROR carries an object or a string, nothing else.
            allowed = allowed and isinstance(payload, dict | str)
        else:
            payload = {"message": message} if data is None else {"message": message, "data": data}
        out = [Packet(PacketType.CONNECT_ERROR, ns, payload)]
        if self._server("reject", allowed, out, ns, message, data):
            del self.model[ns]

    @precondition(lambda self: self.conn is not None)
    @rule(ns=st.sampled_from(NAMESPACES))
    def server_reject_invalid_namespace(self, ns: str) -> None:
        allowed = not self.closed and self.model.get(ns) is CONNECTING
        out = [Packet(PacketType.CONNECT_ERROR, ns, {"message": "Invalid namespace"})]
        if self._server("reject_invalid_namespace", allowed, out, ns):
            del self.model[ns]

    @precondition(lambda self: self.conn is not None)
    @rule(
        ns=st.sampled_from(NAMESPACES),
        name=event_names | st.sampled_from(["connect", "disconnect"]),
        args=st.lists(safe_values, max_size=3),
        ack_id=st.none() | st.integers(0, 10**6),
    )
    def server_emit(self, ns: str, name: Any, args: list[Any], ack_id: int | None) -> None:
        allowed = (
            not self.closed
            and self.model.get(ns) is CONNECTED
            and name not in ("connect", "disconnect")
        )
        data = [name, *args]
        out = [Packet(PacketType.EVENT, ns, data, ack_id)]
        self._server("emit", allowed, out, ns, data, ack_id=ack_id)

    @precondition(lambda self: self.conn is not None)
    @rule(
        ns=st.sampled_from(NAMESPACES),
        ack_id=st.integers(0, 10**6),
        args=st.lists(safe_values, max_size=3),
    )
    def server_ack(self, ns: str, ack_id: int, args: list[Any]) -> None:
        allowed = not self.closed and self.model.get(ns) is CONNECTED
        self._server("ack", allowed, [Packet(PacketType.ACK, ns, args, ack_id)], ns, ack_id, args)

    @precondition(lambda self: self.conn is not None)
    @rule(ns=st.sampled_from(NAMESPACES))
    def server_disconnect(self, ns: str) -> None:
        allowed = not self.closed and self.model.get(ns) is CONNECTED
        if self._server("disconnect", allowed, [Packet(PacketType.DISCONNECT, ns)], ns):
            del self.model[ns]

    @precondition(lambda self: self.conn is not None)
    @rule()
    def transmit(self) -> None:
        sent = _decode_stream(self.c.data_to_send(), self.protocol)
        expected, self.expected_out = self.expected_out, []
        assert [normal_packet(p) for p in sent] == [normal_packet(p) for p in expected]

    @precondition(_live)
    @rule(reason=st.sampled_from(["transport close", "ping timeout", "forced close"]))
    def engine_closed(self, reason: str) -> None:
        self._close(reason)

    # -- the clock ----------------------------------------------------------------------------

    @precondition(lambda self: self.conn is not None)
    @rule(seconds=st.sampled_from([0.1, 0.5, 0.99, 1.0, 2.0]))
    def timer_fires(self, seconds: float) -> None:
        self.now += seconds
        times_out = not self.closed and self._expect_timer()
        try:
            self.c.handle_timeout(self.now)
        except RemoteProtocolError as exc:
            assert times_out, f"connect timeout with model {self.model}"
            assert exc.close_reason == "connect timeout"
            self._failed(exc)
            return
        assert not times_out, "the connect timer did not fire"

    @precondition(lambda self: self.conn is not None)
    @rule(seconds=st.sampled_from([0.1, 0.5, 1.0]))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def namespaces_match_the_model(self) -> None:
        if self.conn is None:
            return
        assert self.c.closed == self.closed
        joined = {ns for ns, s in self.model.items() if s is CONNECTED}
        assert self.c.namespaces == joined
        for ns in NAMESPACES:
            assert self.c.state_of(ns) is self.model.get(ns, ABSENT)
        assert len(self.model) <= self.limits.max_namespaces_per_connection

    @invariant()
    def connect_timer_matches_the_model(self) -> None:
        if self.conn is None:
            return
        assert self.c.next_deadline() == (None if self.closed else self.deadline)

    @invariant()
    def closed_receives_nothing(self) -> None:
        if self.conn is None or not self.closed:
            return
        try:
            self.c.receive_message('2["late"]', self.now)
        except LocalProtocolError:
            pass
        else:
            raise AssertionError("a closed connection took a message")
        assert self.c.next_event() is None


def _count_bytes(value: Any) -> int:
    if isinstance(value, bytes):
        return 1
    if isinstance(value, list):
        return sum(_count_bytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_count_bytes(v) for v in value.values())
    return 0


def _normal_event(event: Any) -> Any:
    if isinstance(event, EventReceived):
        return ("event", event.namespace, normal_json(event.args), event.ack_id)
    if isinstance(event, AckReceived):
        return ("ack", event.namespace, event.ack_id, normal_json(event.args))
    if isinstance(event, ConnectRequest):
        return ("connect", event.namespace, normal_json(event.auth))
    return event


TestConnectionMachine = ConnectionMachine.TestCase
