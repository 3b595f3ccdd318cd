"""The Hypothesis profiles of the fuzz suite.

* ``ci``: bounded, so ``pytest fuzz`` stays well under a minute on a 2-core machine.
* ``dev``: a few more examples while working on a property.
* ``long``: what :mod:`fuzz.campaign` runs, call after call, until its time is up.

All profiles print the reproduction blob of a failure, so a CI failure can be replayed with
``@reproduce_failure``; the shrunk example itself goes into the example database
(``.hypothesis/``) and is replayed first on the next run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ("PROFILES", "load_profile_from_env")

PROFILES = ("ci", "dev", "long")

#: What every profile shares: no per-example deadline (CI machines stall), the reproduction
#: blob printed on failure, and no health checks for slow or large structured inputs.
_BASE = settings(
    deadline=None,
    print_blob=True,
    suppress_health_check=(
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ),
)

settings.register_profile("ci", _BASE, max_examples=200, stateful_step_count=30)
settings.register_profile("dev", _BASE, max_examples=1_000, stateful_step_count=60)
settings.register_profile("long", _BASE, max_examples=1_000, stateful_step_count=60)


def load_profile_from_env(default: str = "ci") -> str:
    """Load the profile named by ``HYPOTHESIS_PROFILE`` (or ``default``) and return its name."""
    name = os.environ.get("HYPOTHESIS_PROFILE", default) or default
    settings.load_profile(name)
    return name
