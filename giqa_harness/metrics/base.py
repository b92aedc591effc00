"""The metric contract.

A metric scores a batch of samples (one JSON-able value per sample, ``None`` where it does not apply)
and aggregates a list of those values into one number. Because aggregation is a function of the
per-sample values alone, the evaluator can bootstrap any metric, corpus-level BLEU included (its
per-sample values are n-gram statistics), and `rescore` can recompute everything from a log.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from .coverage import Coverage, coverage_notes

if TYPE_CHECKING:
    from ..boxes.grounded import GroundedText
    from ..docs import Doc
    from ..llm.base import LLMBackend


class NotComputed(Exception):
    """Raised by a metric that cannot be computed for this run (no judge, no boxes anywhere...).

    The reason is reported in results.json instead of a number; it is never silently a 0.
    """


FAILED_KEY = "failed"


def failed(reason: str) -> dict[str, str]:
    """The per-sample value of a sample the metric tried and failed to score (e.g. a judge reply that
    never parsed). It is neither a 0 nor a silent gap: `compute_metric` counts it in
    `MetricResult.failed`, leaves it out of the aggregate, and the samples log keeps the reason."""
    return {FAILED_KEY: reason}


def is_failed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {FAILED_KEY}


@dataclass(frozen=True)
class Sample:
    """What a metric sees for one finished doc."""

    doc: "Doc"
    answer: str
    prediction: "GroundedText"  # the answer parsed with the model's own format and frame
    reference: "GroundedText"  # doc.answer parsed with the canonical format
    question: "GroundedText"  # doc.question parsed with the canonical format
    model_emits_boxes: bool = True


@dataclass
class MetricContext:
    """Shared resources for one task's scoring: the judge, options from the task YAML, a seed."""

    judge: "LLMBackend | None" = None
    options: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    cache_dir: str | None = None


class Metric(ABC):
    """Base class of every metric. ``name`` is what task YAML lists; ``label`` is the column title."""

    name: ClassVar[str]
    label: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ("des", "vqa_yn", "vqa_w")
    needs_judge: ClassVar[bool] = False
    needs_boxes: ClassVar[bool] = False  # N/A for models that never emit boxes
    option_defaults: ClassVar[Mapping[str, Any]] = {}  # the task YAML ``options`` it accepts
    option_choices: ClassVar[Mapping[str, tuple[Any, ...]]] = {}
    # A metric whose value means nothing on part of its samples (a pooled mix such as Acc(Total)) sets
    # this to the reason; it is then not computed, with that reason, unless every applicable sample scored.
    requires_complete: ClassVar[str] = ""

    def read_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The defaults overridden by the task's ``options``; a mistake is a `TaskError` naming the key.
        The evaluator and ``validate`` call it before any generation."""
        from .options import read_options

        return read_options(self.name, options, self.option_defaults, self.option_choices)

    def applies(self, sample: Sample) -> bool:
        return sample.doc.kind in self.kinds

    def counts(self, sample: Sample) -> bool:
        """Whether the value would count this sample, judged from the doc and reference alone (a
        metric whose `score` gives None to some applicable samples says which here). It is asked of
        the docs that got no answer: those it counts are failed samples of this metric."""
        return self.applies(sample)

    @abstractmethod
    def score(self, samples: Sequence[Sample], context: MetricContext) -> list[Any]:
        """One value per sample (``None`` where it does not apply, `failed(reason)` where scoring was
        attempted and failed). May raise `NotComputed`."""

    @abstractmethod
    def aggregate(self, values: Sequence[Any]) -> float | None:
        """The task-level number from the non-None per-sample values; None when undefined."""

    def aggregate_resamples(self, values: Sequence[Any], indices: Any) -> Sequence[float | None]:
        """`aggregate` of each bootstrap resample: row ``r`` of the integer array ``indices`` picks
        ``values[i]`` for each ``i`` in it. Metrics override this with array arithmetic that gives the
        same numbers (see `resampling`); this default aggregates row by row."""
        return aggregate_rows(self.aggregate, values, indices)


@dataclass(frozen=True)
class MetricResult:
    name: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    reason: str | None = None  # why the value is missing, when it is
    failed: int = 0  # applicable samples not in ``n`` nor in the value: no answer, or the metric failed
    coverage: Coverage | None = None
    notes: tuple[dict[str, str], ...] = ()  # qualifications of the value (see metrics.coverage)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "n": self.n, "failed": self.failed}
        if self.ci_low is not None:
            out["ci95"] = [self.ci_low, self.ci_high]
        if self.reason:
            out["reason"] = self.reason
        coverage = self.coverage or Coverage(self.n + self.failed, self.n, failed_metric=self.failed)
        out["coverage"] = coverage.to_json()
        out["notes"] = list(self.notes)
        return out


def resampled_aggregate(metric: Metric) -> Any:
    """The metric's `Metric.aggregate_resamples`, or None (aggregate row by row) when a subclass
    redefined `aggregate` below the class that vectorized it: that array code computes the parent's
    aggregate, not this one."""
    mro = type(metric).__mro__
    aggregate_owner = next(c for c in mro if "aggregate" in c.__dict__)
    resamples_owner = next(c for c in mro if "aggregate_resamples" in c.__dict__)
    return metric.aggregate_resamples if issubclass(resamples_owner, aggregate_owner) else None


def aggregate_rows(aggregate: Any, values: Sequence[Any], indices: Any) -> list[Any]:
    """``aggregate`` of the resample each row of ``indices`` picks from ``values``, one row at a time."""
    return [aggregate([values[i] for i in row]) for row in indices.tolist()]


def bootstrap_ci(
    values: Sequence[Any], aggregate: Any, n_resamples: int = 1000, seed: int = 0, level: float = 0.95,
    aggregate_resamples: Any = None,
) -> tuple[float | None, float | None]:
    """Percentile bootstrap over samples: resample the per-sample values with replacement and
    aggregate each resample. Seeded, so the interval is reproducible. The resamples are those of
    ``random.Random(seed).choices(values, k=n)``; ``aggregate_resamples`` (a metric's
    `Metric.aggregate_resamples`) aggregates a chunk of them at once, else ``aggregate`` each one."""
    if len(values) < 2 or n_resamples <= 0:
        return None, None
    from .resampling import resample_indices

    stats = []
    for indices in resample_indices(len(values), n_resamples, seed):
        chunk = (aggregate_resamples(values, indices) if aggregate_resamples is not None
                 else aggregate_rows(aggregate, values, indices))
        stats.extend(stat for stat in chunk if stat is not None)
    if not stats:
        return None, None
    stats.sort()
    # Nearest rank at both ends, so that as many resamples fall below the interval as above it.
    last = len(stats) - 1
    lo_idx = round((1 - level) / 2 * last)
    hi_idx = last - lo_idx
    return stats[lo_idx], stats[hi_idx]


def compute_metric(
    metric: Metric, samples: Sequence[Sample], context: MetricContext, n_resamples: int = 1000,
    unanswered: Sequence[tuple[Sample, str]] = (),
) -> tuple[MetricResult, list[Any]]:
    """Score, aggregate and bootstrap one metric; returns the result and the per-sample values.

    ``unanswered`` are the docs that got no answer, each with the reason (their ``prediction`` is
    empty and is never scored): those the metric applies to count as failed at generation.
    """
    applicable = [s for s in samples if metric.applies(s)]
    generation_reasons = [reason for s, reason in unanswered if metric.counts(s)]
    values: list[Any] = [None] * len(samples)

    def result(coverage: Coverage, value: float | None = None, reason: str | None = None,
               ci: tuple[float | None, float | None] = (None, None)) -> tuple[MetricResult, list[Any]]:
        notes = tuple(coverage_notes(coverage)) if value is not None else ()
        return MetricResult(metric.name, value, ci[0], ci[1], n=coverage.scored, reason=reason,
                            failed=coverage.failed, coverage=coverage, notes=notes), values

    unscored = Coverage.count(len(applicable) + len(generation_reasons), 0, generation_reasons)
    if metric.needs_boxes and applicable and not any(s.model_emits_boxes for s in applicable):
        return result(unscored, reason="N/A: the model emits no boxes")
    if not unscored.applicable:
        return result(unscored, reason="no samples of the kinds this metric scores")
    if not applicable:
        return result(unscored, reason=_all_failed_reason(unscored))
    try:
        scored = metric.score(applicable, context)
    except NotComputed as exc:  # an incomplete task is the first reason (e.g. every W question unanswered)
        incomplete = metric.requires_complete and generation_reasons
        return result(unscored, reason=_incomplete_reason(metric, unscored) if incomplete else str(exc))
    index = {id(s): i for i, s in enumerate(samples)}
    for sample, value in zip(applicable, scored):
        values[index[id(sample)]] = value
    metric_reasons = [v[FAILED_KEY] for v in scored if is_failed(v)]
    present = [v for v in scored if v is not None and not is_failed(v)]
    # A sample the metric returned None for does not count after all (e.g. no reference box).
    coverage = Coverage.count(len(present) + len(metric_reasons) + len(generation_reasons), len(present),
                              generation_reasons, metric_reasons)
    if not coverage.applicable:
        return result(coverage, reason="no samples of the kinds this metric scores")
    if not present:
        return result(coverage, reason=_all_failed_reason(coverage))
    if metric.requires_complete and coverage.failed:
        return result(coverage, reason=_incomplete_reason(metric, coverage))
    try:
        value = metric.aggregate(present)
    except NotComputed as exc:
        return result(coverage, reason=str(exc))
    if value is None:
        return result(coverage, reason="undefined on these samples")
    ci = bootstrap_ci(present, metric.aggregate, n_resamples=n_resamples, seed=context.seed,
                      aggregate_resamples=resampled_aggregate(metric))
    return result(coverage, float(value), ci=ci)


def _all_failed_reason(coverage: Coverage) -> str:
    return f"no value: {coverage.describe_failures()} (each reason in the samples log)"


def _incomplete_reason(metric: Metric, coverage: Coverage) -> str:
    return f"not computed: {metric.requires_complete}; {coverage.describe_failures()}"
