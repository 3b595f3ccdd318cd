"""Plain HTTP/1.1 on h11: connections, requests, routing, static files, CORS.

Knows nothing of Engine.IO: the Engine.IO server is one handler mounted on a
:class:`Router`, like the static files and the browser client bundle.
"""

from .client_bundle import BUNDLE_FILES, ClientBundle
from .cors import CorsOptions, CorsPolicy
from .exchange import ExchangeOwner, HttpExchange, TakenOver
from .origins import OriginPolicy, OriginSpec
from .protocol import HttpProtocol, HttpServer
from .request import HttpRequest
from .router import HttpHandler, Router, not_found
from .static import StaticFiles, serve_file

__all__ = (
    "BUNDLE_FILES",
    "ClientBundle",
    "CorsOptions",
    "CorsPolicy",
    "ExchangeOwner",
    "HttpExchange",
    "HttpHandler",
    "HttpProtocol",
    "HttpRequest",
    "HttpServer",
    "OriginPolicy",
    "OriginSpec",
    "Router",
    "StaticFiles",
    "TakenOver",
    "not_found",
    "serve_file",
)
