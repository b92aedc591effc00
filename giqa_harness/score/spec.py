"""The ``scoring`` block of a task YAML, validated into a `ScoringSpec`.

    scoring:
      kind: level                    # level (scores against MOS) or mcq (multiple choice)
      loader: koniq10k               # how the dataset folder is read (score/loaders.py)
      loader_args: {}                # loader options (image folder, file name)
      method: auto                   # auto | likelihood | generate
      question: How would you rate the quality of this image?
      answer_prefix: The quality of the image is
      levels: {excellent: 5, good: 4, fair: 3, poor: 2, bad: 1}
      metrics: [srcc, plcc, krcc]
      plcc_logistic: false           # also report PLCC after the 4-parameter logistic mapping
      instruction: ...               # mcq: the line after the options
      choice_candidates: letters     # mcq by likelihood: score the option letters or the option texts
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import TaskError

KINDS = ("level", "mcq")
METHODS = ("auto", "likelihood", "generate")
LEVEL_METRICS = ("srcc", "plcc", "krcc")
CHOICE_CANDIDATES = ("letters", "texts")
Q_ALIGN_QUESTION = "How would you rate the quality of this image?"
Q_ALIGN_PREFIX = "The quality of the image is"
Q_ALIGN_LEVELS = {"excellent": 5.0, "good": 4.0, "fair": 3.0, "poor": 2.0, "bad": 1.0}
MCQ_INSTRUCTION = "Answer with the option's letter from the given choices directly."
KEYS = {"kind", "loader", "loader_args", "method", "question", "answer_prefix", "levels", "metrics",
        "plcc_logistic", "instruction", "choice_candidates"}


@dataclass(frozen=True)
class ScoringSpec:
    kind: str
    loader: str
    method: str = "auto"
    question: str = Q_ALIGN_QUESTION
    answer_prefix: str = Q_ALIGN_PREFIX
    levels: tuple[tuple[str, float], ...] = tuple(Q_ALIGN_LEVELS.items())
    metrics: tuple[str, ...] = LEVEL_METRICS
    plcc_logistic: bool = False
    instruction: str = MCQ_INSTRUCTION
    choice_candidates: str = "letters"
    loader_args: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "loader": self.loader, "method": self.method}
        if self.kind == "level":
            out.update(question=self.question, answer_prefix=self.answer_prefix, levels=dict(self.levels),
                       metrics=list(self.metrics), plcc_logistic=self.plcc_logistic)
        else:
            out.update(instruction=self.instruction, choice_candidates=self.choice_candidates)
        return out


def _choice(where: str, key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise TaskError(f"{where}: scoring.{key} is {value!r}; expected one of {list(allowed)}")
    return str(value)


def read_spec(data: dict[str, Any], where: str) -> ScoringSpec:
    """The block's settings with their defaults; a mistake is a `TaskError` naming the file and key."""
    from .loaders import LOADERS

    if not isinstance(data, dict):
        raise TaskError(f"{where}: 'scoring' must be a mapping")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise TaskError(f"{where}: unknown key(s) {unknown} in scoring; allowed: {sorted(KEYS)}")
    kind = _choice(where, "kind", data.get("kind"), KINDS)
    loader = _choice(where, "loader", data.get("loader"), tuple(sorted(LOADERS)))
    method = _choice(where, "method", data.get("method", "auto"), METHODS)
    levels_raw = data.get("levels", Q_ALIGN_LEVELS)
    if not isinstance(levels_raw, dict) or len(levels_raw) < 2:
        raise TaskError(f"{where}: scoring.levels must map at least two level words to their weights")
    levels = []
    for word, weight in levels_raw.items():
        if not isinstance(weight, (int, float)) or isinstance(weight, bool):
            raise TaskError(f"{where}: scoring.levels.{word} must be a number, got {weight!r}")
        levels.append((str(word), float(weight)))
    metrics = data.get("metrics", list(LEVEL_METRICS))
    if not isinstance(metrics, list) or not metrics:
        raise TaskError(f"{where}: scoring.metrics must be a non-empty list of {list(LEVEL_METRICS)}")
    for name in metrics:
        _choice(where, "metrics", name, LEVEL_METRICS)
    logistic = data.get("plcc_logistic", False)
    if not isinstance(logistic, bool):
        raise TaskError(f"{where}: scoring.plcc_logistic must be true or false, got {logistic!r}")
    loader_args = data.get("loader_args") or {}
    if not isinstance(loader_args, dict):
        raise TaskError(f"{where}: scoring.loader_args must be a mapping")
    for key in ("question", "answer_prefix", "instruction"):
        if key in data and not isinstance(data[key], str):
            raise TaskError(f"{where}: scoring.{key} must be a string")
    return ScoringSpec(
        kind=kind, loader=loader, method=method,
        question=data.get("question", Q_ALIGN_QUESTION), answer_prefix=data.get("answer_prefix", Q_ALIGN_PREFIX),
        levels=tuple(levels), metrics=tuple(metrics), plcc_logistic=logistic,
        instruction=data.get("instruction", MCQ_INSTRUCTION),
        choice_candidates=_choice(where, "choice_candidates", data.get("choice_candidates", "letters"),
                                  CHOICE_CANDIDATES),
        loader_args=dict(loader_args),
    )
