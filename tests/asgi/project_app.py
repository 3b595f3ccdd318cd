"""A thinkio project (the directory named by ``THINKIO_TEST_PROJECT``) as the ASGI app
``tests.asgi.project_app:app``: what ``thinkio.asgi.project(...)`` gives a user."""

from __future__ import annotations

import os

import thinkio.asgi

app = thinkio.asgi.project(os.environ["THINKIO_TEST_PROJECT"])
