"""The ``openai:MODEL@BASE_URL`` backend against a real HTTP server on loopback."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from giqa_harness.errors import ConfigError, EndpointUnreachableError
from giqa_harness.llm import build_backend
from giqa_harness.llm.base import Completion
from giqa_harness.llm.http_chat import ChatClient, EndpointError, message_text, retry_after_seconds
from giqa_harness.llm.openai_compat import DEFAULT_BASE_URL, parse_openai_target
from giqa_harness.testing.chat_server import ChatServer, Reply, unused_port

KEY = "sk-test-Zq8vXy31SECRET"


@pytest.fixture(autouse=True)
def no_ambient_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def scripted(*replies):
    """A handler answering with ``replies`` in turn, then echoing the prompt forever."""
    queue = list(replies)

    def handler(request):
        return queue.pop(0) if queue else Reply.chat(f"echo: {request.last_user_text}")

    return handler


def judge(server, **options):
    return build_backend(f"openai:judge-model@{server.base_url}", backoff=0.01, **options)


def test_429_is_retried_after_the_time_retry_after_asks_for():
    with ChatServer(scripted(Reply(429, '{"error": "slow down"}', {"Retry-After": "1"}))) as server:
        started = time.perf_counter()
        replies = judge(server).complete(["Rate this."])
        elapsed = time.perf_counter() - started
    assert replies == ["echo: Rate this."]
    assert len(server.requests) == 2
    assert elapsed >= 1.0  # the back-off alone would have waited about 0.01 s


def test_500_is_retried_with_back_off():
    with ChatServer(scripted(Reply(500, "internal"), Reply(503, "busy"))) as server:
        assert judge(server).complete_detailed(["Rate this."]) == [Completion("echo: Rate this.")]
    assert len(server.requests) == 3


def test_a_reply_slower_than_the_timeout_is_abandoned_and_retried():
    with ChatServer(scripted(Reply.chat("too late", delay=2.0))) as server:
        started = time.perf_counter()
        replies = judge(server, timeout=0.3).complete(["Rate this."])
        elapsed = time.perf_counter() - started
    assert replies == ["echo: Rate this."]
    assert len(server.requests) == 2
    assert elapsed < 1.5  # it did not wait for the slow reply


@pytest.mark.parametrize("garbage", ["<html>Bad gateway</html>", '{"object": "chat.completion"}',
                                     '{"choices": []}', '{"choices": [{"message": {"content": null}}]}'])
def test_a_reply_that_is_not_a_chat_completion_is_retried_then_failed(garbage):
    with ChatServer(lambda request: Reply(200, garbage)) as server:
        (reply,) = judge(server, max_retries=2).complete_detailed(["Rate this."])
    assert reply.text is None and "not a chat completion" in reply.error and "(3 attempt(s))" in reply.error
    assert len(server.requests) == 3


def test_a_client_error_is_not_retried_and_fails_that_prompt_only():
    def handler(request):
        if "too long" in request.last_user_text:
            return Reply(400, '{"error": "context length exceeded"}')
        return Reply.chat("Score: 2")

    with ChatServer(handler) as server:
        fine, too_long, fine_too = judge(server).complete_detailed(["fine", "too long", "fine too"])
    assert fine.text == fine_too.text == "Score: 2"
    assert too_long.text is None and too_long.error.startswith("HTTP 400")
    assert len(server.requests) == 3


def test_a_trickling_reply_is_cut_off_at_the_timeout_of_the_whole_request():
    # Each byte comes well within the timeout, so a timeout per socket read would wait for all of them.
    with ChatServer(scripted(Reply.chat("slow", trickle=0.02))) as server:
        backend = judge(server, timeout=0.5)
        started = time.perf_counter()
        replies = backend.complete(["Rate this."])
        elapsed = time.perf_counter() - started
    assert replies == ["echo: Rate this."]  # the retry got the prompt's echo at once
    assert len(server.requests) == 2
    assert elapsed < 1.5  # the trickled body alone takes about 4 s


def test_a_reply_that_always_trickles_fails_with_the_timeout_as_its_reason():
    with ChatServer(lambda request: Reply.chat("slow", trickle=0.02)) as server:
        backend = judge(server, timeout=0.3, max_retries=1)
        assert backend.complete_detailed(["Rate this."])[0].error == "no complete reply within 0.3 s (2 attempt(s))"
    assert len(server.requests) == 2


def test_a_dead_endpoint_stops_after_three_connection_failures_with_one_clear_error():
    url = f"http://127.0.0.1:{unused_port()}/v1"
    backend = build_backend(f"openai:m@{url}", backoff=0.01, max_retries=5)
    started = time.perf_counter()
    with pytest.raises(EndpointUnreachableError) as caught:
        backend.complete([f"prompt {i}" for i in range(20)])
    assert str(caught.value) == f"cannot reach {url}: connection refused (3 connection attempts in a row failed)"
    with pytest.raises(EndpointUnreachableError):  # and it stays stopped: no more requests
        backend.complete(["one more"])
    assert time.perf_counter() - started < 2


def test_connection_failures_below_the_limit_are_retried_then_failed():
    backend = build_backend(f"openai:m@http://127.0.0.1:{unused_port()}/v1", backoff=0.01, max_retries=2,
                            max_connect_failures=10)
    assert backend.complete_detailed(["hello"]) == [Completion(None, "connection refused (3 attempt(s))")]


def test_retries_are_logged_as_one_line_per_kind_of_failure_with_a_count(caplog):
    def handler(request):  # the first two attempts of every prompt fail, each prompt's own way
        attempt = sum(r.body == request.body for r in server.requests)
        if attempt > 2:
            return Reply.chat("Score: 1")
        return Reply(500, "internal") if "a" in request.last_user_text else Reply(429, "slow down")

    with ChatServer(handler) as server, caplog.at_level(logging.WARNING):
        replies = judge(server).complete(["a", "b", "a again"])
    assert replies == ["Score: 1"] * 3 and len(server.requests) == 9
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert f"{server.base_url}/chat/completions: 4 attempt(s) failed with HTTP 500" in lines[0]
    assert "4 retried, 0 request(s) gave up" in lines[0]
    assert "2 attempt(s) failed with HTTP 429" in lines[1]


def test_concurrency_is_bounded_and_replies_keep_their_order():
    with ChatServer(lambda request: Reply.chat(request.last_user_text.upper(), delay=0.1)) as server:
        prompts = [f"prompt {i}" for i in range(12)]
        replies = judge(server, concurrency=3).complete(prompts)
    assert replies == [p.upper() for p in prompts]
    assert server.max_active == 3


def test_each_result_is_handed_over_as_its_request_completes_in_the_calling_thread():
    def slow_first(request):
        return Reply.chat(request.last_user_text, delay=0.3 if request.last_user_text == "slow" else 0.0)

    reported = []
    with ChatServer(slow_first) as server:
        client = ChatClient(server.base_url, concurrency=4)
        bodies = [{"model": "m", "messages": [{"role": "user", "content": text}]} for text in ("slow", "a", "b")]
        results = client.post_many(bodies, lambda i, r: reported.append((i, r.text, threading.current_thread())))
    assert [r.text for r in results] == ["slow", "a", "b"]  # returned in order, as without a callback
    assert reported[-1][:2] == (0, "slow")  # the slow first request is reported last
    assert sorted(i for i, _, _ in reported) == [0, 1, 2]
    assert {thread for _, _, thread in reported} == {threading.current_thread()}


def test_request_body_carries_model_system_and_greedy_settings():
    with ChatServer(scripted()) as server:
        judge(server, max_tokens=64).complete(["Rate this."], system="You are a judge.", max_new_tokens=5)
    body = server.requests[0].body
    assert body["model"] == "judge-model"
    assert body["messages"] == [{"role": "system", "content": "You are a judge."},
                                {"role": "user", "content": "Rate this."}]
    assert body["temperature"] == 0.0 and body["max_tokens"] == 5  # max_new_tokens wins over the default


def test_api_key_goes_in_the_header_and_nowhere_else(monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    echo_key = Reply(400, json.dumps({"error": f"bad request for key {KEY}"}))
    with ChatServer(scripted(Reply(500, f"upstream failed for {KEY}"), Reply.chat("ok"), echo_key)) as server:
        backend = judge(server)
        with caplog.at_level(logging.DEBUG):
            assert backend.complete(["a"]) == ["ok"]
            (failed,) = backend.complete_detailed(["b"])
    assert {r.headers["Authorization"] for r in server.requests} == {f"Bearer {KEY}"}
    visible = " ".join([repr(backend), repr(backend.client), json.dumps(backend.identity()), caplog.text,
                        str(failed)])
    assert KEY not in visible
    assert "HTTP 500: upstream failed for ***" in caplog.text  # the echoed key was scrubbed, the rest kept
    assert failed.error.startswith("HTTP 400") and "***" in failed.error


def test_a_key_echoed_in_a_reply_is_scrubbed_before_anyone_sees_it(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with ChatServer(lambda request: Reply.chat(f"Score: 3. You sent {request.headers['Authorization']}")) as server:
        assert judge(server).complete(["a"]) == ["Score: 3. You sent Bearer ***"]


def test_a_rejected_key_raises_without_showing_it(monkeypatch):
    monkeypatch.setenv("MY_KEY", KEY)
    with ChatServer(lambda request: Reply(401, json.dumps({"error": f"Incorrect API key {KEY}"}))) as server:
        backend = judge(server, api_key_env="MY_KEY")
        with pytest.raises(EndpointError, match="HTTP 401") as caught:
            backend.complete(["a"])
    assert KEY not in str(caught.value) and KEY not in repr(caught.value)
    assert len(server.requests) == 1  # no point retrying a wrong key


def test_no_key_means_no_authorization_header_and_a_named_variable_must_exist():
    with ChatServer(scripted()) as server:
        judge(server).complete(["a"])
        assert "Authorization" not in server.requests[0].headers
        with pytest.raises(ConfigError, match="JUDGE_KEY is not set"):
            judge(server, api_key_env="JUDGE_KEY")


def test_spec_parsing():
    assert parse_openai_target("gpt-4o-mini@https://api.openai.com/v1/") == ("gpt-4o-mini", "https://api.openai.com/v1")
    assert parse_openai_target("Qwen/Qwen2-7B@http://localhost:8000/v1") == ("Qwen/Qwen2-7B", "http://localhost:8000/v1")
    assert parse_openai_target("gpt-4o-mini") == ("gpt-4o-mini", DEFAULT_BASE_URL)
    with pytest.raises(ConfigError, match="openai:MODEL@BASE_URL"):
        parse_openai_target("model@localhost:8000")
    with pytest.raises(ConfigError, match="must not hold credentials") as caught:
        parse_openai_target("m@http://user:hunter2@host/v1")
    assert "hunter2" not in str(caught.value)


def test_unknown_judge_args_are_named():
    with pytest.raises(ConfigError, match="unknown --judge_args concurency"):
        build_backend("openai:m@http://127.0.0.1:1/v1", concurency=4)


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: retry now


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["choices", "message", "content", "text", "type", "role"]), inner, max_size=3),
    max_leaves=12,
)


@given(json_values)
def test_message_text_never_raises_on_any_json(value):
    assert message_text(value) is None or isinstance(message_text(value), str)
