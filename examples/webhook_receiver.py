"""A tiny webhook receiver for trying fenxiao's webhooks (README "Partner quick start").

    python examples/webhook_receiver.py whsec_...                 # listens on 127.0.0.1:8099
    python examples/webhook_receiver.py whsec_... --port 8100
    WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py

It verifies every POST with the `standardwebhooks` library (`pip install standardwebhooks`; the
project's .venv has it): the `webhook-signature` must be an HMAC of `webhook-id`,
`webhook-timestamp` and the body made with the endpoint's secret, and the timestamp within 5
minutes of this machine's clock. A message that verifies is answered 204 and printed as one line,

    <webhook-id> <type> <data as JSON>

(" (again)" after the id when that webhook-id was seen before: fenxiao delivers at least once,
so a receiver dedupes on it). Anything else is answered 400 and printed as "refused: <why>", and
fenxiao retries it. Only the Python standard library besides `standardwebhooks`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


def make_handler(secret: str):
    """A request handler class that verifies with `secret` and prints what verifies."""
    webhook = Webhook(secret)
    seen: set[str] = set()
    lock = threading.Lock()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                event = webhook.verify(body, dict(self.headers))
            except WebhookVerificationError as exc:
                self._answer(400, f"refused: {exc}")
                return
            msg_id = self.headers["webhook-id"]
            with lock:
                again = " (again)" if msg_id in seen else ""
                seen.add(msg_id)
            self._answer(204, f"{msg_id}{again} {event['type']} "
                              f"{json.dumps(event['data'], ensure_ascii=False, sort_keys=True)}")

        def _answer(self, status: int, line: str) -> None:
            print(line, flush=True)  # before the answer: the sender's next request cannot print first
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args):  # noqa: A002 - quiet: one line per webhook is printed above
            pass

    return Receiver


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Print the fenxiao webhooks whose signature verifies.")
    p.add_argument("secret", nargs="?", default=os.environ.get("WEBHOOK_SECRET", ""),
                   help="the endpoint's signing secret, whsec_... (default: $WEBHOOK_SECRET)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8099)
    a = p.parse_args(argv)
    if not a.secret.startswith("whsec_"):
        p.error("give the endpoint's secret (whsec_...), shown when the endpoint is created")
    server = ThreadingHTTPServer((a.host, a.port), make_handler(a.secret))
    print(f"listening on http://{a.host}:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
