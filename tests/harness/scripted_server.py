"""A loopback HTTP server that answers from a script and records what it was sent.

For harness tests that need exact answers (429 with Retry-After, a 401, a refused Basic
login) that the reference would not give on demand.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    """One scripted response."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    """One request the server got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Rule = Callable[[Received], Answer | None]


class ScriptedServer:
    """Answers each request with the first rule that returns an Answer, else with 404."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.received: list[Received] = []
        self._queues: dict[tuple[str, str], deque[Answer]] = {}
        self.base_url = ""

    def queue(self, method: str, path: str, *answers: Answer) -> None:
        """Answer `method path` with these answers in turn (the last one repeats)."""
        self._queues.setdefault((method, path), deque()).extend(answers)

    def answer(self, request: Received) -> Answer:
        for rule in self.rules:
            found = rule(request)
            if found is not None:
                return found
        answers = self._queues.get((request.method, request.path.split("?", 1)[0]))
        if answers:
            return answers.popleft() if len(answers) > 1 else answers[0]
        return Answer(404, {"code": "NOT_FOUND", "message": "no script", "id": "x"})


def _handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            received = Received(self.command, self.path, dict(self.headers.items()), body)
            server.received.append(received)
            answer = server.answer(received)
            if answer.delay:
                threading.Event().wait(answer.delay)
            payload = b"" if answer.body is None else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            if payload:
                self.send_header("Content-Type", "application/json")
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            return

    return Handler


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    """Serve a `ScriptedServer` on a free loopback port for the block."""
    script = ScriptedServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    httpd.daemon_threads = True
    script.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield script
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
