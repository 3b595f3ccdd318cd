"""pytest setup for ``pytest fuzz``: pick the Hypothesis profile from ``HYPOTHESIS_PROFILE``."""

from __future__ import annotations

from fuzz.profiles import load_profile_from_env

load_profile_from_env()
