"""Which build runs is known and said: ``thinkio.COMPILED`` and ``thinkio --version``.

Run by ``make unit`` on the Python source and by ``make compiled-test`` on the compiled build
(``setup.py``), so both answers are checked: under the compiled build every module
``setup.py`` lists is an extension module, under the source none is.
"""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
from pathlib import Path

import pytest

import thinkio
from thinkio import cli

ROOT = Path(__file__).resolve().parents[1]


def _listed() -> list[str]:
    """The module names setup.py's ``MYPYC_MODULES`` lists."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "MYPYC_MODULES" for t in targets):
                assert node.value is not None
                paths = ast.literal_eval(node.value)
                return [p.removesuffix(".py").replace("/", ".") for p in paths]
    raise AssertionError("setup.py has no MYPYC_MODULES list")


def _is_extension(name: str) -> bool:
    module = importlib.import_module(name)
    return str(module.__file__).endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def test_every_listed_module_is_of_the_build_that_runs() -> None:
    listed = _listed()
    assert "thinkio.engineio.session" in listed  # what thinkio.COMPILED looks at
    assert {name: _is_extension(name) for name in listed} == dict.fromkeys(listed, thinkio.COMPILED)


def test_the_version_names_the_build(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    build = " (mypyc build)" if thinkio.COMPILED else ""
    assert capsys.readouterr().out == f"thinkio {thinkio.__version__}{build}\n"
