"""Application settings of the chat example (ThinkJS: src/config/config.js)."""

# One process serves every client (ThinkJS: stickyCluster).
sticky_cluster = False

# Where `thinkio run examples/chat` listens; --host / --port win over these.
host = "127.0.0.1"
port = 8360
