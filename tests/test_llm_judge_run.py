"""A judged run end to end: ``--judge openai:MODEL@URL`` scores LLM-Score and Acc(W) through a loopback
server, and a second run with the same output path asks the judge nothing (the response cache). A
judge that fails (HTTP 500, a trickling reply, replies off the 0-4 scale, an echoed key, down) costs a
known number of requests, keeps the cause in the reason, and a dead one stops the run."""

from __future__ import annotations

import json
import time

import pytest

from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.plugins import registry
from giqa_harness.testing.chat_server import ChatServer, Reply, unused_port

KEY = "sk-judge-P4sk8SECRET"
# Replayed answers carry a marker; the judge scores by the marker it finds in the prompt.
ANSWERS = {"d1": "The [sky](<0, 59>) is bright ANSD1.", "d2": "Blurry ANSD2.", "y1": "Yes", "y2": "No",
           "w1": "Noise ANSW1", "w2": "Rather poor ANSW2"}
SCORES = {"ANSD1": "Score: 2", "ANSD2": "4", "ANSW1": "I would rate it 3.", "ANSW2": "1"}


def judge(request):
    prompt = request.last_user_text
    return Reply.chat(next(reply for marker, reply in SCORES.items() if marker in prompt))


@pytest.fixture
def judged_metrics():
    missing = {"llm_score", "acc_w"} - set(registry().metrics.names())
    if missing:
        pytest.skip(f"metrics {sorted(missing)} are not registered")


def test_judge_scores_a_run_and_a_second_run_asks_it_nothing(tmp_path, tiny_task, judged_metrics, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    task = tiny_task(metrics=("llm_score", "acc_w"))
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in ANSWERS.items()))
    out = tmp_path / "run"
    with ChatServer(judge) as server:
        def run():
            return evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task],
                                      output_path=out, log_samples=True, progress=False,
                                      judge=f"openai:judge-model@{server.base_url}", judge_args={"backoff": 0.01}))

        first = run()
        asked = len(server.requests)
        second = run()
    metrics = first["results"][task]["metrics"]
    assert metrics["llm_score"]["value"] == pytest.approx((2 + 4) / 2 * 25)
    assert metrics["acc_w"]["value"] == pytest.approx((3 + 1) / 2 / 4)
    assert asked == 4  # two descriptions, two What/Why/How answers; Yes/No needs no judge
    assert len(server.requests) == asked  # the second run was answered from the cache
    assert second["results"][task]["metrics"]["llm_score"]["value"] == metrics["llm_score"]["value"]
    assert first["judge"]["backend"] == f"openai:judge-model@{server.base_url}"
    assert {r.headers["Authorization"] for r in server.requests} == {f"Bearer {KEY}"}
    for path in out.iterdir():
        assert KEY.encode() not in path.read_bytes(), path.name


# -- a judge that misbehaves: every case counts the HTTP requests the run made ----------------------

FAULT_ARGS = {"backoff": 0.01, "max_retries": 2, "timeout": 0.5}  # 3 requests at most per call
W_PROMPTS = 2  # the tiny bench has two What/Why/How answers; Acc(W) and Acc(Total) both judge them


def judged_run(tmp_path, task, server_url, out="run"):
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in ANSWERS.items()))
    return evaluate(RunConfig(model="replay", model_args={"path": str(answers)}, tasks=[task],
                              output_path=tmp_path / out, log_samples=True, progress=False,
                              judge=f"openai:judge-model@{server_url}", judge_args=FAULT_ARGS))


def w_failures(tmp_path, task, out="run"):
    rows = [json.loads(line) for line in (tmp_path / out / f"samples_{task}.jsonl").read_text().splitlines()]
    return {r["doc_id"]: (r["scores"]["acc_w"], r["scores"]["acc_total"]) for r in rows if r["doc_id"] in ("w1", "w2")}


@pytest.mark.parametrize("name, reply, requests_per_prompt, reason", [
    # The client retries a 500 twice; the judge does not ask again on top (that made 9 per metric).
    ("HTTP 500", Reply(500, "internal error"), 3, "the judge call failed: HTTP 500: internal error (3 attempt(s))"),
    # Every byte in time for a per-read timeout; the whole request is cut at 0.5 s and retried.
    ("trickle", Reply.chat("3", trickle=0.05), 3, "no complete reply within 0.5 s (3 attempt(s))"),
    # Replies that are not a 0-4 score: asked again twice with a reworded prompt, then failed, quoted.
    ("negative", Reply.chat("-2"), 3, "(the last one held a negative number ('-2')); last reply: '-2'"),
    ("off-scale", Reply.chat("Score: 3/5"), 3, "another scale ('/5')); last reply: 'Score: 3/5'"),
])
def test_a_failing_judge_costs_one_set_of_attempts_per_question_and_keeps_the_cause(
        tmp_path, tiny_task, judged_metrics, name, reply, requests_per_prompt, reason):
    task = tiny_task(metrics=("acc_w", "acc_total"))
    with ChatServer(lambda request: reply) as server:
        results = judged_run(tmp_path, task, server.base_url)
        asked = len(server.requests)
        judged_run(tmp_path, task, server.base_url)  # a rerun with the same output path
        asked_again = len(server.requests) - asked
    assert asked == W_PROMPTS * requests_per_prompt  # shared by Acc(W) and Acc(Total)
    assert asked_again == asked  # nothing without a score was cached as an answer
    assert results["results"][task]["metrics"]["acc_w"]["failed"] == W_PROMPTS
    for acc_w, acc_total in w_failures(tmp_path, task).values():
        assert acc_w == acc_total and reason in acc_w["failed"]


def test_a_key_the_judge_echoes_is_scrubbed_before_the_reply_is_read_cached_or_written(
        tmp_path, tiny_task, judged_metrics, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    task = tiny_task(metrics=("acc_w", "acc_total"))
    # The key holds digits: left in, the reply would hold several numbers and not count as a score.
    echo = lambda request: Reply.chat(f"Score: 3 (request signed {request.headers['Authorization']})")  # noqa: E731
    with ChatServer(echo) as server:
        results = judged_run(tmp_path, task, server.base_url)
    assert len(server.requests) == W_PROMPTS
    assert results["results"][task]["metrics"]["acc_w"]["value"] == pytest.approx(3 / 4)
    for path in (tmp_path / "run").iterdir():
        assert KEY.encode() not in path.read_bytes(), path.name
    assert (tmp_path / "run" / "cache.sqlite").stat().st_size > 0


def test_a_judge_that_is_down_stops_asking_writes_what_it_has_and_exits_non_zero(
        tmp_path, tiny_task, judged_metrics, capsys):
    from giqa_harness.cli import main

    first = tiny_task(metrics=("acc_y", "acc_w", "acc_total"))
    second = tiny_task(metrics=("llm_score", "bleu4"), name="tiny_des")
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps({"doc_id": k, "answer": v}) + "\n" for k, v in ANSWERS.items()))
    url = f"http://127.0.0.1:{unused_port()}/v1"
    started = time.perf_counter()
    code = main(["--model", "replay", "--model_args", f"path={answers}", "--tasks", f"{first},{second}",
                 "--no_progress", "--output_path", str(tmp_path / "run"), "--judge", f"openai:judge-model@{url}",
                 "--judge_args", "backoff=0.01"])
    captured = capsys.readouterr()
    assert code == 1
    cause = f"the judge is unreachable: cannot reach {url}: connection refused"
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    first_metrics = results["results"][first]["metrics"]
    second_metrics = results["results"][second]["metrics"]
    # The judge's metrics fail on every sample with the cause; the rest of each task is still scored.
    for metric in (first_metrics["acc_w"], second_metrics["llm_score"]):
        assert metric["value"] is None and metric["coverage"]["scored"] == 0
        assert [c["reason"][:len(cause)] for c in metric["coverage"]["causes"]] == [cause], metric["coverage"]
    assert first_metrics["acc_y"]["value"] is not None and second_metrics["bleu4"]["value"] is not None
    assert first_metrics["acc_total"]["value"] is None
    assert "problems (exit status 1)" in captured.out
    assert f"{second}: LLM-Score failed on every sample" in captured.out
    assert "attempt" not in captured.err  # no retry lines
    assert time.perf_counter() - started < 5
    assert (tmp_path / "run" / "cache.sqlite").is_file()  # the model's answers are kept for the rerun
