"""Acc(Y): accuracy on GIQA-VQA's Yes/No questions (GIQA-Bench, Sec. 3.4).

An answer's label is its first standalone "yes" or "no" (any case): a whole word, not part of a
longer word, a hyphenated compound ("no-reference") or a contraction. An answer with neither word is
wrong; there is never a random guess. The reference's label is read the same way from the reference
answer, falling back to the doc's ``qtype`` (``yes``/``no``) when the reference text has no such word.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from ..errors import DatasetError
from .base import Metric, MetricContext, Sample
from .miou import mean_or_none, mean_resamples

# An apostrophe next to the word excludes it only when it joins letters ("no's", "yes'm"); a quote
# mark around it ("'Yes', the image is blurry.") leaves the word standalone.
_YES_NO = re.compile(r"(?<![\w-])(?<!\w['’])(yes|no)(?![\w-])(?!['’]\w)", re.IGNORECASE)


def yes_no_label(text: str) -> str | None:
    """``"yes"``, ``"no"`` or None: the first standalone yes/no word of ``text``."""
    match = _YES_NO.search(text or "")
    return match.group(1).lower() if match else None


def reference_label(sample: Sample) -> str:
    label = yes_no_label(sample.reference.plain)
    if label is None and sample.doc.qtype in ("yes", "no"):
        label = sample.doc.qtype
    if label is None:
        raise DatasetError(
            f"doc {sample.doc.doc_id!r}: a Yes/No question needs a reference answer containing 'yes' or 'no' "
            f"(or qtype yes/no), got answer {sample.doc.answer!r} and qtype {sample.doc.qtype!r}"
        )
    return label


def yes_no_correct(sample: Sample) -> float:
    """1.0 when the answer's label equals the reference's, else 0.0 (no label = wrong)."""
    return 1.0 if yes_no_label(sample.prediction.plain) == reference_label(sample) else 0.0


class AccuracyYesNo(Metric):
    name = "acc_y"
    label = "Acc(Y)"
    kinds = ("vqa_yn",)

    def score(self, samples: Sequence[Sample], context: MetricContext) -> list[Any]:
        self.read_options(context.options)  # it has none: catch a misplaced one
        return [yes_no_correct(s) for s in samples]

    def aggregate(self, values: Sequence[float]) -> float | None:
        return mean_or_none(values)

    def aggregate_resamples(self, values: Sequence[float], indices: Any) -> list[float | None]:
        return mean_resamples(values, indices)
