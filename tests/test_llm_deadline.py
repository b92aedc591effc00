"""One HTTP request within a deadline that bounds all of it, against a loopback server."""

from __future__ import annotations

import json
import multiprocessing
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings

import pytest

from giqa_harness.llm.deadline import Deadline, RequestTimeout, deadline_opener, send_within
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


def test_one_watchdog_thread_serves_every_request_of_the_process():
    with ChatServer(lambda r: Reply.chat("ok")) as server:
        before = threading.active_count()
        opener = deadline_opener()
        workers = [threading.Thread(target=send_within, args=(request(server.base_url), 5, opener)) for _ in range(16)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    watchdogs = [t for t in threading.enumerate() if t.name == "giqa-deadlines"]
    assert len(watchdogs) == 1 and threading.active_count() <= before + 1  # no thread left per request


def test_requests_with_different_deadlines_each_end_at_their_own():
    # Armed longest first, so the watchdog must wake early for each sooner deadline.
    ended: dict[float, float] = {}
    opener = deadline_opener()

    def send(seconds: float) -> None:
        started = time.perf_counter()
        with pytest.raises(RequestTimeout):
            send_within(request(server.base_url), seconds, opener)
        ended[seconds] = time.perf_counter() - started

    with ChatServer(lambda r: Reply.chat("x" * 100, trickle=0.05)) as server:  # the body takes 5 s or more
        workers = []
        for seconds in (1.2, 0.7, 0.3):
            workers.append(threading.Thread(target=send, args=(seconds,)))
            workers[-1].start()
            time.sleep(0.02)
        for worker in workers:
            worker.join()
    for seconds, took in ended.items():
        assert seconds <= took < seconds + 0.5, (seconds, took)


def test_a_finished_request_is_left_alone_when_its_deadline_passes():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        with Deadline(0.1) as deadline:
            deadline.watch(ours)
        time.sleep(0.3)
        ours.sendall(b"still open")
        assert theirs.recv(16) == b"still open" and not deadline.expired


def test_an_unfinished_request_past_its_deadline_has_its_socket_shut():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        with Deadline(0.1) as deadline:
            deadline.watch(ours)
            ours.settimeout(5)
            assert ours.recv(16) == b""  # the shutdown ends the blocked read
        assert deadline.expired


def _timed_trickle(url: str, results: "multiprocessing.Queue[float]") -> None:
    started = time.perf_counter()
    try:
        send_within(request(url), 0.3)
    except RequestTimeout:
        results.put(time.perf_counter() - started)
    else:
        results.put(-1.0)


@pytest.mark.skipif(sys.platform == "win32", reason="no fork")
def test_a_forked_child_has_a_watchdog_of_its_own():
    with ChatServer(lambda r: Reply.chat("x" * 50, trickle=0.05)) as server:
        with pytest.raises(RequestTimeout):  # the parent's watchdog thread is running before the fork
            send_within(request(server.base_url), 0.2)
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # forking a process that has threads
            child = context.Process(target=_timed_trickle, args=(server.base_url, results))
            child.start()
        took = results.get(timeout=10)
        child.join(timeout=10)
    assert 0.3 <= took < 1.0  # without a watchdog the child would wait out the whole 2.5 s body


def test_a_client_builds_its_opener_once(monkeypatch):
    from giqa_harness.llm.http_chat import ChatClient

    with ChatServer(lambda r: Reply.chat("ok")) as server:
        client = ChatClient(server.base_url, concurrency=4)
        built = []
        monkeypatch.setattr(urllib.request, "build_opener", lambda *a: built.append(a))
        results = client.post_many([{"messages": []}] * 12)
    assert [r.text for r in results] == ["ok"] * 12 and built == []
