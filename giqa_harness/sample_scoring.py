"""Scoring a grounding task's answers: parse each answer in the model's box format, run the task's
metrics, and build the task result and the sample log rows.

Shared by a live run (`giqa_harness.evaluator`), by `rescore` and by the lmms-eval interop, so that all
three give identical numbers for identical answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from .box_checks import box_checks
from .boxes.formats import CANONICAL_FORMAT, get_format
from .boxes.grounded import GroundedText
from .docs import Doc
from .metrics.base import MetricContext, Sample, compute_metric
from .plugins import registry
from .run_status import task_error
from .task import TaskConfig

if TYPE_CHECKING:
    from .evaluator import Prepared


def score_samples(
    task: TaskConfig,
    items: Sequence["Prepared"],
    box_format: Any,
    emits_boxes: bool,
    judge: Any,
    seed: int = 0,
    bootstrap: int = 1000,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Parse answers, run the task's metrics, and build the task result and the sample log rows.

    Shared by a live run and by `rescore`, so that both give identical numbers for identical answers.
    """
    reg = registry()
    canonical = get_format(CANONICAL_FORMAT)
    samples: list[Sample] = []
    unanswered: list[tuple[Sample, str]] = []  # so each metric counts them as failed where it applies
    sizes: list[tuple[int, int]] = []
    rows: list[dict[str, Any]] = []
    failures = []
    parse_dropped = 0
    for it in items:
        doc = it.doc
        row: dict[str, Any] = {
            "doc_id": doc.doc_id, "task": task.name, "kind": doc.kind, "qtype": doc.qtype, "mode": doc.mode,
            "image": doc.image, "image_size": list(it.image_size) if it.image_size else None,
            "question": doc.question, "prompt": it.question, "full_prompt": it.full_prompt, "answer": it.answer,
            "reference": doc.answer,
        }
        size = it.image_size or (1, 1)
        if it.failure is not None or it.answer is None:
            reason = it.failure or "no answer"
            failures.append({"doc_id": doc.doc_id, "reason": reason})
            unanswered.append((unanswered_sample(doc, canonical, size, emits_boxes), reason))
            row.update(failed=reason, scores={})
            rows.append(row)
            continue
        try:
            prediction = box_format.parse(it.answer, size)
        except Exception as exc:  # third-party formats may break the never-raise rule; contain it
            prediction = GroundedText(text=it.answer, plain=it.answer, meta={"parse_error": task_error(exc)})
        parse_dropped += prediction.dropped
        reference = canonical.parse(doc.answer, size)
        question = canonical.parse(doc.question, size)
        samples.append(Sample(doc, it.answer, prediction, reference, question, emits_boxes))
        sizes.append(size)
        row.update(
            failed=None, parsed=prediction.to_json(), reference_groundings=reference.to_json()["groundings"],
            question_groundings=question.to_json()["groundings"],
        )
        rows.append(row)
    ok_rows = [r for r in rows if r["failed"] is None]
    metrics: dict[str, Any] = {}
    judge_prompts = task.judge_prompts
    for spec in task.metrics:
        metric = reg.metrics.get(spec.name)
        context = MetricContext(judge=judge, options={**spec.options, "judge_prompts": judge_prompts}, seed=seed)
        result, values = compute_metric(metric, samples, context, n_resamples=bootstrap, unanswered=unanswered)
        metrics[spec.name] = {**result.to_json(), "label": getattr(metric, "label", "") or spec.name}
        for row, value in zip(ok_rows, values):
            row.setdefault("scores", {})[spec.name] = value
    for row in ok_rows:
        row.setdefault("scores", {})
    result = {
        "version": task.version,
        "metrics": metrics,
        "n_samples": len(items),
        "n_scored": len(samples),
        "n_failed": len(failures),
        "failures": failures,
        "boxes_dropped_by_parser": parse_dropped,
        "box_checks": box_checks(samples, sizes, box_format, emits_boxes),
        "kinds": _count(doc_kind(it.doc) for it in items),
    }
    return result, rows


def unanswered_sample(doc: Doc, canonical: Any, size: tuple[int, int], emits_boxes: bool) -> Sample:
    """A doc that got no answer, as a metric's `counts` sees it: its reference, an empty prediction."""
    empty = GroundedText(text="", plain="")
    return Sample(doc, "", empty, canonical.parse(doc.answer, size), canonical.parse(doc.question, size), emits_boxes)


def doc_kind(doc: Doc) -> str:
    return doc.kind if doc.kind == "des" else f"{doc.kind}:{doc.qtype or '?'}:{doc.mode or '?'}"


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))
