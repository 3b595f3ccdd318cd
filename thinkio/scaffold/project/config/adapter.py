"""The WebSocket adapter (ThinkJS: src/config/adapter.js).

Times are in milliseconds, as in socket.io. Keys may also be spelled the ThinkJS way
(allowOrigin, allowEIO3...).
"""

websocket = {
    "type": "socketio",
    "common": {
        # common config
    },
    "socketio": {
        "handle": "socketio",
        # "allow_origin": "127.0.0.1:8360",  # default: every origin may connect
        "path": "/socket.io",  # default "/socket.io"
        "adapter": None,  # default: no adapter (one process, in memory)
        "allow_eio3": True,  # let socket.io-client 2.x, the guide's client, connect too
        "messages": {
            "open": "/websocket/open",  # a client connected: the open action of controller/websocket.py
            "close": "/websocket/close",  # a client disconnected
            "addUser": "/websocket/addUser",  # the client's addUser event
        },
    },
}
