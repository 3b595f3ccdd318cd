"""The "other real clients" rows name tests that exist (a renamed test would leave its row
"not run" in docs/interop.md), and ``make interop-table`` runs them."""

from __future__ import annotations

import ast
import subprocess
import sys

from .harness import REPO
from .rows import ROWS, node_ids


def test_every_row_names_existing_tests_and_parameters() -> None:
    for row in ROWS:
        arguments: set[str] = set()
        for node_id in row.tests:
            path, _, name = node_id.partition("::")
            tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
            found = [
                node
                for node in tree.body
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
            ]
            assert found, f"{row.feature} / {row.client}: no {name} in {path}"
            arguments |= {a.arg for a in found[0].args.args}
        # a parameter a row narrows to must be one of its tests' own
        assert set(row.params) <= arguments, (row.client, row.params, arguments)


def test_the_command_line_lists_every_test_once() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.interop.rows"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    printed = done.stdout.split()
    assert printed == node_ids()
    assert len(set(printed)) == len(printed)
    assert {t for row in ROWS for t in row.tests} == set(printed)
