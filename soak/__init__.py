"""thinkio's soak and chaos suite (issue 9, point 4): ``make soak``.

Each scenario starts real servers (thinkio on asyncio and on trio, ``redis-server``, a
cluster), drives them from outside over loopback, prints one line of figures and checks the
goal it stands for. See ``soak/README.md``.
"""
