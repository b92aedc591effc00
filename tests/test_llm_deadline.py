"""One HTTP request within a deadline that bounds all of it, against a loopback server."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from giqa_harness.llm.deadline import RequestTimeout, send_within
from giqa_harness.testing.chat_server import ChatServer, Reply, unused_port


def request(url: str) -> urllib.request.Request:
    return urllib.request.Request(f"{url}/chat/completions", data=b'{"messages": []}', method="POST")


def test_a_reply_comes_back_whole_with_its_status_and_headers():
    with ChatServer(lambda r: Reply(503, json.dumps({"error": "busy"}), {"Retry-After": "2"})) as server:
        status, body, headers = send_within(request(server.base_url), 5)
    assert (status, json.loads(body), headers["Retry-After"]) == (503, {"error": "busy"}, "2")


def test_a_trickled_body_is_cut_off_at_the_deadline():
    with ChatServer(lambda r: Reply.chat("x" * 50, trickle=0.01)) as server:
        started = time.perf_counter()
        with pytest.raises(RequestTimeout, match="no complete reply within 0.3 s"):
            send_within(request(server.base_url), 0.3)
        assert time.perf_counter() - started < 0.8  # the body takes about 2 s


def test_a_refused_connection_is_a_url_error_not_a_timeout():
    with pytest.raises(urllib.error.URLError) as caught:
        send_within(request(f"http://127.0.0.1:{unused_port()}/v1"), 1)
    assert isinstance(caught.value.reason, ConnectionRefusedError)
