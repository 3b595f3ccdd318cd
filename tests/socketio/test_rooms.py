"""RoomIndex: membership, selection for broadcasts, cleanup."""

from __future__ import annotations

import pytest

from thinkio.errors import LocalProtocolError
from thinkio.socketio.rooms import RoomIndex


@pytest.fixture
def index() -> RoomIndex:
    rooms = RoomIndex()
    for sid in ("s1", "s2", "s3", "s4"):
        rooms.add(sid)
    rooms.join("s1", "red")
    rooms.join("s3", "red")
    rooms.join("s2", "blue")
    rooms.join("s3", "blue")
    return rooms


def test_socket_is_in_its_own_room(index: RoomIndex) -> None:
    assert index.rooms_of("s1") == {"s1", "red"}
    assert index.members("s4") == {"s4"}
    assert "s4" in index and "nope" not in index
    assert len(index) == 4


def test_select_everyone_in_add_order(index: RoomIndex) -> None:
    assert index.select() == ["s1", "s2", "s3", "s4"]


def test_select_rooms_union_without_duplicates(index: RoomIndex) -> None:
    assert index.select(["red"]) == ["s1", "s3"]
    assert index.select(["red", "blue"]) == ["s1", "s3", "s2"]
    assert index.select(["blue", "red"]) == ["s2", "s3", "s1"]
    assert index.select(["nowhere"]) == []
    assert index.select(["s2", "red"]) == ["s2", "s1", "s3"]


def test_select_except_rooms(index: RoomIndex) -> None:
    assert index.select(except_rooms=["red"]) == ["s2", "s4"]
    assert index.select(["blue"], except_rooms=["red"]) == ["s2"]
    assert index.select(["red", "blue"], except_rooms=["s1"]) == ["s3", "s2"]
    # "broadcast to everyone but the sender": except the sender's own room
    assert index.select(except_rooms=["s3"]) == ["s1", "s2", "s4"]


def test_a_string_is_one_room_not_letters() -> None:
    rooms = RoomIndex()
    rooms.add("a")
    rooms.add("b")
    rooms.join("a", "ab")
    assert rooms.select("ab") == ["a"]
    assert rooms.select(except_rooms="ab") == ["b"]


def test_join_order_within_a_room() -> None:
    rooms = RoomIndex()
    for sid in ("x", "y", "z"):
        rooms.add(sid)
    rooms.join("z", "r")
    rooms.join("x", "r")
    rooms.join("z", "r")  # joining twice changes nothing
    assert rooms.select(["r"]) == ["z", "x"]


def test_leave_deletes_empty_rooms(index: RoomIndex) -> None:
    index.leave("s1", "red")
    assert index.members("red") == {"s3"}
    index.leave("s3", "red")
    assert "red" not in index.all_rooms()
    index.leave("s3", "red")  # not in it any more: no error
    index.leave("ghost", "red")
    assert index.rooms_of("s3") == {"s3", "blue"}


def test_remove_returns_rooms_left_and_cleans_up(index: RoomIndex) -> None:
    assert index.remove("s3") == {"s3", "red", "blue"}
    assert index.all_rooms() == {"s1", "s2", "s4", "red", "blue"}
    assert index.remove("s1") == {"s1", "red"}
    assert "red" not in index.all_rooms()
    assert "s1" not in index and len(index) == 2
    assert index.rooms_of("s1") == frozenset()
    assert index.remove("s1") == frozenset()
    assert index.select() == ["s2", "s4"]


def test_join_before_add_and_double_add_are_errors() -> None:
    rooms = RoomIndex()
    with pytest.raises(LocalProtocolError):
        rooms.join("ghost", "r")
    rooms.add("a")
    with pytest.raises(LocalProtocolError):
        rooms.add("a")
    assert rooms.all_rooms() == {"a"}


def test_returned_sets_are_snapshots(index: RoomIndex) -> None:
    members = index.members("red")
    index.join("s4", "red")
    assert members == {"s1", "s3"}
    assert index.members("red") == {"s1", "s3", "s4"}
