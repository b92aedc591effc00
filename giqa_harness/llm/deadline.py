"""Sending one HTTP request within a deadline that bounds all of it.

A socket timeout bounds each read and write, not the request: a server that trickles a byte now and
then holds a request for as long as it likes. Here a watchdog shuts the request's socket down when the
deadline passes, which ends whatever connect, read or write is under way; the caller then gets
`RequestTimeout`. Requests still go through ``urllib`` (proxies from the environment, TLS verification),
with connection classes that hand their socket to the watchdog.

One watchdog thread serves the whole process, and a client builds its opener (proxy settings, TLS
context) once: a thread and an opener per request cost about 0.3 ms of interpreter time each, which a
client at concurrency 32 takes from whatever else the process computes (benchmarks/bench_chat_client.py).
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import os
import socket
import ssl
import threading
import time
import urllib.request
from typing import Any


class RequestTimeout(TimeoutError):
    """No complete reply within the deadline (the server was reached)."""


class Deadline:
    """A watchdog over one request: ``seconds`` after entering, the watched socket is shut down."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.when = 0.0  # time.monotonic() at which it expires, set on entering
        self.expired = False
        self.finished = False  # the request left its ``with`` block; the watchdog skips it
        self.connected = False  # a connection (TCP and, for https, TLS) was established
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> "Deadline":
        self.when = time.monotonic() + self.seconds
        _watchdog.arm(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            self.finished = True
            self._sock = None

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down at the deadline (at once when it has passed already)."""
        with self._lock:
            self.connected = True
            self._sock = sock
            if self.expired:
                _shut(sock)

    def expire(self) -> None:
        """The deadline passed: shut the watched socket down (nothing once the request has finished)."""
        with self._lock:
            if self.finished:
                return
            self.expired = True
            if self._sock is not None:
                _shut(self._sock)


class _Watchdog:
    """One daemon thread expiring every armed `Deadline` of the process in time order."""

    def __init__(self) -> None:
        self._wakeup = threading.Condition(threading.Lock())
        self._armed: list[tuple[float, int, Deadline]] = []  # a heap by expiry time
        self._order = itertools.count()  # ties broken by arming order; deadlines themselves do not compare
        self._thread: threading.Thread | None = None

    def arm(self, deadline: Deadline) -> None:
        with self._wakeup:
            heapq.heappush(self._armed, (deadline.when, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="giqa-deadlines", daemon=True)
                self._thread.start()
            elif self._armed[0][2] is deadline:  # sooner than what the thread sleeps towards
                self._wakeup.notify()

    def _run(self) -> None:
        with self._wakeup:
            while True:
                now = time.monotonic()
                # Finished requests leave their entries behind; they are dropped when they come up.
                while self._armed and (self._armed[0][2].finished or self._armed[0][0] <= now):
                    heapq.heappop(self._armed)[2].expire()
                self._wakeup.wait(self._armed[0][0] - now if self._armed else None)


_watchdog = _Watchdog()


def _fresh_watchdog_in_child() -> None:
    # A forked child has no watchdog thread, and the parent's lock may have been held at the fork.
    global _watchdog
    _watchdog = _Watchdog()


os.register_at_fork(after_in_child=_fresh_watchdog_in_child)


def _shut(sock: socket.socket) -> None:
    try:
        # The plain socket method also for TLS sockets: it ends a blocked read on the descriptor
        # without touching the TLS object another thread is using.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


_current = threading.local()  # the deadline of the request this thread is sending, set by send_within


def _watch_current(sock: socket.socket) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is None:
        raise RuntimeError("a deadline opener was used outside send_within")
    deadline.watch(sock)


class _WatchedHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch_current(self.sock)


class _WatchedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watch_current(self.sock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        if self._context is None:  # type: ignore[has-type]
            # Built at the first https request and shared by later ones: loading the system's
            # certificates for every connection costs milliseconds. The same verification as urlopen's.
            self._context = ssl.create_default_context()
        options: dict[str, Any] = {"context": self._context}
        if getattr(self, "_check_hostname", None) is not None:  # Python < 3.12 still passes it
            options["check_hostname"] = self._check_hostname  # type: ignore[attr-defined]
        return self.do_open(_WatchedHTTPSConnection, req, **options)


def deadline_opener() -> urllib.request.OpenerDirector:
    """An opener for `send_within`, to be reused across requests and threads (it reads the proxy
    settings from the environment now, as ``urlopen``'s own opener does when first used)."""
    return urllib.request.build_opener(_HTTPHandler(), _HTTPSHandler())


def send_within(request: urllib.request.Request, seconds: float,
                opener: urllib.request.OpenerDirector | None = None) -> tuple[int, bytes, Any]:
    """``(status, body, headers)`` of ``request``, all of it within ``seconds``, sent through ``opener``
    (one from `deadline_opener`; a new one when None).

    HTTP error statuses are returned like any other. `RequestTimeout` when the deadline passed after
    the connection was made; connection failures (refused, unresolvable, a connect timeout) raise
    ``urllib.error.URLError`` as ``urlopen`` does.
    """
    import urllib.error

    opener = opener or deadline_opener()
    with Deadline(seconds) as deadline:
        outer, _current.deadline = getattr(_current, "deadline", None), deadline
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
        finally:
            _current.deadline = outer
        if deadline.expired:  # a body cut short by the watchdog can look complete (no Content-Length)
            raise RequestTimeout(f"no complete reply within {seconds:g} s")
    return status, body, headers
