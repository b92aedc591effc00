"""mIoU: category-agnostic mean IoU between predicted and reference boxes (GIQA-Bench, Sec. 3.4).

Per sample, the boxes of all groundings are pooled on each side (phrases are ignored) and paired one
to one (greedy by default, see `matching.greedy_pairs`); the sample's value is the mean IoU of its
pairs, 0 when nothing pairs. The task value is the mean over the samples whose reference has boxes.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..boxes.geometry import Box
from .base import Metric, MetricContext, NotComputed, Sample
from .matching import greedy_pairs, hungarian_pairs, iou_matrix

MATCHERS = {"greedy": greedy_pairs, "hungarian": hungarian_pairs}
DEFAULTS = {"matching": "greedy", "penalize_unmatched": False}

NO_BOX_ANYWHERE = "N/A: the model emitted no box on any sample of this task"


def sample_miou(
    predictions: Sequence[Box], references: Sequence[Box], matching: str = "greedy", penalize_unmatched: bool = False
) -> float:
    """One sample's mIoU: the mean IoU of the paired boxes (0 when nothing pairs). With
    ``penalize_unmatched`` every reference box left unpaired counts as an IoU of 0, i.e. the sum of the
    paired IoUs is divided by the number of reference boxes instead of the number of pairs."""
    pairs = MATCHERS[matching](iou_matrix(predictions, references))
    total = sum(value for _, _, value in pairs)
    if penalize_unmatched:
        return total / len(references) if references else 0.0
    return total / len(pairs) if pairs else 0.0


def require_some_boxes(samples: Sequence[Sample]) -> None:
    """The issue's N/A rule: a model that wrote no box anywhere in the task is not scored 0 on box
    metrics but reported N/A (like a model that declares it never emits boxes). Box markup the parser
    had to drop (``dropped``: off-grid cells, three numbers...) was written: it scores 0, not N/A."""
    if not any(s.prediction.has_boxes or s.prediction.dropped for s in samples):
        raise NotComputed(NO_BOX_ANYWHERE)


def mean_or_none(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


class MeanIoU(Metric):
    name = "miou"
    option_defaults = DEFAULTS
    option_choices = {"matching": tuple(MATCHERS)}
    label = "mIoU"
    needs_boxes = True

    def counts(self, sample: Sample) -> bool:
        return self.applies(sample) and sample.reference.has_boxes

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
