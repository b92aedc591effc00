"""Asking the judge: prompt templates, score parsing, retries with reworded prompts, failures."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from giqa_harness.errors import TaskError
from giqa_harness.llm.base import LLMBackend
from giqa_harness.metrics.base import is_failed
from giqa_harness.metrics.judge import (
    DEFAULT_JUDGE_PROMPTS,
    fill_prompt,
    judge_scores,
    parse_score,
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


@pytest.mark.parametrize(
    "reply, score",
    [
        ("3", 3),
        ("Score: 3/4", 3),
        ("**3**", 3),
        ("4/4", 4),
        ("Rating: 2 out of 4", 2),
        ("On a scale of 0 to 4, I would give it a 3.", 3),
        ("Score (0-4): 1", 1),
        ("The answer covers 2 of the 3 issues. Score: 3", 3),
        ("<think>Maybe 1, maybe 2.</think>\n4", 4),
        ("I give it 0.", 0),
        ("3 = most points and the overall judgement agree", 3),
        ("10", None),
        ("3.5", None),
        ("Score: 7", None),
        ("I cannot rate this.", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_score(reply, score):
    assert parse_score(reply) == score


# Filler text without digits, '<' (think tags) or '/' (a "/4" scale mention).
filler = st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs"), blacklist_characters="</"), max_size=40)
shapes = st.sampled_from(["{s}", "Score: {s}", "**{s}**", "{s}/4", "Rating: {s} out of 4", "rating = {s}."])


@given(filler, st.integers(0, 4), shapes, filler)
def test_a_score_is_found_in_any_surrounding_text(before, score, shape, after):
    assert parse_score(f"{before}. {shape.format(s=score)}\n{after}") == score


@given(st.text(max_size=120))
def test_parsing_never_raises_and_stays_on_the_scale(reply):
    assert parse_score(reply) in (None, 0, 1, 2, 3, 4)


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


def test_an_unparseable_reply_is_asked_again_with_a_different_prompt():
    judge = ScriptedJudge(lambda p: "2" if "Attempt 2" in p else "Hmm, hard to say.")
    assert judge_scores(judge, ["rate A"], retries=2) == [2]
    assert len(judge.prompts) == 2 and judge.prompts[0] != judge.prompts[1]


def test_after_the_retries_a_sample_is_failed_with_its_reason_never_zero():
    judge = ScriptedJudge(lambda p: "3" if "good" in p else "I refuse.")
    good, bad = judge_scores(judge, ["rate good", "rate bad"], retries=2)
    assert good == 3
    assert is_failed(bad) and "I refuse." in bad["failed"] and "3 attempts" in bad["failed"]
    assert sum("bad" in p for p in judge.prompts) == 3
    assert len(set(judge.prompts)) == len(judge.prompts)


def test_failed_calls_and_backend_errors_are_failures_too():
    (none,) = judge_scores(ScriptedJudge(lambda p: None), ["x"], retries=1)
    assert is_failed(none) and "no reply" in none["failed"]

    class Down(LLMBackend):
        calls = 0

        def complete(self, prompts, system=None, **generation):
            self.calls += 1
            raise ConnectionError("judge unreachable")

    down = Down("down")
    (failure,) = judge_scores(down, ["x"], retries=2)
    assert is_failed(failure) and "judge unreachable" in failure["failed"]
    assert down.calls == 1  # the backend already retried; a raise is not asked again


def test_the_same_question_is_asked_once_per_backend():
    judge = ScriptedJudge(lambda p: "4")
    assert judge_scores(judge, ["same", "same"]) == [4, 4]
    assert judge_scores(judge, ["same"]) == [4]
    assert judge.prompts == ["same"]
