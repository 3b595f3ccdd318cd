"""Model-based state machines for the Socket.IO ack registry and room index.

Both are small pure data structures with documented orders (acks clear in the order they
were registered; rooms list sockets in join order), so each is checked step by step
against a plain-Python model of what its docstrings promise.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from thinkio.errors import LocalProtocolError
from thinkio.socketio import AckRegistry, RoomIndex

# ------------------------------------------------------------------------------ ack registry

LIMIT = 80  # small enough to reach within an example


class AckMachine(RuleBasedStateMachine):
    """AckRegistry against a dict of id -> token (insertion order kept)."""

    examples_run = 0  # read by fuzz.campaign

    def __init__(self) -> None:
        super().__init__()
        type(self).examples_run += 1
        self.registry: AckRegistry[int] = AckRegistry(LIMIT)
        self.model: dict[int, int] = {}
        self.next_id = 0
        self.next_token = 0

    def _register(self) -> None:
        token = self.next_token
        self.next_token += 1
        full = len(self.model) >= LIMIT
        try:
            ack_id = self.registry.register(token)
        except LocalProtocolError:
            assert full, "register refused below the limit"
            return
        assert not full, "register accepted past the limit"
        assert ack_id == self.next_id, "ack ids must count up from 0 without gaps"
        self.next_id += 1
        self.model[ack_id] = token

    @rule()
    def register(self) -> None:
        self._register()

    @rule(n=st.integers(1, 40))
    def register_many(self, n: int) -> None:
        for _ in range(n):
            self._register()

    @rule(ack_id=st.integers(1000, 1010))
    def add_chosen(self, ack_id: int) -> None:
        # Ids far above the counter, as a namespace-wide broadcast id may be.
        token = self.next_token
        self.next_token += 1
        refused = len(self.model) >= LIMIT or ack_id in self.model
        try:
            self.registry.add(ack_id, token)
        except LocalProtocolError:
            assert refused, "add refused a free id below the limit"
            return
        assert not refused, "add accepted a pending id or past the limit"
        self.model[ack_id] = token

    @rule(offset=st.integers(-2, 3))
    def pop(self, offset: int) -> None:
        # Near the newest id: known, unknown, answered twice.
        ack_id = max(0, self.next_id - 1 - offset)
        assert self.registry.pop(ack_id) == self.model.pop(ack_id, None)

    @rule(n=st.integers(1, 60))
    def pop_oldest(self, n: int) -> None:
        for ack_id in list(self.model)[:n]:
            assert self.registry.pop(ack_id) == self.model.pop(ack_id)

    @rule()
    def clear(self) -> None:
        expected = list(self.model.values())
        self.model.clear()
        assert self.registry.clear() == expected

    @invariant()
    def matches_the_model(self) -> None:
        assert len(self.registry) == len(self.model)


# ---------------------------------------------------------------------------------- rooms

SIDS = ("a", "b", "c", "d")
ROOMS = ("r1", "r2", "r3", "a", "b")  # room names may also be socket ids
room_args = st.sampled_from(ROOMS) | st.lists(st.sampled_from(ROOMS), max_size=3)


class RoomMachine(RuleBasedStateMachine):
    """RoomIndex against ordered dicts of sid -> rooms and room -> members."""

    examples_run = 0  # read by fuzz.campaign

    def __init__(self) -> None:
        super().__init__()
        type(self).examples_run += 1
        self.index = RoomIndex()
        self.rooms_of: dict[str, list[str]] = {}
        self.members: dict[str, list[str]] = {}

    def _join(self, sid: str, room: str) -> None:
        if room not in self.rooms_of[sid]:
            self.rooms_of[sid].append(room)
            self.members.setdefault(room, []).append(sid)

    def _leave(self, sid: str, room: str) -> None:
        if room in self.rooms_of.get(sid, []):
            self.rooms_of[sid].remove(room)
            self.members[room].remove(sid)
            if not self.members[room]:
                del self.members[room]

    @rule(sid=st.sampled_from(SIDS))
    def add(self, sid: str) -> None:
        known = sid in self.rooms_of
        try:
            self.index.add(sid)
        except LocalProtocolError:
            assert known
            return
        assert not known
        self.rooms_of[sid] = []
        self._join(sid, sid)

    @rule(sid=st.sampled_from(SIDS), room=st.sampled_from(ROOMS))
    def join(self, sid: str, room: str) -> None:
        known = sid in self.rooms_of
        try:
            self.index.join(sid, room)
        except LocalProtocolError:
            assert not known
            return
        assert known
        self._join(sid, room)

    @rule(sid=st.sampled_from(SIDS), room=st.sampled_from(ROOMS))
    def leave(self, sid: str, room: str) -> None:
        self.index.leave(sid, room)
        self._leave(sid, room)

    @rule(sid=st.sampled_from(SIDS))
    def remove(self, sid: str) -> None:
        rooms = list(self.rooms_of.get(sid, []))
        assert self.index.remove(sid) == frozenset(rooms)
        for room in rooms:
            self._leave(sid, room)
        self.rooms_of.pop(sid, None)

    @rule(rooms=room_args, except_rooms=room_args)
    def select(self, rooms: str | list[str], except_rooms: str | list[str]) -> None:
        room_list = [rooms] if isinstance(rooms, str) else rooms
        except_list = [except_rooms] if isinstance(except_rooms, str) else except_rooms
        excluded = {sid for room in except_list for sid in self.members.get(room, [])}
        expected: list[str] = []
        candidates = (
            list(self.rooms_of)
            if not room_list
            else [sid for room in room_list for sid in self.members.get(room, [])]
        )
        for sid in candidates:
            if sid not in excluded and sid not in expected:
                expected.append(sid)
        assert self.index.select(rooms, except_rooms) == expected

    @invariant()
    def matches_the_model(self) -> None:
        assert list(self.index) == list(self.rooms_of)
        assert len(self.index) == len(self.rooms_of)
        for sid in SIDS:
            assert (sid in self.index) == (sid in self.rooms_of)
            assert self.index.rooms_of(sid) == frozenset(self.rooms_of.get(sid, []))
        for room in ROOMS:
            assert self.index.members(room) == frozenset(self.members.get(room, []))
        assert self.index.all_rooms() == frozenset(self.members)
        assert all(self.members.values()), "an empty room was kept"


TestAckMachine = AckMachine.TestCase
TestRoomMachine = RoomMachine.TestCase
