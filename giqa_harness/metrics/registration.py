"""Registers the built-in metrics through the same hook a third-party plugin uses."""

from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_metrics(register):
    from .bleu import Bleu4
    from .judged import AccuracyTotal, AccuracyW, LLMScore
    from .miou import MeanIoU, PenalizedMeanIoU
    from .tag_precision import TagF1, TagPrecision
    from .tag_recall import TagRecall
    from .yes_no import AccuracyYesNo

    for metric in (MeanIoU(), TagRecall(), Bleu4(), LLMScore(), AccuracyYesNo(), AccuracyW(), AccuracyTotal(),
                   PenalizedMeanIoU(), TagPrecision(), TagF1()):
        register(metric)
