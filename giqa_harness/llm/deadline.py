"""Sending one HTTP request within a deadline that bounds all of it.

A socket timeout bounds each read and write, not the request: a server that trickles a byte now and
then holds a request for as long as it likes. Here a watchdog timer shuts the request's socket down
when the deadline passes, which ends whatever connect, read or write is under way; the caller then
gets `RequestTimeout`. Requests still go through ``urllib`` (proxies from the environment, TLS
verification), with connection classes that hand their socket to the watchdog.
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.request
from typing import Any


class RequestTimeout(TimeoutError):
    """No complete reply within the deadline (the server was reached)."""


class Deadline:
    """A watchdog over one request: ``seconds`` after entering, the watched socket is shut down."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self.connected = False  # a connection (TCP and, for https, TLS) was established
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "Deadline":
        self._timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._timer.cancel()
        with self._lock:
            self._sock = None

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down at the deadline (at once when it has passed already)."""
        with self._lock:
            self.connected = True
            self._sock = sock
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._sock is not None:
                _shut(self._sock)


def _shut(sock: socket.socket) -> None:
    try:
        # The plain socket method also for TLS sockets: it ends a blocked read on the descriptor
        # without touching the TLS object another thread is using.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _watched(base: type[http.client.HTTPConnection], deadline: Deadline) -> type[http.client.HTTPConnection]:
    class WatchedConnection(base):  # type: ignore[valid-type, misc]
        def connect(self) -> None:
            super().connect()
            deadline.watch(self.sock)

    return WatchedConnection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPConnection, self.deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        options: dict[str, Any] = {"context": self._context}  # type: ignore[attr-defined]
        if getattr(self, "_check_hostname", None) is not None:  # Python < 3.12 still passes it
            options["check_hostname"] = self._check_hostname  # type: ignore[attr-defined]
        return self.do_open(_watched(http.client.HTTPSConnection, self.deadline), req, **options)


def send_within(request: urllib.request.Request, seconds: float) -> tuple[int, bytes, Any]:
    """``(status, body, headers)`` of ``request``, all of it within ``seconds``.

    HTTP error statuses are returned like any other. `RequestTimeout` when the deadline passed after
    the connection was made; connection failures (refused, unresolvable, a connect timeout) raise
    ``urllib.error.URLError`` as ``urlopen`` does.
    """
    import urllib.error

    with Deadline(seconds) as deadline:
        opener = urllib.request.build_opener(_HTTPHandler(deadline), _HTTPSHandler(deadline))
        try:
            try:
                with opener.open(request, timeout=seconds) as response:
                    status, body, headers = response.status, response.read(), response.headers
            except urllib.error.HTTPError as exc:
                with exc:
                    status, body, headers = exc.code, exc.read(), exc.headers
        except (OSError, http.client.HTTPException) as exc:
            if deadline.expired and deadline.connected:
                raise RequestTimeout(f"no complete reply within {seconds:g} s") from exc
            raise
        if deadline.expired:  # a body cut short by the watchdog can look complete (no Content-Length)
            raise RequestTimeout(f"no complete reply within {seconds:g} s")
    return status, body, headers
