"""An HTTP proxy on loopback in front of DynamoDB Local, for faults between the function and
DynamoDB: it counts the requests by operation and, as its plan says for each, forwards it,
answers 500 itself, or holds a write until its resend arrives and then applies it (before or
after the resend) while its own client has long given up."""
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List
from urllib.parse import urlsplit

FORWARD, FAIL_500 = "forward", "fail-500"
# Held until the next request of the same operation arrives; then applied before that one
# (LATE) or after it (OVERTAKEN). Its answer goes nowhere: its client timed out.
LATE, OVERTAKEN = "late", "overtaken"
HOLD_SECONDS = 10


class DynamoDBProxy:
    def __init__(self, upstream: str, plan: Callable[[str, int], str] = lambda operation, nth: FORWARD):
        """``plan(operation, nth)`` -> the action for the nth (from 0) request of that operation."""
        self.operations: List[str] = []
        self._upstream = urlsplit(upstream)
        self._plan = plan
        self._lock = threading.Lock()
        self._held: Dict[str, dict] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def count(self, operation: str) -> int:
        return self.operations.count(operation)

    def __enter__(self) -> "DynamoDBProxy":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _forward(self, headers: dict, body: bytes):
        connection = http.client.HTTPConnection(self._upstream.hostname, self._upstream.port, timeout=30)
        try:
            connection.request("POST", "/", body=body, headers=headers)
            answer = connection.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read()
        finally:
            connection.close()

    def _arrived(self, operation: str) -> str:
        with self._lock:
            nth = self.count(operation)
            self.operations.append(operation)
            return self._plan(operation, nth)

    def _handle(self, operation: str, headers: dict, body: bytes):
        """The answer to send, or None when the client is not to get one."""
        action = self._arrived(operation)
        if action == FAIL_500:
            message = {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                       "message": "injected"}
            return 500, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(message).encode()
        if action in (LATE, OVERTAKEN):
            held = {"action": action, "resent": threading.Event(), "applied": threading.Event()}
            with self._lock:
                self._held[operation] = held
            held["resent"].wait(HOLD_SECONDS)
            if action == OVERTAKEN:
                held["resend_applied"].wait(HOLD_SECONDS)
            self._forward(headers, body)
            held["applied"].set()
            return None
        with self._lock:
            held = self._held.pop(operation, None)
        if held is None:
            return self._forward(headers, body)
        held["resend_applied"] = threading.Event()
        held["resent"].set()
        if held["action"] == LATE:
            held["applied"].wait(HOLD_SECONDS)
            return self._forward(headers, body)
        answer = self._forward(headers, body)
        held["resend_applied"].set()
        held["applied"].wait(HOLD_SECONDS)
        return answer

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name: value for name, value in self.headers.items()
                           if name.lower() not in ("connection", "keep-alive")}
                operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                answer = proxy._handle(operation, headers, body)
                if answer is None:
                    self.close_connection = True
                    return
                status, answer_headers, answer_body = answer
                self.send_response(status)
                for name in ("Content-Type", "x-amzn-RequestId", "x-amz-crc32"):
                    if name in answer_headers:
                        self.send_header(name, answer_headers[name])
                self.send_header("Content-Length", str(len(answer_body)))
                self.end_headers()
                self.wfile.write(answer_body)

            def log_message(self, *_):
                pass

        return Handler
