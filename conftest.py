"""For every suite (tests/, protocol/, fuzz/): which build of thinkio the run imports.

``make compiled-test`` runs the suites against the compiled build (``setup.py``) with
``THINKIO_EXPECT_COMPILED=1``; then a run that would import the Python source instead (the
repository's folder first on ``sys.path``) stops at once rather than pass untested.
"""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("THINKIO_EXPECT_COMPILED") == "1":
        import thinkio

        if not thinkio.COMPILED:
            pytest.exit(
                f"THINKIO_EXPECT_COMPILED=1, but thinkio is imported from {thinkio.__file__}, "
                "the pure-Python source (run the suites through `make compiled-test`)",
                returncode=2,
            )


def pytest_report_header(config: pytest.Config) -> str:
    import thinkio

    build = "mypyc build" if thinkio.COMPILED else "pure Python"
    return f"thinkio {thinkio.__version__}: {build}, from {os.path.dirname(thinkio.__file__)}"
