"""`Doc`: one benchmark sample, as every task hands it to the evaluator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["des", "vqa_yn", "vqa_w"]
KINDS: tuple[str, ...] = ("des", "vqa_yn", "vqa_w")
QUESTION_TYPES: tuple[str, ...] = ("yes", "no", "what", "why", "how")
MODES: tuple[str, ...] = ("referring", "grounding")


@dataclass(frozen=True)
class Doc:
    """One sample.

    ``question`` and ``answer`` (the reference) are stored in the canonical grid syntax
    ``[phrase](<a, b>)``; ``image`` is an absolute path already checked to lie inside its dataset root.
    ``qtype`` is the reference's question type (``yes``/``no`` for Yes/No questions, ``what``/``why``/
    ``how`` otherwise); ``mode`` says whether the question contains a box (``referring``) or asks for
    one (``grounding``).
    """

    doc_id: str
    image: str
    question: str
    answer: str
    kind: Kind
    qtype: str | None = None
    mode: str | None = None
    image_size: tuple[int, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
