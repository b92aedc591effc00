"""Asking an LLM for JSON: reading the array out of a reply, and re-asking with varied prompts.

Both LLM stages (tags, VQA) want a JSON array. A reply that is not one, or whose elements break the
stage's schema, is asked again with the stage's next prompt, which names the problem; after the last
attempt the item fails with every attempt's reason (for a failed call, the backend's: HTTP 500, a
timeout...). An unreachable endpoint raises `EndpointUnreachableError` out of here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, TypeVar

from giqa_harness.llm.base import LLMBackend

T = TypeVar("T")

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


def json_array(reply: str | None, key: str) -> tuple[list[Any] | None, str | None]:
    """The JSON array in ``reply`` (bare, in a code fence, amid prose, or as ``{key: [...]}``), or
    ``(None, reason)``. Never raises."""
    if not isinstance(reply, str) or not reply.strip():
        return None, "empty reply"
    text = _FENCE.sub("", reply.strip())
    start, end = text.find("["), text.rfind("]")
    candidates = [text] + ([text[start : end + 1]] if 0 <= start < end else [])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get(key), list):
            data = data[key]
        if isinstance(data, list):
            return data, None
        return None, f"expected a JSON array, got a JSON {type(data).__name__}"
    return None, "not valid JSON"


def fill(template: str, **values: str) -> str:
    """``{name}`` placeholders replaced by plain substitution, so JSON braces in a template stay as they are."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


@dataclass
class Outcome(Generic[T]):
    """What one item's replies gave: ``value`` (None when every attempt failed) and each rejected
    attempt's reason."""

    value: T | None = None
    errors: list[str] = field(default_factory=list)

    def failure(self) -> str:
        return "; ".join(f"attempt {i}: {e}" for i, e in enumerate(self.errors, 1))


def ask_with_retries(
    llm: LLMBackend,
    count: int,
    prompt: Callable[[int, int, str], str],
    parse: Callable[[int, str | None], tuple[T | None, str | None]],
    max_attempts: int,
    system: str | None = None,
    **generation: Any,
) -> list[Outcome[T]]:
    """For items ``0..count-1``: ``prompt(item, attempt, problem)`` is sent (one batch per attempt) and
    ``parse(item, reply)`` gives a value or a reason; invalid items are asked again."""
    outcomes: list[Outcome[T]] = [Outcome() for _ in range(count)]
    pending = list(range(count))
    for attempt in range(max(1, max_attempts)):
        if not pending:
            break
        prompts = [prompt(i, attempt, outcomes[i].errors[-1] if outcomes[i].errors else "") for i in pending]
        replies = llm.complete_detailed(prompts, system=system, **generation)
        still = []
        for i, reply in zip(pending, replies):
            value, error = (parse(i, reply.text) if reply.text is not None
                            else (None, f"the LLM call failed: {reply.error}"))
            if value is None:
                outcomes[i].errors.append(error or "rejected")
                still.append(i)
            else:
                outcomes[i].value = value
        pending = still
    return outcomes
