"""From a model's output to a score or a chosen option.

Likelihood: the softmax of the candidates' log-probabilities, and for levels the expected weight
``sum_i p_i * w_i`` (Q-Align's score). Generation: the first level word in the answer (whole word,
case-insensitive), else the first number inside the levels' weight range; for multiple choice the
option letter, else the one option whose text the answer contains. Whatever cannot be read is
reported as unreadable, never guessed.
"""

from __future__ import annotations

import math
import re
import string
from typing import Sequence

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w])")
LETTERS = string.ascii_uppercase


def softmax(log_probs: Sequence[float]) -> list[float]:
    top = max(log_probs)
    if top == -math.inf:
        raise ValueError("every candidate has probability 0")
    weights = [math.exp(v - top) for v in log_probs]
    total = sum(weights)
    return [w / total for w in weights]


def expected_level(log_probs: Sequence[float], weights: Sequence[float]) -> tuple[float, list[float]]:
    """(expected weight, probabilities) of the levels given their log-probabilities."""
    probs = softmax(log_probs)
    return sum(p * w for p, w in zip(probs, weights)), probs


def read_level(answer: str, levels: Sequence[tuple[str, float]]) -> tuple[float, str] | None:
    """(score, what was read) from a generated answer, or None when it holds neither a level word nor
    a number in range."""
    found = []
    for word, weight in levels:
        match = re.search(rf"\b{re.escape(word)}\b", answer, flags=re.IGNORECASE)
        if match:
            found.append((match.start(), weight, word))
    if found:
        _, weight, word = min(found)
        return weight, word
    low, high = min(w for _, w in levels), max(w for _, w in levels)
    for match in _NUMBER.finditer(answer):
        value = float(match.group())
        if low <= value <= high:
            return value, match.group()
    return None


def options_text(question: str, candidates: Sequence[str], instruction: str) -> str:
    """The question, its options as ``A. text`` lines, then the instruction (Q-Bench's prompt shape)."""
    lines = [question, *(f"{LETTERS[i]}. {c}" for i, c in enumerate(candidates))]
    if instruction:
        lines.append(instruction)
    return "\n".join(lines)


_LETTER_PATTERNS = (
    re.compile(r"^\s*\(?([A-Z])\s*(?:[.:)]|$)"),  # "B", "B.", "(B)", "B) text"; not "A blurry image"
    re.compile(r"\b(?:answer|option|choice)\s*(?:is|:)?\s*\(?([A-Z])\)?(?![A-Za-z])", re.IGNORECASE),
)


def read_option(answer: str, candidates: Sequence[str]) -> int | None:
    """The chosen option's index from a generated answer, or None when it cannot be read."""
    for pattern in _LETTER_PATTERNS:
        match = pattern.search(answer)
        if match and match.group(1).upper() in LETTERS[: len(candidates)]:
            return LETTERS.index(match.group(1).upper())
    text = answer.strip().lower().rstrip(".")
    exact = [i for i, c in enumerate(candidates) if c.strip().lower() == text]
    if exact:
        return exact[0]
    contained = [i for i, c in enumerate(candidates) if re.search(rf"\b{re.escape(c.strip().lower())}\b", text)]
    return contained[0] if len(contained) == 1 else None
