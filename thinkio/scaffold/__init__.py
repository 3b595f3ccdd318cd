"""``thinkio new``: the files of a new project (the ThinkJS WebSocket guide's example).

The templates live in ``project/`` next to this module and are copied as they are (``gitignore``
becomes ``.gitignore``): ``config/config.py``, ``config/adapter.py``,
``controller/websocket.py``, ``www/index.html``, ``package.json`` (the socket.io browser
client, installed from the npm registry by ``npm install``) and a README.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ("create_project",)

#: Template names that are renamed on copy.
_RENAMES = {"gitignore": ".gitignore"}
_SKIP = {"__pycache__"}


def _walk(folder: Traversable, relative: Path) -> list[tuple[Traversable, Path]]:
    out: list[tuple[Traversable, Path]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name in _SKIP or entry.name.endswith(".pyc"):
            continue
        target = relative / _RENAMES.get(entry.name, entry.name)
        if entry.is_dir():
            out += _walk(entry, target)
        else:
            out.append((entry, target))
    return out


def create_project(dest: str | Path) -> list[Path]:
    """Write a new project into ``dest`` (created if needed); returns the files written.

    The caller checks that ``dest`` is new or empty: existing files are overwritten.
    """
    dest = Path(dest)
    written = []
    for template, relative in _walk(files(__name__) / "project", Path()):
        path = dest / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(template.read_bytes())
        written.append(path)
    return written
