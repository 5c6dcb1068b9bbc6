"""The bench's webhook receiver (bench/run.py --webhooks N): a fast local HTTP server answering
every POST 200 at once, as a partner's receiver that queues the event and returns would.

    .venv/bin/python bench/receiver.py [--port 0]

Prints "listening <port>" first (port 0: a free one), then, on SIGTERM or Ctrl-C, "received <n>".
It does not verify signatures: the bench measures fenxiao's side of the delivery, and the tests
(tests/webhooks, tests/integration/test_partner_walkthrough.py) verify them.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNT = {"n": 0}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
        with LOCK:
            COUNT["n"] += 1

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass


class Server(ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args(argv)
    server = Server(("127.0.0.1", a.port), Handler)
    print(f"listening {server.server_port}", flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    print(f"received {COUNT['n']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
