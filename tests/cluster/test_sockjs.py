"""The ``sockjs`` type under ``--workers 2``: every request of a SockJS session reaches the
worker that holds it.

SockJS names its session in the path (``/sockjs/<server>/<session>/xhr_send``), not in an
Engine.IO ``?sid=``; the supervisor (and a worker, for a later request of a kept-alive
connection) routes such a request by its session id. The real npm ``sockjs-client`` (in
Node, whose HTTP agent keeps connections alive) runs over XHR streaming and XHR polling,
several sessions at once, each sending a train of messages that the worker echoes with its
pid: a request that reached the wrong worker would break the session (an unknown session
answers 404 to ``xhr_send``, and a poll there opens another session).
"""

from __future__ import annotations

import json
import os
from contextlib import AsyncExitStack
from typing import Any

import anyio
import pytest

from thinkio.cluster.routing import session_owner

from ..plain.test_sockjs_type import sockjs_client
from .conftest import RawHttp, running_cluster, url_of

pytestmark = pytest.mark.anyio

APP = "tests.cluster.sockjs_app:build_app"
CLIENTS, MESSAGES = 4, 12


@pytest.mark.parametrize("transport", ["xhr-streaming", "xhr-polling"])
async def test_every_request_of_a_sockjs_session_reaches_its_worker(
    anyio_backend: str, transport: str
) -> None:
    async with running_cluster(anyio_backend, workers=2, app=APP) as cluster:
        workers = {pid for pid in cluster.worker_pids() if pid is not None}
        url = url_of(cluster) + "/sockjs"
        served: list[set[int]] = []
        async with AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(sockjs_client(url, transport))
                for _ in range(CLIENTS)
            ]
            for c in clients:
                hello = await c.message()
                assert hello["event"] == "hello", hello
                served.append({hello["data"]["pid"]})
            for n in range(MESSAGES):
                for k, c in enumerate(clients):
                    await c.send("echo", [k, n, "x" * (n * 100)])
                for k, c in enumerate(clients):
                    with anyio.fail_after(10):
                        echo = await c.message()
                    assert echo["event"] == "echo", echo
                    assert echo["data"]["data"] == [k, n, "x" * (n * 100)]
                    served[k].add(echo["data"]["pid"])
            for c in clients:
                closed = await c.close()
                assert closed["close"][0] == 1000, closed
    # each session was served by one worker, from its first request to its last
    assert all(len(pids) == 1 for pids in served), served
    assert set().union(*served) <= workers
    assert os.getpid() not in workers


def _session_of(worker: int) -> str:
    """A SockJS session id that worker ``worker`` of two owns."""
    return next(s for s in (f"s{n}" for n in range(100)) if session_owner(s, 2) == worker)


def _frames(body: bytes) -> list[Any]:
    """The messages of an ``a[...]`` frame, each a decoded envelope."""
    text = body.decode()
    assert text.startswith("a[") and text.endswith("\n"), text
    return [json.loads(m) for m in json.loads(text[1:])]


async def test_one_kept_alive_connection_carrying_two_workers_sessions(anyio_backend: str) -> None:
    """One keep-alive connection carries the requests of two SockJS sessions owned by
    different workers, alternately: the first request goes where the supervisor sends it
    (by its session id), every later one the worker does not own is handed back."""
    async with running_cluster(anyio_backend, workers=2, app=APP) as cluster:
        pids = cluster.worker_pids()
        assert cluster.address is not None
        sessions = {worker: f"/sockjs/000/{_session_of(worker)}" for worker in (0, 1)}
        async with RawHttp.connect("127.0.0.1", cluster.address.port) as http:
            for worker in (1, 0):
                assert await http.request("POST", sessions[worker] + "/xhr") == (200, b"o\n")
            for worker in (1, 0):
                status, body = await http.request("POST", sessions[worker] + "/xhr")
                assert status == 200
                assert _frames(body) == [{"event": "hello", "data": {"pid": pids[worker]}}]
            for n in range(3):
                for worker in (0, 1):
                    text = json.dumps([json.dumps({"event": "echo", "data": [worker, n]})])
                    sent = await http.request("POST", sessions[worker] + "/xhr_send", text.encode())
                    assert sent[0] == 204, sent
                for worker in (1, 0):
                    status, body = await http.request("POST", sessions[worker] + "/xhr")
                    assert status == 200
                    echo = {"pid": pids[worker], "data": [worker, n]}
                    assert _frames(body) == [{"event": "echo", "data": echo}]
