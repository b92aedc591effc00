"""Asking an LLM judge for 0-4 scores: prompts, retries, failures (reading a reply: `judge_reply`).

The paper publishes no judge prompt. The task YAML's ``judge_prompts`` (one template per metric name)
wins; `DEFAULT_JUDGE_PROMPTS` applies to tasks that set none. Templates name the placeholders
``{question}``, ``{reference}`` and ``{prediction}``, filled with the markup-free texts; other braces
are left alone, so a template may contain JSON.

A reply that is not one integer on the 0-4 scale is asked again with a reworded prompt that says what
was wrong with it (a new prompt, so a response cache cannot hand back the same reply), up to
``retries`` more times; then the sample is recorded as failed, with the last reply quoted, never as a
0. Such replies are not cached as answers, so a later run asks again. A call that failed (the backend
gave up after its own retries: HTTP 500, a timeout...) is not asked again here: the sample fails with
the backend's reason. Metrics that ask the same question (Acc(W) and Acc(Total)) share one set of
attempts and one outcome within a run.
"""

from __future__ import annotations

import json
import re
import weakref
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..errors import EndpointUnreachableError, TaskError
from .base import failed
from .judge_reply import MAX_SCORE, holds_score, read_score

if TYPE_CHECKING:
    from ..llm.base import LLMBackend

DEFAULT_JUDGE_PROMPTS: dict[str, str] = {
    "llm_score": (
        "You compare a description of an image's visual quality with a reference description written by an\n"
        "expert who saw the image.\n\n"
        "Reference description:\n{reference}\n\n"
        "Description to rate:\n{prediction}\n\n"
        "Rate how relevant the description is to the reference: does it identify the same quality issues\n"
        "(or strengths), on the same objects or regions, with a similar overall judgement? Ignore wording and\n"
        "length.\n"
        "0 = unrelated to or contradicting the reference\n"
        "1 = a few points in common, mostly different\n"
        "2 = about half of the reference's points, or right points with a wrong overall judgement\n"
        "3 = most points and the overall judgement agree\n"
        "4 = fully consistent with the reference\n"
        "Reply with one integer from 0 to 4 and nothing else.\n"
    ),
    "acc_w": (
        "You grade an answer to a question about an image's visual quality against the reference answer.\n\n"
        "Question: {question}\nReference answer: {reference}\nAnswer to grade: {prediction}\n\n"
        "How correct is the answer, judged by its meaning and not its wording?\n"
        "0 = wrong or unrelated\n1 = mostly wrong\n2 = partly right\n3 = mostly right\n4 = fully right\n"
        "Reply with one integer from 0 to 4 and nothing else.\n"
    ),
}
PLACEHOLDERS = ("question", "reference", "prediction")
REPLY_QUOTE_CHARS = 200


def prompt_template(metric: str, judge_prompts: Mapping[str, str] | None) -> str:
    """The task's template for ``metric`` (else the default); it must name ``{prediction}``."""
    template = (judge_prompts or {}).get(metric) or DEFAULT_JUDGE_PROMPTS[metric]
    if "{prediction}" not in template:
        raise TaskError(
            f"task YAML judge_prompts.{metric}: the template must contain {{prediction}} "
            f"(placeholders: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
        )
    return template


def fill_prompt(template: str, question: str, reference: str, prediction: str) -> str:
    """The template with its placeholders replaced (nothing else in it is interpreted)."""
    values = {"question": question, "reference": reference, "prediction": prediction}
    return re.sub(r"\{(question|reference|prediction)\}", lambda m: values[m.group(1)], template)


def retry_prompt(prompt: str, attempt: int, problem: str) -> str:
    """The prompt for retry number ``attempt`` (1, 2, ...), after a reply that held ``problem`` instead of
    a score: reworded so that it is a new cache key, and saying what was wrong."""
    return (
        f"{prompt}\n\n(Attempt {attempt + 1}: your previous reply was not a single integer from 0 to {MAX_SCORE}; "
        f"it held {problem}. Reply with one integer from 0 to {MAX_SCORE} and nothing else.)"
    )


Outcome = Any  # an int score, or `failed(reason)`

# Outcomes already reached in this process, per backend object (one per run), so that two metrics that
# ask the same question (Acc(W) and Acc(Total)) share one set of attempts even without a response cache.
_outcomes: "weakref.WeakKeyDictionary[Any, dict[str, Outcome]]" = weakref.WeakKeyDictionary()


def judge_scores(
    judge: "LLMBackend", prompts: Sequence[str], retries: int = 2, system: str | None = None
) -> list[int | dict[str, str]]:
    """One 0-4 score per prompt, or `failed(reason)`: after ``1 + retries`` replies without a score,
    or at once when the backend's call failed. An unreachable endpoint fails every pending prompt with its
    cause (the client's breaker then answers later calls at once, without a request), so the task's other
    metrics are still computed and written."""
    try:
        memo = _outcomes.setdefault(judge, {})
    except TypeError:  # a backend that cannot be a weak dict key (unhashable): no sharing, still correct
        memo = {}
    keys = [json.dumps([system, retries, p]) for p in prompts]
    new: dict[str, str] = {}
    for key, prompt in zip(keys, prompts):
        if key not in memo:
            new.setdefault(key, prompt)  # each new question once, in order
    if new:
        memo.update(zip(new, _ask_until_scored(judge, list(new.values()), retries, system)))
    return [memo[k] for k in keys]


def _ask_until_scored(judge: "LLMBackend", prompts: list[str], retries: int, system: str | None) -> list[Outcome]:
    results: list[Outcome] = [None] * len(prompts)
    rejected: dict[int, tuple[str, str]] = {}  # prompt index -> (last reply, what was wrong with it)
    pending = list(range(len(prompts)))
    for attempt in range(retries + 1):
        if not pending:
            break
        asked = [prompts[i] if attempt == 0 else retry_prompt(prompts[i], attempt, rejected[i][1]) for i in pending]
        try:
            replies = judge.complete_detailed(asked, system=system, keep=holds_score)
        except EndpointUnreachableError as exc:
            for i in pending:
                results[i] = failed(f"the judge is unreachable: {exc}")
            return results
        except Exception as exc:  # a judge outage fails these samples (recorded), not the whole run
            for i in pending:
                results[i] = failed(f"the judge failed: {type(exc).__name__}: {exc}")
            return results
        still = []
        for i, reply in zip(pending, replies):
            if reply.text is None:  # the backend gave up after its own retries: asking again would too
                results[i] = failed(f"the judge call failed: {reply.error}")
                continue
            score, problem = read_score(reply.text)
            if score is None:
                rejected[i] = (reply.text, problem)
                still.append(i)
            else:
                results[i] = score
        pending = still
    for i in pending:
        text, problem = rejected[i]
        results[i] = failed(f"no single 0-{MAX_SCORE} score in the judge's reply after {retries + 1} attempt(s) "
                            f"(the last one held {problem}); last reply: {text[:REPLY_QUOTE_CHARS]!r}")
    return results
