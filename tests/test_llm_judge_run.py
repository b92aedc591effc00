"""A judged run end to end: ``--judge openai:MODEL@URL`` scores LLM-Score and Acc(W) through a loopback
server, and a second run with the same output path asks the judge nothing (the response cache)."""

from __future__ import annotations

import json

import pytest

from giqa_harness.evaluator import RunConfig, evaluate
from giqa_harness.plugins import registry
from giqa_harness.testing.chat_server import ChatServer, Reply

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
