"""The compiled build that ``make bench`` and ``make compiled-test`` run.

thinkio's wheel built with ``THINKIO_MYPYC=1`` (``setup.py``: the protocol modules compiled
with mypyc), installed without dependencies into ``.build/compiled``. A server runs it with
that folder first on ``PYTHONPATH``; its dependencies still come from the virtual
environment. The build records a digest of the sources it was made from, so a figure is never
taken from a build older than the code::

    python -m bench.compiled            # build, unless the last build is of these sources
    python -m bench.compiled --check    # exit 1 (saying why) if missing or out of date

It needs ``mypy`` and ``setuptools>=77`` in the environment (the test extra has both) and a
C compiler; about a minute on two cores.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = (
    "COMPILED_DIR",
    "build",
    "env",
    "problem",
    "server_env",
    "source_digest",
    "source_env",
    "verify",
)

ROOT = Path(__file__).resolve().parent.parent
COMPILED_DIR = ROOT / ".build" / "compiled"
_DIGEST = COMPILED_DIR / "SOURCE-DIGEST"
#: What a wheel is built from (the package and its build description).
_SOURCES = ("setup.py", "pyproject.toml")
#: Copied for the build too (pyproject.toml's ``readme``), but only the wheel's metadata reads
#: it: an edit to it leaves the build current.
_METADATA = ("README.md",)


def _source_files() -> list[Path]:
    files = [ROOT / name for name in _SOURCES]
    files += sorted(p for p in (ROOT / "thinkio").rglob("*") if p.is_file() and _packaged(p))
    return files


def _packaged(path: Path) -> bool:
    return "__pycache__" not in path.parts and path.suffix not in (".pyc", ".so")


def source_digest() -> str:
    """A digest of every file the wheel is built from, names and contents."""
    digest = hashlib.sha256()
    for path in _source_files():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def problem() -> str | None:
    """Why the compiled build cannot be run now (missing, or built from other sources)."""
    if not _DIGEST.exists():
        return f"no compiled build in {COMPILED_DIR.relative_to(ROOT)}: run `make compiled`"
    if _DIGEST.read_text().strip() != source_digest():
        return "the compiled build is older than thinkio/'s sources: run `make compiled`"
    return None


def env(base: dict[str, str]) -> dict[str, str]:
    """``base`` for a Python process that is to run the compiled build: that first on
    ``PYTHONPATH``, then the repository (for ``bench``), and the working folder not put in
    front of both (``PYTHONSAFEPATH``: ``python -m`` from the repository's root would import
    thinkio's source)."""
    paths = [str(COMPILED_DIR), str(ROOT), *filter(None, [base.get("PYTHONPATH")])]
    return {**base, "PYTHONPATH": os.pathsep.join(paths), "PYTHONSAFEPATH": "1"}


def source_env(base: dict[str, str]) -> dict[str, str]:
    """``base`` for a Python process that is to run thinkio's source (from the repository's
    root): without the compiled build on ``PYTHONPATH``, and with the working folder first."""
    paths = [p for p in base.get("PYTHONPATH", "").split(os.pathsep) if p]
    kept = [p for p in paths if Path(p).resolve() != COMPILED_DIR]
    out = {k: v for k, v in base.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    if kept:
        out["PYTHONPATH"] = os.pathsep.join(kept)
    return out


def server_env(compiled: bool, base: dict[str, str]) -> dict[str, str]:
    """:func:`env` for a server of the compiled build, :func:`source_env` for one of the
    source (``ServerSpec.compiled``)."""
    return env(base) if compiled else source_env(base)


def verify(base: dict[str, str]) -> str | None:
    """:func:`problem`, or why a process given :func:`env` would not import the compiled
    build; None when it does."""
    why = problem()
    if why is not None:
        return why
    probe = "import thinkio; print(thinkio.COMPILED, thinkio.__file__)"
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env(base), cwd=ROOT, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if not result.stdout.startswith("True"):
        return f"the compiled build is not what a server imports: {result.stdout}{result.stderr}"
    return None


def build() -> None:
    """Build the wheel from a copy of the sources (the tree's ``build/`` stays untouched),
    and install it into :data:`COMPILED_DIR`."""
    digest = source_digest()
    work = ROOT / ".build" / "work"
    shutil.rmtree(work, ignore_errors=True)
    src = work / "src"
    for path in [*_source_files(), *(ROOT / name for name in _METADATA)]:
        target = src / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    started = time.monotonic()
    print("compiling thinkio's protocol modules with mypyc (about a minute)...", flush=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", "-q", "--no-build-isolation", "--no-deps", "-w", str(work), str(src)],
        env={**os.environ, "THINKIO_MYPYC": "1"},
        check=True,
        stdout=subprocess.DEVNULL,  # one gcc line per module
    )
    (wheel,) = work.glob("thinkio-*.whl")
    shutil.rmtree(COMPILED_DIR, ignore_errors=True)
    subprocess.run(
        [*pip, "install", "-q", "--no-deps", "--target", str(COMPILED_DIR), str(wheel)],
        check=True,
    )
    _DIGEST.write_text(digest + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(f"built {wheel.name} into {COMPILED_DIR.relative_to(ROOT)} "
          f"in {time.monotonic() - started:.0f} s")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compiled", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only say whether it is current")
    args = parser.parse_args(argv)
    why = problem()
    if args.check:
        if why is not None:
            print(why, file=sys.stderr)
            return 1
        return 0
    if why is None:
        print(f"the compiled build in {COMPILED_DIR.relative_to(ROOT)} is current")
        return 0
    try:
        build()
    except subprocess.CalledProcessError as exc:
        print(f"the compiled build failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
