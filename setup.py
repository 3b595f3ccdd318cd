"""The optional compiled build: ``THINKIO_MYPYC=1`` compiles the protocol modules with mypyc.

Everything else about the package is in ``pyproject.toml``; this file only adds the extension
modules, and only when asked. Without ``THINKIO_MYPYC=1`` (``pip install thinkio``,
``pip install -e .``) the wheel is pure Python, as before.

Why mypyc: on the hot path every function is already a few hundred nanoseconds of CPython
bytecode (docs/performance.md), so what is left to gain is the interpreter's own cost. mypyc
compiles the typed source as it stands, so the Python files stay the one source, and the pure
build keeps working everywhere (it is what the tests run by default and what a source
checkout imports).

What is compiled: the sans-I/O protocol modules (Engine.IO, Socket.IO, the WebSocket and HTTP
fast paths, the JSON codec), the code every message goes through. The I/O and application
layers stay Python: they call user code, use anyio and trio, and are where a traceback is
read. ``make compiled-test`` runs the suites against a compiled wheel; ``thinkio --version``
says which build is installed.

Building it: ``THINKIO_MYPYC=1 pip install --no-build-isolation .`` with ``mypy`` and
``setuptools>=77`` installed (mypyc is part of mypy), and a C compiler; ``make compiled``
builds the wheel the benchmark runs (``.build/``).
"""

from __future__ import annotations

import os

from setuptools import setup

#: The modules mypyc compiles (paths from the repository's root).
MYPYC_MODULES = [
    "thinkio/_json.py",
    "thinkio/engineio/handshake.py",
    "thinkio/engineio/packets.py",
    "thinkio/engineio/payload.py",
    "thinkio/engineio/session.py",
    "thinkio/http/fastpath.py",
    "thinkio/http/request.py",
    "thinkio/socketio/connection.py",
    "thinkio/socketio/packets.py",
    "thinkio/websocket/connection.py",
    "thinkio/websocket/frames.py",
]

ext_modules = []
if os.environ.get("THINKIO_MYPYC") == "1":
    from mypyc.build import mypycify

    ext_modules = mypycify(MYPYC_MODULES, opt_level="3")

setup(ext_modules=ext_modules)
