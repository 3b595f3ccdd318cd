"""``thinkio run --log-format json`` (and the ``log_format`` setting): one JSON object per
line, with the socket's fields on a controller's records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .processes import Served, call_over_polling, thinkio


@pytest.fixture
def project(tmp_path: Path) -> Path:
    result = thinkio("new", str(tmp_path / "app"))
    assert result.returncode == 0, result.stderr
    return tmp_path / "app"


def records(log: str) -> list[dict[str, Any]]:
    """The JSON log lines (the command's own lines, like "thinkio stopped", are plain)."""
    lines = [line for line in log.splitlines() if line.startswith("{")]
    assert lines, log
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize("how", ["--log-format", "log_format setting", "--workers"])
def test_json_logs_one_object_per_line(project: Path, how: str) -> None:
    if how == "log_format setting":
        with (project / "config" / "config.py").open("a") as config:
            config.write('\nlog_format = "json"\n')
        served = Served(project)
    elif how == "--workers":
        served = Served(project, "--log-format", "json", "--workers", "2")
    else:
        served = Served(project, "--log-format", "json")
    try:
        # The scaffold's addUser action logs what it got with self.logger.info.
        assert call_over_polling(served.url, "addUser", "ada") == []
    finally:
        status = served.interrupt()
    assert status == 0, served.log
    found = records(served.log)
    for record in found:
        assert {"time", "level", "logger", "message", "pid"} <= record.keys()
        assert record["time"].endswith("Z") and "T" in record["time"]
    added = [r for r in found if r["message"] == "addUser data: 'ada'"]
    assert len(added) == 1, found
    record = added[0]
    assert record["level"] == "INFO"
    assert record["logger"] == "thinkio.controller.websocket"
    assert record["namespace"] == "/"
    assert record["event"] == "addUser"
    assert record["client"] == "127.0.0.1"
    assert record["socket"] and record["sid"]
    if how == "--workers":
        assert record["worker"] in (0, 1)
        assert record["sid"].split(".")[0] == str(record["worker"])
    assert any(r["message"].startswith("SIGINT: shutting down (") for r in found), found
    # Nothing but JSON objects and the command's own lines.
    for line in served.log.splitlines():
        assert line.startswith("{") or line.startswith("thinkio"), line


def test_the_default_stays_text(project: Path) -> None:
    served = Served(project)
    try:
        call_over_polling(served.url, "addUser", "ada")
    finally:
        assert served.interrupt() == 0
    assert "INFO thinkio.controller.websocket: addUser data: 'ada'" in served.log
    assert not any(line.startswith("{") for line in served.log.splitlines())


def test_a_wrong_log_format_is_one_line(project: Path) -> None:
    (project / "config" / "config.py").write_text('log_format = "xml"\n')
    result = thinkio("run", str(project))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("thinkio: error: config/config.py: log_format")
    bad = thinkio("run", str(project), "--log-format", "xml")
    assert bad.returncode == 2 and "invalid choice: 'xml'" in bad.stderr


def test_exceptions_and_fields_json_cannot_hold() -> None:
    import io
    import logging

    from thinkio.logs import configure_logging

    out = io.StringIO()
    configure_logging("DEBUG", "json", static={"worker": 3}, stream=out)
    try:
        log = logging.getLogger("thinkio.test")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("it failed for %s", "ada", extra={"order": 42, "blob": b"\xff"})
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "thinkio", False)]:
            root.removeHandler(handler)
    (line,) = out.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "it failed for ada"
    assert record["level"] == "ERROR" and record["worker"] == 3 and record["order"] == 42
    assert record["blob"] == "b'\\xff'"
    assert record["exception"].startswith("Traceback") and "ValueError: boom" in record["exception"]
