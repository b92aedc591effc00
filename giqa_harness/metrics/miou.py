"""mIoU: category-agnostic mean IoU between predicted and reference boxes (GIQA-Bench, Sec. 3.4).

Per sample, the boxes of all groundings are pooled on each side (phrases are ignored) and paired one
to one (greedy by default, see `matching.greedy_pairs`); the sample's value is the mean IoU of its
pairs, 0 when nothing pairs. The task value is the mean over the samples whose reference has boxes.

That paper-faithful value ignores unpaired boxes, so extra predicted boxes cost nothing. The option
``penalize_unmatched`` counts unpaired boxes as IoU 0 in the mean: ``references`` (unpaired reference
boxes), ``predictions`` (unpaired predicted boxes) or ``both``. ``miou_penalized`` is mIoU with
``both`` by default, a separate column beside the paper's.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..boxes.geometry import Box
from .base import Metric, MetricContext, NotComputed, Sample
from .matching import greedy_pairs, hungarian_pairs, iou_matrix

MATCHERS = {"greedy": greedy_pairs, "hungarian": hungarian_pairs}
PENALTIES = ("none", "references", "predictions", "both")
DEFAULTS = {"matching": "greedy", "penalize_unmatched": "none"}
# Before the option had four values it was a switch; ``true`` meant what ``references`` means now.
LEGACY_PENALTY = {False: "none", True: "references"}

NO_BOX_ANYWHERE = "N/A: the model emitted no box on any sample of this task"


def sample_miou(
    predictions: Sequence[Box], references: Sequence[Box], matching: str = "greedy",
    penalize_unmatched: str = "none",
) -> float:
    """One sample's mIoU: the sum of the paired IoUs divided by the number of pairs (0 when nothing
    pairs), or, with ``penalize_unmatched``, by a count that also holds the unpaired boxes of one side
    or both, so that each of those counts as an IoU of 0."""
    pairs = MATCHERS[matching](iou_matrix(predictions, references))
    total = sum(value for _, _, value in pairs)
    count = {
        "none": len(pairs),
        "references": len(references),
        "predictions": len(predictions),
        "both": len(predictions) + len(references) - len(pairs),
    }[penalize_unmatched]
    return total / count if count else 0.0


def require_some_boxes(samples: Sequence[Sample]) -> None:
    """The issue's N/A rule: a model that wrote no box anywhere in the task is not scored 0 on box
    metrics but reported N/A (like a model that declares it never emits boxes). Box markup the parser
    had to drop (``dropped``: off-grid cells, three numbers...) was written: it scores 0, not N/A."""
    if not any(s.prediction.has_boxes or s.prediction.dropped for s in samples):
        raise NotComputed(NO_BOX_ANYWHERE)


def mean_or_none(values: Sequence[float]) -> float | None:
    from .resampling import ordered_mean

    return ordered_mean(values)


def mean_resamples(values: Sequence[float], indices: Any) -> list[float | None]:
    """`mean_or_none` of every bootstrap resample at once (the same sums, in the same order)."""
    import numpy as np

    from .resampling import sequential_means

    return sequential_means(np.asarray(values, dtype=np.float64), indices).tolist()


class MeanIoU(Metric):
    name = "miou"
    option_defaults: dict[str, Any] = DEFAULTS
    option_choices = {"matching": tuple(MATCHERS), "penalize_unmatched": PENALTIES}
    label = "mIoU"
    needs_boxes = True

    def counts(self, sample: Sample) -> bool:
        return self.applies(sample) and sample.reference.has_boxes

    def read_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        legacy = options.get("penalize_unmatched")
        if isinstance(legacy, bool):
            options = {**options, "penalize_unmatched": LEGACY_PENALTY[legacy]}
        return super().read_options(options)

    def score(self, samples: Sequence[Sample], context: MetricContext) -> list[Any]:
        options = self.read_options(context.options)
        if not any(s.reference.has_boxes for s in samples):
            raise NotComputed("no sample of this task has reference boxes")
        require_some_boxes(samples)
        return [
            sample_miou(s.prediction.boxes, s.reference.boxes, options["matching"], options["penalize_unmatched"])
            if s.reference.has_boxes else None
            for s in samples
        ]

    def aggregate(self, values: Sequence[float]) -> float | None:
        return mean_or_none(values)

    def aggregate_resamples(self, values: Sequence[float], indices: Any) -> list[float | None]:
        return mean_resamples(values, indices)


class PenalizedMeanIoU(MeanIoU):
    """mIoU that charges every unpaired box, predicted or reference, as an IoU of 0: writing boxes
    where nothing is wrong lowers it, and so does missing a region."""

    name = "miou_penalized"
    label = "mIoU (penalized)"
    option_defaults = {**DEFAULTS, "penalize_unmatched": "both"}
