"""Hypothesis fuzzing harness for thinkio's sans-IO cores (issue point 6).

The model is h11's fuzz harness (STYLE.md): any peer input either parses or raises
:class:`~thinkio.errors.RemoteProtocolError`, and splitting input differently never changes
what comes out. ``pytest fuzz`` runs every property under the profile named by the
``HYPOTHESIS_PROFILE`` environment variable (default ``ci``); ``python -m fuzz.campaign``
runs them over and over for a fixed time.
"""
