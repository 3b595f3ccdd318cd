"""The results table of the interop matrix (``--interop-table PATH``), as Markdown."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import pytest

from .harness import REPO, package_version
from .matrix import (
    B64_CLIENTS,
    CLIENT_BACKENDS,
    CLIENTS,
    FEATURES,
    KNOWN_FAILURES,
    MODES,
    TABLE_NOTES,
)
from .rows import ROWS

COMMAND = (
    "make interop-table: .venv/bin/python -m pytest tests/interop tests/nodeapi "
    "$(.venv/bin/python -m tests.interop.rows) --interop-table docs/interop.md"
)
BACKENDS = ("asyncio", "trio")
#: Worst first: a cell shows the worst outcome of its phases.
RANK = {"failed": 0, "xpassed": 1, "xfailed": 2, "skipped": 3, "passed": 4}

FEATURE_NOTES = {
    "text": "events with Unicode (astral plane included), numbers, `null`, nested JSON, "
    "a 100 kB string, echoed back; sent right after connecting (during the upgrade, if any)",
    "binary": "bytes as arguments, nested in objects and arrays, in events and in acks in "
    "both directions (BINARY_EVENT and BINARY_ACK each way)",
    "acks": "client-to-server acks with and without arguments, 20 in flight at once, and a "
    "server-to-client ack (the server calls the client and waits for its answer)",
    "namespaces": "`/` and `/custom` on one connection, auth (2.x: the namespace query), "
    "socket ids agreed, no cross-talk, an unknown namespace and a middleware refusal "
    "reported to the client, then a namespace behind the middleware joined",
    "rooms": "join; `socket.to(room)` reaches the other member only, `io.to(room)` both "
    "members, never a socket outside the room; binary in the broadcast",
    "reconnect": "the server is restarted on the same port (SIGTERM: graceful shutdown); the "
    "client notices, reconnects by itself and round-trips an event again",
}

#: Tests of server options with real clients (their own in-process server, on each backend
#: through ``anyio_backend``): module -> test name -> (client, option). Their rows make the
#: table's "Options" section.
OPTION_TESTS = {
    "test_msgpack_node": {
        "test_node_msgpack_client": (
            "socket.io-client {sio4} + socket.io-msgpack-parser (Node)",
            '`parser="msgpack"`: connect with auth, nested data and Buffers echoed through '
            "an ack, server emit and call, a second namespace, middleware refusal, unknown "
            "namespace, server disconnect",
        ),
        "test_chromium_msgpack_bundle": (
            "Chromium {chromium}, official msgpack bundle {sio4}",
            '`parser="msgpack"`: nested data and ArrayBuffers echoed through an ack, a '
            "server-to-browser call with bytes",
        ),
    },
    "test_deflate": {
        "test_node_client_negotiates_and_round_trips": (
            "socket.io-client {sio4} (Node, `ws`, `perMessageDeflate: {{threshold: 0}}`)",
            "`per_message_deflate=True`: permessage-deflate negotiated in the 101, 200 kB "
            "acked back and a 300 kB push",
        ),
        "test_node_client_without_server_deflate_gets_none": (
            "socket.io-client {sio4} (Node, `ws`, `perMessageDeflate: {{threshold: 0}}`)",
            "compression off (the default): the offer is declined, messages round-trip",
        ),
        "test_chromium_negotiates_and_round_trips": (
            "Chromium {chromium}, official bundle {sio4}",
            '`per_message_deflate={"threshold": 512}`: Chromium\'s offer accepted, 200 kB '
            "acked back and a 300 kB push",
        ),
    },
}

RECORDER = pytest.StashKey["Recorder"]()


@dataclass
class Recorder:
    """Outcomes of the matrix cells and bad-client checks, per backend."""

    started: float
    cells: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)
    checks: dict[str, dict[str, str]] = field(default_factory=dict)
    #: (module, test, transport) -> backend -> outcome, for OPTION_TESTS.
    options: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)
    check_docs: dict[str, str] = field(default_factory=dict)
    #: The reasons of expected failures (strict xfails), by cell key or check name.
    reasons: dict[object, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    #: Node's server API checks with socket.io-client 4.x (tests/nodeapi), per backend.
    api_checks: dict[str, dict[str, str]] = field(default_factory=dict)
    api_docs: dict[str, str] = field(default_factory=dict)
    #: The "other real clients" rows (rows.ROWS, by index) -> backend -> outcome.
    rows: dict[int, dict[str, str]] = field(default_factory=dict)
    #: Which of a row's tests ran, per backend (a cell needs all of them).
    rows_ran: dict[tuple[int, str], set[str]] = field(default_factory=dict)

    def record_row(self, item: pytest.Item, report: pytest.TestReport) -> None:
        """One run of a test named by rows.ROWS (worst outcome per row and backend)."""
        params = getattr(getattr(item, "callspec", None), "params", {})
        backend = params.get("anyio_backend")
        if backend not in BACKENDS:
            return
        if report.failed:
            outcome = "failed"
        elif report.skipped:
            outcome = "skipped"
        elif report.when == "call":
            outcome = "passed"
        else:
            return
        for index, row in enumerate(ROWS):
            if row.matches(item):
                self.rows_ran.setdefault((index, backend), set()).add(item.nodeid.partition("[")[0])
                slot = self.rows.setdefault(index, {})
                current = slot.get(backend)
                if current is None or RANK[outcome] < RANK[current]:
                    slot[backend] = outcome

    def record_api(self, item: pytest.Item, report: pytest.TestReport, backend: str) -> None:
        """One run of a tests/nodeapi check with the real client (worst outcome per backend,
        over its parameters such as the transport)."""
        if report.failed:
            outcome = "failed"
        elif report.skipped:
            outcome = "skipped"
        elif report.when == "call":
            outcome = "passed"
        else:
            return
        key = item.originalname if isinstance(item, pytest.Function) else item.name
        doc = getattr(getattr(item, "obj", None), "__doc__", None) or key
        self.api_docs[key] = " ".join(doc.strip().split("\n\n")[0].split())
        slot = self.api_checks.setdefault(key, {})
        current = slot.get(backend)
        if current is None or RANK[outcome] < RANK[current]:
            slot[backend] = outcome

    def record(self, item: pytest.Item, report: pytest.TestReport) -> None:
        params = getattr(getattr(item, "callspec", None), "params", {})
        backend = params.get("interop_server")
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module is not None else ""
        option_test = item.originalname if isinstance(item, pytest.Function) else item.name
        is_option = option_test in OPTION_TESTS.get(module, {})
        if is_option:
            backend = params.get("anyio_backend")
        if backend is None:
            return
        if report.failed:
            outcome = "xpassed" if hasattr(report, "wasxfail") else "failed"
        elif report.skipped:
            outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        elif report.when == "call":
            outcome = "passed"
        else:
            return
        key: object
        if is_option:
            key = (module, option_test, str(params.get("transport", "websocket")))
            slot = self.options.setdefault(key, {})
        elif {"client", "transport", "feature"} <= params.keys():
            key = (params["client"], params["transport"], params["feature"])
            slot = self.cells.setdefault(key, {})
        elif item.module is not None and item.module.__name__.endswith("test_bad_clients"):
            key = item.originalname if isinstance(item, pytest.Function) else item.name
            slot = self.checks.setdefault(key, {})
            doc = getattr(getattr(item, "obj", None), "__doc__", None) or key
            self.check_docs[key] = " ".join(doc.strip().split("\n\n")[0].split())
        else:
            return
        if outcome == "xfailed":
            self.reasons[key] = str(report.wasxfail).removeprefix("reason: ")
        current = slot.get(backend)
        if current is None or RANK[outcome] < RANK[current]:
            slot[backend] = outcome


def _mark(outcomes: dict[str, str], note: int | None, backends: tuple[str, ...] = BACKENDS) -> str:
    if not outcomes:
        return "—"
    values = [outcomes.get(b) for b in backends]
    if all(v == "passed" for v in values):
        return "✅"
    if all(v == "xfailed" for v in values):
        return f"❌ known[^{note}]" if note else "❌ known"
    if note and any(v == "xfailed" for v in values):
        return f"❌ known[^{note}] " + " ".join(
            b for b, v in zip(BACKENDS, values, strict=True) if v == "xfailed"
        )
    bad = [b for b, v in zip(BACKENDS, values, strict=True) if v in ("failed", "xpassed")]
    if bad:
        return "❌" if len(bad) == len(BACKENDS) else "❌ " + " ".join(bad)
    return (
        "—"
        if all(v in (None, "skipped") for v in values)
        else "✅ " + " ".join(b for b, v in zip(BACKENDS, values, strict=True) if v == "passed")
    )


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def _python_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _labels(recorder: Recorder) -> dict[str, str]:
    values = {
        "sio4": package_version("socket.io-client"),
        "sio2": package_version("socket.io-client-v2"),
        "pysio": _python_version("python-socketio"),
        "chromium": recorder.versions.get("chromium", "?"),
        "uvicorn": _python_version("uvicorn"),
        "hypercorn": _python_version("hypercorn"),
    }
    return {client: label.format(**values) for client, (label, _) in CLIENTS.items()}


def _node_package(folder: str, package: str) -> str:
    try:
        data = json.loads((REPO / folder / "node_modules" / package / "package.json").read_text())
    except (OSError, ValueError):
        return "?"
    return str(data.get("version", "?"))


def _chromium_version(recorder: Recorder) -> str:
    """The version Chromium told playwright (tests/interop's driver), else its --version."""
    if "chromium" in recorder.versions:
        return recorder.versions["chromium"]
    try:
        done = subprocess.run(
            ["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return "?"
    found = re.search(r"\d+(\.\d+)+", done.stdout)
    return found.group(0) if found else "?"


def _other_rows(recorder: Recorder) -> tuple[list[str], dict[str, int]]:
    """The "Other real clients" section (rows.ROWS with their outcomes), and its cells by
    mark."""
    values = {
        "admin_ui": _node_package("tests/admin", "@socket.io/admin-ui"),
        "chromium": _chromium_version(recorder),
        "sockjs": _node_package("tests/plain/node", "sockjs-client"),
        "sio4": package_version("socket.io-client"),
        "msgpack": _node_package("tests/interop/msgpack", "socket.io-msgpack-parser"),
        "websockets": _python_version("websockets"),
    }
    lines = [
        "## Other real clients",
        "",
        "Real clients of features whose tests live next to the feature (`tests/admin`, "
        "`tests/plain`, `tests/server/test_recovery.py`, `tests/adapters/test_recovery_redis.py`; "
        "`tests/interop/rows.py` names them), run again by this command. Each test starts its "
        "own servers on the test's backend (in-process; the cluster's supervisor too, its "
        "workers as processes; a real redis-server for the Redis rows). A cell is ✅ when "
        "every test the row names ran on that backend and passed, ❌ when one failed, — when "
        'one did not run. *The guide\'s chat controllers*: the `type: "ws"` example of '
        "[the guide](guide/thinkjs.md#ws-and-sockjs) unchanged (`open` emits `opend` and broadcasts "
        "`joined`, `addUser`, `say` broadcasts `said`, the `close` action hears the reason).",
        "",
        "| feature | client | transport | server | checks | " + " | ".join(BACKENDS) + " |",
        "|---|---|---|---|---|" + "---|" * len(BACKENDS),
    ]
    counts = {"✅": 0, "❌": 0, "—": 0}
    for index, row in enumerate(ROWS):
        outcomes = recorder.rows.get(index, {})
        marks = []
        for backend in BACKENDS:
            complete = recorder.rows_ran.get((index, backend), set()) >= set(row.tests)
            outcome = outcomes.get(backend)
            if outcome == "failed":
                marks.append("❌")
            elif outcome == "passed" and complete:
                marks.append("✅")
            else:
                marks.append("—")
        for mark in marks:
            counts[mark] += 1
        cells = [row.feature, row.client.format(**values), row.transport, row.server, row.checks]
        lines.append("| " + " | ".join(cells + marks) + " |")
    lines.append("")
    return lines, counts


def render(recorder: Recorder) -> str:
    """The whole Markdown page."""
    commit = _git("rev-parse", "--short", "HEAD") or "?"
    dirty = _git("status", "--porcelain", "--", "thinkio")
    commit_text = f"`{commit}`" + (" plus uncommitted changes in `thinkio/`" if dirty else "")
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    elapsed = time.time() - recorder.started
    labels = _labels(recorder)
    other_lines, other_counts = _other_rows(recorder) if recorder.rows else ([], {})

    notes: list[str] = [TABLE_NOTES]
    note_of: dict[object, int] = {}
    for key, reason in {**KNOWN_FAILURES, **recorder.reasons}.items():
        if key in recorder.cells or key in recorder.checks:
            if reason not in notes:
                notes.append(reason)
            note_of[key] = notes.index(reason) + 1

    counts = {"✅": 0, "known": 0, "❌": 0, "other": 0}
    rows = []
    for client, (_, transports) in CLIENTS.items():
        for transport in transports:
            marks = []
            for feature in FEATURES:
                key = (client, transport, feature)
                backends = CLIENT_BACKENDS.get(client, BACKENDS)
                mark = _mark(recorder.cells.get(key, {}), note_of.get(key), backends)
                marks.append(mark)
                kind = "known" if "known" in mark else mark if mark in ("✅", "❌") else "other"
                if kind == "other" and mark.startswith("❌"):
                    kind = "❌"
                counts[kind] += 1
            label = labels[client] + ("[^1]" if client in B64_CLIENTS else "")
            rows.append(f"| {label} | {transport} | " + " | ".join(marks) + " |")

    lines = [
        "# Interop matrix",
        "",
        "<!-- Generated by the command below; do not edit by hand. -->",
        "",
        "Real clients against a running thinkio server (`tests/interop/server_app.py`: "
        "`Server(allow_eio3=True)` on 127.0.0.1), each cell run on asyncio **and** on trio. "
        "✅ passed on both backends; ❌ failed (the backend is named when only one did); "
        "the ASGI rows run `thinkio.asgi.ASGIApp` (`tests/interop/asgi_app.py`, the same "
        "handlers) under a real uvicorn (asyncio only, so ✅ there means asyncio) or hypercorn "
        "(`--worker-class asyncio` and `trio`); "
        "❌ known: an expected failure, see the notes; — not run. A cell passes when the "
        "client's checks pass *and* the server's own log of requests shows exactly the "
        "transports the mode implies.",
        "",
        f"- Command: `{COMMAND}`",
        f"- thinkio commit: {commit_text}",
        f"- Date: {date}",
        f"- Run time: {elapsed:.0f} s (the whole pytest run)",
        f"- Cells: {counts['✅']} ✅, {counts['known']} known failures, {counts['❌']} ❌, "
        f"{counts['other']} not run on both backends",
        *(
            [
                f"- [Other real clients](#other-real-clients): {len(ROWS)} rows, "
                f"{other_counts['✅']} ✅ cells, {other_counts['❌']} ❌, "
                f"{other_counts['—']} not run"
            ]
            if other_counts
            else []
        ),
        "- Clients: "
        + "; ".join(labels.values())
        + f"; Chromium driven by playwright-core {package_version('playwright-core')} "
        "(Debian's `/usr/bin/chromium`, headless)",
        "",
        "| client | transport | " + " | ".join(FEATURES) + " |",
        "|---|---|" + "---|" * len(FEATURES),
        *rows,
        "",
        "Transports:",
        "",
        *[f"- **{mode}**: {text}" for mode, text in MODES.items()],
        "",
        "Features:",
        "",
        *[f"- **{feature}**: {text}" for feature, text in FEATURE_NOTES.items()],
        "",
    ]
    if recorder.checks:
        lines += [
            "## Bad clients",
            "",
            "Hand-driven Engine.IO clients (httpx for polling, wsproto over a plain socket for "
            "WebSocket) send exactly what each check says, against the same app (pingInterval "
            "1 s, pingTimeout 1 s, upgradeTimeout 1 s). Meanwhile well-behaved clients "
            "(socket.io-client 4.x and 2.x, over WebSocket and polling, reconnection off) stay "
            "connected to the same server; after each check they must still round-trip an "
            "event, never having been disconnected (so they also prove 2.x pings and 4.x "
            "pongs are answered for the whole run).",
            "",
            "| check | " + " | ".join(BACKENDS) + " |",
            "|---|" + "---|" * len(BACKENDS),
        ]
        for name, outcomes in recorder.checks.items():
            marks = []
            for backend in BACKENDS:
                outcome = outcomes.get(backend)
                if outcome == "passed":
                    marks.append("✅")
                elif outcome == "xfailed":
                    note = note_of.get(name)
                    marks.append(f"❌ known[^{note}]" if note else "❌ known")
                else:
                    marks.append("❌" if outcome in ("failed", "xpassed") else "—")
            lines.append(f"| {recorder.check_docs.get(name, name)} | " + " | ".join(marks) + " |")
        lines.append("")
    if recorder.options:
        lines += [
            "## Options",
            "",
            "Server options that change the wire, each with the real client that speaks it "
            "(`tests/interop/test_msgpack_node.py`, `tests/interop/test_deflate.py`): an "
            "in-process server per test, on asyncio and on trio.",
            "",
            "| client | option and checks | transport | " + " | ".join(BACKENDS) + " |",
            "|---|---|---|" + "---|" * len(BACKENDS),
        ]
        values = {
            "sio4": package_version("socket.io-client"),
            "chromium": recorder.versions.get("chromium", "?"),
        }
        for (module, test, transport), outcomes in recorder.options.items():
            client, what = OPTION_TESTS[module][test]
            marks = [
                "✅"
                if outcomes.get(b) == "passed"
                else "❌"
                if outcomes.get(b) in ("failed", "xpassed")
                else "—"
                for b in BACKENDS
            ]
            row = f"| {client.format(**values)} | {what} | {transport} | "
            lines.append(row + " | ".join(marks) + " |")
        lines.append("")
    lines += other_lines
    if recorder.api_checks:
        lines += [
            "## Node's server API, with socket.io-client 4.x",
            "",
            "The real socket.io-client (`tests/node/server_api.js`) against a thinkio server "
            "using Node's server API (`tests/nodeapi`; [acks](acks.md), [coming from "
            "Node](coming-from-node.md)); each check over polling and over WebSocket where it "
            "says so.",
            "",
            "| check | " + " | ".join(BACKENDS) + " |",
            "|---|" + "---|" * len(BACKENDS),
        ]
        for name, outcomes in recorder.api_checks.items():
            marks = [
                {"passed": "✅", "failed": "❌"}.get(outcomes.get(b, ""), "—") for b in BACKENDS
            ]
            lines.append(f"| {recorder.api_docs.get(name, name)} | " + " | ".join(marks) + " |")
        lines.append("")
    if notes:
        lines += ["## Notes", ""]
        lines += [f"[^{n}]: {text}" for n, text in enumerate(notes, 1)]
        lines.append("")
    return "\n".join(lines)
