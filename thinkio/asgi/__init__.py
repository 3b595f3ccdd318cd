"""thinkio as an ASGI 3 application, for uvicorn, hypercorn, Starlette and FastAPI.

::

    io = thinkio.server.Server()
    app = thinkio.asgi.ASGIApp(io, other_asgi_app=fastapi_app)   # uvicorn module:app

    app = thinkio.asgi.project("myproj")                          # a whole thinkio project

See :mod:`.app` and docs/asgi.md.
"""

from .app import ASGIApp, project
from .websocket import AsgiWebSocket

__all__ = ("ASGIApp", "AsgiWebSocket", "project")
