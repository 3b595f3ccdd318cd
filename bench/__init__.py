"""thinkio's benchmarks: thinkio next to python-socketio and Node's socket.io (see run.py)."""
