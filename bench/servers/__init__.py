"""The benchmark's servers: the same small app on thinkio, python-socketio and Node.

Every server is started as its own process (``python -m bench.servers.<name>`` or
``node bench/node/server.js``), listens on 127.0.0.1 (port 0 by default) and prints
``listening on HOST:PORT`` once it accepts connections. The app, identical on each:

* ``echo(*args)``: emits ``echo(*args)`` back to the sender (no ack);
* ``ack(*args)``: acks with the same arguments (the client used ``emitWithAck``);
* ``async_ack(*args)``: the same from an ``async`` handler that yields to the event loop once
  before it answers (``await anyio.lowlevel.checkpoint()``, ``asyncio.sleep(0)``, ``await
  null``), as a handler awaiting a ready database call or a cache would: what most app
  handlers (a ThinkJS-style controller's actions) look like;
* ``broadcast(count, payload)``: emits ``tick(i, payload)`` to every connected socket,
  ``count`` times, then acks with ``count``;
* ``join(room)``: joins ``room``, acks with ``room``;
* ``room_broadcast(room, count, payload)``: emits ``tick(i, payload)`` to ``room``, ``count``
  times, then acks with ``count``.

``count`` is capped at :data:`MAX_COUNT` so no request can make a server loop unboundedly.
``raw_server`` is not a Socket.IO server: it answers the same packets with pre-built bytes and
no protocol work, to show what the load generator reaches when the server costs nothing.
"""

#: The most broadcasts one request may ask for (every server enforces the same cap).
MAX_COUNT = 100_000
