"""The soak suite's server: a thinkio project served by ``thinkio run soak/app``.

The scenario that starts it sets its settings through environment variables (see
``config/adapter.py``); nothing here needs editing.
"""

host = "127.0.0.1"
port = 0
