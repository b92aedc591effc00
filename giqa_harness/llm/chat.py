"""Turning a (system, prompt) pair into what each kind of backend reads: chat messages, or the text a
local tokenizer's chat template renders from them."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError


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
