"""The ``thinkio`` command: ``thinkio new DIR`` and ``thinkio run DIR``.

::

    thinkio new myapp                      # the ThinkJS guide's example, ready to run
    thinkio run myapp [--host 127.0.0.1] [--port 8360] [--loop asyncio|uvloop|trio]
                      [--workers N] [--reload] [--log-level info] [--log-format json]
    thinkio --version

``run`` prints ``thinkio serving DIR on http://HOST:PORT (LOOP)`` once it accepts
connections (with ``--port 0``, the port the system picked), and shuts down gracefully on
Ctrl-C or SIGTERM: sessions end without a close packet, so clients reconnect (to the next
server on this address), then the process exits 0. Errors a user can fix (a wrong setting, an
unresolvable route, a port in use, a missing extra such as ``thinkio[trio]``) print one line
and exit 1.

``--loop`` (``--backend`` is the earlier name) picks the event loop (:mod:`thinkio.loops`):
uvloop when it is installed, else asyncio. ``--reload`` serves from a child process and
starts it again when a ``.py`` file of the project changes (watchfiles, ``thinkio[reload]``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shlex
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from . import COMPILED, __version__, loops
from .app import App
from .errors import ConfigError, ThinkioError
from .extras import MissingExtra, require
from .logs import LOG_FORMATS, configure_logging
from .scaffold import create_project
from .server import BoundAddress, PortInUse

__all__ = ("main", "serve_until_signal")

log = logging.getLogger("thinkio")


def serve_until_signal(
    app: App,
    host: str | None = None,
    port: int | None = None,
    *,
    loop: str | None = None,
    backend: str | None = None,
    on_ready: Callable[[BoundAddress], None] | None = None,
) -> None:
    """Run ``app`` on a new event loop until SIGINT / SIGTERM, then shut it down gracefully.

    Args:
        app: the application.
        host: interface (default: the app's configuration).
        port: port (default: the app's configuration; 0 for any free one).
        loop: ``"asyncio"``, ``"uvloop"`` or ``"trio"`` (default: uvloop when installed,
            else asyncio; see :mod:`thinkio.loops`).
        backend: the earlier name of ``loop``.
        on_ready: called with the bound address once connections are accepted (default:
            print it).

    Raises:
        ConfigError: the app cannot start, or an unknown loop.
        MissingExtra: the loop's package is not installed (``pip install 'thinkio[trio]'``).
        PortInUse: the port is taken.
    """
    app.run(host, port, loop=loop, backend=backend, on_ready=on_ready)


# -- commands ----------------------------------------------------------------------------------


def _fail(message: str) -> int:
    print(f"thinkio: {message}", file=sys.stderr, flush=True)
    return 1


def _config_failure(exc: ConfigError) -> int:
    cause = exc.__cause__
    if cause is not None and not isinstance(cause, ConfigError):
        # An error in the user's own module: its traceback is what helps.
        traceback.print_exception(cause, file=sys.stderr)
    return _fail(f"error: {exc}")


def cmd_new(args: argparse.Namespace) -> int:
    dest = Path(args.dir)
    if dest.exists() and not dest.is_dir():
        return _fail(f"{dest} exists and is not a directory")
    if dest.is_dir() and any(dest.iterdir()):
        return _fail(f"{dest} is not empty; give a new (or empty) directory")
    created = create_project(dest)
    print(f"created {dest} ({len(created)} files)")
    print("next steps:")
    print(f"  cd {dest} && npm install   # the socket.io browser client, from the npm registry")
    print(f"  thinkio run {dest}          # then open http://127.0.0.1:8360/")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    configure_logging(args.log_level.upper(), args.log_format or "text")
    try:
        loop = loops.resolve_loop(args.loop)  # a missing extra: say so before anything else
    except ConfigError as exc:
        return _fail(str(exc))
    if args.reload:
        return _run_reloading(args)
    try:
        app = App.from_project(args.dir)
    except ConfigError as exc:
        return _config_failure(exc)
    log_format = args.log_format or app.config.log_format
    if log_format != (args.log_format or "text"):  # the project's setting, now known
        configure_logging(args.log_level.upper(), log_format)

    workers = args.workers
    if workers is None and app.config.sticky_cluster:
        workers = os.cpu_count() or 2
    clustered = workers is not None and workers > 1
    detail = f"{loop}, {workers} workers" if clustered else loop

    def ready(bound: BoundAddress) -> None:
        print(f"thinkio serving {args.dir} on {bound.url} ({detail})", flush=True)

    try:
        if clustered:
            # Workers load the project themselves; every request of a session reaches the
            # worker that owns it (docs/cluster.md).
            from . import cluster

            for warning in app.startup_warnings():  # workers serve app.io, not app.serve
                log.warning("%s", warning)
            cluster.serve(
                "thinkio.app:App.from_project",
                args.host or app.config.host,
                args.port if args.port is not None else app.config.port,
                workers=workers,
                backend=loop,
                on_ready=ready,
                app_args=[str(Path(args.dir).resolve())],
                log_level=args.log_level.upper(),
                log_format=log_format,
            )
        else:
            serve_until_signal(app, args.host, args.port, loop=loop, on_ready=ready)
    except PortInUse:
        host = args.host or app.config.host
        port = args.port if args.port is not None else app.config.port
        return _fail(f"{host}:{port} is already in use; choose another port with --port")
    except ConfigError as exc:
        return _config_failure(exc)
    except ThinkioError as exc:  # e.g. a worker process could not start
        return _fail(f"error: {exc}")
    print("thinkio stopped", file=sys.stderr, flush=True)
    return 0


def _run_reloading(args: argparse.Namespace) -> int:
    """``thinkio run --reload``: the same command without ``--reload`` in a child process,
    started again whenever a ``.py`` file of the project changes (config or controllers;
    static files are read per request and need no restart)."""
    try:
        watchfiles = require("watchfiles", "reload")
    except MissingExtra as exc:
        return _fail(str(exc))
    root = Path(args.dir)
    if not root.is_dir():
        return _fail(f"{root} is not a directory")
    argv = [a for a in (args.argv or sys.argv[1:]) if a != "--reload"]
    command = shlex.join([sys.executable, "-m", "thinkio.cli", *argv])

    def restarting(changes: set[tuple[object, str]]) -> None:
        names = sorted({os.path.relpath(path, root) for _, path in changes})
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        print(f"thinkio: {shown} changed: restarting", file=sys.stderr, flush=True)

    print(f"thinkio: watching {root} for changes (--reload)", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C or SIGTERM: the child is stopped
        watchfiles.run_process(
            root,
            target=command,
            target_type="command",
            callback=restarting,
            watch_filter=watchfiles.PythonFilter(),
            debounce=400,  # one restart for an editor's burst of writes
            sigint_timeout=10,  # a graceful shutdown, as on Ctrl-C
        )
    print("thinkio stopped", file=sys.stderr, flush=True)
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return port


def _workers(text: str) -> int:
    try:
        workers = int(text)
    except ValueError:
        workers = 0
    if not 1 <= workers <= 256:
        raise argparse.ArgumentTypeError(
            f"expected a number of workers from 1 to 256, got {text!r}"
        )
    return workers


#: What ``--version`` adds for the compiled build (setup.py).
_BUILD = " (mypyc build)" if COMPILED else ""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thinkio", description="A Socket.IO server framework with ThinkJS-style controllers."
    )
    parser.add_argument("--version", action="version", version=f"thinkio {__version__}{_BUILD}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    new = commands.add_parser("new", help="create a project: the ThinkJS WebSocket guide's example")
    new.add_argument("dir", metavar="DIR", help="a new or empty directory")
    new.set_defaults(func=cmd_new)
    run = commands.add_parser("run", help="serve a project")
    run.add_argument("dir", metavar="DIR", help="the project directory")
    run.add_argument("--host", default=None, help="interface to listen on (default: 127.0.0.1)")
    run.add_argument(
        "--port", type=_port, default=None, help="port (default: 8360; 0: any free port)"
    )
    run.add_argument(
        "--loop",
        "--backend",
        dest="loop",
        choices=loops.LOOPS,
        default=None,
        help="event loop (default: uvloop when installed, else asyncio; trio needs "
        "thinkio[trio], uvloop thinkio[speed])",
    )
    run.add_argument(
        "--reload",
        action="store_true",
        help="restart when a .py file of the project changes (needs thinkio[reload])",
    )
    run.add_argument(
        "--workers",
        type=_workers,
        default=None,
        help="worker processes with sticky sessions (default: 1, or one per CPU with "
        "sticky_cluster = True in config/config.py)",
    )
    run.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="default: info",
    )
    run.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=None,
        help="text lines, or one JSON object per line (default: the log_format setting, else text)",
    )
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``thinkio`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    args.argv = list(argv) if argv is not None else None
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
