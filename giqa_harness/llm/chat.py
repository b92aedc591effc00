"""What the backends share: turning a (system, prompt) pair into chat messages or a chat-template text,
mapping generation settings, checking options, and isolating failures within a batch."""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Sequence, TypeVar

from ..errors import ConfigError

log = logging.getLogger(__name__)
T = TypeVar("T")


def chat_messages(prompt: str, system: str | None = None) -> list[dict[str, str]]:
    """OpenAI-style messages: an optional system turn, then the user's prompt."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    return messages


def render_chat(tokenizer: Any, prompt: str, system: str | None = None) -> tuple[str, bool]:
    """The text to tokenize, and whether it came from a chat template (then it already holds any BOS
    the model expects, so the caller must not add special tokens again).

    Without a chat template the prompt is used as plain text, the system text above it. Some templates
    refuse a system role (they raise); the system text then opens the user turn instead.
    """
    if not getattr(tokenizer, "chat_template", None):
        return (f"{system}\n\n{prompt}" if system else prompt), False
    try:
        text = tokenizer.apply_chat_template(chat_messages(prompt, system), tokenize=False, add_generation_prompt=True)
    except Exception:
        if not system:
            raise
        merged = f"{system}\n\n{prompt}"
        text = tokenizer.apply_chat_template(chat_messages(merged), tokenize=False, add_generation_prompt=True)
    return text, True


def positive_int(value: Any, name: str, owner: str) -> int:
    """An option that must be a positive integer (from ``--judge_args`` or ``--model_args``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{owner}: option {name!r} must be a positive integer, got {value!r}")
    return value


def positive_number(value: Any, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{owner}: option {name!r} must be a positive number, got {value!r}")
    return float(value)


def non_negative(value: Any, name: str, owner: str, integer: bool = False) -> float | int:
    """An option that must be a number >= 0 (a whole number when ``integer``)."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < 0:
        what = "a whole number" if integer else "a number"
        raise ConfigError(f"{owner}: option {name!r} must be {what} >= 0, got {value!r}")
    return value if integer else float(value)


def completion_settings(generation: Mapping[str, Any]) -> dict[str, Any]:
    """Generation settings (transformers / lmms-eval vocabulary) -> the field names that chat-completions
    endpoints and vLLM's ``SamplingParams`` share.

    ``max_new_tokens`` becomes ``max_tokens``; ``until`` becomes ``stop``; ``do_sample=False`` means
    temperature 0; ``num_beams: 1`` is dropped (neither has beam search, so more beams is an error).
    Anything else (``top_p``, ``seed``, a server's own extras) passes as is; whoever does not
    know a field says so.
    """
    body = dict(generation)
    if "max_new_tokens" in body:
        body["max_tokens"] = body.pop("max_new_tokens")
    if "until" in body:
        until = body.pop("until")
        body["stop"] = [until] if isinstance(until, str) else list(until)
    beams = body.pop("num_beams", 1)
    if beams not in (1, None):
        raise ConfigError(f"num_beams={beams!r}: greedy or sampled decoding only (no beam search); use num_beams: 1")
    sample = body.pop("do_sample", None)
    if sample is False:
        body["temperature"] = 0.0
    elif sample is True:
        body.setdefault("temperature", 1.0)
    return body


def complete_isolating(run: Callable[[list[T]], list[str]], items: Sequence[T], owner: str) -> list[str | None]:
    """``run(items)``; when that raises (out of memory, one bad input), each item alone, so that one
    failure costs one reply (None), not the batch."""
    try:
        return list(run(list(items)))
    except Exception as exc:
        log.warning("%s: a batch of %d failed (%s: %s); retrying one by one", owner, len(items), type(exc).__name__, exc)
    replies: list[str | None] = []
    for i, item in enumerate(items):
        try:
            replies.append(run([item])[0])
        except Exception as exc:
            log.warning("%s: item %d of the batch failed: %s: %s", owner, i, type(exc).__name__, exc)
            replies.append(None)
    return replies
