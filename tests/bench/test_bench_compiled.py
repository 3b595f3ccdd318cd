"""``bench/compiled.py``: a compiled server imports the build, never a stale one.

The digest is what keeps ``make bench`` from measuring a build older than the code, and the
environments are what decide which build a server process imports; both are checked here on
files of their own (the build itself is made and run by ``make compiled`` and the deflate
smoke test).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import compiled


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in source tree and build folder, so nothing of the repository is touched."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text("x = 1\n")
    (src / "b.py").write_text("y = 2\n")
    monkeypatch.setattr(compiled, "ROOT", tmp_path)
    monkeypatch.setattr(compiled, "_source_files", lambda: sorted(src.iterdir()))
    monkeypatch.setattr(compiled, "COMPILED_DIR", tmp_path / "build")
    monkeypatch.setattr(compiled, "_DIGEST", tmp_path / "build" / "SOURCE-DIGEST")
    return src


def test_a_missing_build_says_how_to_make_it(sources: Path) -> None:
    why = compiled.problem()
    assert why is not None and "make compiled" in why


def test_a_build_is_current_until_a_source_changes(sources: Path) -> None:
    (sources.parent / "build").mkdir()
    (sources.parent / "build" / "SOURCE-DIGEST").write_text(compiled.source_digest() + "\n")
    assert compiled.problem() is None
    (sources / "b.py").write_text("y = 3\n")
    why = compiled.problem()
    assert why is not None and "older than" in why


def test_a_renamed_source_changes_the_digest(sources: Path) -> None:
    before = compiled.source_digest()
    (sources / "b.py").rename(sources / "c.py")
    assert compiled.source_digest() != before


def _imported(env: dict[str, str], cwd: Path) -> str:
    probe = "import thinkio; print(thinkio.__file__)"
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=cwd, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return result.stdout.strip()


def test_the_environments_pick_the_build_or_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the repository's root, where ``python -m`` puts the source first: ``env`` imports
    the compiled folder's thinkio, ``source_env`` the repository's, whatever the parent had."""
    fake = tmp_path / "compiled"
    (fake / "thinkio").mkdir(parents=True)
    (fake / "thinkio" / "__init__.py").write_text("")
    monkeypatch.setattr(compiled, "COMPILED_DIR", fake)
    root = compiled.ROOT
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    built = compiled.env(base)
    assert _imported(built, root) == str(fake / "thinkio" / "__init__.py")
    # A run that is itself under the compiled build (make compiled-test) still gives its
    # pure-Python servers the source.
    assert _imported(compiled.source_env(built), root) == str(root / "thinkio" / "__init__.py")
