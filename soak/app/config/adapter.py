"""The soak server's Socket.IO settings, from the environment its scenario sets.

* ``SOAK_PING_INTERVAL`` / ``SOAK_PING_TIMEOUT`` (ms, default 5000 / 5000): short in the
  stalled-reader scenario, so a client that stops reading is found out quickly.
* ``SOAK_REDIS_URL`` / ``SOAK_REDIS_KEY``: the Redis adapter (two nodes share one Redis);
  unset, the in-memory adapter.
"""

import os

_redis = os.environ.get("SOAK_REDIS_URL")

websocket = {
    "type": "socketio",
    "socketio": {
        "path": "/socket.io",
        "serve_client": False,
        "ping_interval": int(os.environ.get("SOAK_PING_INTERVAL", "5000")),
        "ping_timeout": int(os.environ.get("SOAK_PING_TIMEOUT", "5000")),
        "adapter": (
            {
                "type": "redis",
                "url": _redis,
                "key": os.environ.get("SOAK_REDIS_KEY", "soak"),
                "requests_timeout": 2.0,
            }
            if _redis
            else None
        ),
        "messages": {
            "echo": "/soak/echo",
            "whoami": "/soak/whoami",
            "join": "/soak/join",
            "blast": "/soak/blast",
            "cast": "/soak/cast",
        },
    },
}
