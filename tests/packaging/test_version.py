"""One version, in SemVer, everywhere: ``thinkio.__version__``, the installed package's
metadata, ``thinkio --version``, and the newest release in CHANGELOG.md (Keep a Changelog)."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import thinkio

ROOT = Path(__file__).resolve().parents[2]
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?")
RELEASE = re.compile(rf"## \[({SEMVER.pattern})\] - (\d{{4}}-\d{{2}}-\d{{2}})$")
KINDS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_version_is_semver_and_has_one_source() -> None:
    assert SEMVER.fullmatch(thinkio.__version__)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "thinkio.__version__"}
    assert importlib.metadata.version("thinkio") == thinkio.__version__


def test_the_changelog_is_keep_a_changelog_and_its_newest_release_is_the_version() -> None:
    lines = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# Changelog"
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[0] == "## [Unreleased]"
    releases = [RELEASE.match(h) for h in headings[1:]]
    assert all(releases), [h for h, m in zip(headings[1:], releases, strict=True) if not m]
    versions = [m.group(1) for m in releases if m]
    assert versions[0] == thinkio.__version__, (
        "the newest release in CHANGELOG.md is not thinkio.__version__: release both together"
    )
    dates = [m.group(len(m.groups())) for m in releases if m]
    assert dates == sorted(dates, reverse=True)
    assert len(set(versions)) == len(versions)
    kinds = {line[4:] for line in lines if line.startswith("### ")}
    assert kinds <= KINDS, kinds - KINDS
