"""Connection state recovery across workers on the default worker bus (``--workers 2``).

The real socket.io-client 4.8 (``tests/interop/node/recovery_workers.js``) cuts its transport
three times while both workers keep broadcasting to it; each reconnection is a new handshake,
which the supervisor deals to the next worker in turn, so the client comes back to the other
worker. That worker gets the session from the one that kept it, over the bus: the client must
get every tick of both workers once and in order, keep its id, rooms and data, and see
``recovered`` true every time.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from itertools import pairwise
from typing import Any

import anyio
import httpx
import pytest

from ..interop.harness import NODE_DIR
from ..support import missing_part, npm_ci
from .conftest import Polling, owner, running_cluster, url_of

pytestmark = pytest.mark.anyio

APP = "tests.cluster.recovery_app:build_server"
COUNT, CUT_EVERY, CUTS = 300, 120, 3


def node_client_ready() -> None:
    why = npm_ci(NODE_DIR, "socket.io-client")
    if why is not None:
        missing_part(why)
    if shutil.which("node") is None:
        missing_part("node is not installed")


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_a_client_that_comes_back_to_another_worker_misses_nothing(
    anyio_backend: str, transport: str
) -> None:
    node_client_ready()
    async with running_cluster(anyio_backend, workers=2, app=APP) as cluster:
        workers = {pid for pid in cluster.worker_pids() if pid is not None}
        with anyio.fail_after(60):
            result = await anyio.run_process(
                [
                    "node",
                    str(NODE_DIR / "recovery_workers.js"),
                    url_of(cluster),
                    transport,
                    *map(str, (COUNT, 2, CUT_EVERY, CUTS)),
                ],
                check=False,
            )
    out = result.stdout.decode()
    assert result.returncode == 0, out + result.stderr.decode()
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    # every tick of both workers once, in the order each sent them
    by_worker: dict[int, list[int]] = defaultdict(list)
    for pid, n in report["ticks"]:
        by_worker[pid].append(n)
    assert set(by_worker) == workers
    for pid, numbers in by_worker.items():
        assert numbers == list(range(1, COUNT + 1)), (pid, numbers)
    assert report["others"] == []
    # the same socket each time, recovered, with its rooms and data
    connects = report["connects"]
    assert [c["recovered"] for c in connects] == [False] + [True] * CUTS
    assert {c["id"] for c in connects} == {report["id"]}
    for c in connects[1:]:
        assert c["info"]["rooms"] == sorted([report["id"], "room1"])
        assert c["info"]["data"] == {"name": "ada"}
        assert c["info"]["recovered"] is True
    # ... on the other worker: each reconnection was a handshake dealt to the next worker
    served_by = [c["info"]["pid"] for c in connects]
    assert set(served_by) == workers
    assert any(a != b for a, b in pairwise(served_by)), served_by
    assert report["info"]["pid"] == served_by[-1]


async def _dropped_session(http: httpx.AsyncClient, base: str, *events: str) -> tuple[Any, ...]:
    """A polling client that connects, emits ``events``, is poked, and drops its transport:
    ``(its worker, its CONNECT answer, the offset it got)``."""
    session = Polling(http, base)
    await session.open()
    await session.post("40")
    connected = json.loads((await session.until("40"))[2:])
    for event in events:
        await session.post("42" + json.dumps([event]))
    await session.post("42" + json.dumps(["poke"]))
    poked = json.loads((await session.until("42"))[2:])
    assert poked[0] == "poked" and isinstance(poked[-1], str), poked
    await session.post("1")  # the transport goes away: "transport close", recoverable
    return owner(session.sid), connected, poked[-1]


async def _elsewhere(http: httpx.AsyncClient, base: str, avoid: int) -> Polling:
    """Handshakes until one lands on another worker than ``avoid``."""
    session = Polling(http, base)
    while owner(await session.open()) == avoid:
        await session.post("1")
    return session


async def _come_back(http: httpx.AsyncClient, base: str, avoid: int, auth: Any) -> Any:
    """Comes back on another worker than ``avoid`` with ``auth``; its CONNECT answer."""
    session = await _elsewhere(http, base, avoid)
    await session.post("40" + json.dumps(auth))
    return json.loads((await session.until("40"))[2:])


async def _packets(session: Polling, count: int) -> list[Any]:
    """The next ``count`` Socket.IO packets of a session, decoded (``40``, ``42``)."""
    got: list[Any] = []
    with anyio.fail_after(5):
        while len(got) < count:
            got += [(p[:2], json.loads(p[2:])) for p in await session.get() if p]
    return got


async def test_a_session_comes_back_on_another_worker_over_raw_polling(
    anyio_backend: str,
) -> None:
    async with running_cluster(anyio_backend, workers=2, app=APP) as cluster:
        base = url_of(cluster)
        async with httpx.AsyncClient(timeout=10) as http:
            worker, connected, offset = await _dropped_session(http, base)
            with anyio.fail_after(4):  # not the bus's 5 s request timeout: answered at once
                again = await _come_back(http, base, worker, {**connected, "offset": offset})
    assert again == connected


@pytest.mark.parametrize("case", ["unknown pid", "data the bus cannot carry"])
async def test_no_session_to_hand_over_means_a_new_socket_at_once(
    anyio_backend: str, case: str
) -> None:
    async with running_cluster(anyio_backend, workers=2, app=APP) as cluster:
        base = url_of(cluster)
        async with httpx.AsyncClient(timeout=10) as http:
            spoil = ("spoil",) if case == "data the bus cannot carry" else ()
            worker, connected, offset = await _dropped_session(http, base, *spoil)
            auth = {"pid": "no-such-pid" if not spoil else connected["pid"], "offset": offset}
            with anyio.fail_after(4):  # every worker answered "not here" at once
                fresh = await _come_back(http, base, worker, auth)
    assert fresh["sid"] != connected["sid"] and fresh["pid"] != connected["pid"]


async def test_a_client_that_drops_again_right_after_a_hand_over_gets_the_rest(
    anyio_backend: str,
) -> None:
    """Handed-over packets go out with offsets of the worker that sends them. Here the first
    one is a ``socket.emit`` on the old worker's Socket object, which only that worker kept:
    a client whose last packet is that one, back on the old worker, still gets the rest."""
    async with running_cluster(anyio_backend, workers=2, app=APP) as cluster:
        base = url_of(cluster)
        async with httpx.AsyncClient(timeout=10) as http:
            first, connected, offset = await _dropped_session(http, base, "hold")
            helper = await _elsewhere(http, base, 1 - first)  # on the same worker
            await helper.connect_namespace()

            async def ask(k: int, *event: str) -> None:
                await helper.post(f"42{k}" + json.dumps(event))
                await helper.until(f"43{k}")

            await ask(0, "poke-held", connected["sid"])
            await ask(1, "say", "a")
            back = await _elsewhere(http, base, first)
            await back.post("40" + json.dumps({**connected, "offset": offset}))
            (kind, again), *missed = await _packets(back, 3)
            assert (kind, again) == ("40", connected)
            assert [(k, d[0]) for k, d in missed] == [("42", "poked"), ("42", "said")]
            await back.post("1")  # dropped again, having handled "poked" only
            await ask(2, "say", "b")
            auth = {**connected, "offset": missed[0][1][-1]}
            home = await _elsewhere(http, base, owner(back.sid))
            await home.post("40" + json.dumps(auth))
            (kind, again), *rest = await _packets(home, 3)
    assert (kind, again) == ("40", connected)
    assert [(k, d[:2]) for k, d in rest] == [("42", ["said", t]) for t in "ab"]
