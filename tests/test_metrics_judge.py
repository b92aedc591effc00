"""Asking the judge: prompt templates, retries with reworded prompts, failures, one outcome per question
and run, and what the response cache keeps (reading replies: test_metrics_judge_reply.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from giqa_harness.cache import CachedLLM, ResponseCache
from giqa_harness.errors import EndpointUnreachableError, TaskError
from giqa_harness.llm.base import LLMBackend
from giqa_harness.metrics.base import is_failed
from giqa_harness.metrics.judge import (
    DEFAULT_JUDGE_PROMPTS,
    fill_prompt,
    judge_scores,
    prompt_template,
)

TASKS = Path(__file__).resolve().parents[1] / "tasks" / "giqa_bench"


class ScriptedJudge(LLMBackend):
    """Replies from a function of the prompt (``None`` = a failed call); records every prompt."""

    def __init__(self, reply):
        super().__init__("scripted")
        self.reply = reply
        self.prompts: list[str] = []

    def complete(self, prompts, system=None, **generation):
        self.prompts.extend(prompts)
        return [self.reply(p) for p in prompts]


def test_fill_prompt_replaces_only_the_three_placeholders():
    template = 'Q: {question}\nRef: {reference}\nAns: {prediction}\nReply as JSON {"score": n} {other}'
    filled = fill_prompt(template, "Is it blurry?", "Yes.", "No {prediction}")
    assert filled == 'Q: Is it blurry?\nRef: Yes.\nAns: No {prediction}\nReply as JSON {"score": n} {other}'


def test_templates_come_from_the_task_else_the_documented_defaults():
    assert prompt_template("acc_w", {}) == DEFAULT_JUDGE_PROMPTS["acc_w"]
    assert prompt_template("acc_w", {"acc_w": "Grade {prediction}"}) == "Grade {prediction}"
    with pytest.raises(TaskError, match="judge_prompts.acc_w"):
        prompt_template("acc_w", {"acc_w": "Grade the answer"})


def test_the_shipped_tasks_use_the_documented_default_prompts():
    base = yaml.safe_load((TASKS / "_giqa_base.yaml").read_text())
    assert base["judge_prompts"] == DEFAULT_JUDGE_PROMPTS


def test_an_unparseable_reply_is_asked_again_with_a_prompt_that_says_what_was_wrong():
    judge = ScriptedJudge(lambda p: "2" if "Attempt 2" in p else "Somewhere between 2 and 3.")
    assert judge_scores(judge, ["rate A"], retries=2) == [2]
    first, second = judge.prompts
    assert first == "rate A" and second.startswith("rate A")
    assert "several different numbers (2, 3)" in second


def test_after_the_retries_a_sample_is_failed_with_the_reply_quoted_never_zero():
    judge = ScriptedJudge(lambda p: "3" if "good" in p else "-2")
    good, bad = judge_scores(judge, ["rate good", "rate bad"], retries=2)
    assert good == 3
    assert is_failed(bad)
    assert "after 3 attempt(s)" in bad["failed"] and "a negative number" in bad["failed"]
    assert "last reply: '-2'" in bad["failed"]
    assert sum("bad" in p for p in judge.prompts) == 3
    assert len(set(judge.prompts)) == len(judge.prompts)


def test_a_failed_call_is_not_asked_again_and_its_reason_is_kept():
    judge = ScriptedJudge(lambda p: None)
    (none,) = judge_scores(judge, ["x"], retries=2)
    assert is_failed(none) and "the judge call failed: the backend returned no reply" in none["failed"]
    assert judge.prompts == ["x"]  # the backend already retried; a reworded prompt would not help


def test_a_backend_that_raises_or_cannot_be_reached_fails_its_samples_with_the_cause():
    class Down(LLMBackend):
        calls = 0

        def complete(self, prompts, system=None, **generation):
            self.calls += 1
            raise ConnectionError("judge unreachable")

    down = Down("down")
    (failure,) = judge_scores(down, ["x"], retries=2)
    assert is_failed(failure) and "judge unreachable" in failure["failed"]
    assert down.calls == 1

    class Dead(LLMBackend):
        calls = 0

        def complete(self, prompts, system=None, **generation):
            self.calls += 1
            raise EndpointUnreachableError("cannot reach http://127.0.0.1:9/v1: connection refused")

    dead = Dead("dead")
    failures = judge_scores(dead, ["x", "y"], retries=2)
    assert [f["failed"] for f in failures] == [
        "the judge is unreachable: cannot reach http://127.0.0.1:9/v1: connection refused"] * 2
    assert dead.calls == 1  # not retried: the endpoint is down, not the reply unreadable


def test_the_same_question_is_asked_once_per_backend():
    judge = ScriptedJudge(lambda p: "4")
    assert judge_scores(judge, ["same", "same"]) == [4, 4]
    assert judge_scores(judge, ["same"]) == [4]
    assert judge.prompts == ["same"]


def test_metrics_asking_the_same_question_share_one_set_of_attempts_and_its_failure():
    judge = ScriptedJudge(lambda p: "No idea.")
    first = judge_scores(judge, ["rate W"], retries=2)  # Acc(W)
    second = judge_scores(judge, ["rate W"], retries=2)  # Acc(Total), same prompt
    assert first == second and is_failed(first[0])
    assert len(judge.prompts) == 3  # one original and two retries, not six


def test_a_reply_without_a_score_is_not_cached_so_a_rerun_asks_again(tmp_path):
    replies = {"rate W": "No idea."}
    judge = ScriptedJudge(lambda p: replies.get(p, "I still cannot say."))
    cache = ResponseCache(tmp_path / "cache.sqlite")
    (failure,) = judge_scores(CachedLLM(judge, cache), ["rate W"], retries=1)
    assert is_failed(failure) and cache.count("judge") == 0
    replies["rate W"] = "3"  # the judge answers properly this time
    rerun = CachedLLM(judge, cache)  # a new run: a new backend object, the same cache file
    assert judge_scores(rerun, ["rate W"], retries=1) == [3]
    assert cache.count("judge") == 1  # the score is a final answer and is kept
    assert judge_scores(CachedLLM(judge, cache), ["rate W"], retries=1) == [3]
    assert judge.prompts.count("rate W") == 2  # the third run was answered from the cache
    cache.close()
