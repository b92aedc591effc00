"""API keys the harness sends, and scrubbing them out of what comes back.

A `Secret` never shows its value in a repr, a str() or a traceback's locals. Every secret made in this
process is remembered, so that `scrub` can remove any of them from text a server sent back (a reply
that echoes the key, an error page quoting the Authorization header) before that text is cached,
logged or written. A server may echo the key of another client in this process (a shared proxy), so
every key is scrubbed from every text, not only the key of the client that received it.
"""

from __future__ import annotations

import threading

MASK = "***"

_lock = threading.Lock()
_sent: set[str] = set()  # the values of every Secret made in this process


class Secret:
    """A string that never shows itself in a repr, a str() or a traceback's locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if value:
            with _lock:
                _sent.add(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def scrub(text: str) -> str:
    """``text`` with the value of every `Secret` of this process replaced by ``***``."""
    if not _sent or not text:
        return text
    with _lock:
        values = sorted(_sent, key=len, reverse=True)  # a key that contains another goes first
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text
