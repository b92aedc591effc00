"""Asking an LLM judge for 0-4 scores: prompts, robust reply parsing, retries, failures.

The paper publishes no judge prompt. The task YAML's ``judge_prompts`` (one template per metric name)
wins; `DEFAULT_JUDGE_PROMPTS` applies to tasks that set none. Templates name the placeholders
``{question}``, ``{reference}`` and ``{prediction}``, filled with the markup-free texts; other braces
are left alone, so a template may contain JSON.

A reply that holds no score is asked again with a reworded prompt (so a response cache cannot hand back
the same reply), up to ``retries`` more times; then the sample is recorded as failed, with the reason,
never as a 0.
"""

from __future__ import annotations

import json
import re
import weakref
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ..errors import TaskError
from .base import failed

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
MAX_SCORE = 4

_THINK = re.compile(r"<think>.*?</think>", re.IGNORECASE | re.DOTALL)
# Mentions of the scale itself ("0-4", "0 to 4", "/4", "out of 4") are not scores.
_SCALE = re.compile(r"\b0\s*(?:-|–|—|to)\s*4\b|(?:/|\bout of)\s*4\b", re.IGNORECASE)
_LABELLED = re.compile(
    r"\b(?:score|rating|rated|grade|graded|rate)\b\s*(?:is|of|=|:|-)?\s*[*_`\"'(\[]*\s*(\d+)(?![\d]|\.\d)",
    re.IGNORECASE,
)
_INTEGER = re.compile(r"(?<![\d.])(\d+)(?![\d]|\.\d)")


def parse_score(reply: str | None) -> int | None:
    """The 0-4 score in a judge's reply, or None.

    Reasoning in ``<think>`` blocks and mentions of the scale are ignored; a number labelled as the
    score ("Score: 3", "Rating - **2**") wins; otherwise the first integer from 0 to 4 that is not part
    of a longer number or a decimal ("**3**", "3/4", "I give it 4."). Never raises.
    """
    if not isinstance(reply, str):
        return None
    text = _SCALE.sub(" ", _THINK.sub(" ", reply))
    for pattern in (_LABELLED, _INTEGER):
        for match in pattern.finditer(text):
            value = int(match.group(1))
            if 0 <= value <= MAX_SCORE:
                return value
    return None


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


def retry_prompt(prompt: str, attempt: int) -> str:
    """The prompt for retry number ``attempt`` (1, 2, ...): reworded so that it is a new cache key."""
    return (
        f"{prompt}\n\n(Attempt {attempt + 1}: your previous reply held no score. "
        f"Reply with a single integer from 0 to {MAX_SCORE}.)"
    )


# Replies already received in this process, per backend, so that two metrics that ask the same
# question (Acc(W) and Acc(Total)) ask once even when the run has no response cache.
_asked: "weakref.WeakKeyDictionary[Any, dict[str, str]]" = weakref.WeakKeyDictionary()


def _ask(judge: "LLMBackend", prompts: list[str], system: str | None) -> tuple[list[str | None], str | None]:
    """Replies (None for a failed call) and, when the backend raised, the error text."""
    try:
        memo = _asked.setdefault(judge, {})
    except TypeError:  # a backend that cannot be a weak dict key (unhashable): no sharing, still correct
        memo = {}
    keys = [json.dumps([system, p]) for p in prompts]
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key not in memo:
            first.setdefault(key, i)
    todo = list(first.values())  # each new question once, in order
    error = None
    if todo:
        try:
            replies = judge.complete([prompts[i] for i in todo], system=system)
            if not isinstance(replies, list) or len(replies) != len(todo):
                raise ValueError(f"backend returned {len(replies) if isinstance(replies, list) else replies!r} "
                                 f"replies for {len(todo)} prompts")
        except Exception as exc:  # a judge outage fails these samples (recorded), not the whole run
            replies, error = [None] * len(todo), f"{type(exc).__name__}: {exc}"
        for i, reply in zip(todo, replies):
            if isinstance(reply, str):
                memo[keys[i]] = reply
    return [memo.get(k) for k in keys], error


def judge_scores(
    judge: "LLMBackend", prompts: Sequence[str], retries: int = 2, system: str | None = None
) -> list[int | dict[str, str]]:
    """One 0-4 score per prompt, or `failed(reason)` after ``1 + retries`` attempts without one."""
    results: list[int | dict[str, str] | None] = [None] * len(prompts)
    last_reply: list[str | None] = [None] * len(prompts)
    last_error: str | None = None
    pending = list(range(len(prompts)))
    attempts = 0
    for attempt in range(retries + 1):
        if not pending:
            break
        asked = [prompts[i] if attempt == 0 else retry_prompt(prompts[i], attempt) for i in pending]
        attempts += 1
        replies, error = _ask(judge, asked, system)
        if error is not None:  # the backend raised after its own retries: asking again would too
            last_error = error
            break
        still = []
        for i, reply in zip(pending, replies):
            score = parse_score(reply)
            if score is None:
                last_reply[i] = reply if reply is not None else last_reply[i]
                still.append(i)
            else:
                results[i] = score
        pending = still
    for i in pending:
        if last_reply[i] is not None:
            reason = f"no 0-{MAX_SCORE} score in the judge's reply after {attempts} attempts; last reply: {last_reply[i][:200]!r}"
        else:
            reason = f"the judge failed: {last_error}" if last_error else f"the judge gave no reply after {attempts} attempts"
        results[i] = failed(reason)
    return results  # type: ignore[return-value]
