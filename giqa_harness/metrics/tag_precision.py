"""Tag-Precision and Tag-F1: Tag-Recall's match rule seen from the predicted side.

Tag-Recall only asks whether each reference grounding is found, so writing more groundings never costs
anything. These two charge for the groundings that match nothing:

- **Tag-Precision** = matched predicted groundings / predicted groundings, pooled over the task.
- **Tag-F1** = 2 * matched / (predicted + reference groundings), pooled: the harmonic mean of
  Tag-Precision and a one-to-one recall.

A predicted grounding matches a reference grounding under Tag-Recall's rule (region IoU > 0.5 **and**
phrase similarity > 0.5, same options). Here matching is **one-to-one** (the largest set of
(prediction, reference) pairs in which no grounding appears twice), as in detection benchmarks: a
many-to-one rule would let a model repeat one good grounding ten times and count all ten as correct.
One-to-one recall equals Tag-Recall except where one prediction was the only match of several
references. Predicted groundings without boxes, and samples whose reference has no box, do not count
(the samples are those of mIoU and Tag-Recall).
"""

from __future__ import annotations

from typing import Any, Sequence

from .base import Sample
from .matching import max_matching
from .tag_recall import TagRecall, summed_columns


def predicted_groundings(sample: Sample) -> int:
    return sum(1 for g in sample.prediction.groundings if g.boxes)


class TagPrecision(TagRecall):
    name = "tag_precision"
    label = "Tag-Precision"

    def sample_value(self, sample: Sample, matches: list[list[int]]) -> list[int]:
        """``[matched predicted groundings (one-to-one), predicted groundings]``."""
        return [max_matching(matches), predicted_groundings(sample)]

    def aggregate(self, values: Sequence[Sequence[int]]) -> float | None:
        total = sum(v[1] for v in values)
        return sum(v[0] for v in values) / total if total else None

    def aggregate_resamples(self, values: Sequence[Sequence[int]], indices: Any) -> list[float | None]:
        return [matched / total if total else None for matched, total in summed_columns(values, indices)]


class TagF1(TagRecall):
    name = "tag_f1"
    label = "Tag-F1"

    def sample_value(self, sample: Sample, matches: list[list[int]]) -> list[int]:
        """``[matched pairs (one-to-one), predicted groundings, reference groundings]``."""
        return [max_matching(matches), predicted_groundings(sample), len(matches)]

    def aggregate(self, values: Sequence[Sequence[int]]) -> float | None:
        total = sum(v[1] + v[2] for v in values)
        return 2 * sum(v[0] for v in values) / total if total else None

    def aggregate_resamples(self, values: Sequence[Sequence[int]], indices: Any) -> list[float | None]:
        return [2 * matched / (predicted + reference) if predicted + reference else None
                for matched, predicted, reference in summed_columns(values, indices)]
