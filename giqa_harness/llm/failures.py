"""What a chat client does with failed attempts: stop on an endpoint it cannot reach, and log retries
as one line per kind of failure with a count (not one line per attempt).

- `ConnectBreaker`: after ``limit`` connection failures in a row to one endpoint (refused, name not
  resolved, connect timeout, TLS failure; any HTTP reply resets the count) every request of the client
  raises `EndpointUnreachableError` naming the URL and the cause. A dead endpoint then costs a few
  attempts, not every record times every retry.
- `RetryTally`: one batch's failed attempts by kind ("HTTP 500", "timeout"...), logged when the batch
  ends.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import urllib.error
from dataclasses import dataclass

from ..errors import EndpointUnreachableError

DEFAULT_MAX_CONNECT_FAILURES = 3


def connect_failure_cause(exc: urllib.error.URLError, timeout: float) -> str:
    """Why a connection could not be made, in words ("connection refused")."""
    reason = exc.reason
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return f"host name not resolved ({reason.strerror or reason})"
    if isinstance(reason, TimeoutError):
        return f"no connection within {timeout:g} s"
    if isinstance(reason, ssl.SSLError):
        return f"TLS failed ({getattr(reason, 'reason', None) or reason})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[:1].lower() + reason.strerror[1:]
    return str(reason)


class ConnectBreaker:
    """Counts connection failures in a row to one endpoint, across threads; trips at ``limit``."""

    def __init__(self, base_url: str, limit: int = DEFAULT_MAX_CONNECT_FAILURES) -> None:
        self.base_url, self.limit = base_url, limit
        self._count = 0
        self._tripped: str | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raise when tripped: no more requests go to this endpoint."""
        if self._tripped is not None:
            raise EndpointUnreachableError(self._tripped)

    def reached(self) -> None:
        """The endpoint answered (any HTTP status)."""
        with self._lock:
            self._count = 0

    def failed(self, cause: str) -> None:
        """One more connection failure; raises once there were ``limit`` in a row."""
        with self._lock:
            self._count += 1
            if self._count >= self.limit and self._tripped is None:
                self._tripped = (f"cannot reach {self.base_url}: {cause} "
                                 f"({self._count} connection attempts in a row failed)")
        self.check()


@dataclass
class _Kind:
    attempts: int = 0  # failed attempts of this kind
    gave_up: int = 0  # requests whose last attempt failed this way
    example: str = ""


class RetryTally:
    """One batch's failed attempts, by kind, across the batch's threads."""

    def __init__(self) -> None:
        self._kinds: dict[str, _Kind] = {}
        self._lock = threading.Lock()

    def failed(self, kind: str, detail: str, final: bool) -> None:
        with self._lock:
            entry = self._kinds.setdefault(kind, _Kind(example=detail))
            entry.attempts += 1
            entry.gave_up += final

    def log(self, logger: logging.Logger, url: str, attempts_per_request: int) -> None:
        """One warning per kind of failure."""
        with self._lock:
            kinds = sorted(self._kinds.items(), key=lambda item: -item[1].attempts)
        for kind, entry in kinds:
            logger.warning("%s: %d attempt(s) failed with %s (e.g. %s); %d retried, %d request(s) gave up "
                           "(at most %d attempt(s) each)", url, entry.attempts, kind, entry.example,
                           entry.attempts - entry.gave_up, entry.gave_up, attempts_per_request)
