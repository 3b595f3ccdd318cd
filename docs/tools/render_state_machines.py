"""Render the state machines' tables into docs/explanation/state-machines.md.

The diagrams are drawn from the very tables the code runs on (``TRANSITIONS`` in each
``_state.py``), so the docs cannot drift from the code: ``tests/test_docs.py`` fails when the
rendered page is stale. Regenerate with::

    .venv/bin/python docs/tools/render_state_machines.py
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

from thinkio.engineio import _state as engine_state
from thinkio.socketio import _state as socketio_state

OUT = Path(__file__).resolve().parent.parent / "explanation" / "state-machines.md"


def mermaid(table: dict[tuple[Enum, Enum], Enum], start: Enum) -> str:
    lines = ["```mermaid", "stateDiagram-v2", f"    [*] --> {start.name}"]
    for (state, trigger), target in table.items():
        lines.append(f"    {state.name} --> {target.name}: {trigger.name.lower()}")
    lines.append("```")
    return "\n".join(lines)


def member_docs(enum: type[Enum], module_path: Path) -> list[str]:
    """The ``#:`` comment of each member, read from the source like Sphinx does."""
    text = module_path.read_text(encoding="utf-8").splitlines()
    rows = []
    for member in enum:
        comment = next(
            (
                line.split("#:", 1)[1].strip()
                for line in text
                if line.strip().startswith(f"{member.name} =") and "#:" in line
            ),
            "",
        )
        rows.append(f"| `{member.name}` | {comment} |")
    return rows


def render() -> str:
    eng_path = Path(engine_state.__file__)
    sio_path = Path(socketio_state.__file__)
    parts = [
        "# State machines",
        "",
        "Generated from the tables the code runs on by `docs/tools/render_state_machines.py`;",
        "do not edit by hand. A (state, trigger) pair that is not drawn is refused by the code.",
        "",
        "## Engine.IO session (`thinkio/engineio/_state.py`)",
        "",
        mermaid(engine_state.TRANSITIONS, engine_state.SessionState.OPEN),
        "",
        "| state | meaning |",
        "|---|---|",
        *member_docs(engine_state.SessionState, eng_path),
        "",
        "| trigger | meaning |",
        "|---|---|",
        *member_docs(engine_state.SessionTrigger, eng_path),
        "",
        "## Socket.IO namespace, per connection (`thinkio/socketio/_state.py`)",
        "",
        mermaid(socketio_state.TRANSITIONS, socketio_state.NamespaceState.ABSENT),
        "",
        "| state | meaning |",
        "|---|---|",
        *member_docs(socketio_state.NamespaceState, sio_path),
        "",
        "| trigger | meaning |",
        "|---|---|",
        *member_docs(socketio_state.NamespaceTrigger, sio_path),
        "",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
