"""How much of a task a metric's number stands on: applicable, scored and failed samples, and why.

Every metric result carries a `Coverage`. A sample can fail at two stages: **generation** (the model
gave no answer: model error, unreadable image), so the metric never saw it, or **metric** (the metric
tried and failed, e.g. a judge reply that never held a score). Both count as failed, with their
reasons grouped into `Cause` counts. A value computed on part of its applicable samples is
*incomplete*: every place that prints it (run table, results.json, leaderboard, report) says so.

Notes qualify a value beside its coverage: ``{"kind": ..., "text": ...}`` entries in a metric's
``notes`` list (``incomplete`` is one kind; other checks, such as box-spam flags, add their own), and
every printer shows them all the same way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

GENERATION = "generation"  # no answer to score
METRIC = "metric"  # the metric tried and failed on the answer
MAX_CAUSES = 10  # distinct reasons kept per metric in results.json; the rest are counted as "other"
REASON_CHARS = 300  # a reason longer than this (a long quoted reply) is cut


@dataclass(frozen=True)
class Cause:
    stage: str
    reason: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "reason": self.reason, "count": self.count}


@dataclass(frozen=True)
class Coverage:
    applicable: int  # samples the metric applies to (answered or not)
    scored: int  # samples in the value
    failed_generation: int = 0
    failed_metric: int = 0
    causes: tuple[Cause, ...] = ()  # most frequent first

    @classmethod
    def count(cls, applicable: int, scored: int, generation_reasons: Iterable[str] = (),
              metric_reasons: Iterable[str] = ()) -> "Coverage":
        generation, metric = list(generation_reasons), list(metric_reasons)
        return cls(applicable, scored, len(generation), len(metric), group_causes(generation, metric))

    @property
    def failed(self) -> int:
        return self.failed_generation + self.failed_metric

    @property
    def complete(self) -> bool:
        """Every applicable sample is in the value."""
        return self.failed == 0 and self.scored == self.applicable

    @property
    def all_failed(self) -> bool:
        return self.applicable > 0 and self.failed == self.applicable

    def fraction(self) -> str:
        """``scored/applicable``, as the leaderboard prints it beside an incomplete value."""
        return f"{self.scored}/{self.applicable}"

    def describe_failures(self, causes: int = 2) -> str:
        """``"95 of 100 failed: 90 at generation (model error: ... x90), 5 in the metric (...)"``."""
        parts = []
        for stage, n, where in ((GENERATION, self.failed_generation, "at generation"),
                                (METRIC, self.failed_metric, "in the metric")):
            if not n:
                continue
            listed = [c for c in self.causes if c.stage == stage][:causes]
            detail = "; ".join(c.reason + (f" x{c.count}" if c.count > 1 else "") for c in listed)
            parts.append(f"{n} {where} ({detail})" if detail else f"{n} {where}")
        return f"{self.failed} of {self.applicable} failed: " + ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "applicable": self.applicable, "scored": self.scored, "failed": self.failed,
            "complete": self.complete, "failed_generation": self.failed_generation,
            "failed_metric": self.failed_metric, "causes": [c.to_json() for c in self.causes],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Coverage":
        causes = tuple(Cause(c["stage"], c["reason"], int(c["count"])) for c in data.get("causes") or ())
        return cls(int(data["applicable"]), int(data["scored"]), int(data.get("failed_generation", 0)),
                   int(data.get("failed_metric", 0)), causes)


def group_causes(generation: Iterable[str], metric: Iterable[str]) -> tuple[Cause, ...]:
    """Identical reasons counted together, most frequent first; past `MAX_CAUSES`, one "other" line."""
    counts: Counter[tuple[str, str]] = Counter()
    for stage, reasons in ((GENERATION, generation), (METRIC, metric)):
        for reason in reasons:
            text = str(reason)
            counts[(stage, text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 3] + "...")] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0] != GENERATION, kv[0][1]))
    kept = [Cause(stage, reason, n) for (stage, reason), n in ranked[:MAX_CAUSES]]
    rest: Counter[str] = Counter()
    for (stage, _), n in ranked[MAX_CAUSES:]:
        rest[stage] += n
    kept += [Cause(stage, "other reasons (see the samples log)", n) for stage, n in rest.items()]
    return tuple(kept)


def note(kind: str, text: str) -> dict[str, str]:
    """One note on a metric value (see the module docstring)."""
    return {"kind": kind, "text": text}


def coverage_notes(coverage: Coverage) -> list[dict[str, str]]:
    """The ``incomplete`` note of a value computed on part of its samples (none when complete)."""
    if coverage.failed == 0:
        return []
    return [note("incomplete", coverage.describe_failures())]


def entry_coverage(entry: Mapping[str, Any]) -> Coverage | None:
    """The coverage of a results.json metric entry. Entries written before coverage existed have only
    ``n`` (scored) and ``failed`` (metric failures), read as such; None when neither is there."""
    if isinstance(entry.get("coverage"), Mapping):
        return Coverage.from_json(entry["coverage"])
    if "n" not in entry:
        return None
    n, failed = int(entry.get("n") or 0), int(entry.get("failed") or 0)
    return Coverage(n + failed, n, failed_metric=failed)


def entry_notes(entry: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every note on an entry, the coverage note of an older results.json included."""
    notes = [n for n in entry.get("notes") or () if isinstance(n, Mapping) and "text" in n]
    if "notes" not in entry and entry.get("value") is not None:
        cov = entry_coverage(entry)
        notes = coverage_notes(cov) if cov is not None else []
    return [{"kind": str(n.get("kind", "note")), "text": str(n["text"])} for n in notes]
