"""A scriptable OpenAI-compatible chat server on loopback, for testing judges, adapters and annotation
stages against real HTTP (status codes, Retry-After, slow replies, garbage) without any network.

    def answer(request):                      # a `ChatRequest`; return a `Reply`
        return Reply.chat("Score: 3")

    with ChatServer(answer) as server:
        backend = build_backend(f"openai:judge@{server.base_url}")

The server records every request (`requests`) and the most requests it held at once (`max_active`).
`Reply.trickle` sends a reply's body a byte at a time (a server that stalls a client whose timeout
bounds each read only); `unused_port` gives a loopback port nothing listens on (an endpoint that is down).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass(frozen=True)
class ChatRequest:
    """What the client sent: the parsed JSON body (None if it was not JSON), headers, path."""

    body: Any
    headers: dict[str, str]
    path: str
    number: int  # 1-based arrival order

    @property
    def last_user_text(self) -> str:
        """The text of the last user message (text parts joined, when content is a list of parts)."""
        content = self.body["messages"][-1]["content"]
        if isinstance(content, list):
            return "".join(part.get("text", "") for part in content if part.get("type") == "text")
        return content


@dataclass(frozen=True)
class Reply:
    """What the server answers: status, raw body text, extra headers, a delay before answering, and
    ``trickle`` seconds between the body's bytes (0: the body at once)."""

    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    trickle: float = 0.0

    @staticmethod
    def chat(text: str, delay: float = 0.0, trickle: float = 0.0) -> "Reply":
        """A well-formed chat-completions reply holding ``text``."""
        payload = {"id": "cmpl-test", "object": "chat.completion", "model": "test",
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}
        return Reply(200, json.dumps(payload), delay=delay, trickle=trickle)


def unused_port() -> int:
    """A loopback port that nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Server(ThreadingHTTPServer):
    # The listen backlog: http.server's default of 5 resets connections when a client opens dozens at once.
    request_queue_size = 256


class ChatServer:
    """A threaded HTTP server answering POST ``/v1/chat/completions`` through ``handler``."""

    def __init__(self, handler: Callable[[ChatRequest], Reply]) -> None:
        self.handler = handler
        self.requests: list[ChatRequest] = []
        self.active = self.max_active = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval makes shutdown (on leaving the block) quick.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="chat-server", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "ChatServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with server._lock:
                    request = ChatRequest(body, dict(self.headers), self.path, len(server.requests) + 1)
                    server.requests.append(request)
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    reply = server.handler(request) if self.path.endswith("/chat/completions") else Reply(404, "{}")
                    time.sleep(reply.delay)
                finally:
                    # Counted out before replying, so a client's next request never overlaps this one here.
                    with server._lock:
                        server.active -= 1
                data = reply.body.encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    if reply.trickle:
                        for i in range(len(data)):
                            self.wfile.write(data[i : i + 1])
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    else:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout) before the reply: expected in timeout tests

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler
