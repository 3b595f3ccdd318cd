"""thinkio's network-level conformance suite for Engine.IO v4 / Socket.IO v5 servers.

It speaks to a server only over the network (httpx, wsproto, sockets) and never imports
thinkio, so it can test any implementation. See README.md.
"""
