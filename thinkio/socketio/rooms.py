"""Which sockets of one namespace are in which rooms: a pure, in-memory index.

Like Node's in-memory adapter, every socket is in the room named by its own id from the
moment it is added, and a room exists exactly while it has members (empty rooms are
deleted). The index only answers questions; delivering packets is the caller's business.

Order is deterministic: sockets are listed in the order they entered a room (and, for "all
sockets", the order they were added), so a broadcast reaches recipients in a repeatable
order and tests can compare lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..errors import LocalProtocolError

__all__ = ("RoomIndex",)


class RoomIndex:
    """Socket id <-> rooms, for one namespace.

    Dicts with ``None`` values serve as insertion-ordered sets.
    """

    def __init__(self) -> None:
        self._rooms_of: dict[str, dict[str, None]] = {}
        self._members: dict[str, dict[str, None]] = {}

    def __contains__(self, sid: object) -> bool:
        return sid in self._rooms_of

    def __len__(self) -> int:
        return len(self._rooms_of)

    def __iter__(self) -> Iterator[str]:
        return iter(self._rooms_of)

    def add(self, sid: str) -> None:
        """Add a socket; it joins the room named by its own id (as in Node).

        Raises:
            LocalProtocolError: the socket is already in the index.
        """
        if sid in self._rooms_of:
            raise LocalProtocolError(f"socket {sid!r} is already in the index")
        self._rooms_of[sid] = {sid: None}
        self._members.setdefault(sid, {})[sid] = None

    def join(self, sid: str, room: str) -> None:
        """Put a socket in a room; joining a room twice changes nothing.

        Raises:
            LocalProtocolError: the socket was never added (or was removed).
        """
        rooms = self._rooms_of.get(sid)
        if rooms is None:
            raise LocalProtocolError(f"unknown socket {sid!r}")
        if room not in rooms:
            rooms[room] = None
            self._members.setdefault(room, {})[sid] = None

    def leave(self, sid: str, room: str) -> None:
        """Take a socket out of a room; the room goes away when it empties.

        Leaving a room the socket is not in (or an unknown socket) changes nothing.
        """
        rooms = self._rooms_of.get(sid)
        if rooms is None or room not in rooms:
            return
        del rooms[room]
        self._drop_member(room, sid)

    def remove(self, sid: str) -> frozenset[str]:
        """Forget a socket and take it out of every room.

        Returns:
            The rooms it left (empty for an unknown socket).
        """
        rooms = self._rooms_of.pop(sid, None)
        if rooms is None:
            return frozenset()
        for room in rooms:
            self._drop_member(room, sid)
        return frozenset(rooms)

    def rooms_of(self, sid: str) -> frozenset[str]:
        """The rooms a socket is in (its own id included); empty for an unknown socket."""
        return frozenset(self._rooms_of.get(sid, ()))

    def members(self, room: str) -> frozenset[str]:
        """The sockets in a room; empty for a room that does not exist."""
        return frozenset(self._members.get(room, ()))

    def all_rooms(self) -> frozenset[str]:
        """Every room that has at least one member (socket-id rooms included)."""
        return frozenset(self._members)

    def select(self, rooms: Iterable[str] = (), except_rooms: Iterable[str] = ()) -> list[str]:
        """The recipients of a broadcast, each once.

        Args:
            rooms: take the sockets in any of these rooms; every socket when empty. A single
                ``str`` counts as one room name.
            except_rooms: then drop the sockets in any of these rooms (a ``str`` likewise).

        Returns:
            Socket ids without duplicates: with no ``rooms``, in the order they were added;
            otherwise room by room in the order given, each room in join order.
        """
        # A lone string is one room name, not an iterable of one-letter rooms.
        if isinstance(except_rooms, str):
            except_rooms = (except_rooms,)
        excluded: set[str] = set()
        for room in except_rooms:
            excluded.update(self._members.get(room, ()))
        room_list = [rooms] if isinstance(rooms, str) else list(rooms)
        if not room_list:
            if not excluded:
                return list(self._rooms_of)
            return [sid for sid in self._rooms_of if sid not in excluded]
        if len(room_list) == 1:
            members = self._members.get(room_list[0], {})
            if not excluded:
                return list(members)
            return [sid for sid in members if sid not in excluded]
        seen = excluded  # reused: a socket is taken once, and never if excluded
        result: list[str] = []
        for room in room_list:
            for sid in self._members.get(room, ()):
                if sid not in seen:
                    seen.add(sid)
                    result.append(sid)
        return result

    def _drop_member(self, room: str, sid: str) -> None:
        members = self._members[room]
        del members[sid]
        if not members:
            del self._members[room]
