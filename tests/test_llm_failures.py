"""The dead-endpoint breaker and the per-kind retry log of the chat client."""

from __future__ import annotations

import logging
import threading

import pytest

from giqa_harness.errors import EndpointUnreachableError
from giqa_harness.llm.failures import ConnectBreaker, RetryTally


def test_the_breaker_trips_on_the_limit_of_failures_in_a_row_and_any_reply_resets_the_count():
    breaker = ConnectBreaker("http://host:1/v1", limit=3)
    breaker.failed("connection refused")
    breaker.failed("connection refused")
    breaker.reached()  # the endpoint answered (any status): it is up
    breaker.failed("connection refused")
    breaker.failed("connection refused")
    with pytest.raises(EndpointUnreachableError, match=r"^cannot reach http://host:1/v1: connection refused \(3 "):
        breaker.failed("connection refused")
    with pytest.raises(EndpointUnreachableError):
        breaker.check()  # stays tripped
    breaker.reached()
    with pytest.raises(EndpointUnreachableError):
        breaker.check()  # a late reply of a request sent before does not reopen it


def test_the_breaker_counts_failures_from_every_thread():
    breaker = ConnectBreaker("http://host:1/v1", limit=8)
    tripped = []

    def fail():
        try:
            breaker.failed("connection refused")
        except EndpointUnreachableError:
            tripped.append(True)

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tripped) == 1  # exactly the eighth failure trips it


def test_the_tally_logs_one_line_per_kind_most_frequent_first(caplog):
    tally = RetryTally()
    for _ in range(5):
        tally.failed("HTTP 503", "HTTP 503: busy", final=False)
    tally.failed("timeout", "no complete reply within 1 s", final=False)
    tally.failed("timeout", "no complete reply within 1 s", final=True)
    with caplog.at_level(logging.WARNING):
        tally.log(logging.getLogger("test"), "http://host/v1/chat/completions", 6)
    assert [r.getMessage() for r in caplog.records] == [
        "http://host/v1/chat/completions: 5 attempt(s) failed with HTTP 503 (e.g. HTTP 503: busy); 5 retried, "
        "0 request(s) gave up (at most 6 attempt(s) each)",
        "http://host/v1/chat/completions: 2 attempt(s) failed with timeout (e.g. no complete reply within 1 s); "
        "1 retried, 1 request(s) gave up (at most 6 attempt(s) each)",
    ]
