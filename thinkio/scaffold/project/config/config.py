"""Application settings (ThinkJS: src/config/config.js).

Every public name here is a setting; thinkio stops at start-up on a name it does not know.
"""

# Several worker processes with sticky sessions (ThinkJS: stickyCluster). Off by default,
# as in ThinkJS; thinkio serves every client from one process.
sticky_cluster = False

# Where `thinkio run` listens (the command's --host / --port win over these).
host = "127.0.0.1"
port = 8360

# HTTP routes next to the sockets: "METHOD /path" -> an action of an HTTP controller
# (controller/api.py's notify_action). Try it while the server runs:
#   curl -X POST -H 'content-type: application/json' -d '{"text": "hi"}' \
#        http://127.0.0.1:8360/api/notify
http = {
    "POST /api/notify": "/api/notify",
}
