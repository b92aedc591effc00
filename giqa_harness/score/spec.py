"""The ``scoring`` block of a task YAML, validated into a `ScoringSpec`.

    scoring:
      kind: level                    # level (scores against MOS) or mcq (multiple choice)
      loader: koniq10k               # how the dataset folder is read (score/loaders.py)
      loader_args: {}                # loader options (image folder, file name)
      method: auto                   # auto | likelihood | generate
      question: How would you rate the quality of this image?
      answer_prefix: The quality of the image is
      levels: [excellent, good, fair, poor, bad]   # best first
      weights: [5, 4, 3, 2, 1]       # default: len(levels) down to 1
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
KEYS = {"kind", "loader", "loader_args", "method", "question", "answer_prefix", "levels", "weights", "metrics",
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
            out.update(question=self.question, answer_prefix=self.answer_prefix, levels=[w for w, _ in self.levels],
                       weights=[v for _, v in self.levels],
                       metrics=list(self.metrics), plcc_logistic=self.plcc_logistic)
        else:
            out.update(instruction=self.instruction, choice_candidates=self.choice_candidates)
        return out


def listed_metrics(scoring: dict[str, Any]) -> list[str]:
    """What `giqa-harness list tasks` shows for a score or multiple-choice task (no validation)."""
    if scoring.get("kind") == "mcq":
        return ["accuracy"]
    metrics = scoring.get("metrics", list(LEVEL_METRICS))
    return [str(m) for m in metrics] if isinstance(metrics, list) else []


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
    words = data.get("levels", list(Q_ALIGN_LEVELS))
    # Lists, not a mapping: an including task's levels must replace the included ones, never merge in.
    if not isinstance(words, list) or len(words) < 2 or not all(isinstance(w, str) and w.strip() for w in words):
        raise TaskError(f"{where}: scoring.levels must be a list of at least two level words, best first")
    weights = data.get("weights", list(range(len(words), 0, -1)) if "levels" in data else list(Q_ALIGN_LEVELS.values()))
    if not isinstance(weights, list) or len(weights) != len(words) or not all(
            isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights):
        raise TaskError(f"{where}: scoring.weights must be a list of {len(words)} numbers, one per level word")
    levels = [(str(word), float(weight)) for word, weight in zip(words, weights)]
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
