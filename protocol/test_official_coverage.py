"""Every case of the two official suites is covered by at least one test here (PROTOCOL.md 6).

Needs no server: it reads the ``official`` marks of the test functions (and of their
parameters, for tests run on both mounts).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._official import SUITES


def official_marks() -> Iterator[tuple[str, str, str]]:
    """Yield (suite, case, test name) for every ``official`` mark in the test modules."""
    package = __name__.rpartition(".")[0]
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        for name, function in vars(module).items():
            if not name.startswith("test_"):
                continue
            for mark in getattr(function, "pytestmark", []):
                marks = [mark]
                if mark.name == "parametrize":
                    for param in mark.args[1]:
                        marks += list(getattr(param, "marks", ()))
                for found in marks:
                    if found.name == "official":
                        suite, *cases = found.args
                        for case in cases:
                            yield suite, case, f"{info.name}.{name}"


def test_every_official_case_is_covered() -> None:
    covered: dict[tuple[str, str], list[str]] = {}
    for suite, case, test in official_marks():
        assert suite in SUITES, f"{test}: unknown suite {suite!r}"
        assert case in SUITES[suite], f"{test}: {case!r} is not a case of the {suite} suite"
        covered.setdefault((suite, case), []).append(test)
    missing = [
        f"{suite}: {case}"
        for suite, cases in SUITES.items()
        for case in cases
        if (suite, case) not in covered
    ]
    assert not missing, "official cases without a test:\n" + "\n".join(missing)


@pytest.mark.parametrize(("suite", "count"), [("engine.io", 24), ("socket.io", 32)])
def test_official_case_counts(suite: str, count: int) -> None:
    assert len(SUITES[suite]) == count
    assert len(set(SUITES[suite])) == count
