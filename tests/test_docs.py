"""The generated docs match the code they are drawn from."""

from __future__ import annotations

import runpy
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_state_machine_page_is_up_to_date() -> None:
    tool = runpy.run_path(str(DOCS / "tools" / "render_state_machines.py"))
    page = (DOCS / "explanation" / "state-machines.md").read_text(encoding="utf-8")
    assert page == tool["render"](), (
        "docs/explanation/state-machines.md is stale: run "
        ".venv/bin/python docs/tools/render_state_machines.py"
    )


def test_every_transition_is_drawn() -> None:
    from thinkio.engineio._state import TRANSITIONS

    page = (DOCS / "explanation" / "state-machines.md").read_text(encoding="utf-8")
    for (state, trigger), target in TRANSITIONS.items():
        assert f"{state.name} --> {target.name}: {trigger.name.lower()}" in page
