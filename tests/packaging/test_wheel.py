"""The built package works outside the repository, as a user gets it from ``pip install``.

Once per run (module scope): ``python -m build`` makes the sdist and, from it, the wheel
(isolated builds, as a package index's users get them); the wheel goes into a fresh virtual
environment in a temporary folder, outside the repository, with only its declared
dependencies. There, from a folder outside the repository too:

* ``thinkio --version`` is the package's version;
* ``thinkio run --loop trio`` and ``--reload`` without their extras are one line naming the
  extra, and the default loop is plain asyncio (no uvloop in a bare install);
* ``thinkio new app`` + ``thinkio run app`` serve, warn that ``npm install`` was forgotten,
  and the python-socketio client (a real third-party client, from the test environment)
  makes a round trip: ``opend`` from the open action, an ack from ``addUser``, over
  WebSocket and over polling upgraded to WebSocket;
* with ``thinkio[trio]`` installed from the same wheel, the same on trio.

Cost: about 30 s on the 2-core CI machine, most of it pip (make test runs it; ``make
wheel-test`` runs only this).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

import thinkio

from ..app.processes import Served
from ..support import missing_part

ROOT = Path(__file__).resolve().parents[2]
VERSION = thinkio.__version__
TIMEOUT = 300  # one build or pip run, seconds (a cold pip cache on a slow index)


@dataclass
class Installed:
    sdist: Path
    wheel: Path
    venv: Path
    work: Path  # a folder outside the repository, the commands' working directory
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def thinkio(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.venv / "bin" / "thinkio"), *args)

    def pip_install(self, *requirements: str) -> None:
        result = self.run(
            str(self.venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            *requirements,
            timeout=TIMEOUT,
        )
        assert result.returncode == 0, result.stderr


def clean_env() -> dict[str, str]:
    """The environment without what would let the repository's code leak in."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    try:
        import build  # noqa: F401  (the PyPA build frontend, from the test extra)
    except ImportError:
        missing_part("the build package is not installed (pip install -e '.[test]')")
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(ROOT)
    dist = base / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert "deprecat" not in (built.stdout + built.stderr).lower(), built.stdout + built.stderr
    (sdist,) = dist.glob("thinkio-*.tar.gz")
    (wheel,) = dist.glob("thinkio-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=TIMEOUT)
    work = base / "work"
    work.mkdir()
    env = clean_env()
    inst = Installed(sdist, wheel, venv, work, env)
    inst.pip_install(str(wheel))
    yield inst


def test_the_wheel_and_sdist_hold_the_package(installed: Installed) -> None:
    assert installed.wheel.name == f"thinkio-{VERSION}-py3-none-any.whl"
    assert installed.sdist.name == f"thinkio-{VERSION}.tar.gz"
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
        metadata = Parser().parsestr(whl.read(f"thinkio-{VERSION}.dist-info/METADATA").decode())
    for name in (
        "thinkio/py.typed",
        "thinkio/scaffold/project/www/index.html",
        "thinkio/scaffold/project/gitignore",
        "thinkio/scaffold/project/controller/websocket.py",
    ):
        assert name in names
    assert not any(n.startswith(("tests/", "protocol/", "fuzz/", "bench/")) for n in names)
    assert metadata["Version"] == VERSION
    assert metadata["License-Expression"] == "MIT"
    assert {"trio", "speed", "redis", "reload"} <= set(metadata.get_all("Provides-Extra") or [])
    with tarfile.open(installed.sdist) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"pyproject.toml", "README.md", "thinkio/__init__.py"} <= members


def test_it_runs_from_the_venv_not_the_repository(installed: Installed) -> None:
    where = installed.run(
        str(installed.venv / "bin" / "python"), "-c", "import thinkio; print(thinkio.__file__)"
    )
    assert Path(where.stdout.strip()).is_relative_to(installed.venv), where.stdout
    assert installed.thinkio("--version").stdout == f"thinkio {VERSION}\n"


def test_missing_extras_are_one_line(installed: Installed) -> None:
    installed.thinkio("new", "bare")
    trio = installed.thinkio("run", "bare", "--loop", "trio")
    assert (trio.returncode, trio.stderr) == (
        1,
        "thinkio: trio is not installed: pip install 'thinkio[trio]'\n",
    )
    reload = installed.thinkio("run", "bare", "--reload")
    assert (reload.returncode, reload.stderr) == (
        1,
        "thinkio: watchfiles is not installed: pip install 'thinkio[reload]'\n",
    )
    uvloop = installed.thinkio("run", "bare", "--loop", "uvloop")
    assert (uvloop.returncode, uvloop.stderr) == (
        1,
        "thinkio: uvloop is not installed: pip install 'thinkio[speed]'\n",
    )


async def socketio_round_trip(url: str, transports: list[str]) -> dict[str, Any]:
    """python-socketio's AsyncClient (asyncio only: it is the client under test here, in this
    process, while the server runs in its own): connect, wait for opend, call addUser."""
    import socketio  # type: ignore[import-untyped]

    client = socketio.AsyncClient(reconnection=False)
    opend: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_opend(data: str) -> None:
        if not opend.done():
            opend.set_result(data)

    client.on("opend", on_opend)
    await client.connect(url, transports=transports, wait_timeout=5)
    try:
        got = await asyncio.wait_for(opend, 5)
        answered = await client.call("addUser", "ann", timeout=5)
        transport = client.transport()
    finally:
        await client.disconnect()
    return {"opend": got, "ack": answered, "transport": transport}


def serve_and_talk(installed: Installed, project: str, *args: str) -> Served:
    try:
        import socketio  # noqa: F401
    except ImportError:
        missing_part("python-socketio is not installed (pip install -e '.[test]')")
    served = Served(
        Path(project),
        *args,
        command=[str(installed.venv / "bin" / "thinkio")],
        cwd=installed.work,
        env=installed.env,
    )
    try:
        for transports in (["websocket"], ["polling", "websocket"]):
            result = asyncio.run(socketio_round_trip(served.url, transports))
            assert result == {
                "opend": "This client opened successfully!",
                "ack": None,  # add_user_action returns None: an empty ack
                "transport": "websocket",
            }
    finally:
        assert served.interrupt() == 0, served.log
    assert "Traceback" not in served.log, served.log
    assert served.log.count("addUser data: 'ann'") == 2, served.log
    return served


def test_new_and_run_serve_a_real_client(installed: Installed) -> None:
    assert installed.thinkio("new", "app").returncode == 0
    served = serve_and_talk(installed, "app")
    assert served.banner.endswith("(asyncio)")  # no uvloop in a bare install
    assert "the socket.io browser client is not installed: run `npm install` in" in served.log


def test_the_trio_extra_serves_on_trio(installed: Installed) -> None:
    installed.pip_install(f"thinkio[trio] @ {installed.wheel.as_uri()}")
    assert installed.thinkio("new", "trio-app").returncode == 0
    served = serve_and_talk(installed, "trio-app", "--loop", "trio")
    assert served.banner.endswith("(trio)")
