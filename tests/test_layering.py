"""The layers of DESIGN.md, checked by parsing imports.

* The sans-IO core (``thinkio/engineio``, ``thinkio/socketio``) imports no I/O, no event loop
  and no clock.
* Nothing in ``thinkio/`` imports asyncio or trio: the I/O layer is written once, on anyio.
  The exceptions are measured (STYLE.md), one module per backend: ``thinkio/net/_asyncio.py``
  (the transports and tasks on asyncio) and ``thinkio/net/_trio.py`` (the tasks on trio),
  behind thinkio.net's interfaces, past which nothing knows the backend.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "thinkio"
CORE_FORBIDDEN = {"anyio", "asyncio", "trio", "socket", "time", "h11", "wsproto", "selectors"}
ANYWHERE_FORBIDDEN = {"asyncio", "trio"}
#: The modules allowed to know the backend: one per backend, behind thinkio.net's interface.
BACKEND_MODULES = {"net/_asyncio.py", "net/_trio.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "__import__"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value).split(".")[0])
    return names


def core_files() -> list[Path]:
    files = [p for d in ("engineio", "socketio") for p in sorted((PACKAGE / d).rglob("*.py"))]
    assert files, "the sans-IO core has no modules?"
    return files


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_does_no_io(path: Path) -> None:
    bad = imported_modules(path) & CORE_FORBIDDEN
    assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_core_relative_imports_stay_in_the_core() -> None:
    allowed = {"engineio", "socketio", "errors", "limits", "_json", "_msgpack"}
    for path in core_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level >= 2 and node.module:
                top = node.module.split(".")[0]
                assert top in allowed, f"{path.name} reaches up into thinkio.{top}"


def test_no_backend_imports_in_the_package() -> None:
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(imported_modules(p) & ANYWHERE_FORBIDDEN)
        for p in PACKAGE.rglob("*.py")
        if p.relative_to(PACKAGE).as_posix() not in BACKEND_MODULES
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_the_checker_sees_forbidden_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import time\nfrom anyio import sleep\nimport os.path\n__import__('socket')\n")
    assert imported_modules(probe) >= {"time", "anyio", "socket", "os"}
